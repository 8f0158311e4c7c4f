"""The board in the browser: "Ver más" really adds cards, moves stick or are refused in words, the
filters list each option once, and the demo's agreements sit in their own columns."""

from __future__ import annotations

import datetime as dt

import pytest

from cobro.ledger.models import Customer
from cobro.ledger.services import add_invoice

pytestmark = pytest.mark.e2e

AGENT = "gestor1@demo.cobro"


def _column(page, stage):
    return page.locator(f".column-cards[data-stage={stage}]")


def test_board_more_cards_moves_and_filters(demo, open_page, sign_in, shot):
    from cobro.dunning.models import CustomerStage
    from cobro.workspace.board import PAGE_SIZE

    for i in range(PAGE_SIZE + 5):
        c = Customer.objects.create(organization=demo.org, ref=f"E2E{i}", name=f"Cliente Extra {i:02d}", country="CL",
                                    timezone="America/Santiago", segment="pyme")
        add_invoice(demo.org, c, f"X-{i}", demo.today - dt.timedelta(days=40), demo.today - dt.timedelta(days=9),
                    "CLP", 1000 + i)
    page = open_page("laptop")
    sign_in(page, AGENT, demo.password)
    page.goto("/board/")
    vencida = _column(page, "vencida")
    total = int(page.locator("#col-vencida [data-count]").inner_text())
    assert total > PAGE_SIZE and vencida.locator(".kcard").count() == PAGE_SIZE
    vencida.locator("button", has_text="Ver más").click()
    # (wait_for_function evaluates a string, which the CSP rightly forbids: wait for the card instead)
    vencida.locator(".kcard").nth(PAGE_SIZE).wait_for()
    assert vencida.locator(".kcard").count() == min(total, 2 * PAGE_SIZE)
    shot(page, "12-board-more", "laptop")

    # Each segment and country once in the filters.
    segments = page.locator("#f-segment option").all_inner_texts()
    countries = page.locator("#f-country option").all_inner_texts()
    assert len(segments) == len(set(segments)) and len(countries) == len(set(countries))

    # Vencida → En gestión → back to Vencida: the card ends where the person put it.
    card = vencida.locator(".kcard").first
    cid = int(card.get_attribute("data-id"))
    with page.expect_navigation():
        card.locator("select[name=stage]").select_option("en_gestion")
    assert _column(page, "en_gestion").locator(f".kcard[data-id='{cid}']").count() == 1
    moved = _column(page, "en_gestion").locator(f".kcard[data-id='{cid}']")
    options = moved.locator("select[name=stage] option").evaluate_all("os => os.map(o => o.value)")
    assert "legal" not in options and "por_vencer" not in options and "vencida" in options
    with page.expect_navigation():
        moved.locator("select[name=stage]").select_option("vencida")
    assert _column(page, "vencida").locator(f".kcard[data-id='{cid}']").count() == 1
    assert CustomerStage.objects.get(customer_id=cid).stage == "vencida"
    assert "pasó a «Vencida»" in page.locator(".messages").inner_text()

    # "Por vencer" is offered from Vencida but untrue for an overdue customer: refused in Spanish.
    card = _column(page, "vencida").locator(f".kcard[data-id='{cid}']")
    with page.expect_navigation():
        card.locator("select[name=stage]").select_option("por_vencer")
    message = page.locator(".msg-error").inner_text()
    assert "tiene facturas vencidas" in message and "por_vencer" not in message
    assert _column(page, "vencida").locator(f".kcard[data-id='{cid}']").count() == 1
    shot(page, "13-board-refused", "laptop")


def test_demo_agreements_fill_their_columns(demo, open_page, sign_in, shot):
    from cobro.agreements.models import Dispute, Plan, Promise

    page = open_page("laptop")
    sign_in(page, AGENT, demo.password)
    page.goto("/board/")
    pending = Promise.objects.for_org(demo.org).filter(status="pending").values_list("customer_id", flat=True)
    live_plans = Plan.objects.for_org(demo.org).filter(status__in=["active", "proposed"]).values_list("customer_id", flat=True)
    disputes = Dispute.objects.for_org(demo.org).filter(status__in=["open", "answered"]).values_list("customer_id", flat=True)
    for stage, ids in (("promesa", pending), ("plan_de_pagos", live_plans), ("disputa", disputes)):
        assert ids, stage
        shown = {int(x) for x in _column(page, stage).locator(".kcard").evaluate_all("cs => cs.map(c => c.dataset.id)")}
        assert shown, stage
    for stage in ("mediacion", "legal"):
        assert _column(page, stage).locator(".kcard").count() >= 1, stage
    shot(page, "14-board-demo-columns", "laptop")
