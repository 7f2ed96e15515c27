"""Read a customer value history from CSV or XLSX: the one reader behind the web import,
the ``analyze_customers`` command and the background job.

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

import codecs
import datetime as dt
import io
import math
import os
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lib.text import CONTROL_PATTERN, strip_control

Source = str | os.PathLike[str] | BinaryIO
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

CSV_EXTENSIONS = frozenset({".csv", ".txt"})
XLSX_EXTENSIONS = frozenset({".xlsx"})

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

_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))
_BAD_LINE = re.compile(r"line (\d+): expected (\d+) fields, saw (\d+)")


# The limits of the database columns the values go into (customers.models: Customer.number
# and name, ValueRecord.product and segment, ValueRecord.revenue and margin as
# numeric(16,2)); a test keeps them in step.
NUMBER_MAX_LENGTH = 64
NAME_MAX_LENGTH = 200
PRODUCT_MAX_LENGTH = 120
# numeric(16, 2) holds 14 digits before the decimal point.
AMOUNT_LIMIT = 10**14


@dataclass(frozen=True)
class Limits:
    """How much of a file is read at most, so that one upload cannot occupy a worker for
    minutes or fill its memory (an XLSX of 500 KB can unpack to a sheet of 16 million
    cells). ``columns`` applies to CSV and XLSX; the others to XLSX, where they are
    checked before parsing (zip sizes, the sheet's declared dimension) and again while
    streaming the rows. A CSV's size is bounded by the upload limit alone."""

    rows: int
    columns: int
    cells: int
    unpacked_bytes: int


# A value history has five columns; 1,048,576 rows is Excel's own maximum. Streaming
# reads some 70,000 cells a second, so 6 million cells take about a minute and a half.
VALUE_LIMITS = Limits(rows=1_048_576, columns=50, cells=6_000_000, unpacked_bytes=1 << 30)


# Every message the reader gives, by code. Errors are kept as code and arguments
# ({"row": .., "column": .., "code": .., "params": {..}}) and put into words when shown,
# so that an English reader sees English whoever uploaded the file. ``counts`` names the
# arguments shown as grouped numbers in the reader's language (1,080 / 1.080).
@dataclass(frozen=True)
class Text:
    text: Promise
    counts: tuple[str, ...] = ()


MESSAGES: dict[str, Text] = {
    "file_type": Text(
        gettext_lazy(
            "The file type %(extension)s is not supported. Upload a CSV file (.csv, "
            ".txt) or an Excel workbook (.xlsx)."
        )
    ),
    "empty": Text(gettext_lazy("The file %(filename)s is empty.")),
    "xlsx_as_csv": Text(
        gettext_lazy(
            "The file %(filename)s is an Excel workbook, not a CSV file. Save it with "
            "the extension .xlsx, or save it from Excel as CSV."
        )
    ),
    "encoding": Text(
        gettext_lazy(
            "The file %(filename)s has the wrong encoding: it is neither UTF-8 nor "
            "Windows (cp1252) text. Save it from Excel as CSV (UTF-8) and upload it again."
        )
    ),
    "csv_unreadable": Text(
        gettext_lazy("The file %(filename)s could not be read as CSV: %(detail)s")
    ),
    "row_width": Text(
        gettext_lazy("The row has %(found)s values, but the header has %(expected)s columns."),
        ("found", "expected"),
    ),
    "not_xlsx": Text(
        gettext_lazy(
            "The file %(filename)s is not a valid Excel workbook (.xlsx). Open it in "
            "Excel and save it again as .xlsx, or save it as CSV."
        )
    ),
    "unpacked_too_large": Text(
        gettext_lazy(
            "The workbook %(filename)s unpacks to %(size)s MB; at most %(max)s MB are "
            "read. Save only the sheet with the data, or save it as CSV."
        ),
        ("size", "max"),
    ),
    "sheet_too_wide": Text(
        gettext_lazy(
            "The sheet has %(columns)s columns; at most %(max)s are read. Delete the "
            "columns you do not need (also empty ones that are formatted), or copy the data "
            "into a new workbook."
        ),
        ("columns", "max"),
    ),
    "sheet_too_long": Text(
        gettext_lazy(
            "The sheet has %(rows)s rows; at most %(max)s are read. Split the file, or "
            "delete the empty rows below the data."
        ),
        ("rows", "max"),
    ),
    "sheet_too_many_cells": Text(
        gettext_lazy(
            "The sheet has %(cells)s cells; at most %(max)s are read. Leave out the "
            "columns you do not need, split the file, or save it as CSV."
        ),
        ("cells", "max"),
    ),
    "sheet_more_rows": Text(
        gettext_lazy(
            "The sheet has more than %(max)s rows; at most %(max)s are read. Split the "
            "file, or delete the empty rows below the data."
        ),
        ("max",),
    ),
    "sheet_more_cells": Text(
        gettext_lazy(
            "The sheet has more than %(max)s cells; at most %(max)s are read. Leave out "
            "the columns you do not need, split the file, or save it as CSV."
        ),
        ("max",),
    ),
    "csv_too_wide": Text(
        gettext_lazy(
            "The file has %(columns)s columns; at most %(max)s are read. Leave out the "
            "columns you do not need."
        ),
        ("columns", "max"),
    ),
    "no_data_rows": Text(gettext_lazy("The file %(filename)s has a header row but no data rows.")),
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


def message_text(code: str, params: dict, messages: dict[str, Text] | None = None) -> str:
    """The message ``code`` with ``params``, in the active language.

    An argument of None reads "(none)"; the counts of the message are grouped numbers.
    An unknown code (from a later version, say) shows as the code and its arguments rather
    than failing the page.
    """
    from customers.templatetags.money import number  # templatetags load Django settings

    spec = (MESSAGES if messages is None else messages).get(code)
    if spec is None:
        return f"{code} {params}"
    values = {key: _("(none)") if value is None else value for key, value in (params or {}).items()}
    for key in spec.counts:
        if isinstance(values.get(key), int | float):
            values[key] = number(values[key])
    try:
        return str(spec.text) % values
    except (KeyError, TypeError, ValueError):
        return f"{code} {params}"


@dataclass(frozen=True)
class RowError:
    """One problem in the file.

    ``row`` is the row number as Excel shows it (the header is row 1, the first data row
    row 2), or None for problems with the whole file (encoding, not a workbook, empty).
    ``column`` is the column name as written in the file, or "" when no single column is
    at fault. ``code`` and ``params`` say what is wrong (see ``MESSAGES``); ``message``
    puts them into words in the active language. Errors found elsewhere (the chain
    import's checks) and errors stored before codes existed carry their ``text`` instead.
    """

    row: int | None
    column: str
    code: str = ""
    params: dict = field(default_factory=dict, compare=True, hash=False)
    text: str = ""

    @property
    def message(self) -> str:
        return message_text(self.code, self.params) if self.code else self.text

    def __str__(self) -> str:
        where = [f"row {self.row}"] if self.row else []
        where += [f"column {self.column}"] if self.column else []
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def to_json(self) -> dict:
        if self.code:
            return {
                "row": self.row,
                "column": self.column,
                "code": self.code,
                "params": self.params,
            }
        return {"row": self.row, "column": self.column, "message": self.text}

    @classmethod
    def from_json(cls, data: dict) -> RowError:
        """A stored error: with code and arguments, or (stored before) with its text."""
        return cls(
            row=data.get("row"),
            column=data.get("column") or "",
            code=data.get("code") or "",
            params=data.get("params") or {},
            text=data.get("message") or "",
        )


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
    name = Path(filename).name
    extension = Path(filename).suffix.lower()
    log = _ErrorLog()
    if extension not in CSV_EXTENSIONS | XLSX_EXTENSIONS:
        log.add_file("file_type", {"extension": extension or None})
        return log.result(max_errors)

    data = _read_bytes(source)
    if extension in CSV_EXTENSIONS:
        table = _csv_table(data, name, log, limits)
    else:
        table = _xlsx_table(data, name, log, limits)
    if table is None:
        return log.result(max_errors)
    return _read_table(table, name, log, max_errors)


# --- from bytes to a table of stripped strings ----------------------------------------------


@dataclass
class _Table:
    header: list[str]
    cells: pd.DataFrame  # positional columns, stripped str, "" where empty; data rows only
    rownum: np.ndarray  # Excel row number of each data row
    default_decimal: str
    numbers: pd.DataFrame | None = None  # XLSX: cells holding real numbers, else NaN


def _read_bytes(source: Source) -> bytes:
    if isinstance(source, str | os.PathLike):
        return Path(source).read_bytes()
    if hasattr(source, "seek"):
        source.seek(0)  # an uploaded file may have been read before (size checks)
    data = source.read()
    return data.encode() if isinstance(data, str) else data


# A character that only UTF-8 writes this way: a lead byte and its continuation bytes.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode the bytes that are not UTF-8 as Windows text (cp1252)."""
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252"), error.end


codecs.register_error("chainmap-cp1252", _cp1252_fallback)


def _decode(data: bytes) -> tuple[str, str] | None:
    """Return (text, encoding) or None when the bytes are no text we know.

    A file that mixes UTF-8 and Windows text (two exports pasted into one) is decoded
    character by character: what is valid UTF-8 as UTF-8, every other byte as cp1252
    ("mixed"). German text in cp1252 is never valid UTF-8 by accident (an umlaut byte is
    followed by a plain letter), so both parts come out right.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]  # Excel's "Unicode text" export
    elif b"\x00" in data:
        # NUL is valid UTF-8 and cp1252, but never in a CSV: UTF-16 without BOM or binary.
        return None
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            if encoding.startswith("utf-8") and _UTF8_SEQUENCE.search(data):
                try:
                    return data.decode(encoding, errors="chainmap-cp1252"), "mixed"
                except UnicodeDecodeError:
                    return None  # a byte that cp1252 leaves undefined: no text
    return None


def _sniff_delimiter(text: str) -> str:
    header = next((line for line in text[:100_000].splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in (";", "\t", ",")}
    best = max(counts, key=counts.__getitem__)  # ties go to ";" then tab, as listed
    return best if counts[best] else ","


def _csv_table(
    data: bytes, name: str, log: _ErrorLog, limits: Limits = VALUE_LIMITS
) -> _Table | None:
    if not data.strip():
        log.add_file("empty", {"filename": name})
        return None
    if data.startswith(b"PK\x03\x04"):
        log.add_file("xlsx_as_csv", {"filename": name})
        return None
    decoded = _decode(data)
    if decoded is None:
        log.add_file("encoding", {"filename": name})
        return None
    text, encoding = decoded
    delimiter = _sniff_delimiter(text)
    header = next((line for line in text[:1_000_000].splitlines() if line.strip()), "")
    if header.count(delimiter) >= limits.columns:
        # Checked on the heading line, before the parser builds a column per separator.
        log.add_file(
            "csv_too_wide", {"columns": header.count(delimiter) + 1, "max": limits.columns}
        )
        return None
    if encoding == "mixed":
        data, encoding = text.encode("utf-8"), "utf-8"
    del text  # read_csv decodes the bytes itself, faster than from a str

    frame = _fast_csv_frame(data, delimiter, encoding)
    if frame is not None:
        frame = frame.fillna("")
        for column in frame.columns:
            frame[column] = frame[column].str.strip()
        decimal = "," if delimiter == ";" else "."
        return _table_from_frame(frame, np.arange(1, len(frame) + 1), decimal, name, log)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(
                io.BytesIO(data),
                sep=delimiter,
                encoding=encoding,
                header=None,
                dtype=str,
                na_filter=False,
                # Keep blank lines so that positions stay Excel row numbers.
                skip_blank_lines=False,
                # Rows with more values than the header are skipped and reported below.
                on_bad_lines="warn",
                engine="c",
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            log.add_file("csv_unreadable", {"filename": name, "detail": str(error)})
            return None

    # Rows with too many values were dropped by the parser: report them, and put their
    # numbers back into the numbering of the rows that remain.
    skipped: list[int] = []
    for warning in caught:
        for match in _BAD_LINE.finditer(str(warning.message)):
            row, expected, found = (int(group) for group in match.groups())
            skipped.append(row)
            log.add_row(row, "row_width", {"found": found, "expected": expected})
    lines = np.arange(1, len(frame) + len(skipped) + 1)
    if skipped:
        lines = lines[~np.isin(lines, skipped)]

    frame = frame.fillna("")
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    # Excel writes semicolons where the decimal separator is a comma (Germany).
    decimal = "," if delimiter == ";" else "."
    return _table_from_frame(frame, lines, decimal, name, log)


def _fast_csv_frame(data: bytes, delimiter: str, encoding: str) -> pd.DataFrame | None:
    """The cells of a plain CSV file read by pyarrow (multi-threaded, about three times
    as fast as pandas' parser), or None when the file is not plain enough to be sure that
    the result equals what ``pd.read_csv`` in ``_csv_table`` gives.

    Plain means: UTF-8 without BOM, no quote characters, no blank lines (no empty cell
    in the first column), line ends LF or CR LF only. pyarrow raises on rows with too few
    or too many values (which pandas pads or reports as bad lines) and on rows longer
    than its block; all such files take the pandas path, which then numbers and reports
    the rows as before.
    """
    if encoding != "utf-8" or b'"' in data or data.startswith((b"\n", b"\r")):
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    end = data.find(b"\n")
    columns = (data if end < 0 else data[:end]).count(delimiter.encode()) + 1
    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                # Every column as text; pyarrow names them f0, f1, ... (the header is data).
                column_types={f"f{i}": pa.large_string() for i in range(columns)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    # A blank line comes out as a row of empty cells: leave files with blank lines (or
    # an empty first cell anywhere) to pandas, which numbers them as rows of their own.
    if table.num_columns != columns or pc.any(pc.equal(table.column(0), "")).as_py():
        return None
    return pd.DataFrame(
        {
            position: pd.Series(pd.array(table.column(position), dtype="str"))
            for position in range(columns)
        }
    )


def _xlsx_table(
    data: bytes, name: str, log: _ErrorLog, limits: Limits = VALUE_LIMITS
) -> _Table | None:
    rows = _xlsx_rows(data, name, log, limits)
    if rows is None:
        return None
    width = max((len(row) for row in rows), default=0)
    if not width:
        log.add_file("empty", {"filename": name})
        return None
    padded = [(*row, *(None,) * (width - len(row))) for row in rows]
    raw = pd.DataFrame.from_records(padded, columns=range(width))
    frame = pd.DataFrame({column: raw[column].map(_cell_text) for column in raw.columns})
    frame = frame.astype("str")
    numbers = pd.DataFrame({column: raw[column].map(_cell_number) for column in raw.columns})
    # Empty sheet rows are kept, so position + 1 is the sheet's row number.
    lines = np.arange(1, len(frame) + 1)
    return _table_from_frame(frame, lines, ".", name, log, numbers=numbers)


def _xlsx_rows(data: bytes, name: str, log: _ErrorLog, limits: Limits) -> list[tuple] | None:
    """The first sheet's rows as tuples of cell values, each without its trailing empty
    cells, without the empty rows at the end; None after an error.

    Bounded before parsing (the unpacked size of the zip entries, the sheet's declared
    dimension) and while streaming (rows, columns and cells as they come), so that a
    small file that unpacks to millions of cells is refused in a moment.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
            # openpyxl reads each sheet's <dimension> when it opens the workbook, and
            # parses the whole sheet to look for one that has none: such a sheet may
            # unpack to about 40 bytes per cell of the limit (a real cell takes 30-60).
            undeclared = max(
                (
                    entry.file_size
                    for entry in archive.infolist()
                    if entry.filename.startswith("xl/worksheets/")
                    and b"dimension" not in archive.open(entry).read(4096)
                ),
                default=0,
            )
    except (zipfile.BadZipFile, OSError, ValueError):
        log.add_file("not_xlsx", {"filename": name})
        return None
    if undeclared > limits.cells * 40:
        unpacked, limit = undeclared, limits.cells * 40
    else:
        limit = limits.unpacked_bytes
    if unpacked > limit:
        log.add_file(
            "unpacked_too_large",
            {"filename": name, "size": unpacked >> 20, "max": limit >> 20},
        )
        return None
    try:
        book = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    # openpyxl fails in many ways on a file that is not a workbook (zip, XML, key errors).
    except Exception:
        log.add_file("not_xlsx", {"filename": name})
        return None
    try:
        if not book.worksheets:
            log.add_file("empty", {"filename": name})
            return None
        sheet = book.worksheets[0]
        if not _within_limits(sheet.max_row or 0, sheet.max_column or 0, limits, log):
            return None
        # Read the cells that are there, not as many as the dimension claims.
        sheet.reset_dimensions()
        rows: list[tuple] = []
        cells = 0
        for values in sheet.iter_rows(values_only=True):
            cells += len(values)
            rows.append(values)
            if len(values) > limits.columns or len(rows) > limits.rows or cells > limits.cells:
                _within_limits(len(rows), len(values), limits, log, cells=cells, more=True)
                return None
    except Exception:
        log.add_file("not_xlsx", {"filename": name})
        return None
    finally:
        book.close()
    while rows and all(value is None or value == "" for value in rows[-1]):
        rows.pop()
    return rows


def _within_limits(
    rows: int, columns: int, limits: Limits, log: _ErrorLog, *, cells: int = 0, more: bool = False
) -> bool:
    """Whether a sheet of ``rows`` x ``columns`` (or ``cells``) may be read; else the
    error naming the limit. While streaming (``more``), the sheet has at least as many."""
    if columns > limits.columns:
        log.add_file("sheet_too_wide", {"columns": columns, "max": limits.columns})
    elif rows > limits.rows:
        code = "sheet_more_rows" if more else "sheet_too_long"
        log.add_file(code, {"rows": rows, "max": limits.rows})
    elif max(cells, rows * columns) > limits.cells:
        code = "sheet_more_cells" if more else "sheet_too_many_cells"
        log.add_file(code, {"cells": max(cells, rows * columns), "max": limits.cells})
    else:
        return True
    return False


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # customer number 10001 stored as 10001.0
    return str(value).strip()


def _cell_number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.nan


def _table_from_frame(
    frame: pd.DataFrame,
    lines: np.ndarray,
    default_decimal: str,
    name: str,
    log: _ErrorLog,
    numbers: pd.DataFrame | None = None,
) -> _Table | None:
    filled = (frame != "").any(axis=1).to_numpy()
    if not filled.any():
        log.add_file("empty", {"filename": name})
        return None
    header_at = int(np.argmax(filled))  # leading blank rows are allowed
    header = frame.iloc[header_at].tolist()
    keep = filled.copy()
    keep[: header_at + 1] = False
    if keep[header_at + 1 :].all():
        # The usual file: no blank rows after the header, so a slice (no copy) will do.
        cells = frame.iloc[header_at + 1 :].reset_index(drop=True)
        if numbers is not None:
            numbers = numbers.iloc[header_at + 1 :].reset_index(drop=True)
        return _Table(header, cells, lines[header_at + 1 :], default_decimal, numbers)
    cells = frame[keep].reset_index(drop=True)
    if numbers is not None:
        numbers = numbers[keep].reset_index(drop=True)
    return _Table(header, cells, lines[keep], default_decimal, numbers)


# --- from the table to the history ----------------------------------------------------------


def _read_table(table: _Table, name: str, log: _ErrorLog, max_errors: int) -> ReadResult:
    kind, columns = _map_columns(table, log)
    rows = len(table.cells)
    if rows == 0:
        log.add_file("no_data_rows", {"filename": name})
    if kind is None or rows == 0:
        return log.result(max_errors, kind=kind, rows=rows)

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
    when = _parse_when(text(when_field), columns.get(when_field), kind, table, log, header)
    values = _parse_numbers(
        {columns[f]: cells[columns[f]] for f in (value_field, margin_field) if f in columns},
        table,
        log,
        header,
    )

    if kind == "period" and customer_id is not None and when is not None:
        _check_duplicates(customer_id, when, columns[when_field], table, log, header, product)

    if log.count:
        return log.result(max_errors, kind=kind, rows=rows)

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
                "customer_id": customer_id.astype("str"),
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
                "customer_id": customer_id.astype("str"),
                "date": when,
                "amount": value,
                "margin": margin,
                **{f: series.astype("str") for f, series in optional.items()},
            }
        )
        history = _months_from_transactions(transactions, names)
        _check_month_totals(history, transactions, columns[value_field], table, log, header)
        if log.count:
            return log.result(max_errors, kind=kind, rows=rows)
    return ReadResult(
        history=history,
        transactions=transactions,
        kind=kind,
        rows=rows,
        customers=int(history["customer_id"].nunique()),
        periods=int(history["period"].nunique()),
    )


def _clean_text(text: pd.Series | None, *, collapse: bool = False) -> pd.Series | None:
    """Cells without control characters (a vertical tab pasted from Office would break
    every export later); ``collapse`` also turns line breaks and runs of spaces into one
    space, as a name is shown on one line. Only the few cells that hold any are touched."""
    if text is None:
        return None
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
    return pd.Series(cleaned.to_numpy()[codes], index=text.index, dtype="str")


_CONTROL = CONTROL_PATTERN
_CONTROL_OR_BREAK = r"[\x00-\x1f\x7f-\x9f]|\s\s"


def _check_length(
    text: pd.Series, limit: int, position: int, table: _Table, log: _ErrorLog, header: list[str]
) -> None:
    """Values longer than their database column are errors, never cut silently."""
    lengths = text.str.len().to_numpy()
    log.add_cells(
        lengths > limit,
        table.rownum,
        position,
        header[position],
        "too_long",
        lambda i: {"length": int(lengths[i]), "max": limit},
    )


def _check_month_totals(
    history: pd.DataFrame,
    transactions: pd.DataFrame,
    position: int,
    table: _Table,
    log: _ErrorLog,
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


def _normalise(name: str) -> str:
    name = name.replace("\ufeff", "").casefold()
    for umlaut, spelled in _UMLAUTS:
        name = name.replace(umlaut, spelled)
    name = re.sub(r"\(.*?\)|\[.*?\]|[€$]", " ", name)  # units: "Umsatz (EUR)", "Revenue [€]"
    return " ".join(part for part in re.split(r"[\s_\-.]+", name) if part)


_NORMALISED = {f: {_normalise(s) for s in synonyms} for f, synonyms in COLUMN_SYNONYMS.items()}
_LOOKUP = {
    kind: {synonym: f for f in fields for synonym in _NORMALISED[f]}
    for kind, fields in LAYOUT_FIELDS.items()
}


def _describe(fields: tuple[str, ...]) -> str:
    """'revenue (sales, umsatz, ...)' for messages that list accepted names."""
    return "; ".join(f"{f} ({', '.join(COLUMN_SYNONYMS[f][1:])})" for f in fields)


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _map_columns(table: _Table, log: _ErrorLog) -> tuple[Kind | None, dict[str, int]]:
    header = table.header
    normalised = [_normalise(h) for h in header]
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
                log.add_row(1, "no_heading", {"letter": _column_letter(position)})
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
    table: _Table,
    log: _ErrorLog,
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
            table.rownum,
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
            table.rownum,
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
    texts: dict[int, pd.Series], table: _Table, log: _ErrorLog, header: list[str]
) -> dict[int, pd.Series]:
    """Parse number columns (by position) with one decimal convention for the whole file."""
    own: dict[int, pd.Series] = {}
    for position, text in texts.items():
        if table.numbers is not None:
            # XLSX cells that hold real numbers need no parsing; only text cells do.
            text = text.where(table.numbers[position].isna(), "")
        own[position] = text

    decimal = table.default_decimal
    candidates, valid = _number_candidates(own, decimal)
    if any(not mask.all() for mask in valid.values()):
        # Some cells fail: take the other convention if it explains more of them.
        other = "." if decimal == "," else ","
        other_candidates, other_valid = _number_candidates(own, other)
        if sum(int(m.sum()) for m in other_valid.values()) > sum(
            int(m.sum()) for m in valid.values()
        ):
            decimal, candidates, valid = other, other_candidates, other_valid

    result: dict[int, pd.Series] = {}
    for position, text in candidates.items():
        usable = valid[position] & (text != "").to_numpy()
        clean = text if usable.all() else text.where(usable)
        if decimal == ",":
            clean = clean.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        elif clean.str.contains(",", regex=False).any():
            clean = clean.str.replace(",", "", regex=False)
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
        too_large = (numbers.abs() >= AMOUNT_LIMIT - 0.005).to_numpy()  # rounded to cents
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
) -> tuple[dict[int, pd.Series], dict[int, np.ndarray]]:
    """Per column: the text ready for parsing, and which cells are valid numbers (or
    empty) under ``decimal``. Currency signs, inner spaces and trailing minus signs are
    tidied only in the cells that fail at first (the rare case, so usually one regex pass).
    """
    pattern = _NUMBER_PATTERNS[decimal]
    candidates: dict[int, pd.Series] = {}
    valid: dict[int, np.ndarray] = {}
    for position, text in texts.items():
        mask = (text.str.fullmatch(pattern) | (text == "")).to_numpy()
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
    return candidates, valid


