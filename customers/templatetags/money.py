"""Money, numbers and percentages in the active language: `{% load money %}`.

    {{ value|money }}     1.234,56 €   €1,234.56
    {{ value|money:0 }}   1.235 €      €1,235      (whole units, for big tables)
    {{ value|number:1 }}  1.234,6      1,234.6
    {{ value|percent }}   12,5 %       12.5%       (the value is in percent already)

The functions are plain and importable, so that sentences built in Python
(customers/guidance.py) read the same as the pages. Negative values get a real minus sign
(U+2212); missing ones (None, NaN, not a number) show as "–". Plain numbers come from
lib/numbers.py, which the chain app and the file reader (lib/tables.py) use as well.
"""

from django import template
from django.conf import settings
from django.utils.formats import get_format
from django.utils.translation import get_language

from lib.numbers import MINUS, MISSING, as_float, digits, number

register = template.Library()
register.filter("number", number)

NBSP = "\u00a0"
# Symbols for the currencies a customer is likely to configure; others show their code.
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF"}


def _english() -> bool:
    return (get_language() or settings.LANGUAGE_CODE).startswith("en")


def currency_affixes(currency: str | None = None) -> tuple[str, str]:
    """(prefix, suffix) around an amount: ("€", "") in English, ("", " €") in German.

    English puts the symbol in front (€1,234.56); German and most of Europe after the
    amount, with a non-breaking space so that a narrow column never splits the two.
    """
    code = currency or settings.CURRENCY
    symbol = SYMBOLS.get(code, code)
    if _english():
        return (symbol + NBSP if symbol.isalpha() else symbol), ""
    return "", NBSP + symbol


def plotly_separators() -> str:
    """plotly's `layout.separators` for the active language: decimal, then thousands."""
    return str(get_format("DECIMAL_SEPARATOR")) + str(get_format("THOUSAND_SEPARATOR"))


@register.filter
def money(value: object, decimals: int = 2) -> str:
    """An amount in the configured currency: "1.234,56 €", "€1,234.56", "−€1,234.56"."""
    amount = as_float(value)
    if amount is None:
        return MISSING
    negative, grouped = digits(amount, int(decimals))
    prefix, suffix = currency_affixes()
    return f"{MINUS if negative else ''}{prefix}{grouped}{suffix}"


@register.filter
def percent(value: object, decimals: int = 1) -> str:
    """A value already in percent: "12,5 %" in German, "12.5%" in English."""
    shown = number(value, decimals)
    if shown == MISSING:
        return shown
    return f"{shown}%" if _english() else f"{shown}{NBSP}%"
