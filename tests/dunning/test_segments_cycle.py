"""Segments through the real cycle: a customer a segment holds gets that policy's steps; change the
segment and the next cycle follows; the customer's own policy still wins; explain names the segment."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import translation

from cobro.dunning import segments, services
from cobro.dunning.cycle import load_snapshot, run_cycle
from cobro.dunning.models import Action, CustomerRisk, RiskBandTotal, Segment

D = dt.date
SHORT = """
code: corta
name: Corta
steps:
  - {code: "c+1", offset: 1, action: message, channel: email, template: overdue_friendly, tone: friendly, name: Uno}
  - {code: "c+8", offset: 8, action: message, channel: email, template: overdue_firm, tone: firm, name: Ocho}
"""


@pytest.fixture
def short(org, book):
    services.ensure_default_policy(org)
    services.import_policies(org, SHORT)
    return book


def _risk(ref, score, band):
    return SimpleNamespace(customer_ref=ref, score=score, band=band)


def _steps(result, ref):
    return sorted(o["step"] for o in result.created if o["customer_ref"] == ref)


def test_a_segment_routes_its_customers_and_the_next_cycle_follows_a_change(org, short):
    # K-2 (Colombia) is scored high; the others medium or not at all.
    segments.store_risk(org, D(2026, 3, 3), [_risk("K-2", 71, "high"), _risk("K-1", 40, "medium")],
                        [SimpleNamespace(customer_ref="K-2", currency="USD", open_amount=120000),
                         SimpleNamespace(customer_ref="K-1", currency="USD", open_amount=25000)])
    altos = segments.save_segment(org, {"name": "Riesgo alto", "policy": "corta", "bands": ["high"],
                                        "currency": "USD", "amount_min": 100000, "amount_max": None})
    first = run_cycle(org, D(2026, 3, 4))
    # K-2's I-3 is 23 days overdue: the short policy's latest step, not the standard +15.
    assert _steps(first, "K-2") == ["c+8"]
    assert _steps(first, "K-1") == ["+7"]  # medium: the organization's default
    with translation.override("es"):
        why = " ".join(services.explain(org, short["K-2"], D(2026, 3, 4)))
    assert "La política la eligió el segmento «Riesgo alto»" in why

    # The segment now holds Mexico instead: K-2 is back on the standard policy (its +30 on March 11),
    # K-3 (Mexico, due March 3) moves to the short one.
    segments.save_segment(org, {"name": "Riesgo alto", "policy": "corta", "bands": [], "countries": ["mx"]}, altos)
    later = run_cycle(org, D(2026, 3, 11))
    assert _steps(later, "K-2") == ["+30", "+30-cargo"]
    assert _steps(later, "K-3") == ["c+8"]
    assert Action.objects.filter(organization=org, customer=short["K-3"], step="c+8").exists()


def test_the_customers_own_policy_wins_over_any_segment(org, short):
    segments.save_segment(org, {"name": "Todos", "policy": "corta", "bands": []})
    services.assign_policy(org, short["K-1"], "estandar")
    snap = load_snapshot(org, D(2026, 3, 4))
    assert (snap.debtors[short["K-1"].pk].policy, snap.debtors[short["K-1"].pk].policy_source) == (
        "estandar", "customer")
    assert {snap.debtors[short[k].pk].policy for k in ("K-2", "K-3", "K-4")} == {"corta"}
    held, own, rest = segments.held_today(org, D(2026, 3, 4))
    assert (held, own, rest) == ({Segment.objects.get().pk: 3}, 1, 0)


def test_days_since_the_first_invoice_and_the_legacy_label(org, short):
    from cobro.dunning.models import Policy

    # K-4's first invoice was issued on January 1: 62 days before March 4; K-1's on January 5.
    segments.save_segment(org, {"name": "Antiguos", "policy": "corta", "days_min": 61})
    Policy.objects.filter(code="estandar").update(segment="")
    snap = load_snapshot(org, D(2026, 3, 4))
    assert snap.debtors[short["K-4"].pk].policy == "corta"
    assert snap.debtors[short["K-1"].pk].policy == "estandar"
    # Without segments, a policy's old label still matches a customer tagged with it.
    Segment.objects.all().delete()
    Policy.objects.filter(code="corta").update(segment="Pyme")
    short["K-1"].segment = "exportador, pyme"
    short["K-1"].save()
    snap = load_snapshot(org, D(2026, 3, 4))
    assert (snap.debtors[short["K-1"].pk].policy, snap.debtors[short["K-1"].pk].policy_source) == ("corta", "tag")


def test_storing_scores_replaces_the_bands_and_keeps_the_days_distribution(org, short):
    segments.store_risk(org, D(2026, 3, 3), [_risk("K-2", 71, "high")],
                        [SimpleNamespace(customer_ref="K-2", currency="USD", open_amount=120000)])
    segments.store_risk(org, D(2026, 3, 4), [_risk("K-1", 10, "low"), _risk("K-3", 12, "low")],
                        [SimpleNamespace(customer_ref="K-1", currency="USD", open_amount=25000),
                         SimpleNamespace(customer_ref="K-3", currency="USD", open_amount=8050),
                         SimpleNamespace(customer_ref="K-3", currency="USD", open_amount=50)])
    assert dict(CustomerRisk.objects.values_list("customer__ref", "band")) == {"K-1": "low", "K-3": "low"}
    assert RiskBandTotal.objects.count() == 2
    assert segments.band_totals(org, "USD", D(2026, 3, 3)) == (D(2026, 3, 3), [("high", 1, 120000)])
    assert segments.band_totals(org, "USD", D(2026, 3, 9)) == (D(2026, 3, 4), [("low", 2, 33100)])
    assert segments.band_totals(org, "USD", D(2026, 3, 1)) == (None, [])


def test_a_segment_with_problems_is_refused_with_all_of_them(org, short):
    with translation.override("es"), pytest.raises(services.DunningError) as err:
        segments.save_segment(org, {"name": " ", "policy": "nada", "bands": ["rojo"], "countries": ["Chile"],
                                    "currency": "", "amount_min": 500, "amount_max": 100,
                                    "days_min": 30, "days_max": 10})
    text = str(err.value)
    for part in ("necesita un nombre", "Elija la política", "Banda de riesgo desconocida: rojo", "Chile",
                 "necesita su moneda", "mayor que el mínimo", "al menos los mínimos"):
        assert part in text
    assert not Segment.objects.exists()
