from decimal import Decimal
from importlib.resources import files
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cobro.engine.money import (
    ISO_4217_PUBLISHED,
    MoneyError,
    exponent,
    format_money,
    from_minor,
    guess_decimal_mark,
    known_currencies,
    parse_amount,
    split,
    to_minor,
)


def test_exponents_follow_iso():
    assert (exponent("CLP"), exponent("USD"), exponent("EUR"), exponent("JPY"), exponent("BHD")) == (0, 2, 2, 0, 3)
    # ISO 4217 gives the Colombian peso centavos even where CLDR (Babel 2.19) says 0 digits.
    assert (exponent("COP"), exponent("CLF"), exponent("IQD"), exponent("HUF")) == (2, 4, 3, 2)


def _iso_list_one() -> dict[str, str]:
    """The ISO 4217 list one as the iso4217 package ships it (SIX's XML), read here without the package's code."""
    root = ElementTree.fromstring(files("iso4217").joinpath("table.xml").read_bytes())
    return {e.findtext("Ccy").strip(): e.findtext("CcyMnrUnts").strip()
            for e in root.iter("CcyNtry") if e.findtext("Ccy")}


def test_every_currency_and_exponent_is_the_iso_lists():
    iso = _iso_list_one()
    money = {code: int(units) for code, units in iso.items() if units.isdigit()}
    assert known_currencies() == set(money)
    assert {code: exponent(code) for code in money} == money
    # Gold, SDR and "no currency" have no minor units in ISO: not money for Cobro.
    assert {"XAU", "XDR", "XXX"} <= {code for code, units in iso.items() if units == "N.A."}
    for code in ("XAU", "XXX"):
        with pytest.raises(MoneyError):
            exponent(code)
    assert ISO_4217_PUBLISHED.year >= 2025


@pytest.mark.parametrize("text, currency, mark, minor", [
    ("1234.56", "USD", None, 123456),
    ("1,234.56", "USD", None, 123456),
    ("1.234,56", "EUR", None, 123456),
    ("1 234,56", "EUR", None, 123456),
    ("450.000", "CLP", None, 450000),   # thousands in pesos
    ("450000", "CLP", None, 450000),
    ("$ 450.000", "CLP", None, 450000),
    ("1.234.567", "COP", None, 123456700),   # COP has centavos (ISO 4217: 2 minor units)
    ("2450000.50", "COP", None, 245000050),
    ("2.450.000,50", "COP", None, 245000050),
    ("12,5", "EUR", None, 1250),
    ("1.500", "USD", None, 150000),      # three digits after the only mark: thousands
    ("1.500", "USD", ".", 150),          # unless the file writes decimals with "."
    ("1.500", "EUR", ",", 150000),
    ("(100.00)", "USD", None, -10000),
    ("1.234", "BHD", None, 1234),        # BHD has three decimals
])
def test_parse_amount(text, currency, mark, minor):
    assert parse_amount(text, currency, mark) == minor


@pytest.mark.parametrize("text, currency", [("abc", "USD"), ("", "USD"), ("1.2.3,4,5", "USD"), ("10.5", "CLP"),
                                            ("1.234", "XYZ"), ("12e3", "USD"), ("1.005", "BHD.")])
def test_parse_amount_rejects(text, currency):
    with pytest.raises(MoneyError):
        parse_amount(text, currency)


def test_guess_decimal_mark_from_unambiguous_values():
    assert guess_decimal_mark(["450.000", "1.234,50", "12,5"]) == ","
    assert guess_decimal_mark(["1,234.56", "99.90"]) == "."
    assert guess_decimal_mark(["450.000", "1000"]) is None


def test_to_minor_refuses_extra_precision():
    with pytest.raises(MoneyError):
        to_minor(Decimal("1.005"), "USD")
    assert to_minor("1.50", "USD") == 150
    assert from_minor(150, "USD") == Decimal("1.50")
    assert from_minor(450000, "CLP") == Decimal("450000")


@given(st.integers(min_value=-10**12, max_value=10**12), st.integers(min_value=1, max_value=120))
def test_split_adds_up_and_is_even(total, parts):
    shares = split(total, parts)
    assert sum(shares) == total
    assert len(shares) == parts
    assert len(set(shares[:-1])) <= 1


@given(st.integers(min_value=0, max_value=10**13), st.sampled_from(["CLP", "USD", "EUR", "COP", "MXN", "BHD"]))
def test_minor_major_round_trip(minor, currency):
    assert to_minor(from_minor(minor, currency), currency) == minor


def test_format_money_per_locale():
    assert format_money(1234567, "CLP", "es") == "$1.234.567"
    assert format_money(123456, "EUR", "es") == "1.234,56\xa0€"
    assert format_money(123456, "USD", "en") == "$1,234.56"
    assert "R$" in format_money(123456, "BRL", "pt-br")
    assert format_money(245000050, "COP", "es") == "$2.450.000,50"  # ISO's two decimals, not CLDR's none
