"""A customer's zone may be unset. Before, a customer created without one got their country's first
zone (New York for the US), indistinguishable from a chosen one; those defaults are cleared, so the
cycle considers every zone the customer may be in. A zone chosen equal to the default is cleared too:
the customer is then contacted only at hours allowed in all their country's zones (stricter, never
looser)."""

from django.db import migrations, models

#: The defaults as they were (cobro.ledger.validation.COUNTRY_TIMEZONE when this migration was written).
OLD_DEFAULTS = {
    "AR": "America/Argentina/Buenos_Aires", "BO": "America/La_Paz", "BR": "America/Sao_Paulo",
    "CL": "America/Santiago", "CO": "America/Bogota", "CR": "America/Costa_Rica",
    "DO": "America/Santo_Domingo", "EC": "America/Guayaquil", "ES": "Europe/Madrid",
    "GT": "America/Guatemala", "HN": "America/Tegucigalpa", "MX": "America/Mexico_City",
    "NI": "America/Managua", "PA": "America/Panama", "PE": "America/Lima", "PT": "Europe/Lisbon",
    "PY": "America/Asuncion", "SV": "America/El_Salvador", "US": "America/New_York",
    "UY": "America/Montevideo", "VE": "America/Caracas", "GB": "Europe/London", "FR": "Europe/Paris",
    "DE": "Europe/Berlin", "IT": "Europe/Rome", "CA": "America/Toronto",
}


def clear_defaults(apps, schema_editor):
    Customer = apps.get_model("ledger", "Customer")
    Organization = apps.get_model("ledger", "Organization")
    for country, zone in OLD_DEFAULTS.items():
        Customer.objects.filter(country=country, timezone=zone).update(timezone="")
    # A country without a default got the organization's zone.
    for org_id, zone in Organization.objects.values_list("pk", "timezone"):
        Customer.objects.filter(organization_id=org_id, timezone=zone).exclude(
            country__in=list(OLD_DEFAULTS)).update(timezone="")


def restore_defaults(apps, schema_editor):
    Customer = apps.get_model("ledger", "Customer")
    Organization = apps.get_model("ledger", "Organization")
    for country, zone in OLD_DEFAULTS.items():
        Customer.objects.filter(country=country, timezone="").update(timezone=zone)
    for org_id, zone in Organization.objects.values_list("pk", "timezone"):
        Customer.objects.filter(organization_id=org_id, timezone="").update(timezone=zone)


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0006_api_cursor_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="timezone",
            field=models.CharField(blank=True, help_text="vacía: según los teléfonos de sus contactos o su país",
                                   max_length=64, verbose_name="zona horaria"),
        ),
        migrations.RunPython(clear_defaults, restore_defaults),
    ]
