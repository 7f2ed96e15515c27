"""Plain-text hygiene shared by the chain and the customer apps.

Text pasted from office programs carries control characters (a vertical tab for a line
break, a form feed, sometimes a NUL) that are invisible on screen but make SVG invalid XML,
break spreadsheet writers and are refused by PostgreSQL (NUL). They are removed where text
enters the app (forms, imports) and again where it leaves (exports), so that rows stored
before the check was in place cannot break an export either.
"""

import re

# C0 controls except tab, line feed and carriage return; DEL; C1 controls. The pattern
# also serves vectorised cleaning (pandas' str.replace in customers/reading.py).
CONTROL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_CONTROL = re.compile(CONTROL_PATTERN)
# Characters that a spreadsheet program reads as the start of a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def strip_control(text: str) -> str:
    """`text` without control characters; a vertical tab or form feed becomes a line break."""
    if not text:
        return text
    return _CONTROL.sub(lambda m: "\n" if m.group() in "\x0b\x0c" else "", text)


def has_control(text: str) -> bool:
    return bool(_CONTROL.search(text or ""))


def csv_safe(value: object) -> object:
    """A cell for a CSV file that no spreadsheet program runs as a formula.

    Text starting with one of `FORMULA_PREFIXES` gets a leading apostrophe, the usual
    defence that spreadsheet programs show as plain text; numbers stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
