"""Rows added as text to a sheet of a workbook that openpyxl saved (customers/xlsx.py)."""

import io

import openpyxl
from openpyxl import Workbook

from customers import xlsx

HEADER = ["text", "number", "share"]


def _book(rows: list[list]) -> openpyxl.Workbook:
    """A write-only workbook like the export's: a header row, a styled column, a 2nd sheet."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    styles = [None, xlsx.style_index(sheet, "#,##0.00"), xlsx.style_index(sheet, "0.0%")]
    sheet.append(HEADER)
    book.create_sheet("other").append(["stays"])
    buffer = io.BytesIO()
    book.save(buffer)
    content = xlsx.rows_insert(buffer.getvalue(), sheet=sheet, rows=rows, styles=styles)
    return openpyxl.load_workbook(io.BytesIO(content))


def test_it_adds_the_rows_below_the_header():
    book = _book([["a", 1.5, 0.25], ["b", 2, 0.5]])

    sheet = book["data"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        HEADER,
        ["a", 1.5, 0.25],
        ["b", 2, 0.5],
    ]
    assert book["other"]["A1"].value == "stays"
    assert book.sheetnames == ["data", "other"]


def test_numbers_keep_their_column_format_also_when_empty():
    sheet = _book([["a", 1234.5, 0.125], ["b", None, float("nan")]])["data"]

    assert sheet["B2"].number_format == "#,##0.00" and sheet["B2"].data_type == "n"
    assert sheet["C2"].number_format == "0.0%"
    assert sheet["B3"].value is None and sheet["B3"].number_format == "#,##0.00"
    assert sheet["C3"].value is None and sheet["C3"].number_format == "0.0%"
    assert sheet["A2"].number_format == "General"


def test_values_are_written_as_openpyxl_writes_them():
    sheet = _book(
        [
            [True, 0.1 + 0.2, 3],
            [False, float("inf"), 10**20],
            [[1.5, 2.0], float("-inf"), -0.0],
        ]
    )["data"]

    assert sheet["A2"].value is True and sheet["A3"].value is False
    assert sheet["B2"].value == 0.3  # 16 significant digits, as openpyxl's "%.16g"
    assert sheet["C2"].value == 3
    assert sheet["B3"].value == "inf" and sheet["B4"].value == "-inf"  # pandas' spelling
    assert sheet["C3"].value == 10**20
    assert sheet["A4"].value == "[1.5, 2.0]"


def test_text_stays_text():
    sheet = _book(
        [
            ["=SUM(B1:B9)", 1, 1],
            ["Müller & <Söhne>", 1, 1],
            ["  spaced  ", 1, 1],
            ["bell\x07 ring", 1, 1],
            ["", 1, 1],
        ]
    )["data"]

    assert sheet["A2"].value == "=SUM(B1:B9)" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "Müller & <Söhne>"
    assert sheet["A4"].value == "  spaced  "
    assert sheet["A5"].value == "bell ring"  # control characters are not allowed in XML
    assert sheet["A6"].value is None


def test_it_states_the_used_range():
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(HEADER)
    buffer = io.BytesIO()
    book.save(buffer)
    rows = [["x", n, n / 10] for n in range(5000)]  # more than one chunk

    content = xlsx.rows_insert(buffer.getvalue(), sheet=sheet, rows=rows, styles=[None] * 3)

    read = openpyxl.load_workbook(io.BytesIO(content), read_only=True)["data"]
    assert read.calculate_dimension() == "A1:C5001"
    assert list(read.iter_rows(min_row=5001, values_only=True)) == [("x", 4999, 499.9)]


def test_without_rows_the_workbook_stays_as_saved():
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(HEADER)
    buffer = io.BytesIO()
    book.save(buffer)

    assert xlsx.rows_insert(buffer.getvalue(), sheet=sheet, rows=[], styles=[None] * 3) == (
        buffer.getvalue()
    )
