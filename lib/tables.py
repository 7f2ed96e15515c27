"""Reading an uploaded CSV or XLSX file into a table of text cells, bounded, with its
problems as errors by row: what the customer value import (customers/reading.py) and the
CRM import of a chain (chain/imports.py) share.

``read_table(source, filename=..., log=..., limits=...)`` gives a ``Table``: the heading
row (the first row with any value), the data rows below it as stripped text ("" where
empty; blank rows skipped), each data row's number as Excel shows it (header = row 1),
and for XLSX the cells that hold real numbers. Problems go into an ``ErrorLog`` as a code
with arguments (``MESSAGES``) and come out as ``RowError``, put into words when shown,
in the language of whoever reads them. ``None`` means the file cannot be read at all.

- CSV (.csv, .txt): UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"),
  Windows text (cp1252), or UTF-8 and cp1252 mixed in one file, decoded character by
  character. The delimiter (semicolon, tab, comma) is the one the heading line holds most
  often; a semicolon means a decimal comma (``Table.default_decimal``). Plain files are
  parsed by pyarrow, the others by pandas, with the same result; rows with more values
  than the header are reported and left out.
- XLSX: the first sheet, streamed. Its unpacked size and its declared dimension are
  checked before parsing, rows, columns and cells again while streaming (``Limits``), so
  that a small file that unpacks to millions of cells is refused in a moment.

Apps add the messages of their own checks with ``messages_register``. ``normalise``
compares headings ("Kunden-Nr." = "kunden nr", "Erlös (EUR)" = "erloes") and
``column_letter`` names a column as Excel does, alike in both imports.
"""

from __future__ import annotations

import codecs
import ctypes
import ctypes.util
import datetime as dt
import functools
import io
import math
import os
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lib.numbers import number

Source = str | os.PathLike[str] | BinaryIO | bytes

CSV_EXTENSIONS = frozenset({".csv", ".txt"})
XLSX_EXTENSIONS = frozenset({".xlsx"})
EXTENSIONS = CSV_EXTENSIONS | XLSX_EXTENSIONS

_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))
_BAD_LINE = re.compile(r"line (\d+): expected (\d+) fields, saw (\d+)")


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


# Every message of reading a file, by code; apps add those of their own checks
# (``messages_register``). Errors are kept as code and arguments
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
}


def messages_register(messages: dict[str, Text]) -> None:
    """Add the codes of an app's own checks to ``MESSAGES``, where ``RowError.message``
    looks them up (customers/reading.py registers those of the value checks when it is
    imported). A code names one message: taking one that is taken is an error."""
    taken = [code for code, text in messages.items() if MESSAGES.get(code, text) is not text]
    if taken:
        raise ValueError(f"message codes already registered: {', '.join(taken)}")
    MESSAGES.update(messages)


def message_text(code: str, params: dict, messages: dict[str, Text] | None = None) -> str:
    """The message ``code`` with ``params``, in the active language.

    An argument of None reads "(none)"; the counts of the message are grouped numbers.
    An unknown code (from a later version, say) shows as the code and its arguments rather
    than failing the page.
    """
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
class _ErrorGroup:
    rows: np.ndarray  # Excel row numbers (0 for file-level errors, listed first)
    order: int  # column position, so that one row's errors read left to right
    column: str
    code: str  # a key of MESSAGES, or "" for a message given as text
    params: Callable[[int], dict]  # the arguments of the k-th error of the group
    text: str = ""
    file_level: bool = False


class ErrorLog:
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
        """An error found before (a sheet read earlier, checked again)."""
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


@dataclass
class Table:
    """A file's cells as text, below its heading row."""

    header: list[str]
    cells: pd.DataFrame  # positional columns, stripped str, "" where empty; data rows only
    rownum: np.ndarray  # Excel row number of each data row
    default_decimal: str  # "," after a CSV with semicolons (Excel in Germany), else "."
    numbers: pd.DataFrame | None = None  # XLSX: cells holding real numbers, else NaN


