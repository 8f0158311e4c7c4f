"""The Dashboard's risk distribution: customers and open amount per band, from the stored scores."""

import datetime as dt
from types import SimpleNamespace

import pytest

from cobro.dunning import segments
from test_insights_views import _client, today, world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def _store(org, day, rows):
    segments.store_risk(org, day, [SimpleNamespace(customer_ref=ref, score=s, band=b) for ref, s, b, _a in rows],
                        [SimpleNamespace(customer_ref=ref, currency="CLP", open_amount=a) for ref, _s, _b, a in rows])


def test_the_dashboard_shows_customers_and_open_amount_per_band(client, world, today):  # noqa: F811
    acme = world["acme"]
    c = _client(client, world, "viewer")
    body = c.get("/insights/").content.decode()
    assert "Aún no hay puntajes de riesgo guardados" in body
    from cobro.ledger import services as ledger

    ledger.get_or_create_customer(acme, "C2", "Panadería Sol")
    ledger.get_or_create_customer(acme, "C3", "Transportes Sur")
    _store(acme, today - dt.timedelta(days=1), [("C1", 75, "high", 1_500_000), ("C2", 10, "low", 400_000),
                                                ("C3", 20, "low", 100_000)])
    body = c.get("/insights/").content.decode()
    table = body.split('id="risk-bands"')[1].split("</table>")[0]
    low = table.split('data-band="low"')[1].split("</tr>")[0]
    high = table.split('data-band="high"')[1].split("</tr>")[0]
    assert "Bajo" in low and '<td class="num">2</td>' in low and "$500.000" in low and "25,0" in low
    assert "Alto" in high and '<td class="num">1</td>' in high and "$1.500.000" in high and "75,0" in high
    assert 'data-band="medium"' not in table  # no customer scored medium that day
    # A period that ends before the scores were stored shows none.
    past = (today - dt.timedelta(days=40)).isoformat()
    early = c.get("/insights/", {"start": past, "end": past}).content.decode()
    assert "Aún no hay puntajes de riesgo guardados" in early
    english = c.get("/insights/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Customers by risk (CLP)" in english and "Low" in english.split('id="risk-bands"')[1]
