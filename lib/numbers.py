"""Numbers in the active language, for pages and for messages built in Python.

    number(1234.56, 1)   "1.234,6" in German, "1,234.6" in English
    number(-0.3)         "0" (rounded before the sign is decided)
    number(None)         "–" (MISSING: None, NaN, infinity or not a number)

Negative values get a real minus sign (U+2212). The template filters in
customers/templatetags/money.py (money, number, percent) are built on these, so that a
file reader's error ("at most 1,048,576 rows") and a page group numbers alike.
"""

import math

from django.utils.formats import number_format

MISSING = "–"
MINUS = "\u2212"


def as_float(value: object) -> float | None:
    """``value`` as a finite float, or None when it is missing or not a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def digits(number: float, decimals: int) -> tuple[bool, str]:
    """Whether to show a minus, and the grouped digits of the absolute value.

    Rounds before deciding on the sign, so that -0.3 shown without decimals is "0", not "−0".
    """
    rounded = round(abs(number), decimals)
    return number < 0 and rounded != 0, number_format(rounded, decimals, force_grouping=True)


def number(value: object, decimals: int = 0) -> str:
    """A plain number with grouping: "1.234,6" or "1,234.6"."""
    number_ = as_float(value)
    if number_ is None:
        return MISSING
    negative, grouped = digits(number_, int(decimals))
    return f"{MINUS if negative else ''}{grouped}"