def read_table(source: Source, *, filename: str, log: ErrorLog, limits: Limits) -> Table | None:
    """The table of a CSV (.csv, .txt) or XLSX file, or None after an error (in ``log``).

    ``source`` is a path, bytes or a binary file-like object (an uploaded file);
    ``filename`` (the name the user knows) decides CSV or XLSX by its extension and names
    the file in messages.
    """
    name = Path(filename).name
    extension = Path(filename).suffix.lower()
    if extension not in EXTENSIONS:
        log.add_file("file_type", {"extension": extension or None})
        return None
    data = read_bytes(source)
    reader = csv_table if extension in CSV_EXTENSIONS else xlsx_table
    return reader(data, name, log, limits)


def read_bytes(source: Source) -> bytes:
    """The bytes of a path, an uploaded file (read from its start) or bytes themselves."""
    if isinstance(source, bytes):
        return source
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


def csv_table(data: bytes, name: str, log: ErrorLog, limits: Limits) -> Table | None:
    """The table of a CSV file's bytes; ``name`` names the file in messages."""
    if not data or data.isspace():  # as `not data.strip()`, without copying the file
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
    as fast as pandas' parser) and stripped, or None when the file is not plain enough to
    be sure that the result equals what ``pd.read_csv`` and the stripping in ``csv_table``
    give.

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
    table = plain_csv_cells(data, delimiter, columns)  # the header is a row of data here
    if table is None:
        return None
    # A blank line comes out as a row of empty cells: leave files with blank lines (or
    # an empty first cell anywhere) to pandas, which numbers them as rows of their own.
    if table.num_columns != columns or pc.any(pc.equal(table.column(0), "")).as_py():
        return None
    return pd.DataFrame(
        {
            position: pd.Series(pd.array(_stripped(table.column(position)), dtype="str"))
            for position in range(columns)
        }
    )


