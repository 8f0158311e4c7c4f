"""Fill the daily totals of every organization that already has a book (``cobro insights rebuild``)."""

from types import SimpleNamespace

from django.db import migrations


def fill(apps, schema_editor):
    from cobro.insights.totals import rebuild

    models = SimpleNamespace(**{name: apps.get_model(label, name) for label, name in (
        ("ledger", "Invoice"), ("ledger", "Allocation"), ("ledger", "CreditNote"), ("ledger", "Payment"),
        ("insights", "DailyTotal"), ("insights", "AppliedTotal"))})
    for org_id in apps.get_model("ledger", "Organization").objects.values_list("pk", flat=True):
        rebuild(org_id, models)


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_daily_totals"), ("ledger", "0006_api_cursor_indexes")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
