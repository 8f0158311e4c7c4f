"""Import: good files in every accepted shape, and every kind of bad file refused whole."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from cobro.ledger.exporting import write_csv
from cobro.ledger.importing import ImportFailed, import_file
from cobro.ledger.models import Contact, Customer, Invoice, Payment, TimelineEvent

GOOD = (
    "invoice_ref,customer_ref,customer_name,issue_date,due_date,currency,amount,email,phone,country\n"
    "I-1,K-1,Comercial Uno Ltda,2026-01-05,2026-02-04,USD,500.00,uno@example.com,+56911111111,CL\n"
    "I-2,K-1,Comercial Uno Ltda,2026-01-20,2026-02-19,USD,250.00,uno@example.com,+56911111111,CL\n"
    "I-3,K-2,Servicios Dos SAS,2026-01-10,2026-02-09,USD,1200.00,dos@example.com,+573011111111,CO\n"
)


def imp(org, kind, text, **kw):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return import_file(org, kind, data, **kw)


def problems(org, kind, text):
    with pytest.raises(ImportFailed) as exc:
        imp(org, kind, text)
    return [str(p) for p in exc.value.problems]


def test_invoices_create_customers_and_contacts(org):
    result = imp(org, "invoices", GOOD)
    assert (result.created, result.customers_created) == (3, 2)
    k2 = Customer.objects.get(ref="K-2")
    # No zone in the file: none stored (the cycle takes the zones of the phone or the country).
    assert (k2.country, k2.timezone, k2.home_zone, k2.language) == ("CO", "", "America/Bogota", "es")
    assert Contact.objects.get(customer=k2).phone == "+573011111111"
    inv = Invoice.objects.get(ref="I-3")
    assert (inv.amount, inv.open_amount, inv.status) == (120000, 120000, "open")


def test_reimport_updates_instead_of_duplicating(org):
    imp(org, "invoices", GOOD)
    again = imp(org, "invoices", GOOD.replace("1200.00", "1300.00"))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert Invoice.objects.count() == 3
    assert Invoice.objects.get(ref="I-3").open_amount == 130000


def test_spanish_headers_semicolons_decimal_comma_and_day_first_dates(org):
    text = ("Factura;Código Cliente;Razón Social;Fecha de Emisión;Fecha de Vencimiento;Moneda;Monto;Correo;País\n"
            "F-1;C-1;Ferretería Ñuñoa;05/01/2026;04/02/2026;CLP;450.000;pagos@nunoa.cl;CL\n"
            "F-2;C-1;Ferretería Ñuñoa;20/01/2026;19/02/2026;EUR;1.234,56;pagos@nunoa.cl;CL\n")
    imp(org, "invoices", text)
    f1, f2 = Invoice.objects.get(ref="F-1"), Invoice.objects.get(ref="F-2")
    assert (f1.amount, f1.currency, f1.issue_date) == (450000, "CLP", dt.date(2026, 1, 5))
    assert (f2.amount, f2.due_date) == (123456, dt.date(2026, 2, 19))
    assert Customer.objects.get(ref="C-1").name == "Ferretería Ñuñoa"


def test_month_first_dates_are_detected_from_the_file(org):
    text = ("invoice_ref,customer_ref,issue_date,due_date,amount\n"
            "A-1,C-1,1/31/2026,3/2/2026,10\n"
            "A-2,C-1,2/1/2026,3/3/2026,10\n")
    result = imp(org, "invoices", text)
    assert Invoice.objects.get(ref="A-2").issue_date == dt.date(2026, 2, 1)
    assert any("month/day/year" in n for n in result.notes)


def test_latin1_file_is_read_with_its_accents(org):
    text = ("factura;cliente;razon social;fecha de emision;fecha de vencimiento;monto\n"
            "L-1;C-9;Panadería Peñalolén;2026-01-05;2026-02-04;100\n")
    imp(org, "invoices", text.encode("latin-1"))
    assert Customer.objects.get(ref="C-9").name == "Panadería Peñalolén"


def test_xlsx_with_typed_cells(org):
    book = Workbook()
    sheet = book.active
    sheet.append(["Factura", "Cliente", "Nombre", "Fecha de emisión", "Vencimiento", "Moneda", "Importe"])
    sheet.append(["X-1", 1001, "Tienda Tres", dt.date(2026, 2, 1), dt.date(2026, 3, 3), "MXN", 80.5])
    sheet.append(["X-2", 1001, "Tienda Tres", dt.date(2026, 2, 2), dt.date(2026, 3, 4), "MXN", 1200])
    buf = io.BytesIO()
    book.save(buf)
    imp(org, "invoices", buf.getvalue())
    x1 = Invoice.objects.get(ref="X-1")
    assert (x1.customer.ref, x1.amount, x1.due_date) == ("1001", 8050, dt.date(2026, 3, 3))


@pytest.mark.parametrize("text, expected", [
    ("ref,who,when\nA,B,C\n", "row 1, column invoice_ref: required column is missing"),
    (GOOD.replace("2026-02-19", "2026-13-45"), "row 3, column due_date: '2026-13-45' is not a date"),
    (GOOD.replace("250.00", "-250.00"), "row 3, column amount: '-250.00' must be greater than zero"),
    (GOOD.replace("250.00", "doscientos"), "row 3, column amount: not an amount: 'doscientos'"),
    (GOOD.replace(",USD,250.00", ",XYZ,250.00"), "row 3, column currency: unknown currency 'XYZ'"),
    (GOOD + "I-1,K-1,Comercial Uno Ltda,2026-01-05,2026-02-04,USD,500.00,,,CL\n",
     "row 5, column invoice_ref: 'I-1' appears twice in the file (also on row 2)"),
    (GOOD.replace("2026-01-10,2026-02-09", "2026-02-10,2026-01-09"), "row 4, column due_date: 2026-01-09 is before"),
    (GOOD.replace("dos@example.com", "dos-at-example"), "row 4, column email: 'dos-at-example' is not an email"),
    (GOOD.replace(",CO\n", ",Colombia\n"), "row 4, column country: 'Colombia' is not an ISO 3166 country code"),
    (GOOD.replace("+573011111111", "12"), "row 4, column phone: '12' is not a phone number"),
    ("invoice_ref,customer_ref,issue_date,due_date,amount\n", "row 2: the file has a header but no rows"),
    ("", "row 1: the file is empty (0 bytes)"),
    ("\n\n  \n", "row 1: the file has no header row"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "row 1: the file is not CSV or XLSX"),
    (b"PK\x03\x04garbage that is not a zip", "row 1: the file looks like XLSX but cannot be read"),
])
def test_bad_files_are_refused_whole_with_row_and_column(org, text, expected):
    found = problems(org, "invoices", text)
    assert any(p.startswith(expected) for p in found), found
    assert Invoice.objects.count() == 0 and Customer.objects.count() == 0


def test_every_problem_is_reported_not_just_the_first(org):
    bad = GOOD.replace("500.00", "x").replace("2026-02-09", "nope").replace("CO\n", "ZZ\n")
    found = problems(org, "invoices", bad)
    assert len(found) == 3
    assert [p.split(":")[0] for p in found] == ["row 2, column amount", "row 4, column due_date",
                                                "row 4, column country"]


def test_dry_run_writes_nothing(org):
    result = imp(org, "invoices", GOOD, dry_run=True)
    assert result.created == 3 and result.dry_run
    assert Invoice.objects.count() == 0 and Customer.objects.count() == 0


def test_payments_allocate_explicitly_or_oldest_first_and_keep_credit(org):
    imp(org, "invoices", GOOD)
    imp(org, "payments", "payment_ref,customer_ref,invoice_ref,date,amount,currency,method\n"
                         "P-1,K-1,I-2,2026-02-03,300.00,USD,transfer\n"
                         "P-2,K-1,,2026-02-10,100.00,USD,card\n")
    i1, i2 = Invoice.objects.get(ref="I-1"), Invoice.objects.get(ref="I-2")
    # P-1 names I-2: pays it in full, 50 left as credit; P-2 names nothing: goes to the oldest, I-1.
    assert (i2.open_amount, i2.status, i2.closed_on) == (0, "paid", dt.date(2026, 2, 3))
    assert i1.open_amount == 40000
    assert Payment.objects.get(ref="P-1").unallocated == 5000
    assert TimelineEvent.objects.filter(kind="payment.received").count() == 2


def test_payment_problems_against_the_database(org):
    imp(org, "invoices", GOOD)
    found = problems(org, "payments", "payment_ref,customer_ref,invoice_ref,date,amount,currency\n"
                                      "P-1,K-1,I-3,2026-02-03,10,USD\n"
                                      "P-2,K-404,,2026-02-03,10,USD\n"
                                      "P-3,K-1,I-1,2026-02-03,10,EUR\n")
    assert found == ["row 2, column invoice_ref: no invoice 'I-3' for customer 'K-1'",
                     "row 3, column customer_ref: no customer 'K-404' (import customers or their invoices first)",
                     "row 4, column currency: invoice I-1 is in USD, the payment in EUR"]
    assert Payment.objects.count() == 0


def test_reimporting_payments_does_not_pay_twice(org):
    imp(org, "invoices", GOOD)
    pay = "payment_ref,customer_ref,invoice_ref,date,amount,currency\nP-1,K-1,I-1,2026-02-03,500.00,USD\n"
    imp(org, "payments", pay)
    again = imp(org, "payments", pay)
    assert again.unchanged == 1 and Payment.objects.count() == 1
    found = problems(org, "payments", pay.replace("500.00", "400.00"))
    assert "recorded payments cannot be changed" in found[0]


def test_invoice_amount_cannot_drop_below_what_was_paid(org):
    imp(org, "invoices", GOOD)
    imp(org, "payments", "payment_ref,customer_ref,invoice_ref,date,amount\nP-1,K-1,I-1,2026-02-03,400\n")
    found = problems(org, "invoices", GOOD.replace("500.00", "300.00"))
    assert found[0].startswith("row 2, column amount: invoice I-1 already has payments")


def test_customers_file_with_tax_ids_and_upsert(org):
    text = ("customer_ref,name,email,phone,whatsapp,country,language,timezone,tax_id\n"
            "K-1,Comercial Uno,uno@example.com,+56911111111,,CL,es,America/Santiago,76.086.428-5\n"
            "K-2,Servicios Dos,,3011111111,3011111111,CO,,,900.373.913-4\n")
    assert imp(org, "customers", text).created == 2
    k2 = Customer.objects.get(ref="K-2")
    assert (k2.timezone, k2.preferred_channel, k2.contacts.get().whatsapp) == ("", "whatsapp", "+573011111111")
    assert Customer.objects.get(ref="K-1").timezone == "America/Santiago"
    again = imp(org, "customers", text.replace("Servicios Dos", "Servicios Dos SAS"))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    found = problems(org, "customers", text.replace("76.086.428-5", "76.086.428-0"))
    assert found == ["row 2, column tax_id: '76.086.428-0' is not a valid RUT for CL"]


def test_customers_file_with_addresses_places_customers_of_multi_zone_countries(org):
    from cobro.dunning.services import customer_zones

    text = ("cliente,nombre,correo,pais,direccion,ciudad,estado,codigo_postal\n"
            "K-1,Distribuidora Norte,norte@example.com,MX,Av. Revolución 1200,Tijuana,Baja California,22000\n"
            "K-2,Hardware Plains,plains@example.com,US,500 Main St,El Paso,TX,79901\n"
            "K-3,Lost Mills,lost@example.com,US,1 Elm St,Springfield,Springfield County,00000\n"
            "K-4,Ferretería Andina,andina@example.com,CO,Cra 7 # 12-30,Bogotá,Cundinamarca,110111\n")
    result = imp(org, "customers", text)
    assert result.created == 4
    # One customer of a multi-zone country could not be placed: said once, not a problem per row.
    (note,) = [str(n) for n in result.notes]
    assert note.startswith("customers of a country with several time zones whose region is not recognised: 1;")
    k1 = Customer.objects.get(organization=org, ref="K-1")
    assert (k1.address, k1.city, k1.region, k1.postal_code) == ("Av. Revolución 1200", "Tijuana",
                                                                "Baja California", "22000")
    assert customer_zones(org, k1).names == ("America/Tijuana",) and customer_zones(org, k1).source == "address"
    k2 = Customer.objects.get(organization=org, ref="K-2")
    assert customer_zones(org, k2).names == ("America/Chicago", "America/Denver")
    assert customer_zones(org, Customer.objects.get(organization=org, ref="K-3")).source == "country"
    assert customer_zones(org, Customer.objects.get(organization=org, ref="K-4")).source == "country"
    # A file without the address columns keeps the addresses; a new value replaces one.
    again = imp(org, "customers", "cliente,nombre,pais\nK-1,Distribuidora Norte SA,MX\nK-2,Hardware Plains,US\n")
    assert (again.updated, again.unchanged) == (1, 1)
    k1.refresh_from_db()
    assert (k1.name, k1.region, k1.postal_code) == ("Distribuidora Norte SA", "Baja California", "22000")
    imp(org, "customers", "cliente,nombre,pais,region\nK-1,Distribuidora Norte SA,MX,Sonora\n")
    k1.refresh_from_db()
    assert k1.region == "Sonora" and customer_zones(org, k1).names == ("America/Hermosillo",)
    # The export carries the address, and reads back unchanged.
    out = io.StringIO()
    write_csv(org, "customers", out)
    header, *rows = out.getvalue().splitlines()
    assert header.startswith("customer_ref,name,email,phone,whatsapp,country,language,timezone,tax_id,"
                             "address,city,region,postal_code,")
    assert any(row.startswith("K-1,Distribuidora Norte SA,") and ",Sonora,22000," in row for row in rows)
    assert imp(org, "customers", out.getvalue()).unchanged == 4
    # Too long to keep: refused whole, naming the column.
    found = problems(org, "customers", f"cliente,nombre,pais,codigo_postal\nK-9,Nuevo,CL,{'9' * 17}\n")
    assert found == ["row 2, column postal_code: '99999999999999999'... is longer than 16 characters"]
    assert not Customer.objects.filter(organization=org, ref="K-9").exists()


def test_export_round_trips(org):
    imp(org, "invoices", GOOD)
    out = io.StringIO()
    assert write_csv(org, "invoices", out) == 3
    header = out.getvalue().splitlines()[0]
    assert header.startswith("invoice_ref,customer_ref,customer_name,issue_date,due_date,currency,amount")
    again = imp(org, "invoices", out.getvalue())
    assert (again.unchanged, again.created) == (3, 0)


def test_organizations_do_not_see_each_other(org, other_org):
    imp(org, "invoices", GOOD)
    imp(other_org, "invoices", GOOD.replace("USD", "COP"))
    assert Invoice.objects.for_org(org).count() == 3 and Invoice.objects.for_org(other_org).count() == 3
    assert Invoice.objects.for_org(other_org).get(ref="I-3").amount == 120000  # COP 1200.00: centavos kept
    out = io.StringIO()
    write_csv(other_org, "invoices", out)
    assert ",USD," not in out.getvalue()


def test_cop_centavos_clp_pesos_and_eur_decimal_comma_import_exactly(org):
    # ISO 4217: COP has two minor units (CLDR/Babel 2.19 says none), CLP none, EUR two.
    text = ("invoice_ref,customer_ref,customer_name,issue_date,due_date,currency,amount\n"
            "C-1,K-1,Cliente,2026-01-05,2026-02-04,COP,2450000.50\n"
            "C-2,K-1,Cliente,2026-01-05,2026-02-04,CLP,450000\n"
            "C-3,K-1,Cliente,2026-01-05,2026-02-04,EUR,\"1.234,56\"\n")
    imp(org, "invoices", text)
    got = {i.ref: (i.currency, i.amount, i.open_amount) for i in Invoice.objects.for_org(org)}
    assert got == {"C-1": ("COP", 245000050, 245000050), "C-2": ("CLP", 450000, 450000),
                   "C-3": ("EUR", 123456, 123456)}


def test_spanish_file_with_cop_centavos_and_decimal_comma_imports_exactly(org):
    text = ("Factura;Código Cliente;Razón Social;Fecha de Emisión;Fecha de Vencimiento;Moneda;Monto\n"
            "F-1;C-1;Ferretería Ñuñoa;05/01/2026;04/02/2026;COP;2.450.000,50\n"
            "F-2;C-1;Ferretería Ñuñoa;05/01/2026;04/02/2026;CLP;450.000\n"
            "F-3;C-1;Ferretería Ñuñoa;05/01/2026;04/02/2026;EUR;1.234,56\n"
            "F-4;C-1;Ferretería Ñuñoa;05/01/2026;04/02/2026;COP;1.000\n")
    imp(org, "invoices", text)
    got = {i.ref: (i.currency, i.amount) for i in Invoice.objects.for_org(org)}
    assert got == {"F-1": ("COP", 245000050), "F-2": ("CLP", 450000), "F-3": ("EUR", 123456),
                   "F-4": ("COP", 100000)}


def test_more_decimals_than_iso_allows_is_refused_naming_the_currency(org):
    text = ("invoice_ref,customer_ref,customer_name,issue_date,due_date,currency,amount\n"
            "C-1,K-1,Cliente,2026-01-05,2026-02-04,CLP,450000.5\n")
    found = problems(org, "invoices", text)
    assert any("CLP" in p and "(0)" in p for p in found), found
    assert not Invoice.objects.for_org(org).exists()


def test_big_insert_path_rebuilds_every_index(org, monkeypatch):
    from django.db import connection

    from cobro.ledger import importing

    if connection.vendor != "sqlite":
        pytest.skip("the index rebuild is SQLite's bulk path")

    def index_names():
        with connection.cursor() as cur:
            cur.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='ledger_invoice'")
            return sorted(r[0] for r in cur.fetchall())

    before = index_names()
    monkeypatch.setattr(importing, "REBUILD_INDEXES_FROM", 1)
    imp(org, "invoices", GOOD)
    assert index_names() == before
    assert Invoice.objects.for_org(org).filter(status="open").count() == 3
