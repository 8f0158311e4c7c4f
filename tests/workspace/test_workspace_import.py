"""The import page: check first (nothing written), then import; Spanish problems by row and column;
managers and admins only; a staged file never crosses to another person or organization."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cobro.einvoice.models import Document
from cobro.ledger.models import Customer, Invoice, Membership
from cobro.payments.models import BankAccount, StatementLine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

GOOD = ("factura,cliente,nombre,fecha_emision,fecha_vencimiento,moneda,monto,correo\n"
        "N-1,C1,Ferretería Los Andes,2026-01-10,2026-02-09,CLP,150000,c1@example.cl\n"
        "N-2,K-9,Librería Nueva,2026-01-12,2026-02-11,CLP,80.000,nueva@example.cl\n")
BAD = GOOD.replace("2026-02-11", "2026-13-45").replace("150000", "-5")


@pytest.fixture(autouse=True)
def staging_dir(settings, tmp_path):
    settings.COBRO_IMPORT_STAGING_DIR = str(tmp_path / "staging")
    return tmp_path / "staging"


def upload(name, content, kind="text/csv"):
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content, content_type=kind)


def check(client, kind, *files, **extra):
    return client.post("/import/", {"step": "check", "kind": kind, "file": list(files), **extra})


def token_of(response):
    return response.context["token"]


def test_good_invoices_are_checked_then_imported(login, book, staging_dir):
    client = login(book.manager)
    before = Invoice.objects.filter(organization=book.org).count()
    response = check(client, "invoices", upload("facturas.csv", GOOD))
    body = response.content.decode()
    assert "Revisión: nada se ha guardado todavía" in body and "Importar ahora" in body
    assert dict(response.context["report"]["counts"]) == {"se crearían": 2, "se actualizarían": 0,
                                                          "sin cambios": 0, "clientes nuevos": 1}
    assert Invoice.objects.filter(organization=book.org).count() == before  # the check wrote nothing
    assert len(list(staging_dir.glob("*/*/0"))) == 1  # the file waits on the server
    response = client.post("/import/", {"step": "confirm", "token": token_of(response)})
    assert "Importación terminada" in response.content.decode()
    inv = Invoice.objects.get(organization=book.org, ref="N-2")
    assert (inv.customer.name, inv.amount, str(inv.due_date)) == ("Librería Nueva", 80_000, "2026-02-11")
    assert Invoice.objects.get(organization=book.org, ref="N-1").customer == book.customers[0]
    assert not list(staging_dir.glob("*/*/0"))  # gone once imported
    again = client.post("/import/", {"step": "confirm", "token": token_of(check(client, "invoices",
                                                                                upload("f.csv", GOOD)))})
    assert dict(again.context["report"]["counts"])["sin cambios"] == 2  # the same file twice: no duplicates


def test_bad_file_lists_every_problem_in_spanish_and_writes_nothing(login, book):
    client = login(book.manager)
    response = check(client, "invoices", upload("facturas.csv", BAD))
    body = response.content.decode()
    assert "2 problemas: no se importó nada." in body
    assert "Fila 2, columna monto: &#x27;-5&#x27; debe ser mayor que cero" in body
    assert "Fila 3, columna fecha_vencimiento: &#x27;2026-13-45&#x27; no es una fecha (use AAAA-MM-DD o DD/MM/AAAA)" in body
    assert "row " not in body and "is not a date" not in body and "must be greater" not in body
    assert "token" not in response.context and "Importar ahora" not in body
    assert not Invoice.objects.filter(organization=book.org, ref__in=["N-1", "N-2"]).exists()
    assert not Customer.objects.filter(organization=book.org, ref="K-9").exists()


def test_problems_name_the_files_own_headers_and_speak_the_chosen_language(login, book):
    client = login(book.manager)
    client.cookies["django_language"] = "en"
    text = "Factura,Cliente,Emisión,Vencimiento,Monto\nN-1,C1,2026-01-10,2026-02-09,abc\n"
    body = check(client, "invoices", upload("x.csv", text)).content.decode()
    assert "Row 2, column Monto: not an amount: &#x27;abc&#x27;" in body
    missing = check(client, "customers", upload("c.csv", "nombre\nAna\n")).content.decode()
    assert "Row 1, column customer_ref: required column is missing (accepted headers: customer_ref," in missing


def test_missing_header_in_spanish_names_the_template_header(login, book):
    body = check(login(book.manager), "customers", upload("c.csv", "nombre\nAna\n")).content.decode()
    assert "Fila 1, columna cliente: falta esta columna obligatoria (encabezados aceptados: cliente," in body


def test_einvoice_zip_with_several_documents(login, book):
    import io
    import zipfile

    book.org.tax_id = "76.086.428-5"
    book.org.save()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(FIXTURES / "einvoice" / "dte-envio.xml", "dte-envio.xml")
    client = login(book.admin)
    response = check(client, "einvoice", upload("lote.zip", buffer.getvalue(), "application/zip"))
    assert dict(response.context["report"]["counts"])["facturas"] == 2
    assert not Document.objects.filter(organization=book.org).exists()
    client.post("/import/", {"step": "confirm", "token": token_of(response)})
    assert Invoice.objects.filter(organization=book.org, ref__in=["1001", "1002"]).count() == 2
    assert Document.objects.filter(organization=book.org).count() == 3


def test_einvoice_of_another_issuer_is_refused_whole(login, book):
    book.org.tax_id = "99.999.999-9"
    book.org.save()
    xml = (FIXTURES / "einvoice" / "dte-envio.xml").read_bytes()
    client = login(book.admin)
    response = check(client, "einvoice", upload("a.xml", xml, "text/xml"), upload("b.xml", b"hola", "text/xml"))
    foreign = ("a.xml: emisor: emitido por 76086428-5, no por Acme SpA (99.999.999-9); Cobro importa solo los "
               "documentos de la propia organización")
    assert response.context["report"]["problems"] == [foreign] * 3 + ["b.xml: archivo: no es XML"]  # 3 DTEs
    assert "token" not in response.context
    assert not Document.objects.exists()


def test_statement_with_its_account(login, book):
    BankAccount.objects.create(organization=book.other, name="Ajena", number="00-123-45678-09", currency="CLP")
    BankAccount.objects.create(organization=book.org, name="Corriente", number="00-123-45678-09", currency="CLP")
    client = login(book.manager)
    data = (FIXTURES / "statements" / "cartola_cl.csv").read_bytes()
    refused = check(client, "statement", upload("cartola.csv", data), account="no-such")
    assert "Línea 1: el archivo no dice de qué cuenta es: elija la cuenta" in refused.content.decode()
    assert not StatementLine.objects.exists()
    response = check(client, "statement", upload("cartola.csv", data), account="00-123-45678-09")
    assert response.context["report"]["rows"] == 4 and not StatementLine.objects.exists()
    client.post("/import/", {"step": "confirm", "token": token_of(response)})
    assert StatementLine.objects.filter(organization=book.org).count() == response.context["report"]["rows"]
    assert not StatementLine.objects.filter(organization=book.other).exists()


def test_statement_problems_in_spanish(login, book):
    BankAccount.objects.create(organization=book.org, name="Corriente", number="00-1", currency="CLP")
    bad = "Fecha;Descripción;Abonos\n02/03/2026;PAGO F-1;100.000\n32/13/2026;PAGO F-2;5.000\n"
    response = check(login(book.manager), "statement", upload("cartola.csv", bad), account="00-1")
    assert response.context["report"]["problems"] == [
        "Línea 3: '32/13/2026' no es una fecha (use DD/MM/AAAA o AAAA-MM-DD)"]
    assert not StatementLine.objects.exists()


def test_one_file_for_a_table_and_a_size_ceiling(login, book, settings):
    client = login(book.manager)
    two = check(client, "invoices", upload("a.csv", GOOD), upload("b.csv", GOOD))
    assert "Este tipo de importación lee un solo archivo." in two.content.decode()
    settings.COBRO_IMPORT_MAX_BYTES = 100
    big = check(client, "invoices", upload("a.csv", GOOD))
    assert "COBRO_IMPORT_MAX_BYTES" in big.content.decode() and "report" not in big.context
    assert not Invoice.objects.filter(ref="N-1").exists()


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agents_and_read_only_members_are_refused(login, book, role):
    client = login(getattr(book, role))
    assert client.get("/import/").status_code == 403
    assert check(client, "invoices", upload("a.csv", GOOD)).status_code == 403
    assert client.get("/import/template/invoices.csv").status_code == 403
    assert 'href="/import/"' not in client.get("/today/").content.decode()
    assert not Invoice.objects.filter(ref="N-1").exists()


def test_managers_see_the_link_and_download_templates(login, book):
    client = login(book.manager)
    assert 'href="/import/"' in client.get("/today/").content.decode()
    response = client.get("/import/template/invoices.csv")
    assert response["Content-Disposition"] == 'attachment; filename="plantilla-facturas.csv"'
    assert response.content.decode().splitlines() == [
        "factura,cliente,nombre,fecha_emision,fecha_vencimiento,moneda,monto,correo,telefono,pais"]
    assert client.get("/import/template/secrets.csv").status_code == 404


def test_a_staged_file_never_imports_into_another_organization(login, book, client):
    Membership.objects.create(user=book.manager, organization=book.other, role="manager")
    mine = login(book.manager)
    token = token_of(check(mine, "invoices", upload("a.csv", GOOD)))
    mine.post("/org/", {"org": "otra"})  # the same person, now in the other organization
    response = mine.post("/import/", {"step": "confirm", "token": token})
    assert "ya no está disponible" in response.content.decode()
    from django.test import Client

    outsider = Client()
    outsider.force_login(book.outsider)
    outsider.post("/import/", {"step": "confirm", "token": token})
    assert not Invoice.objects.filter(ref__in=["N-1", "N-2"]).exists()
