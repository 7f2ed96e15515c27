"""Read a customer value history from CSV or XLSX: the one reader behind the web import,
the ``analyze_customers`` command and the background job.

Two layouts, told apart by the header:

- per period: ``customer_id, period, revenue[, contribution_margin][, customer_name]``,
  one row per customer and month;
- per transaction: ``customer_id, date, amount[, margin][, customer_name]``, summed to
  months per customer.

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
import io
import math
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
}

LAYOUT_FIELDS: dict[Kind, tuple[str, ...]] = {
    "period": ("customer_id", "customer_name", "period", "revenue", "contribution_margin"),
    "transaction": ("customer_id", "customer_name", "date", "amount", "margin"),
}
REQUIRED_FIELDS: dict[Kind, tuple[str, ...]] = {
    "period": ("customer_id", "period", "revenue"),
    "transaction": ("customer_id", "date", "amount"),
}

HISTORY_COLUMNS = ("customer_id", "customer_name", "period", "revenue", "margin")
TRANSACTION_COLUMNS = ("customer_id", "date", "amount", "margin")

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


@dataclass(frozen=True)
class RowError:
    """One problem in the file.

    ``row`` is the row number as Excel shows it (the header is row 1, the first data row
    row 2), or None for problems with the whole file (encoding, not a workbook, empty).
    ``column`` is the column name as written in the file, or "" when no single column is
    at fault. ``message`` is already translated into the active language.
    """

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = [f"row {self.row}"] if self.row else []
        where += [f"column {self.column}"] if self.column else []
        return f"{', '.join(where)}: {self.message}" if where else self.message


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
    Both are None when there are errors. ``rows`` counts the data rows read (blank rows
    skipped); ``customers`` and ``periods`` count the distinct customers and months of a
    file without errors (0 otherwise).
    """

    history: pd.DataFrame | None = None
    transactions: pd.DataFrame | None = None
    kind: Kind | None = None
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    customers: int = 0
    periods: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def read_history(source: Source, *, filename: str, max_errors: int = 50) -> ReadResult:
    """Read and check a value-history file; see the module docstring for the rules.

    ``source`` is a path or a binary file-like object (an uploaded file); ``filename``
    (the name the user knows) decides CSV or XLSX by its extension. At most
    ``max_errors`` errors are listed, followed by one saying how many more there are.
    """
    name = Path(filename).name
    extension = Path(filename).suffix.lower()
    log = _ErrorLog()
    if extension not in CSV_EXTENSIONS | XLSX_EXTENSIONS:
        log.add_file(
            _(
                "The file type %(extension)s is not supported. Upload a CSV file (.csv, "
                ".txt) or an Excel workbook (.xlsx)."
            )
            % {"extension": extension or _("(none)")}
        )
        return ReadResult(errors=log.finish(max_errors))

    data = _read_bytes(source)
    if extension in CSV_EXTENSIONS:
        table = _csv_table(data, name, log)
    else:
        table = _xlsx_table(data, name, log)
    if table is None:
        return ReadResult(errors=log.finish(max_errors))
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


def _decode(data: bytes) -> tuple[str, str] | None:
    """Return (text, encoding) or None when the bytes are no text we know."""
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
            continue
    return None


