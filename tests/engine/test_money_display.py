"""Money display (issue 9.3): CLDR only for showing; a currency can never be mistaken; and every shown
amount reads back exactly, for every ISO 4217 currency in every UI language."""

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobro.engine.money import (
    MoneyError,
    format_amounts,
    format_money,
    home_currency,
    known_currencies,
    max_minor,
    parse_money,
)

LANGUAGES = ("es", "en", "pt-BR")
CURRENCIES = sorted(known_currencies())
HOMES = (None, "CLP", "COP", "MXN", "USD", "BRL", "EUR")


@pytest.mark.parametrize("minor, currency, language, home, shown", [
    (450_000, "CLP", "es", "COP", "CLP 450.000"),
    (245_000_050, "COP", "es", "CLP", "COP 2.450.000,50"),
    (2_845_300_000, "COP", "en", None, "COP 28,453,000.00"),
    (2_845_300_000, "COP", "en", "USD", "COP 28,453,000.00"),
    (123_400, "MXN", "es", "CLP", "MXN 1.234,00"),
    (123_400, "USD", "es", "MXN", "USD 1,234.00"),  # a Mexican team reads its own separators
    (1_234_567, "CLP", "es", "CLP", "$1.234.567"),  # the home currency, the local way
    (-123_456, "USD", "pt-BR", "BRL", "USD -1.234,56"),
])
def test_a_currency_other_than_the_organizations_shows_its_iso_code(minor, currency, language, home, shown):
    assert format_money(minor, currency, language, home=home) == shown


def test_in_a_multi_currency_list_every_amount_names_its_currency():
    got = format_amounts({"CLP": 2_000_000, "MXN": 4_960_800}, "es", home="CLP")
    assert got == ["CLP 2.000.000", "MXN 49.608,00"]
    assert format_amounts({"CLP": 2_000_000}, "es", home="CLP") == ["$2.000.000"]
    no_bare_dollar = format_amounts({"CLP": 1, "COP": 100, "MXN": 100, "USD": 100, "ARS": 100}, "es")
    assert not any(a.startswith("$") for a in no_bare_dollar)


def test_the_request_home_currency_is_used_when_none_is_given():
    with home_currency("CLP"):
        assert format_money(245_000_050, "COP", "es") == "COP 2.450.000,50"
        assert format_money(450_000, "CLP", "es") == "$450.000"
    assert format_money(245_000_050, "COP", "es") == "$2.450.000,50"  # outside: the currency's own country


def test_money_map_filter_names_every_currency_of_a_mixed_total():
    from cobro.workspace.templatetags.cobro_ui import money, money_map

    with translation.override("en"):
        assert money_map({"COP": 2_845_300_000, "CLP": 5}, "CLP") == "COP 28,453,000.00 · CLP 5"
        assert "COP28" not in money_map({"COP": 2_845_300_000}, "CLP")
        assert money_map({"COP": 2_845_300_000}, "CLP") == "COP 28,453,000.00"
    with translation.override("es"), home_currency("CLP"):
        assert money(245_000_050, "COP") == "COP 2.450.000,50"
        assert money(450_000, "CLP") == "$450.000"


def test_parse_refuses_what_is_not_an_amount():
    for text, kw in [("CLP 1.2.3,4,5", {}), ("XYZ 100", {}), ("$100", {}), ("CLP 12,5", {}), ("USD 1,234.567", {}),
                     ("CLP ١٢٣", {})]:
        with pytest.raises(MoneyError):
            parse_money(text, "es", **kw)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_iso_currency_round_trips_in_every_language(language):
    """Deterministic sweep: each currency, each form, a few telling amounts."""
    for currency in CURRENCIES:
        top = max_minor(currency)
        for minor in (0, 1, -1, 7, 999, 1000, 123_456_789, -98_765_432_10, top, -top):
            for home in (None, currency, "CLP" if currency != "CLP" else "USD"):
                shown = format_money(minor, currency, language, home=home)
                assert parse_money(shown, language, currency=currency, home=home) == (minor, currency), shown
            shown = format_money(minor, currency, language, code=True)
            assert shown.startswith(currency + " ")
            assert parse_money(shown, language) == (minor, currency), shown


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(currency=st.sampled_from(CURRENCIES), language=st.sampled_from(LANGUAGES), home=st.sampled_from(HOMES),
       data=st.data())
def test_parse_of_format_is_identity(currency, language, home, data):
    minor = data.draw(st.integers(-max_minor(currency), max_minor(currency)))
    shown = format_money(minor, currency, language, home=home)
    assert parse_money(shown, language, currency=currency, home=home) == (minor, currency)
    listed = format_amounts({currency: minor, "XAF" if currency != "XAF" else "XOF": 1}, language, home=home)[0]
    assert parse_money(listed, language, home=home) == (minor, currency)
