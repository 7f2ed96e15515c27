"""Large sheets in openpyxl workbooks, written as text instead of one object per cell.

openpyxl makes a Python object for every cell and serialises each through ElementTree,
even in write-only mode: some 8 µs a cell, about 25 s for the 100,000 customers x 29
columns of the assessments export. So openpyxl still builds the whole workbook (styles,
the other sheets, pictures) but writes the large sheet with its header row only;
`rows_insert` then adds the data rows to that sheet's part of the saved file, one string
per row, in the form openpyxl gives its own cells: numbers as "%.16g", text as inline
strings, a number format as the index of the cell style that openpyxl registered for it.
"""

import io
import math
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# Rows per string handed to the compressor: few calls, yet the 150 MB of sheet text of
# 100,000 customers never sits in memory at once.
CHUNK_ROWS = 2000
# zlib's fastest level: for 100,000 customers 1.5 s faster than the default level 6, and
# the file a quarter larger (39 instead of 31 MB).
COMPRESS_LEVEL = 1
# Excel's limit for the text of one cell.
MAX_TEXT = 32767


def style_index(sheet: WriteOnlyWorksheet, number_format: str) -> int:
    """The workbook's cell style with this number format, registered if it is new."""
    cell = WriteOnlyCell(sheet)
    cell.number_format = number_format
    return cell.style_id


def _text(ref: str, value: object, style: str) -> str:
    # Control characters are not allowed in XML (openpyxl refuses them): they are dropped.
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_TEXT]
    if not text:
        return f'<c r="{ref}"{style}/>' if style else ""
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def _cell(ref: str, value: object, style: str) -> str:
    """One cell; `style` is ' s="N"' or "". An empty cell keeps its style only.

    Text is always text, also when it starts with "=": a customer name is never a formula.
    Infinite numbers become the text "inf" or "-inf", as pandas writes them.
    """
    kind = value.__class__
    if kind is float:
        if math.isfinite(value):
            return f'<c r="{ref}"{style} t="n"><v>{value:.16g}</v></c>'
        if math.isnan(value):
            return f'<c r="{ref}"{style}/>' if style else ""
        return _text(ref, "inf" if value > 0 else "-inf", style)
    if value is None:
        return f'<c r="{ref}"{style}/>' if style else ""
    if kind is bool:
        return f'<c r="{ref}"{style} t="b"><v>{value:d}</v></c>'
    if kind is int:
        return f'<c r="{ref}"{style} t="n"><v>{value:.16g}</v></c>'
    return _text(ref, value, style)


def _row(number: int, values: Iterable, columns: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        [
            _cell(f"{letter}{number}", value, style)
            for (letter, style), value in zip(columns, values, strict=True)
        ]
    )
    return f'<row r="{number}">{cells}</row>'


def rows_insert(
    book: bytes,
    *,
    sheet: WriteOnlyWorksheet,
    rows: Sequence[Iterable],
    styles: Sequence[int | None],
) -> bytes:
    """The saved workbook `book` with `rows` added to `sheet`, below its header row.

    Each row gives its cells' Python values (str, int, float, bool or None; anything else
    is written as its text), one for each column; `styles` holds each column's style index
    from `style_index`, or None.
    """
    if not rows:
        return book
    part = sheet.path.lstrip("/")
    columns = [
        (get_column_letter(index), "" if style is None else f' s="{style}"')
        for index, style in enumerate(styles, start=1)
    ]
    last = f"{get_column_letter(max(len(columns), 1))}{len(rows) + 1}"
    source = zipfile.ZipFile(io.BytesIO(book))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as target:
        for item in source.infolist():
            if item.filename != part:  # as openpyxl compressed it
                target.writestr(item, source.read(item))
                continue
            head, end, tail = source.read(item).decode().partition("</sheetData>")
            if not end:
                raise ValueError(f"{part} has no rows to add to")
            # The used range, which openpyxl leaves out in write-only mode (it is optional).
            head = head.replace("</sheetPr>", f'</sheetPr><dimension ref="A1:{last}" />', 1)
            with target.open(part, "w") as stream:
                stream.write(head.encode())
                for start in range(0, len(rows), CHUNK_ROWS):
                    chunk = rows[start : start + CHUNK_ROWS]
                    text = "".join(
                        [
                            _row(number, values, columns)
                            for number, values in enumerate(chunk, start + 2)
                        ]
                    )
                    stream.write(text.encode())
                stream.write((end + tail).encode())
    return output.getvalue()