def _sniff_delimiter(text: str) -> str:
    header = next((line for line in text[:100_000].splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in (";", "\t", ",")}
    best = max(counts, key=counts.__getitem__)  # ties go to ";" then tab, as listed
    return best if counts[best] else ","


def _csv_table(data: bytes, name: str, log: _ErrorLog) -> _Table | None:
    if not data.strip():
        log.add_file(_("The file %(filename)s is empty.") % {"filename": name})
        return None
    if data.startswith(b"PK\x03\x04"):
        log.add_file(
            _(
                "The file %(filename)s is an Excel workbook, not a CSV file. Save it with "
                "the extension .xlsx, or save it from Excel as CSV."
            )
            % {"filename": name}
        )
        return None
    decoded = _decode(data)
    if decoded is None:
        log.add_file(
            _(
                "The file %(filename)s has the wrong encoding: it is neither UTF-8 nor "
                "Windows (cp1252) text. Save it from Excel as CSV (UTF-8) and upload it again."
            )
            % {"filename": name}
        )
        return None
    text, encoding = decoded
    delimiter = _sniff_delimiter(text)
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
            log.add_file(
                _("The file %(filename)s could not be read as CSV: %(detail)s")
                % {"filename": name, "detail": error}
            )
            return None

    # Rows with too many values were dropped by the parser: report them, and put their
    # numbers back into the numbering of the rows that remain.
    skipped: list[int] = []
    for warning in caught:
        for match in _BAD_LINE.finditer(str(warning.message)):
            row, expected, found = (int(group) for group in match.groups())
            skipped.append(row)
            log.add_row(
                row,
                _("The row has %(found)s values, but the header has %(expected)s columns.")
                % {"found": found, "expected": expected},
            )
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


def _xlsx_table(data: bytes, name: str, log: _ErrorLog) -> _Table | None:
    try:
        raw = pd.read_excel(io.BytesIO(data), engine="openpyxl", header=None, dtype=object)
    # openpyxl fails in many ways on a file that is not a workbook (zip, XML, key errors).
    except Exception:
        log.add_file(
            _(
                "The file %(filename)s is not a valid Excel workbook (.xlsx). Open it in "
                "Excel and save it again as .xlsx, or save it as CSV."
            )
            % {"filename": name}
        )
        return None
    if raw.empty:
        log.add_file(_("The file %(filename)s is empty.") % {"filename": name})
        return None
    raw.columns = range(raw.shape[1])
    frame = pd.DataFrame({column: raw[column].map(_cell_text) for column in raw.columns})
    frame = frame.astype("str")
    numbers = pd.DataFrame({column: raw[column].map(_cell_number) for column in raw.columns})
    # read_excel keeps empty sheet rows, so position + 1 is the sheet's row number.
    lines = np.arange(1, len(frame) + 1)
    return _table_from_frame(frame, lines, ".", name, log, numbers=numbers)


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
        log.add_file(_("The file %(filename)s is empty.") % {"filename": name})
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
        log.add_file(
            _("The file %(filename)s has a header row but no data rows.") % {"filename": name},
        )
    if kind is None or rows == 0:
        return ReadResult(kind=kind, errors=log.finish(max_errors), rows=rows)

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
                lambda i: _("This value is empty, but the column is required."),
            )

    def text(field_name: str) -> pd.Series | None:
        return cells[columns[field_name]] if field_name in columns else None

    when_field, value_field, margin_field = (
        ("period", "revenue", "contribution_margin")
        if kind == "period"
        else ("date", "amount", "margin")
    )
    customer_id = text("customer_id")
    customer_name = text("customer_name")
    when = _parse_when(text(when_field), columns.get(when_field), kind, table, log, header)
    values = _parse_numbers(
        {columns[f]: cells[columns[f]] for f in (value_field, margin_field) if f in columns},
        table,
        log,
        header,
    )

    if kind == "period" and customer_id is not None and when is not None:
        _check_duplicates(customer_id, when, columns[when_field], table, log, header)

    if log.count:
        return ReadResult(kind=kind, errors=log.finish(max_errors), rows=rows)

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
            }
        )
        history = _months_from_transactions(transactions, names)
    return ReadResult(
        history=history,
        transactions=transactions,
        kind=kind,
        rows=rows,
        customers=int(history["customer_id"].nunique()),
        periods=int(history["period"].nunique()),
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
    found = ", ".join(f'"{h}"' for h in header if h) or _("(none)")
    periods = [h for h, n in zip(header, normalised, strict=True) if n in _NORMALISED["period"]]
    dates = [h for h, n in zip(header, normalised, strict=True) if n in _NORMALISED["date"]]
    if periods and dates:
        log.add_row(
            1,
            _(
                'The file has both a period column ("%(period)s") and a date column '
                '("%(date)s"). Keep only one: the period for values per month, the date '
                "for single transactions."
            )
            % {"period": periods[0], "date": dates[0]},
        )
        return None, {}
    if not periods and not dates:
        log.add_row(
            1,
            _(
                "The file needs a period column (values per customer and month) or a date "
                "column (single transactions). Columns found: %(found)s. Accepted "
                "columns: %(accepted)s."
            )
            % {"found": found, "accepted": _describe(("period", "date"))},
        )
        return None, {}

    kind: Kind = "period" if periods else "transaction"
    lookup = _LOOKUP[kind]
    columns: dict[str, int] = {}
    for position, (written, normal) in enumerate(zip(header, normalised, strict=True)):
        if not normal:
            # Excel writes trailing separators; a nameless column is fine while empty.
            if (table.cells[position] != "").any():
                log.add_row(
                    1,
                    _("Column %(letter)s has values but no heading.")
                    % {"letter": _column_letter(position)},
                )
            continue
        field_name = lookup.get(normal)
        if field_name is None:
            log.add_row(
                1,
                _('Unknown column "%(column)s". Accepted columns: %(accepted)s.')
                % {"column": written, "accepted": _describe(LAYOUT_FIELDS[kind])},
                column=written,
                order=position,
            )
        elif field_name in columns:
            log.add_row(
                1,
                _('The columns "%(first)s" and "%(second)s" both mean %(field)s. Keep one.')
                % {"first": header[columns[field_name]], "second": written, "field": field_name},
                column=written,
                order=position,
            )
        else:
            columns[field_name] = position

    missing = [f for f in REQUIRED_FIELDS[kind] if f not in columns]
    if missing:
        log.add_row(
            1,
            _("Required columns are missing: %(missing)s. Columns found: %(found)s.")
            % {"missing": _describe(tuple(missing)), "found": found},
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
    if kind == "period":
        message = _(
            'Not a valid month: "%(value)s" (expected for example 2024-03, 03.2024 or 03/2024).'
        )
    else:
        message = _(
            'Not a valid date: "%(value)s" (expected for example 2024-01-31 or 31.01.2024).'
        )
    if todo.any():
        log.add_cells(
            todo[codes], table.rownum, position, column, lambda i: message % {"value": text.iat[i]}
        )

    years = parsed.dt.year
    outside = ((years < FIRST_YEAR) | (years > LAST_YEAR)).to_numpy()
    if outside.any():
        log.add_cells(
            outside[codes],
            table.rownum,
            position,
            column,
            lambda i: (
                _('The date "%(value)s" is outside the years %(first)s to %(last)s.')
                % {"value": text.iat[i], "first": FIRST_YEAR, "last": LAST_YEAR}
            ),
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
            lambda i, original=original: (
                _('Not a number: "%(value)s" (expected for example %(example)s).')
                % {"value": original.iat[i], "example": _NUMBER_EXAMPLES[decimal]}
            ),
        )
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
) -> None:
    """A customer twice in one month would double-count: report each repeat with the
    row it repeats."""
    usable = ((customer_id != "") & period.notna()).to_numpy()
    everything = bool(usable.all())
    # One integer per (customer, month): hashing 64-bit integers is far cheaper than
    # hashing pairs of strings and timestamps.
    customer_codes, customers = pd.factorize(customer_id, use_na_sentinel=False)
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
    log.add_cells(
        mask,
        table.rownum,
        position,
        header[position],
        lambda i: (
            _(
                'Customer "%(customer)s" appears twice for %(period)s: rows %(first_row)s and '
                "%(row)s."
            )
            % {
                "customer": customer_id.iat[i],
                "period": f"{period.iat[i]:%Y-%m}",
                "first_row": first_row_of[i],
                "row": table.rownum[i],
            }
        ),
    )


def _months_from_transactions(transactions: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """Sum amount and margin per customer and month; a month's margin is the sum of the
    margins given (NaN only when none of its transactions has one)."""
    frame = transactions.assign(
        period=transactions["date"].to_numpy().astype("datetime64[M]").astype("datetime64[ns]"),
        customer_name=names,
    )
    grouped = frame.groupby(["customer_id", "period"], sort=True)
    history = pd.DataFrame(
        {
            "customer_name": grouped["customer_name"].first(),
            "revenue": grouped["amount"].sum(),
            "margin": grouped["margin"].sum(min_count=1),
        }
    ).reset_index()
    history["customer_name"] = history["customer_name"].astype("str")
    return history[list(HISTORY_COLUMNS)]


# --- errors -----------------------------------------------------------------------------------


@dataclass
class _ErrorGroup:
    rows: np.ndarray  # Excel row numbers (0 for file-level errors, listed first)
    order: int  # column position, so that one row's errors read left to right
    column: str
    message: Callable[[int], str]  # message for the k-th error of the group
    file_level: bool = False


class _ErrorLog:
    """Collects errors as arrays (cheap even for a million bad cells) and formats only
    those that will be listed."""

    def __init__(self) -> None:
        self.groups: list[_ErrorGroup] = []

    @property
    def count(self) -> int:
        return sum(len(group.rows) for group in self.groups)

    def add_file(self, message: str) -> None:
        self.groups.append(
            _ErrorGroup(np.zeros(1, dtype=np.int64), -1, "", lambda k: message, True)
        )

    def add_row(self, row: int, message: str, *, column: str = "", order: int = -1) -> None:
        self.groups.append(
            _ErrorGroup(np.array([row], dtype=np.int64), order, column, lambda k: message)
        )

    def add_cells(
        self,
        mask: np.ndarray,
        rownum: np.ndarray,
        position: int,
        column: str,
        message: Callable[[int], str],
    ) -> None:
        """Report the data rows where ``mask`` is true; ``message(i)`` gets the data
        row's position."""
        positions = np.flatnonzero(mask)
        if len(positions):
            self.groups.append(
                _ErrorGroup(
                    rownum[positions],
                    position,
                    column,
                    lambda k: message(int(positions[k])),
                )
            )

    def finish(self, max_errors: int) -> list[RowError]:
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
            errors.append(RowError(row, group.column, group.message(int(within[index]))))
        more = len(rows) - len(listed)
        if more:
            errors.append(
                RowError(
                    None,
                    "",
                    ngettext(
                        "%(count)s more error was not listed.",
                        "%(count)s more errors were not listed.",
                        more,
                    )
                    % {"count": more},
                )
            )
        return errors
