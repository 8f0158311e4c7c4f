"""The top bar's search: exact results, accents and case, tax ids however typed, tenancy, upkeep."""

from __future__ import annotations

import datetime as dt

import pytest

from cobro.ledger import search
from cobro.ledger.importing import import_file
from cobro.ledger.models import Contact, Customer, SearchKey
from cobro.ledger.services import add_contact, add_invoice, upsert_customer


@pytest.fixture
def pena(book):
    c = Customer.objects.create(organization=book.org, ref="CL-0042", name="COMERCIAL PENA LIMITADA",
                                tax_id="760864285", country="CL")
    Contact.objects.create(organization=book.org, customer=c, name="Juan Núñez", email="jnunez@pena.cl",
                           phone="+56 9 8765 4321")
    add_invoice(book.org, c, "F-77001", book.today - dt.timedelta(days=40), book.today - dt.timedelta(days=10),
                "CLP", 50_000)
    # The same words in the other organization: never shown to this one.
    twin = Customer.objects.create(organization=book.other, ref="CL-0042", name="Comercial Peña Limitada",
                                   tax_id="760864285", country="CL")
    Contact.objects.create(organization=book.other, customer=twin, name="Juan Núñez", email="jnunez@pena.cl",
                           phone="+56987654321")
    add_invoice(book.other, twin, "F-77001", book.today - dt.timedelta(days=40), book.today - dt.timedelta(days=10),
                "CLP", 50_000)
    return c


def ids(found, group):
    return [r.customer.pk for r in found.get(group, [])]


def test_folding():
    assert search.fold("  Peña-Ruiz & Cía. ") == "pena ruiz cia"
    assert search.compact("76.086.428-5") == "760864285"
    assert search.word_keys("Restaurante La Candelaria S.A.S.") == [
        "restaurante la candelaria s a s", "la candelaria s a s", "candelaria s a s"]
    assert search.phone_keys("+56 9 8765 4321") == ["56987654321", "987654321"]


@pytest.mark.parametrize("query,group,kind", [
    ("peña", "customers", "name"), ("PEÑA lim", "customers", "name"), ("limitada", "customers", "name"),
    ("76.086.428-5", "customers", "tax_id"), ("76086428", "customers", "tax_id"),
    ("cl-0042", "customers", "ref"), ("CL0042", "customers", "ref"),
    ("f-77001", "invoices", "invoice"), ("77001", "invoices", "invoice"),
    ("juan nunez", "contacts", "contact"), ("NÚÑEZ", "contacts", "contact"),
    ("jnunez@pena", "contacts", "email"), ("+56 9 8765 4321", "contacts", "phone"), ("9 8765 4321", "contacts", "phone"),
])
def test_each_way_of_finding_a_customer(book, pena, query, group, kind):
    found = search.search(book.org, query)
    assert ids(found, group) == [pena.pk]
    assert found[group][0].hits[0].kind == kind
    assert all(r.customer.organization_id == book.org.pk for g in found.values() for r in g)


def test_nothing_and_too_short(book, pena):
    assert search.search(book.org, "zzz-no-existe") == {}
    assert search.search(book.org, "p") == {}
    assert search.search(book.org, "  ") == {}


def test_another_organization_never_appears(book, pena):
    found = search.search(book.other, "peña")
    assert len(ids(found, "customers")) == 1 and ids(found, "customers") != [pena.pk]
    assert search.search(book.other, "Ferretería") == {}


def test_keys_follow_the_ledgers_writes(book, pena):
    pena.name = "Distribuidora Ñandú"
    pena.save()
    assert search.search(book.org, "peña").get("customers") is None
    assert ids(search.search(book.org, "nandu"), "customers") == [pena.pk]
    upsert_customer(book.org, "CL-0042", tax_id="11.111.111-1")
    assert ids(search.search(book.org, "111111111"), "customers") == [pena.pk]
    contact = add_contact(book.org, pena, name="Beatriz Ávila", email="bavila@x.cl")
    assert ids(search.search(book.org, "avila"), "contacts") == [pena.pk]
    contact.delete()
    assert search.search(book.org, "avila") == {}
    pena.delete()
    assert not SearchKey.objects.filter(organization=book.org, key__startswith="nandu").exists()


def test_an_import_is_searchable_at_once(book):
    data = ("customer_ref,name,email,phone,country,tax_id\n"
            "IMP-1,Óptica Muñoz,ventas@optica.cl,+56911112222,CL,96.543.210-8\n").encode()
    import_file(book.org, "customers", data, name="c.csv")
    found = search.search(book.org, "optica munoz")
    assert [r.customer.ref for r in found["customers"]] == ["IMP-1"]
    assert [r.customer.ref for r in search.search(book.org, "965432108")["customers"]] == ["IMP-1"]
    assert [r.customer.ref for r in search.search(book.org, "ventas@optica")["contacts"]] == ["IMP-1"]
    invoices = (b"invoice_ref,customer_ref,issue_date,due_date,currency,amount\n"
                b"IMPF-9,IMP-1,2026-01-01,2026-02-01,CLP,1000\n")
    import_file(book.org, "invoices", invoices, name="i.csv")
    assert [r.customer.ref for r in search.search(book.org, "impf9")["invoices"]] == ["IMP-1"]
    # A full rebuild gives the same keys the writes kept.
    before = sorted(SearchKey.objects.filter(organization=book.org).values_list("customer_id", "kind", "key"))
    search.reindex(book.org)
    assert sorted(SearchKey.objects.filter(organization=book.org).values_list("customer_id", "kind", "key")) == before


def test_the_page_groups_and_links(book, pena, login):
    client = login(book.viewer)
    page = client.get("/search/", {"q": "pena"}).content.decode()
    assert f'href="/customers/{pena.pk}/"' in page
    assert 'data-group="customers"' in page and 'data-group="contacts"' in page
    assert 'data-group="invoices"' not in page
    assert "Comercial Peña" not in page  # the other organization's spelling
    page = client.get("/search/", {"q": "77001"}).content.decode()
    assert 'data-group="invoices"' in page and "F-77001" in page
    assert "Nada coincide con" in client.get("/search/", {"q": "qqqq"}).content.decode()


def test_the_outsider_sees_only_their_own(book, pena, login):
    page = login(book.outsider).get("/search/", {"q": "pena"}).content.decode()
    assert f'href="/customers/{pena.pk}/"' not in page
    assert "Comercial Peña Limitada" in page


def test_the_top_bar_has_the_box(book, login):
    page = login(book.agent).get("/today/").content.decode()
    assert 'action="/search/"' in page and 'name="q"' in page


def test_id_keys():
    assert search.id_keys("F-10001") == ["f10001", "10001"]
    assert search.id_keys("CL-0042-b") == ["cl0042b", "0042 b"]
    assert search.id_keys("") == []