def _check_duplicates(
    customer_id: pd.Series,
    period: pd.Series,
    position: int,
    table: _Table,
    log: _ErrorLog,
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
        customer_codes = customer_codes.astype(np.int64) * len(products) + product_codes
        customer_codes, customers = pd.factorize(customer_codes)
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
    first_row_of = np.zeros(len(customer_id), dtype=table.rownum.dtype)
    first_row_of[rows] = table.rownum[first_of_key[key_codes]]
    mask = np.zeros(len(customer_id), dtype=bool)
    mask[rows[repeated]] = True

    def params(i: int) -> dict:
        found = {
            "customer": customer_id.iat[i],
            "period": f"{period.iat[i]:%Y-%m}",
            "first_row": int(first_row_of[i]),
            "row": int(table.rownum[i]),
        }
        return found if product is None else {**found, "product": product.iat[i]}

    code = "duplicate" if product is None else "duplicate_product"
    log.add_cells(mask, table.rownum, position, header[position], code, params)


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


# --- errors -----------------------------------------------------------------------------------


@dataclass
class _ErrorGroup:
    rows: np.ndarray  # Excel row numbers (0 for file-level errors, listed first)
    order: int  # column position, so that one row's errors read left to right
    column: str
    code: str  # a key of MESSAGES, or "" for a message given as text
    params: Callable[[int], dict]  # the arguments of the k-th error of the group
    text: str = ""
    file_level: bool = False


class _ErrorLog:
    """Collects errors as arrays (cheap even for a million bad cells) and builds only
    those that will be listed.

    A message is a code of ``MESSAGES`` with its arguments (``add_file("empty",
    {"filename": name})``), or, for checks of other modules, a text already in words
    (``add_row(3, "…")`` without arguments).
    """

    def __init__(self) -> None:
        self.groups: list[_ErrorGroup] = []

    @property
    def count(self) -> int:
        return sum(len(group.rows) for group in self.groups)

    def add_file(self, message: str, params: dict | None = None) -> None:
        self._add(np.zeros(1, dtype=np.int64), -1, "", message, params, file_level=True)

    def add_row(
        self,
        row: int,
        message: str,
        params: dict | None = None,
        *,
        column: str = "",
        order: int = -1,
    ) -> None:
        self._add(np.array([row], dtype=np.int64), order, column, message, params)

    def add_error(self, error: RowError) -> None:
        """An error found before (the chain import re-checks a sheet read earlier)."""
        rows = np.array([error.row or 0], dtype=np.int64)
        group = _ErrorGroup(
            rows, -1, error.column, error.code, lambda k: error.params, error.text, not error.row
        )
        self.groups.append(group)

    def _add(self, rows, order, column, message, params, *, file_level=False) -> None:
        if params is None:
            group = _ErrorGroup(rows, order, column, "", dict, message, file_level)
        else:
            group = _ErrorGroup(rows, order, column, message, lambda k: params, "", file_level)
        self.groups.append(group)

    def add_cells(
        self,
        mask: np.ndarray,
        rownum: np.ndarray,
        position: int,
        column: str,
        code: str,
        params: Callable[[int], dict] = lambda i: {},
    ) -> None:
        """Report the data rows where ``mask`` is true; ``params(i)`` gets the data
        row's position."""
        positions = np.flatnonzero(mask)
        if len(positions):
            self.groups.append(
                _ErrorGroup(
                    rownum[positions],
                    position,
                    column,
                    code,
                    lambda k: params(int(positions[k])),
                )
            )

    def finish(self, max_errors: int) -> list[RowError]:
        """The first ``max_errors`` errors by row, then column; ``count`` counts all."""
        if not self.groups:
            return []
        rows = np.concatenate([group.rows for group in self.groups])
        orders = np.concatenate([np.full(len(g.rows), g.order) for g in self.groups])
        group_ids = np.concatenate([np.full(len(g.rows), n) for n, g in enumerate(self.groups)])
        within = np.concatenate([np.arange(len(g.rows)) for g in self.groups])
        listed = np.lexsort((within, group_ids, orders, rows))[:max_errors]
        errors = []
        for index in listed:
            group = self.groups[group_ids[index]]
            row = None if group.file_level else int(rows[index])
            params = group.params(int(within[index])) if group.code else {}
            errors.append(RowError(row, group.column, group.code, params, group.text))
        return errors

    def result(self, max_errors: int, **found) -> ReadResult:
        return ReadResult(errors=self.finish(max_errors), error_count=self.count, **found)
