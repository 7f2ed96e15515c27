"""Read a customer value history from CSV or XLSX: the one reader behind the web import,
the ``analyze_customers`` command and the background job.

The file becomes a table of text cells in ``lib.tables``, which the chain's CRM import
shares (encodings, delimiters, XLSX bounds, Excel row numbers, the error log and the
messages of reading a file). This module maps the columns and checks and parses the cells.

Two layouts, told apart by the header:

- per period: ``customer_id, period, revenue[, contribution_margin][, customer_name]``,
  one row per customer and month (and product, where the file has products);
- per transaction: ``customer_id, date, amount[, margin][, customer_name]``, summed to
  months per customer (and product).

Both layouts take two optional columns: ``product`` (the product or product group the
values are about: Produkt, Artikelgruppe, Warengruppe) and ``segment`` (the customer's
type or industry: Kundentyp, Branche). An empty product cell means the value belongs to
no product in particular; a customer may appear once per month and product.

Column names may be English or German (see ``COLUMN_SYNONYMS``). CSV may be written the
way Excel writes it in Germany (semicolon, decimal comma, thousands dots, cp1252 or UTF-8
with BOM) or in English (comma, decimal point, thousands commas).

Every cell is checked with vectorised pandas operations (no loop per row), and all
problems are reported at once, each naming the row as Excel shows it (header = row 1),
the column as written in the file and what is wrong. A file with any error yields no data.

Decisions a reader may ask about:

- Negative revenue, amounts and margins are accepted in both layouts: credit notes and
  returns can make a month's net revenue negative, and loss-making (burr) customers have
  negative margins. Rejecting them would block a whole import over one real month.
- Unknown columns are errors, not warnings: a typo such as "Umstaz" would otherwise drop
  the revenue silently (and then also show up as a missing column).
- An empty revenue/amount is an error; an empty margin means "no margin known" (NaN).
- Blank rows, and columns with neither heading nor values (trailing separators), are
  skipped.
- The decimal convention is decided once per file: the delimiter gives the default
  (semicolon means decimal comma) and the values overrule it when most of them only parse
  the other way. XLSX cells holding real numbers are taken as they are.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext_lazy

from lib.tables import (
    ErrorLog,
    Limits,
    RowError,
    Source,
    Table,
    Text,
    column_letter,
    holds_bytes,
    messages_register,
    normalise,
    plain_csv_cells,
    read_bytes,
    read_table,
    release_freed_memory,
)
from lib.text import CONTROL_PATTERN, strip_control

Kind = Literal["period", "transaction"]

# Canonical field -> accepted column names, compared case-insensitively with spaces,
# underscores, hyphens and dots treated alike ("customer id" = "customer_id", "Kunden-Nr."
# = "kunden nr"), umlauts folded ("erloes" = "erlös") and units such as "(EUR)" ignored.
# The first name is the canonical one shown in messages.
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer_id",
        "customer",
        "customer_no",
        "customer number",
        "kunde",
        "kundennummer",
        "kunden-nr",
        "kundennr",
        "kd-nr",
        "debitor",
        "debitorennummer",
    ),
    "customer_name": (
        "customer_name",
        "name",
        "company",
        "kundenname",
        "firma",
        "firmenname",
    ),
    "period": ("period", "month", "monat", "periode"),
    "date": ("date", "datum", "buchungsdatum", "rechnungsdatum", "belegdatum"),
    "revenue": (
        "revenue",
        "sales",
        "turnover",
        "umsatz",
        "nettoumsatz",
        "erlös",
        "erlöse",
        "amount",
        "betrag",
    ),
    "contribution_margin": ("contribution_margin", "margin", "deckungsbeitrag", "db"),
    # In a transaction file the value of one sale is its amount; "Umsatz" means amount.
    "amount": (
        "amount",
        "betrag",
        "umsatz",
        "nettoumsatz",
        "revenue",
        "sales",
        "erlös",
        "erlöse",
    ),
    "margin": ("margin", "contribution_margin", "deckungsbeitrag", "db"),
    "product": (
        "product",
        "product_group",
        "product line",
        "produkt",
        "produktgruppe",
        "artikelgruppe",
        "warengruppe",
    ),
    "segment": (
        "segment",
        "customer segment",
        "customer type",
        "industry",
        "kundentyp",
        "kundensegment",
        "kundengruppe",
        "branche",
    ),
}

LAYOUT_FIELDS: dict[Kind, tuple[str, ...]] = {
    "period": (
        "customer_id",
        "customer_name",
        "period",
        "revenue",
        "contribution_margin",
        "product",
        "segment",
    ),
    "transaction": (
        "customer_id",
        "customer_name",
        "date",
        "amount",
        "margin",
        "product",
        "segment",
    ),
}
REQUIRED_FIELDS: dict[Kind, tuple[str, ...]] = {
    "period": ("customer_id", "period", "revenue"),
    "transaction": ("customer_id", "date", "amount"),
}

HISTORY_COLUMNS = ("customer_id", "customer_name", "period", "revenue", "margin")
TRANSACTION_COLUMNS = ("customer_id", "date", "amount", "margin")
# Added to both frames when the file has the column (str, "" where the cell is empty).
OPTIONAL_COLUMNS = ("product", "segment")

# Tried in this order, except that the format matching the first value goes first (a
# format that fails on a whole column costs a second per million rows).
PERIOD_FORMATS = ("%Y-%m", "%Y-%m-%d", "%m.%Y", "%m/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S")
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
# Guards against typos such as 2204 that would stretch every history over centuries.
FIRST_YEAR, LAST_YEAR = 1900, 2100

# Full-cell patterns per decimal separator: thousands groups only of three digits after a
# first group that does not start with 0, so "1.234,56" and "1,234.56" never both parse.
_NUMBER_PATTERNS = {
    ",": r"[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d*)(?:,\d+)?(?:[eE][+-]?\d+)?",
    ".": r"[+-]?(?:[1-9]\d{0,2}(?:,\d{3})+|\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?",
}
_NUMBER_EXAMPLES = {",": "1.234,56", ".": "1,234.56"}
# Removed only from cells that fail the pattern: spaces and apostrophes as thousands
# separators, currency signs that Excel writes for currency-formatted cells.
_NUMBER_NOISE = r"[\s\u00a0\u202f'€$£]|EUR"
# SAP and other German ERP exports write credit amounts with a trailing minus: "12,50-".
_TRAILING_MINUS = r"^([^-+].*)-$"


# The limits of the database columns the values go into (customers.models: Customer.number
# and name, ValueRecord.product and segment, ValueRecord.revenue and margin as
# numeric(16,2)); a test keeps them in step.
NUMBER_MAX_LENGTH = 64
NAME_MAX_LENGTH = 200
PRODUCT_MAX_LENGTH = 120
# numeric(16, 2) holds 14 digits before the decimal point.
AMOUNT_LIMIT = 10**14


# A value history has five columns; 1,048,576 rows is Excel's own maximum. Streaming
# reads some 70,000 cells a second, so 6 million cells take about a minute and a half.
VALUE_LIMITS = Limits(rows=1_048_576, columns=50, cells=6_000_000, unpacked_bytes=1 << 30)


# The messages of the checks below, by code (lib/tables.py has those of reading the file
# and says how codes work).
MESSAGES: dict[str, Text] = {
    "required_empty": Text(gettext_lazy("This value is empty, but the column is required.")),
    "bad_month": Text(
        gettext_lazy(
            'Not a valid month: "%(value)s" (expected for example 2024-03, 03.2024 or 03/2024).'
        )
    ),
    "bad_date": Text(
        gettext_lazy(
            'Not a valid date: "%(value)s" (expected for example 2024-01-31 or 31.01.2024).'
        )
    ),
    "date_outside": Text(
        gettext_lazy('The date "%(value)s" is outside the years %(first)s to %(last)s.')
    ),
    "bad_number": Text(
        gettext_lazy('Not a number: "%(value)s" (expected for example %(example)s).')
    ),
    "number_too_large": Text(
        gettext_lazy('The amount "%(value)s" is too large: amounts must stay below %(max)s.'),
        ("max",),
    ),
    "month_too_large": Text(
        gettext_lazy(
            'The amounts of customer "%(customer)s" in %(period)s add up to more than '
            "%(max)s, too much for one month."
        ),
        ("max",),
    ),
    "too_long": Text(
        gettext_lazy("The value is too long: %(length)s characters, at most %(max)s are allowed."),
        ("length", "max"),
    ),
    "duplicate": Text(
        gettext_lazy(
            'Customer "%(customer)s" appears twice for %(period)s: rows %(first_row)s and %(row)s.'
        )
    ),
    "duplicate_product": Text(
        gettext_lazy(
            'Customer "%(customer)s" appears twice for %(period)s and product "%(product)s": '
            "rows %(first_row)s and %(row)s."
        )
    ),
    "period_and_date": Text(
        gettext_lazy(
            'The file has both a period column ("%(period)s") and a date column '
            '("%(date)s"). Keep only one: the period for values per month, the date '
            "for single transactions."
        )
    ),
    "no_period_or_date": Text(
        gettext_lazy(
            "The file needs a period column (values per customer and month) or a date "
            "column (single transactions). Columns found: %(found)s. Accepted "
            "columns: %(accepted)s."
        )
    ),
    "no_heading": Text(gettext_lazy("Column %(letter)s has values but no heading.")),
    "unknown_column": Text(
        gettext_lazy('Unknown column "%(column)s". Accepted columns: %(accepted)s.')
    ),
    "same_field": Text(
        gettext_lazy('The columns "%(first)s" and "%(second)s" both mean %(field)s. Keep one.')
    ),
    "missing_columns": Text(
        gettext_lazy("Required columns are missing: %(missing)s. Columns found: %(found)s.")
    ),
}
messages_register(MESSAGES)


@dataclass
class ReadResult:
    """What ``read_history`` found.

    ``history``: one row per customer and month with ``HISTORY_COLUMNS``: customer_id
    (str), customer_name (str, NaN where the file has none), period (datetime64[ns], first
    of month), revenue (float64, currency units of the file), margin (float64, NaN where
    absent). Period files keep the file's row order; transaction files come out sorted by
    customer and period.
    ``transactions``: for transaction files only, the single transactions with
    ``TRANSACTION_COLUMNS`` (date as datetime64[ns]).
    Where the file has a product or segment column, both frames also have ``product``
    and/or ``segment`` (str, "" where empty), and the history has one row per customer,
    month and product; a month's segment is the last one given in it.
    Both are None when there are errors. ``errors`` lists the first errors (up to the
    reader's limit), ``error_count`` counts them all. ``rows`` counts the data rows read
    (blank rows skipped); ``customers`` and ``periods`` count the distinct customers and
    months of a file without errors (0 otherwise).
    """

    history: pd.DataFrame | None = None
    transactions: pd.DataFrame | None = None
    kind: Kind | None = None
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    rows: int = 0
    customers: int = 0
    periods: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def read_history(
    source: Source, *, filename: str, max_errors: int = 50, limits: Limits = VALUE_LIMITS
) -> ReadResult:
    """Read and check a value-history file; see the module docstring for the rules.

    ``source`` is a path or a binary file-like object (an uploaded file); ``filename``
    (the name the user knows) decides CSV or XLSX by its extension. At most
    ``max_errors`` errors are listed; ``error_count`` says how many there are in all.
    """
    if Path(filename).suffix.lower() in (".csv", ".txt"):
        data = read_bytes(source)
        quick = read_plain_csv(data)
        if quick is not None and not _repeats(quick.result, quick.rownum):
            return quick.result
        source = data  # the checking read, which reports what is wrong
    log = ErrorLog()
    table = read_table(source, filename=filename, log=log, limits=limits)
    if table is None:
        return _result(log, max_errors)
    result = _read_table(table, Path(filename).name, log, max_errors)
    del table
    release_freed_memory()
    return result


# --- the quick way for the common file --------------------------------------------------------

# The bytes of white space and control characters (see lib.tables._SPACE_BYTES) and DEL:
# a text cell without any is the same stripped and cleaned.
_ODD_BYTES = np.zeros(256, dtype=bool)
_ODD_BYTES[[*range(0x21), 0x7F, 0xC2, 0xE1, 0xE2, 0xE3]] = True
_PLAIN_FIELDS = {"customer_id", "customer_name", "period", "revenue", "contribution_margin"}
# A name is kept as written when it holds none of these bytes (control characters, and
# the lead bytes of the Unicode spaces) and no two spaces in a row: `_clean_text` with
# `collapse` changes nothing then.
_NAME_ODD_BYTES = _ODD_BYTES.copy()
_NAME_ODD_BYTES[0x20] = False


class PlainRead(NamedTuple):
    """What `read_plain_csv` read: the result, the rows' numbers as Excel shows them, the
    heading row and the position of the period column in it, and the customer ids as
    codes (per row) into the distinct ids (in the order of first appearance)."""

    result: ReadResult
    rownum: np.ndarray
    header: list[str]
    period_position: int
    id_codes: np.ndarray
    distinct_ids: pd.Index


def read_plain_csv(data: bytes) -> PlainRead | None:
    """The history of a CSV file in the common shape (`PlainRead`); or None when the
    file is not plain enough to be sure of the same result as the checking read
    (`_read_table`), which then reads it and says what is wrong.

    The common shape: UTF-8 without BOM, comma-separated with decimal points or
    semicolon-separated with decimal commas (as Excel writes it in Germany), no quote
    characters, line ends LF or CR LF, the heading row first with the columns customer_id,
    period, revenue and contribution_margin, maybe customer_name (any accepted name, any
    order; the margin may be missing) and nothing else; then only rows without errors:
    ids and months without spaces or control characters and not too long, names without
    control characters, leading, trailing or double spaces, months the checking read
    takes, revenue numbers (no thousands separators), margins numbers or empty. A
    customer twice in a month is the one error not looked for here (as with
    ``duplicates=False``): the caller checks.

    pyarrow cuts the cells and parses the numbers (on all cores); every check looks at
    bytes, at the few distinct months or at the parsed numbers. Numbers pyarrow takes but
    the checking read does not ("5.", "inf", "nan") or reads otherwise ("-0") send the
    file to the checking read (docs/architecture.md, "Reading value histories")."""
    if not data or b'"' in data or data.startswith((b"\xef\xbb\xbf", b"\n", b"\r")):
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    end = data.find(b"\n")
    if end < 0:
        return None
    try:
        line = data[:end].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    # The delimiter the checking read would take, when the heading row holds only it.
    delimiter, decimal = (";", ",") if ";" in line else (",", ".")
    if "\t" in line or ("," in line and delimiter == ";"):
        return None
    header = line.split(delimiter)
    if len(header) < 3:
        return None
    fields = [_LOOKUP["period"].get(normalise(h)) for h in header]
    if not set(fields) <= _PLAIN_FIELDS or len(set(fields)) != len(fields):
        return None
    if not {"customer_id", "period", "revenue"} <= set(fields):
        return None
    if _separator_without_digit(data, decimal):
        return None  # perhaps a number such as "5." or "1.e5"
    types = {
        fields.index("period"): pa.dictionary(pa.int32(), pa.large_string()),
        fields.index("revenue"): pa.float64(),
    }
    if "contribution_margin" in fields:
        types[fields.index("contribution_margin")] = pa.float64()
    cells = plain_csv_cells(data, delimiter, len(header), skip_rows=1, types=types, decimal=decimal)
    if cells is None or cells.num_rows == 0:
        return None
    column = {name: cells.column(fields.index(name)) for name in fields}
    del cells

    ids = pd.Series(pd.array(column["customer_id"], dtype="str"))
    lengths = pc.min_max(pc.binary_length(column["customer_id"])).as_py()
    if lengths["min"] == 0:
        return None  # an empty cell
    if lengths["max"] > NUMBER_MAX_LENGTH:
        return None
    if holds_bytes(ids, _ODD_BYTES):
        return None  # white space or a control character to take off
    names = pd.Series(np.nan, index=ids.index, dtype="str")
    if "customer_name" in column:
        names = _plain_names(column["customer_name"])
        if names is None:
            return None
    when = _plain_months(column["period"], fields.index("period"), header)
    if when is None:
        return None
    values = {}
    whole_minus_zero = functools.cache(lambda: _whole_minus_zero(data, delimiter))
    for name in ("revenue", "contribution_margin"):
        if name not in column:
            continue
        numbers = column[name]
        if name == "revenue" and numbers.null_count:
            return None  # an empty revenue
        if pc.any(pc.is_nan(numbers)).as_py():
            return None  # "nan" (an empty cell is null, not NaN)
        parsed = numbers.to_numpy()  # NaN where empty
        known = parsed[~np.isnan(parsed)]
        if len(known) and not (np.abs(known) < AMOUNT_LIMIT - 0.005).all():
            return None  # too large, or not finite
        if ((known == 0) & np.signbit(known)).any() and whole_minus_zero():
            return None  # "-0": the checking read makes it 0 or -0 by the column
        values[name] = parsed
    rownum = np.arange(2, len(ids) + 2)
    margin = values.get("contribution_margin")
    history = pd.concat(
        {
            "customer_id": ids,
            "customer_name": names,
            "period": when,
            "revenue": pd.Series(values["revenue"], index=ids.index, copy=False),
            "margin": pd.Series(
                margin if margin is not None else np.nan, index=ids.index, dtype="float64"
            ),
        },
        axis=1,
    )
    codes, distinct = pd.factorize(ids)
    result = ReadResult(
        history=history,
        kind="period",
        rows=len(history),
        customers=len(distinct),
        periods=int(when.nunique()),
    )
    header = [h.strip() for h in header]
    return PlainRead(result, rownum, header, fields.index("period"), codes, distinct)


def _repeats(result: ReadResult, rownum: np.ndarray) -> bool:
    """Whether a customer is twice in a month in a quick read's history."""

    history, log = result.history, ErrorLog()
    assert history is not None
    _check_duplicates(history["customer_id"], history["period"], 0, rownum, log, [""])
    return log.count > 0


def _separator_without_digit(data: bytes, decimal: str) -> bool:
    """Whether a `decimal` separator in `data` is followed by anything but a digit: a
    number such as "5." or "1.e5", which pyarrow takes and the checking read's pattern
    does not (or a text cell with such a character: then too)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    mark = ord(decimal)
    after = codes[1:][codes[:-1] == mark]
    return bool(((after - np.uint8(48)) > 9).any() or (len(codes) and codes[-1] == mark))


def _plain_names(column: pa.ChunkedArray) -> pd.Series | None:
    """The customer names as the checking read keeps them (NaN where empty), or None
    where any would be cleaned, stripped or is too long."""
    names = pd.Series(pd.array(column, dtype="str"))
    if holds_bytes(names, _NAME_ODD_BYTES):
        return None  # a control character or another space than the plain one
    if pc.any(pc.match_substring(column, "  ")).as_py():
        return None  # two spaces, which the checking read makes one
    trimmed = pc.utf8_trim(column, " ")
    if not pc.all(pc.equal(trimmed, column)).as_py():
        return None  # a leading or trailing space
    if pc.max(pc.utf8_length(column)).as_py() > NAME_MAX_LENGTH:
        return None
    return names.where(names != "")


def _whole_minus_zero(data: bytes, delimiter: str) -> bool:
    """Whether `data` holds a cell such as "-0" or "-00" (a minus, zeros, then the
    `delimiter` or a line end), which the checking read parses as 0 or -0 depending on
    the rest of its column (see `_to_float`); "-0.00" is -0 in both reads."""
    return _WHOLE_MINUS_ZERO[delimiter].search(data) is not None


_WHOLE_MINUS_ZERO = {
    delimiter: re.compile(rb"-0+(?:[" + delimiter.encode() + rb"\r\n]|\Z)")
    for delimiter in (",", ";")
}


def _plain_months(column: pa.ChunkedArray, position: int, header: list[str]) -> pd.Series | None:
    """The months of a period column read as a dictionary, each distinct text parsed
    once by `_parse_when` (in the order of first appearance, so that the first value in
    the file decides the format, as in the checking read); None where any is empty,
    holds white space or a control character, or does not parse."""
    column = column.unify_dictionaries()
    if not column.num_chunks:
        return None
    distinct = pd.Series(pd.array(column.chunk(0).dictionary, dtype="str"))
    if (distinct == "").any() or holds_bytes(distinct, _ODD_BYTES):
        return None

    log = ErrorLog()
    parsed = _parse_when(distinct, position, "period", np.arange(len(distinct)), log, header)
    if log.count or parsed is None:
        return None
    codes = np.concatenate([chunk.indices.to_numpy() for chunk in column.chunks])
    return pd.Series(parsed.to_numpy()[codes], copy=False)


# --- from the table to the history ----------------------------------------------------------


def _read_table(
    table: Table, name: str, log: ErrorLog, max_errors: int, *, duplicates: bool = True
) -> ReadResult:
    """The history of a table; ``duplicates=False`` leaves out the check for a customer
    twice in a month (customers/chunked.py checks it over the whole file)."""
    kind, columns = _map_columns(table, log)
    rows = len(table.cells)
    if rows == 0:
        log.add_file("no_data_rows", {"filename": name})
    if kind is None or rows == 0:
        return _result(log, max_errors, kind=kind, rows=rows)

    cells = table.cells
    header = table.header
    for field_name in REQUIRED_FIELDS[kind]:
        if field_name in columns:
            position = columns[field_name]
            log.add_cells(
                (cells[position] == "").to_numpy(),
                table.rownum,
                position,
                header[position],
                "required_empty",
            )

    def text(field_name: str) -> pd.Series | None:
        return cells[columns[field_name]] if field_name in columns else None

    when_field, value_field, margin_field = (
        ("period", "revenue", "contribution_margin")
        if kind == "period"
        else ("date", "amount", "margin")
    )
    customer_id = _clean_text(text("customer_id"))
    customer_name = _clean_text(text("customer_name"), collapse=True)
    # Shown on one line in lists and filters, like a name.
    optional = {f: _clean_few(text(f)) for f in OPTIONAL_COLUMNS if f in columns}
    product = optional.get("product")
    for field_name, series, limit in (
        ("customer_id", customer_id, NUMBER_MAX_LENGTH),
        ("customer_name", customer_name, NAME_MAX_LENGTH),
        ("product", product, PRODUCT_MAX_LENGTH),
        ("segment", optional.get("segment"), PRODUCT_MAX_LENGTH),
    ):
        if series is not None:
            _check_length(series, limit, columns[field_name], table, log, header)
    when = _parse_when(text(when_field), columns.get(when_field), kind, table.rownum, log, header)
    values = _parse_numbers(
        {columns[f]: cells[columns[f]] for f in (value_field, margin_field) if f in columns},
        table,
        log,
        header,
    )

    if duplicates and kind == "period" and customer_id is not None and when is not None:
        _check_duplicates(
            customer_id, when, columns[when_field], table.rownum, log, header, product
        )

    if log.count:
        return _result(log, max_errors, kind=kind, rows=rows)

    assert customer_id is not None and when is not None  # required columns were present
    names = (
        customer_name.where(customer_name != "")
        if customer_name is not None
        else pd.Series(np.nan, index=cells.index, dtype="str")
    )
    value = values[columns[value_field]]
    margin = (
        values[columns[margin_field]]
        if margin_field in columns
        else pd.Series(np.nan, index=cells.index, dtype="float64")
    )
    if kind == "period":
        history = pd.DataFrame(
            {
                "customer_id": _own_copy(customer_id),
                "customer_name": names.astype("str"),
                "period": when,
                "revenue": value,
                "margin": margin,
                **{f: series.astype("str") for f, series in optional.items()},
            }
        )
        transactions = None
    else:
        transactions = pd.DataFrame(
            {
                "customer_id": _own_copy(customer_id),
                "date": when,
                "amount": value,
                "margin": margin,
                **{f: series.astype("str") for f, series in optional.items()},
            }
        )
        history = _months_from_transactions(transactions, names)
        _check_month_totals(history, transactions, columns[value_field], table, log, header)
        if log.count:
            return _result(log, max_errors, kind=kind, rows=rows)
    return ReadResult(
        history=history,
        transactions=transactions,
        kind=kind,
        rows=rows,
        customers=int(history["customer_id"].nunique()),
        periods=int(history["period"].nunique()),
    )


def _own_copy(text: pd.Series) -> pd.Series:
    """The text as str in one block of memory of its own: cells straight from the CSV
    parser lie in its blocks among those of the other columns, which would stay
    allocated as long as these cells do (some 300 MB for 6 million rows)."""
    try:
        cells = pa.chunked_array(pa.array(text.array, type=pa.large_string()))
    except (pa.ArrowException, TypeError, ValueError):
        return text.astype("str")
    # A file of one parser block (below 1 MB) keeps its one array: nothing to free.
    return pd.Series(pd.array(cells.combine_chunks(), dtype="str"), index=text.index)


def _clean_text(text: pd.Series | None, *, collapse: bool = False) -> pd.Series | None:
    """Cells without control characters (a vertical tab pasted from Office would break
    every export later); ``collapse`` also turns line breaks and runs of spaces into one
    space, as a name is shown on one line. Only the few cells that hold any are touched."""
    if text is None:
        return None
    if not holds_bytes(text, _BREAK_BYTES if collapse else _CONTROL_BYTES):
        return text
    odd = text.str.contains(_CONTROL_OR_BREAK if collapse else _CONTROL, regex=True).to_numpy()
    if not odd.any():
        return text
    text = text.copy()
    fixed = text[odd].map(strip_control)
    text[odd] = fixed.map(lambda value: " ".join(value.split())) if collapse else fixed
    return text


def _clean_few(text: pd.Series) -> pd.Series:
    """`_clean_text(collapse=True)` for a column of few distinct values (products,
    segments): each distinct value is cleaned once (the check for line breaks and double
    spaces runs in Python, a second per million cells)."""
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    cleaned = _clean_text(pd.Series(distinct, dtype="str"), collapse=True)
    try:
        # Taken by pyarrow: no Python object per cell (a second for 6 million).
        values = pa.array(cleaned.array, type=pa.large_string()).take(pa.array(codes))
    except (pa.ArrowException, TypeError, ValueError):
        values = cleaned.to_numpy()[codes]
    return pd.Series(pd.array(values, dtype="str"), index=text.index)


_CONTROL = CONTROL_PATTERN
_CONTROL_OR_BREAK = r"[\x00-\x1f\x7f-\x9f]|\s\s"
# The bytes of the UTF-8 of any text these patterns find: C0 controls and DEL as they
# are, U+0080-U+009F after the lead byte C2; with breaks also the space and the lead
# bytes of the other white space (C2, E1, E2, E3). Columns without them need no pattern.
_CONTROL_BYTES = np.zeros(256, dtype=bool)
_CONTROL_BYTES[[*range(0x20), 0x7F, 0xC2]] = True
_BREAK_BYTES = _CONTROL_BYTES.copy()
_BREAK_BYTES[[0x20, 0xE1, 0xE2, 0xE3]] = True


def _check_length(
    text: pd.Series, limit: int, position: int, table: Table, log: ErrorLog, header: list[str]
) -> None:
    """Values longer than their database column are errors, never cut silently."""
    if _max_bytes(text) <= limit:
        return  # no more characters than bytes in UTF-8: none too long
    lengths = text.str.len().to_numpy()
    log.add_cells(
        lengths > limit,
        table.rownum,
        position,
        header[position],
        "too_long",
        lambda i: {"length": int(lengths[i]), "max": limit},
    )


def _max_bytes(text: pd.Series) -> float:
    """The length of the longest cell's UTF-8 in bytes; infinity when not known."""
    try:
        column = pa.chunked_array(pa.array(text.array))
        longest = pc.max(pc.binary_length(column)).as_py() if len(column) else 0
    except (pa.ArrowException, TypeError, ValueError):
        return np.inf
    return np.inf if longest is None else longest


def _check_month_totals(
    history: pd.DataFrame,
    transactions: pd.DataFrame,
    position: int,
    table: Table,
    log: ErrorLog,
    header: list[str],
) -> None:
    """Each amount fits the database, but a month's sum of them may not: report the
    month at its customer's first transaction in it."""
    over = (history["revenue"].abs() >= AMOUNT_LIMIT) | (history["margin"].abs() >= AMOUNT_LIMIT)
    if not over.any():
        return
    months = transactions["date"].to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    product = ["product"] if "product" in transactions else []
    keys = pd.MultiIndex.from_arrays(
        [transactions["customer_id"], months, *(transactions[c] for c in product)]
    )
    bad = pd.MultiIndex.from_frame(history.loc[over, ["customer_id", "period", *product]])
    mask = keys.isin(bad) & ~keys.duplicated(keep="first")
    log.add_cells(
        mask,
        table.rownum,
        position,
        header[position],
        "month_too_large",
        lambda i: {
            "customer": transactions["customer_id"].iat[i],
            "period": str(months[i])[:7],
            "max": AMOUNT_LIMIT,
        },
    )


_NORMALISED = {f: {normalise(s) for s in synonyms} for f, synonyms in COLUMN_SYNONYMS.items()}
_LOOKUP = {
    kind: {synonym: f for f in fields for synonym in _NORMALISED[f]}
    for kind, fields in LAYOUT_FIELDS.items()
}


def _describe(fields: tuple[str, ...]) -> str:
    """'revenue (sales, umsatz, ...)' for messages that list accepted names."""
    return "; ".join(f"{f} ({', '.join(COLUMN_SYNONYMS[f][1:])})" for f in fields)


def _map_columns(table: Table, log: ErrorLog) -> tuple[Kind | None, dict[str, int]]:
    header = table.header
    normalised = [normalise(h) for h in header]
    found = ", ".join(f'"{h}"' for h in header if h) or None
    periods = [h for h, n in zip(header, normalised, strict=True) if n in _NORMALISED["period"]]
    dates = [h for h, n in zip(header, normalised, strict=True) if n in _NORMALISED["date"]]
    if periods and dates:
        log.add_row(1, "period_and_date", {"period": periods[0], "date": dates[0]})
        return None, {}
    if not periods and not dates:
        log.add_row(
            1, "no_period_or_date", {"found": found, "accepted": _describe(("period", "date"))}
        )
        return None, {}

    kind: Kind = "period" if periods else "transaction"
    lookup = _LOOKUP[kind]
    columns: dict[str, int] = {}
    for position, (written, normal) in enumerate(zip(header, normalised, strict=True)):
        if not normal:
            # Excel writes trailing separators; a nameless column is fine while empty.
            if (table.cells[position] != "").any():
                log.add_row(1, "no_heading", {"letter": column_letter(position)})
            continue
        field_name = lookup.get(normal)
        if field_name is None:
            log.add_row(
                1,
                "unknown_column",
                {"column": written, "accepted": _describe(LAYOUT_FIELDS[kind])},
                column=written,
                order=position,
            )
        elif field_name in columns:
            log.add_row(
                1,
                "same_field",
                {"first": header[columns[field_name]], "second": written, "field": field_name},
                column=written,
                order=position,
            )
        else:
            columns[field_name] = position

    missing = [f for f in REQUIRED_FIELDS[kind] if f not in columns]
    if missing:
        log.add_row(
            1,
            "missing_columns",
            {"missing": _describe(tuple(missing)), "found": found},
            order=len(header),  # after the unknown columns, which often explain it
        )
    return kind, columns


def _parse_when(
    text: pd.Series | None,
    position: int | None,
    kind: Kind,
    rownum: np.ndarray,
    log: ErrorLog,
    header: list[str],
) -> pd.Series | None:
    """Periods or dates as datetime64[ns]; periods moved to the first of their month.

    Each distinct text is parsed once (a file of 6 million rows has some 60 months) and
    the results are taken back to the rows by their codes."""
    if text is None or position is None:
        return None
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    unique = pd.Series(distinct, dtype="str")
    formats = list(PERIOD_FORMATS if kind == "period" else DATE_FORMATS)
    filled = (unique != "").to_numpy()
    if filled.any():
        # Codes follow the order of first appearance: this is the first value in the file.
        first = unique[filled].iloc[0]
        for fmt in formats:
            try:
                dt.datetime.strptime(first, fmt)
            except ValueError:
                continue
            formats.remove(fmt)
            formats.insert(0, fmt)
            break

    parsed = pd.Series(pd.NaT, index=unique.index, dtype="datetime64[us]")
    todo = filled.copy()
    for fmt in formats:
        if not todo.any():
            break
        attempt = pd.to_datetime(unique[todo], format=fmt, errors="coerce")
        parsed[todo] = attempt.to_numpy().astype("datetime64[us]")
        todo &= parsed.isna().to_numpy()

    column = header[position]
    if todo.any():
        log.add_cells(
            todo[codes],
            rownum,
            position,
            column,
            "bad_month" if kind == "period" else "bad_date",
            lambda i: {"value": text.iat[i]},
        )

    years = parsed.dt.year
    outside = ((years < FIRST_YEAR) | (years > LAST_YEAR)).to_numpy()
    if outside.any():
        log.add_cells(
            outside[codes],
            rownum,
            position,
            column,
            "date_outside",
            lambda i: {"value": text.iat[i], "first": FIRST_YEAR, "last": LAST_YEAR},
        )
    parsed[outside] = pd.NaT
    values = parsed.to_numpy()
    if kind == "period":
        values = values.astype("datetime64[M]")
    return pd.Series(values.astype("datetime64[ns]")[codes], index=text.index, copy=False)


def _parse_numbers(
    texts: dict[int, pd.Series], table: Table, log: ErrorLog, header: list[str]
) -> dict[int, pd.Series]:
    """Parse number columns (by position) with one decimal convention for the whole file."""
    own: dict[int, pd.Series] = {}
    for position, text in texts.items():
        if table.numbers is not None:
            # XLSX cells that hold real numbers need no parsing; only text cells do.
            text = text.where(table.numbers[position].isna(), "")
        own[position] = text

    decimal = table.default_decimal
    candidates, valid, plain = _number_candidates(own, decimal)
    if any(not mask.all() for mask in valid.values()):
        # Some cells fail: take the other convention if it explains more of them.
        other = "." if decimal == "," else ","
        other_candidates, other_valid, other_plain = _number_candidates(own, other)
        if sum(int(m.sum()) for m in other_valid.values()) > sum(
            int(m.sum()) for m in valid.values()
        ):
            decimal, candidates, valid, plain = other, other_candidates, other_valid, other_plain

    result: dict[int, pd.Series] = {}
    for position, text in candidates.items():
        usable = valid[position] & (text != "").to_numpy()
        clean = text if usable.all() else text.where(usable)
        # Plain numbers hold no thousands separators: look for them in the other cells.
        grouped = usable & ~plain[position]
        thousands = "." if decimal == "," else ","
        if grouped.any() and clean[grouped].str.contains(thousands, regex=False).any():
            clean = clean.str.replace(thousands, "", regex=False)
        if decimal == ",":
            clean = clean.str.replace(",", ".", regex=False)
        numbers = _to_float(clean)
        if table.numbers is not None:
            numbers = numbers.fillna(table.numbers[position])
        original = texts[position]
        log.add_cells(
            (numbers.isna() & (original != "")).to_numpy(),
            table.rownum,
            position,
            header[position],
            "bad_number",
            lambda i, original=original: {
                "value": original.iat[i],
                "example": _NUMBER_EXAMPLES[decimal],
            },
        )
        # numeric(16, 2) in the database: larger amounts (1e308, or 1e400, which is
        # infinity) would fail the whole load with the database's own words.
        too_large = np.abs(numbers.to_numpy()) >= AMOUNT_LIMIT - 0.005  # rounded to cents
        log.add_cells(
            too_large,
            table.rownum,
            position,
            header[position],
            "number_too_large",
            lambda i, original=original, numbers=numbers: {
                "value": original.iat[i] or repr(float(numbers.iat[i])),
                "max": AMOUNT_LIMIT,
            },
        )
        numbers = numbers.where(~too_large)
        result[position] = numbers
    return result


def _to_float(clean: pd.Series) -> pd.Series:
    """``pd.to_numeric(clean, errors="coerce")`` as float64, for text that passed the
    number pattern (NaN elsewhere): pyarrow's cast, which rounds exactly like it but is
    twenty times as fast, whenever the two are known to agree."""
    slow = pd.to_numeric  # the reference, and the way out for anything unusual
    try:
        cast = pc.cast(pa.array(clean.array), pa.float64())
    except (pa.ArrowException, TypeError, ValueError):
        # Text that matches the pattern yet is no number ("-", "e5"): to_numeric makes
        # it NaN, which becomes an error message.
        return slow(clean, errors="coerce").astype("float64")
    values = np.asarray(cast.to_numpy(zero_copy_only=False), dtype="float64")
    negative_zero = (values == 0) & np.signbit(values)
    if negative_zero.any():
        # to_numeric reads integers such as "-0" as int 0 (so +0.0) unless the column
        # holds other numbers that make it leave that path: leave such columns to it.
        integer = ~clean[negative_zero].str.contains(r"[.eE]", regex=True).to_numpy(bool)
        if integer.any():
            return slow(clean, errors="coerce").astype("float64")
    return pd.Series(values, index=clean.index, dtype="float64", copy=False)


def _number_candidates(
    texts: dict[int, pd.Series], decimal: str
) -> tuple[dict[int, pd.Series], dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Per column: the text ready for parsing, which cells are valid numbers (or
    empty) under ``decimal``, and which of them are plain (``_plain_numbers``). Currency
    signs, inner spaces and trailing minus signs are tidied only in the cells that fail
    at first (the rare case, so usually one regex pass over a few cells).
    """
    pattern = _NUMBER_PATTERNS[decimal]
    candidates: dict[int, pd.Series] = {}
    valid: dict[int, np.ndarray] = {}
    plain: dict[int, np.ndarray] = {}
    for position, text in texts.items():
        # The pattern only for the cells that are not plain numbers (which it takes).
        plain[position] = _plain_numbers(text, decimal)
        mask = plain[position].copy()
        rest = ~mask
        if rest.all():
            mask = (text.str.fullmatch(pattern) | (text == "")).to_numpy()
        elif rest.any():
            other = text[rest]
            mask[rest] = (other.str.fullmatch(pattern) | (other == "")).to_numpy()
        odd = ~mask
        if odd.any():
            fixed = (
                text[odd]
                .str.replace(_NUMBER_NOISE, "", regex=True)
                .str.replace(_TRAILING_MINUS, r"-\1", regex=True)
            )
            text = text.copy()
            text[odd] = fixed
            mask = mask.copy()
            mask[odd] = fixed.str.fullmatch(pattern).to_numpy()
        candidates[position] = text
        valid[position] = mask
    return candidates, valid, plain


def _plain_numbers(text: pd.Series, decimal: str) -> np.ndarray:
    """Which cells are plain numbers, ``[+-]?\\d+(?:<decimal>\\d+)?`` (digits 0-9): the
    common case, which ``_NUMBER_PATTERNS[decimal]`` takes too, found from the bytes of
    the text in a few passes of numpy rather than by a regular expression per cell."""
    separator = ord(decimal)
    try:
        chunks = pa.chunked_array(pa.array(text.array, type=pa.large_string())).chunks
    except (pa.ArrowException, TypeError, ValueError):
        return np.zeros(len(text), dtype=bool)
    parts = []
    for chunk in chunks:
        validity, offsets, data = chunk.buffers()
        n = len(chunk)
        bounds = np.frombuffer(offsets, dtype=np.int64)[chunk.offset : chunk.offset + n + 1]
        begin, end = int(bounds[0]), int(bounds[-1])
        if data is None or end == begin:
            parts.append(np.zeros(n, dtype=bool))
            continue
        cell_start = bounds - begin
        byte = np.frombuffer(data, dtype=np.uint8)[begin:end]
        size = len(byte)
        digit = (byte - np.uint8(48)) < 10  # wraps below "0": one comparison
        starts = np.zeros(size + 1, dtype=bool)
        starts[cell_start] = True
        # A digit of the same cell right after / right before each byte.
        digit_after = np.zeros(size, dtype=bool)
        digit_after[:-1] = digit[1:]
        digit_after &= ~starts[1:]
        digit_before = np.zeros(size, dtype=bool)
        digit_before[1:] = digit[:-1]
        digit_before &= ~starts[:-1]
        is_separator = byte == separator
        sign = ((byte == 43) | (byte == 45)) & starts[:-1] & digit_after  # + or - first
        fine = digit | sign | (is_separator & digit_before & digit_after)
        # Per cell: 2 for each byte that does not fit, 1 for each separator; a plain
        # number scores 0 or 1.
        score = is_separator.view(np.int8) + 2 * (~fine).view(np.int8)
        wide = np.int32 if 3 * size < 2**31 else np.int64
        total = np.zeros(size + 1, dtype=wide)
        np.cumsum(score, dtype=wide, out=total[1:])
        cell_score = total[cell_start[1:]] - total[cell_start[:-1]]
        plain = (cell_score <= 1) & (cell_start[1:] > cell_start[:-1])
        if validity is not None and chunk.null_count:
            plain &= chunk.is_valid().to_numpy(zero_copy_only=False)
        parts.append(plain)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _check_duplicates(
    customer_id: pd.Series,
    period: pd.Series,
    position: int,
    rownum: np.ndarray,
    log: ErrorLog,
    header: list[str],
    product: pd.Series | None = None,
) -> None:
    """A customer twice in one month (and product, where the file has products) would
    double-count: report each repeat with the row it repeats."""
    usable = ((customer_id != "") & period.notna()).to_numpy()
    everything = bool(usable.all())
    # One integer per (customer, month): hashing 64-bit integers is far cheaper than
    # hashing pairs of strings and timestamps.
    customer_codes, customers = pd.factorize(customer_id, use_na_sentinel=False)
    if product is not None:
        # A customer's business in one product counts as a customer of its own here.
        product_codes, products = pd.factorize(product, use_na_sentinel=False)
        pairs = customer_codes.astype(np.int64) * len(products) + product_codes
        if len(customers) * len(products) <= max(2 * len(pairs), 1 << 20):
            # Few enough possible pairs to number those present by counting, not hashing.
            present = np.bincount(pairs, minlength=len(customers) * len(products)) > 0
            customer_codes = (np.cumsum(present) - 1)[pairs]
            customers = np.flatnonzero(present)
        else:
            customer_codes, customers = pd.factorize(pairs)
        del pairs
    months = period.to_numpy().view(np.int64)
    period_codes, periods = pd.factorize(months if everything else months[usable])
    if not everything:
        customer_codes = customer_codes[usable]
    keys = customer_codes.astype(np.int64) * len(periods) + period_codes
    # Few enough possible keys to count them all: the quick way to find no repeats.
    countable = len(customers) * len(periods) <= max(2 * len(keys), 1 << 20)
    if countable and (len(keys) == 0 or np.bincount(keys).max() <= 1):
        return
    repeated = pd.Series(keys).duplicated(keep="first").to_numpy()
    if not repeated.any():
        return
    key_codes, distinct_keys = pd.factorize(keys)
    rows = np.flatnonzero(usable)
    first_of_key = np.empty(len(distinct_keys), dtype=np.int64)
    first_of_key[key_codes[~repeated]] = rows[~repeated]
    first_row_of = np.zeros(len(customer_id), dtype=rownum.dtype)
    first_row_of[rows] = rownum[first_of_key[key_codes]]
    mask = np.zeros(len(customer_id), dtype=bool)
    mask[rows[repeated]] = True

    def params(i: int) -> dict:
        found = {
            "customer": customer_id.iat[i],
            "period": f"{period.iat[i]:%Y-%m}",
            "first_row": int(first_row_of[i]),
            "row": int(rownum[i]),
        }
        return found if product is None else {**found, "product": product.iat[i]}

    code = "duplicate" if product is None else "duplicate_product"
    log.add_cells(mask, rownum, position, header[position], code, params)


def _months_from_transactions(transactions: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """Sum amount and margin per customer and month (and product); a month's margin is
    the sum of the margins given (NaN only when none of its transactions has one), its
    segment the last one given."""
    frame = transactions.assign(
        period=transactions["date"].to_numpy().astype("datetime64[M]").astype("datetime64[ns]"),
        customer_name=names,
    )
    keys = ["customer_id", "period"] + (["product"] if "product" in frame else [])
    grouped = frame.groupby(keys, sort=True)
    columns = {
        "customer_name": grouped["customer_name"].first(),
        "revenue": grouped["amount"].sum(),
        "margin": grouped["margin"].sum(min_count=1),
    }
    if "segment" in frame:
        given = frame["segment"].where(frame["segment"] != "")
        columns["segment"] = given.groupby([frame[k] for k in keys], sort=True).last()
    history = pd.DataFrame(columns).reset_index()
    history["customer_name"] = history["customer_name"].astype("str")
    optional = [c for c in OPTIONAL_COLUMNS if c in history]
    if "segment" in history:
        history["segment"] = history["segment"].fillna("").astype("str")
    return history[[*HISTORY_COLUMNS, *optional]]


def _result(log: ErrorLog, max_errors: int, **found) -> ReadResult:
    return ReadResult(errors=log.finish(max_errors), error_count=log.count, **found)
