"""Segments and the stored risk bands they read: the only writer of ``Segment``, ``CustomerRisk`` and
``RiskBandTotal``, and the reads the cycle and the policies page share (``cobro.engine.segments``
decides; this module only loads rows for it, one query per table).

Where the bands come from: ``cobro risk --org SLUG --as-of DATE --store`` (nightly, before the cycle)
keeps each scored customer's latest score and band in ``CustomerRisk`` and that day's customers and
open amount per band and currency in ``RiskBandTotal`` (the Dashboard's distribution). The cycle
reads ``CustomerRisk`` in one query, only when some segment has a condition on the band.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max, Min, Sum
from django.utils.translation import gettext as _

from cobro.engine import segments as engine
from cobro.ledger.models import Customer, Invoice, Organization

from .models import CustomerRisk, PolicyAssignment, RiskBandTotal, Segment
from .models import Policy as PolicyRow
from .services import DunningError


def rules(org: Organization) -> tuple[engine.Segment, ...]:
    """The organization's segments as engine rules, in priority order (one query)."""
    out = []
    for pk, name, priority, code, bands, currency, lo, hi, countries, tags, dmin, dmax in (
            Segment.objects.for_org(org).values_list(
                "pk", "name", "priority", "policy__code", "bands", "currency", "amount_min", "amount_max",
                "countries", "tags", "days_min", "days_max")):
        out.append(engine.Segment(
            id=pk, name=name, policy=code, priority=priority, bands=frozenset(bands or ()), currency=currency,
            amount_min=lo, amount_max=hi, countries=frozenset(countries or ()),
            tags=frozenset(t.lower() for t in tags or ()), days_min=dmin, days_max=dmax))
    return engine.ordered(out)


def needs(rule_set: Iterable[engine.Segment]) -> tuple[bool, bool, bool]:
    """Whether any rule reads the band, the open amounts, the first invoice's date."""
    rule_set = tuple(rule_set)
    return (any(r.needs_band for r in rule_set),
            any(r.amount_min is not None or r.amount_max is not None for r in rule_set),
            any(r.needs_first_invoice for r in rule_set))


def _scoped(qs, ids, field="customer_id"):
    return qs.filter(**{f"{field}__in": list(ids)}) if ids is not None else qs


def bands(org: Organization, ids=None) -> dict[int, str]:
    """Customer id -> latest stored band (one query)."""
    return dict(_scoped(CustomerRisk.objects.for_org(org), ids).values_list("customer_id", "band"))


def first_issued(org: Organization, ids=None) -> dict[int, dt.date]:
    """Customer id -> issue date of their first invoice (one grouped query)."""
    qs = _scoped(Invoice.objects.for_org(org), ids).order_by().values("customer_id").annotate(d=Min("issue_date"))
    return {cid: d for cid, d in qs.values_list("customer_id", "d")}


def facts(country: str, segment_field: str, band: str | None, owed: dict[str, int] | None,
          first: dt.date | None, as_of: dt.date) -> engine.Facts:
    return engine.Facts(country=country, tags=engine.parse_tags(segment_field), band=band,
                        open_amounts=owed or {},
                        days_since_first=(as_of - first).days if first is not None else None)


def legacy_labels(policy_rows) -> dict[str, str]:
    """A policy's old free-text ``segment`` label -> its code: customers tagged so get that policy
    when no segment holds them (lower case, as tags are compared)."""
    return {segment.strip().lower(): code for code, segment in policy_rows if segment and segment.strip()}


# --- The policies page ------------------------------------------------------------------------------

def held_today(org: Organization, today: dt.date) -> tuple[dict[int, int], int, int]:
    """How many customers each segment holds today, in one evaluation over the whole book: (segment id
    -> customers whose policy it chooses, customers with their own policy, customers no segment holds).
    At most five queries, whatever the size of the book."""
    rule_set = rules(org)
    customers = list(Customer.objects.for_org(org).order_by().values_list("pk", "country", "segment"))
    own = set(PolicyAssignment.objects.for_org(org).values_list("customer_id", flat=True))
    if not rule_set:
        return {}, sum(1 for c in customers if c[0] in own), sum(1 for c in customers if c[0] not in own)
    by_band, by_amount, by_days = needs(rule_set)
    band = bands(org) if by_band else {}
    first = first_issued(org) if by_days else {}
    owed: dict[int, dict[str, int]] = defaultdict(dict)
    if by_amount:
        for cid, currency, amount in (Invoice.objects.for_org(org)
                                      .filter(status=Invoice.Status.OPEN, open_amount__gt=0).order_by()
                                      .values("customer_id", "currency").annotate(s=Sum("open_amount"))
                                      .values_list("customer_id", "currency", "s")):
            owed[cid][currency] = amount
    held, mine, rest = engine.count(rule_set, (
        (facts(country, seg, band.get(cid), owed.get(cid), first.get(cid), today), cid in own)
        for cid, country, seg in customers))
    return dict(held), mine, rest