def plain_csv_cells(
    data: bytes,
    delimiter: str,
    columns: int,
    *,
    skip_rows: int = 0,
    types: dict[int, pa.DataType] | None = None,
    decimal: str = ".",
) -> pa.Table | None:
    """The cells of a plain CSV file (see `_fast_csv_frame`) as pyarrow columns f0, f1,
    ... after `skip_rows` lines: text (not stripped), or of the type `types` gives by
    position (an empty cell is null there, numbers with `decimal`); None when pyarrow
    cannot read it so (a row of another width, a row longer than its block, a cell not
    of its type)."""
    types = types or {}
    try:
        return pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(
                column_names=[f"f{i}" for i in range(columns)], skip_rows=skip_rows
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={f"f{i}": types.get(i, pa.large_string()) for i in range(columns)},
                null_values=[""],  # not pyarrow's "NA", "nan", "NULL", ...
                decimal_point=decimal,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None


# The first byte of every character that str.strip() or pyarrow's utf8_trim_whitespace
# may take for white space: ASCII control characters and space, and the lead bytes of
# the Unicode spaces (U+0085 and U+00A0: C2; U+1680, U+180E: E1; U+2000-U+205F: E2;
# U+3000: E3).
_SPACE_BYTES = np.zeros(256, dtype=bool)
_SPACE_BYTES[: 0x20 + 1] = True
_SPACE_BYTES[[0xC2, 0xE1, 0xE2, 0xE3]] = True


def _stripped(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The cells without leading and trailing white space, as ``Series.str.strip()``
    gives them. Only the blocks holding a byte that may be white space are stripped:
    files of numbers and codes have none, and looking at the bytes is ten times as fast
    as stripping every cell."""
    chunks = []
    for chunk in column.chunks:
        if len(chunk) and _may_have_space(chunk):
            chunk = pc.utf8_trim_whitespace(chunk)
        chunks.append(chunk)
    return pa.chunked_array(chunks, type=column.type)


def _may_have_space(chunk: pa.Array) -> bool:
    """Whether the characters of a (large) string array hold any of ``_SPACE_BYTES``."""
    return _holds_bytes(chunk, _SPACE_BYTES)


def _holds_bytes(chunk: pa.Array, wanted: np.ndarray) -> bool:
    """Whether the UTF-8 of a string or large string array holds a byte b with
    ``wanted[b]`` (a boolean table of 256)."""
    _, offsets, data = chunk.buffers()
    if data is None or not len(chunk):
        return False
    offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=offset_type)[[chunk.offset, chunk.offset + len(chunk)]]
    return bool(wanted[np.frombuffer(data, dtype=np.uint8)[bounds[0] : bounds[1]]].any())


def holds_bytes(text: pd.Series, wanted: np.ndarray) -> bool:
    """Whether any cell of a text column holds a byte b of its UTF-8 with ``wanted[b]``
    (a boolean table of 256): a quick way to know that no cell can match a pattern of
    rare characters (control characters, say) before matching it cell by cell. True
    when the column is not text as pyarrow knows it."""
    try:
        column = pa.chunked_array(pa.array(text.array))
    except (pa.ArrowException, TypeError, ValueError):
        return True
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return True
    return any(_holds_bytes(chunk, wanted) for chunk in column.chunks)


def xlsx_table(data: bytes, name: str, log: ErrorLog, limits: Limits) -> Table | None:
    """The table of a workbook's first sheet; ``name`` names the file in messages."""
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


def _xlsx_rows(data: bytes, name: str, log: ErrorLog, limits: Limits) -> list[tuple] | None:
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
    rows: int, columns: int, limits: Limits, log: ErrorLog, *, cells: int = 0, more: bool = False
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
    log: ErrorLog,
    numbers: pd.DataFrame | None = None,
) -> Table | None:
    # A row is filled when its first cell is (the usual case), else when any cell is.
    filled = (frame[frame.columns[0]] != "").to_numpy() if len(frame.columns) else None
    if filled is None or not filled.all():
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
        return Table(header, cells, lines[header_at + 1 :], default_decimal, numbers)
    cells = frame[keep].reset_index(drop=True)
    if numbers is not None:
        numbers = numbers[keep].reset_index(drop=True)
    return Table(header, cells, lines[keep], default_decimal, numbers)


def release_freed_memory() -> None:
    """Hand the memory freed after reading a large file back to the operating system.

    The C library keeps freed blocks of its heap for later allocations; after the many
    medium-sized arrays of parsing 6 million rows that is several hundred MB, which the
    analysis after it cannot reuse (its arrays are large enough to be mapped on their
    own), so it counted against the peak memory of the whole import. glibc only; a no-op
    elsewhere.
    """
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return _libc().malloc_trim
    except (OSError, AttributeError):
        return None


def keep_freed_memory() -> None:
    """Let the C library keep freed memory for the next allocations of this process
    instead of handing it back at once (arrays up to 32 MB from its heap, which it trims
    only above 512 MB free). For a process that allocates arrays of the same sizes over
    and over, such as a worker of the chunked analysis: each fresh page costs a fault,
    and in a virtual machine a dear one (the chunked analysis of 1,000,000 customers took
    a tenth less time, at some 30 MB more per worker). glibc only; a no-op elsewhere."""
    try:
        mallopt = _libc().mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    mallopt(_M_TRIM_THRESHOLD, 512 << 20)
    mallopt(_M_TOP_PAD, 64 << 20)


_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3  # glibc's malloc.h


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def normalise(name: str) -> str:
    """A heading as compared with known names: case, umlaut spellings, spaces, underscores,
    hyphens and dots ignored, units in brackets and currency signs left out."""
    name = name.replace("\ufeff", "").casefold()
    for umlaut, spelled in _UMLAUTS:
        name = name.replace(umlaut, spelled)
    name = re.sub(r"\(.*?\)|\[.*?\]|[€$]", " ", name)  # units: "Umsatz (EUR)", "Revenue [€]"
    return " ".join(part for part in re.split(r"[\s_\-.]+", name) if part)


def column_letter(position: int) -> str:
    """The column's letters as Excel shows them: 0 is A, 26 is AA."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
