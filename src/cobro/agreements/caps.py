"""Legal ceilings on fees and interest, read from ``data/caps.yaml`` and resolved for one day.

The YAML holds the law's numbers with their source and a "verify" note so a lawyer can correct
them without touching code; this module turns a country's preset into the engine's ``LegalCap``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import yaml

from cobro.engine.agreements import LegalCap, value_on
from cobro.engine.money import to_minor

CAPS_FILE = Path(__file__).parent / "data" / "caps.yaml"


class CapsError(ValueError):
    """The caps file is malformed; the message names the country and the field."""


def _decimal(country: str, field: str, raw) -> Decimal:
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise CapsError(f"caps.yaml {country}.{field}: {raw!r} is not a number") from None


def _series(country: str, field: str, raw) -> tuple[tuple[dt.date, Decimal], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        return ((dt.date.min, _decimal(country, field, raw)),)
    out = []
    for row in raw:
        try:
            since = dt.date.fromisoformat(str(row[0]))
        except (ValueError, IndexError, TypeError):
            raise CapsError(f"caps.yaml {country}.{field}: {row!r} is not [YYYY-MM-DD, value]") from None
        out.append((since, _decimal(country, field, row[1])))
    return tuple(out)


@lru_cache(maxsize=4)
def presets(path: Path = CAPS_FILE) -> dict[str, dict]:
    """Every country's preset, checked: a bad number fails loudly at first use, naming it."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {}
    for country, spec in raw.items():
        for field in ("name", "source", "verify", "currency"):
            if not spec.get(field):
                raise CapsError(f"caps.yaml {country}: missing {field}")
        out[country] = {
            **spec,
            "uf": _series(country, "uf", spec.get("uf")),
            "annual_rate": _series(country, "annual_rate", spec.get("annual_rate")),
            "base_rate": _series(country, "base_rate", spec.get("base_rate")),
            "plan_rate": _series(country, "plan_rate", spec.get("plan_rate")),
            "plus": _decimal(country, "plus", spec.get("plus", 0)),
            "tiers_uf": tuple((None if upper is None else _decimal(country, "tiers_uf", upper),
                               _decimal(country, "tiers_uf", pct)) for upper, pct in spec.get("tiers_uf", [])),
        }
    return out


def _annual_rate(spec: dict, on: dt.date) -> Decimal | None:
    if spec["base_rate"]:
        base = value_on(spec["base_rate"], on)
        return None if base is None else base + spec["plus"]
    return value_on(spec["annual_rate"], on)


def legal_cap(country: str, currency: str, on: dt.date, *, business: bool = True) -> LegalCap | None:
    """The ceiling on late charges for a debtor in ``country`` on ``on``; None when none is on file.

    Thresholds and fixed amounts are written in the preset's currency. For an invoice in another
    currency they cannot be converted without an exchange rate, so the lowest bracket's percentage
    applies to the whole amount and fixed amounts are dropped: a ceiling that is never above the
    law's, at the price of charging less.
    """
    spec = presets().get(country.upper())
    if spec is None or (spec.get("business_only") and not business):
        return None
    same = currency.upper() == spec["currency"]
    tiers: tuple[tuple[int | None, Decimal], ...] = ()
    if spec["tiers_uf"]:
        uf = value_on(spec["uf"], on)
        if uf is None or not same:
            tiers = ((None, min(pct for _, pct in spec["tiers_uf"])),)
        else:
            tiers = tuple((None if upper is None else int(upper * uf), pct) for upper, pct in spec["tiers_uf"])
    fine = spec.get("fine_percent")
    fixed = spec.get("fixed_compensation")
    return LegalCap(
        country=country.upper(),
        source=spec["source"],
        tiers=tiers,
        fine_percent=None if fine is None else _decimal(country, "fine_percent", fine),
        annual_rate=_annual_rate(spec, on),
        compound=bool(spec.get("compound")),
        fixed_compensation=to_minor(str(fixed), currency) if fixed and same else 0,
        min_days_overdue=int(spec.get("min_days_overdue", 0)),
    )


def plan_rate_ceiling(country: str, on: dt.date) -> Decimal | None:
    """The highest annual rate a payment plan may carry in ``country`` on ``on`` (None: no interest)."""
    spec = presets().get(country.upper())
    if spec is None:
        return None
    return value_on(spec["plan_rate"], on) if spec["plan_rate"] else _annual_rate(spec, on)


def describe(country: str) -> dict | None:
    """Name, source and verify note of a preset, for the docs, the admin and the fee's basis."""
    spec = presets().get(country.upper())
    return None if spec is None else {k: spec[k] for k in ("name", "source", "verify", "currency")}
