"""Browser journey: a manager imports invoices; a bad row is reported in Spanish by row and column,
nothing is written; the fixed file imports and the invoices show on the customer's page."""

import pytest

from cobro.ledger.models import Customer, Invoice

pytestmark = pytest.mark.e2e
MANAGER = "supervisora@demo.cobro"


def test_manager_fixes_a_bad_row_and_imports(demo, open_page, sign_in, shot, tmp_path, settings):
    settings.COBRO_IMPORT_STAGING_DIR = str(tmp_path / "staging")
    customer = Customer.objects.for_org(demo.org).order_by("ref").first()
    rows = [f"IMP-1,{customer.ref},{customer.name},2026-01-10,2026-02-09,CLP,150.000",
            f"IMP-2,{customer.ref},{customer.name},2026-01-12,2026-02-31,CLP,80.000"]
    header = "factura,cliente,nombre,fecha_emision,fecha_vencimiento,moneda,monto"
    bad, good = tmp_path / "facturas.csv", tmp_path / "facturas-corregidas.csv"
    bad.write_text("\n".join([header, *rows]) + "\n")
    good.write_text("\n".join([header, rows[0], rows[1].replace("2026-02-31", "2026-02-28")]) + "\n")

    for viewport in ("laptop", "phone"):
        page = open_page(viewport)
        sign_in(page, MANAGER, demo.password)
        page.goto("/import/")
        shot(page, "60-import", viewport)
    page = open_page("laptop")
    sign_in(page, MANAGER, demo.password)
    page.click("nav a[href='/import/']")
    page.check("input[name=kind][value=invoices]")
    page.set_input_files("#import-file", str(bad))
    page.click("button:has-text('Revisar archivo')")
    problem = page.locator(".problems li")
    assert problem.count() == 1
    assert problem.inner_text() == ("Fila 3, columna fecha_vencimiento: '2026-02-31' no es una fecha "
                                    "(use AAAA-MM-DD o DD/MM/AAAA)")
    assert "1 problema: no se importó nada." in page.inner_text("#report-title + .card-body, .card-body")
    shot(page, "61-import-problems", "laptop")
    assert not Invoice.objects.for_org(demo.org).filter(ref__startswith="IMP-").exists()

    page.set_input_files("#import-file", str(good))
    page.click("button:has-text('Revisar archivo')")
    counts = list(zip(page.locator(".import-counts dt").all_inner_texts(),
                      page.locator(".import-counts dd").all_inner_texts(), strict=True))
    assert counts == [("se crearían", "2"), ("se actualizarían", "0"), ("sin cambios", "0")]
    assert not Invoice.objects.for_org(demo.org).filter(ref__startswith="IMP-").exists()
    shot(page, "62-import-check", "laptop")
    page.click("button:has-text('Importar ahora')")
    page.wait_for_selector("text=Importación terminada")
    assert Invoice.objects.for_org(demo.org).filter(ref__startswith="IMP-", customer=customer).count() == 2

    page.goto(f"/customers/{customer.pk}/")
    body = page.inner_text("main")
    assert "IMP-1" in body and "IMP-2" in body

    phone = open_page("phone")
    sign_in(phone, MANAGER, demo.password)
    phone.goto("/import/")
    phone.set_input_files("#import-file", str(bad))
    phone.click("button:has-text('Revisar archivo')")
    phone.wait_for_selector(".problems li")
    shot(phone, "61-import-problems", "phone")