def _check(org: Organization, data: dict, pk: int | None) -> dict:
    """The segment's fields, checked; raises DunningError with every problem, in the reader's language."""
    problems = []
    name = (data.get("name") or "").strip()
    if not name:
        problems.append(_("El segmento necesita un nombre."))
    elif Segment.objects.for_org(org).filter(name=name).exclude(pk=pk).exists():
        problems.append(_("Ya hay un segmento llamado «%(name)s».") % {"name": name})
    policy = PolicyRow.objects.for_org(org).filter(code=data.get("policy") or "").first()
    if policy is None:
        problems.append(_("Elija la política a la que el segmento envía a sus clientes."))
    wrong = sorted(set(data.get("bands") or ()) - set(engine.BANDS))
    if wrong:
        problems.append(_("Banda de riesgo desconocida: %(bands)s.") % {"bands": ", ".join(wrong)})
    written = [c.strip() for c in data.get("countries") or () if c.strip()]
    countries = sorted({c.upper() for c in written})
    bad = [c for c in written if len(c) != 2 or not c.isalpha()]
    if bad:
        problems.append(_("Escriba cada país con su código de dos letras (CL, MX…): %(bad)s.")
                        % {"bad": ", ".join(bad)})
    lo, hi = data.get("amount_min"), data.get("amount_max")
    if (lo is not None or hi is not None) and not data.get("currency"):
        problems.append(_("Un rango de montos necesita su moneda."))
    if lo is not None and hi is not None and hi <= lo:
        problems.append(_("El monto máximo debe ser mayor que el mínimo."))
    dmin, dmax = data.get("days_min"), data.get("days_max")
    if any(d is not None and d < 0 for d in (dmin, dmax)):
        problems.append(_("Los días desde la primera factura no pueden ser negativos."))
    elif dmin is not None and dmax is not None and dmax < dmin:
        problems.append(_("Los días máximos desde la primera factura deben ser al menos los mínimos."))
    if problems:
        raise DunningError(" ".join(problems))
    return {"name": name[:80], "policy": policy, "bands": [b for b in engine.BANDS if b in set(data.get("bands") or ())],
            "currency": (data.get("currency") or "") if lo is not None or hi is not None else "",
            "amount_min": lo, "amount_max": hi, "countries": countries,
            "tags": sorted({t.strip().lower() for t in data.get("tags") or () if t.strip()}),
            "days_min": dmin, "days_max": dmax}


def save_segment(org: Organization, data: dict, segment: Segment | None = None) -> Segment:
    """Create (``segment`` None: last in priority) or change a segment; all or nothing."""
    fields = _check(org, data, segment.pk if segment else None)
    with transaction.atomic():
        if segment is None:
            last = Segment.objects.for_org(org).aggregate(m=Max("priority"))["m"]
            return Segment.objects.create(organization=org, priority=0 if last is None else last + 1, **fields)
        for key, value in fields.items():
            setattr(segment, key, value)
        segment.save()
    return segment


def move_segment(org: Organization, segment: Segment, delta: int) -> None:
    """Move a segment one place up (-1) or down (+1); priorities are renumbered 0, 1, 2…"""
    with transaction.atomic():
        order = list(Segment.objects.for_org(org).select_for_update().order_by("priority", "id"))
        at = next(i for i, s in enumerate(order) if s.pk == segment.pk)
        to = at + delta
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
        for i, s in enumerate(order):
            if s.priority != i:
                Segment.objects.for_org(org).filter(pk=s.pk).update(priority=i)


def delete_segment(org: Organization, segment: Segment) -> None:
    Segment.objects.for_org(org).filter(pk=segment.pk).delete()


# --- Risk bands, stored by ``cobro risk --store`` -----------------------------------------------------

def store_risk(org: Organization, scored_on: dt.date, risks, forecasts) -> int:
    """Keep each scored customer's score and band (replacing the earlier ones) and that day's
    customers and open amount per band and currency. ``risks``: objects with ``customer_ref``, ``score``,
    ``band``; ``forecasts``: objects with ``customer_ref``, ``currency``, ``open_amount``. Returns the
    customers kept."""
    ids = dict(Customer.objects.for_org(org).values_list("ref", "pk"))
    band_of = {r.customer_ref: r.band for r in risks}
    totals: dict[tuple[str, str], list] = defaultdict(lambda: [set(), 0])
    for f in forecasts:
        band = band_of.get(f.customer_ref)
        if band is not None:
            cell = totals[(f.currency, band)]
            cell[0].add(f.customer_ref)
            cell[1] += f.open_amount
    rows = [CustomerRisk(organization=org, customer_id=ids[r.customer_ref], score=r.score, band=r.band,
                         scored_on=scored_on) for r in risks if r.customer_ref in ids]
    with transaction.atomic():
        CustomerRisk.objects.for_org(org).delete()
        CustomerRisk.objects.bulk_create(rows, batch_size=5000)
        RiskBandTotal.objects.for_org(org).filter(scored_on=scored_on).delete()
        RiskBandTotal.objects.bulk_create([
            RiskBandTotal(organization=org, scored_on=scored_on, currency=currency, band=band,
                          customers=len(refs), open_amount=amount)
            for (currency, band), (refs, amount) in sorted(totals.items())])
    return len(rows)


def band_totals(org: Organization, currency: str, on_or_before: dt.date) -> tuple[dt.date | None, list]:
    """The latest stored distribution made on or before a day, for one currency: (its day, rows of
    (band, customers, open amount) in band order). Two small queries."""
    day = (RiskBandTotal.objects.for_org(org).filter(currency=currency, scored_on__lte=on_or_before)
           .aggregate(m=Max("scored_on"))["m"])
    if day is None:
        return None, []
    got = {b: (n, a) for b, n, a in RiskBandTotal.objects.for_org(org).filter(currency=currency, scored_on=day)
           .values_list("band", "customers", "open_amount")}
    return day, [(b, *got[b]) for b in engine.BANDS if b in got]
