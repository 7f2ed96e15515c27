"""lib.tables on its own; the customer value import (tests/customers/test_reading.py,
test_import_limits.py) and the CRM import (tests/chain/test_import*.py) test it through
their files."""

import io

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
from django.utils import translation

from lib import tables
from lib.tables import (
    ErrorLog,
    Limits,
    RowError,
    Text,
    column_letter,
    message_text,
    messages_register,
    normalise,
    read_table,
)

LIMITS = Limits(rows=100, columns=10, cells=1000, unpacked_bytes=1 << 20)


def read(source, filename: str, limits: Limits = LIMITS):
    log = ErrorLog()
    return read_table(source, filename=filename, log=log, limits=limits), log.finish(50)


def test_a_german_csv_becomes_a_table_with_excel_row_numbers():
    data = "Kunde;Umsatz\n\nK1;1.234,50\r\nMüller;7\n".encode("cp1252")
    table, errors = read(data, "export.CSV")

    assert errors == []
    assert table.header == ["Kunde", "Umsatz"]
    assert table.cells.values.tolist() == [["K1", "1.234,50"], ["Müller", "7"]]
    assert table.rownum.tolist() == [3, 4]  # the blank row 2 keeps its number
    assert table.default_decimal == ","


def test_an_uploaded_file_is_read_from_its_start(tmp_path):
    upload = io.BytesIO(b"a,b\n1,2\n")
    upload.read()  # a size check read it before
    table, _errors = read(upload, "x.csv")
    assert table.cells.values.tolist() == [["1", "2"]]
    path = tmp_path / "y.txt"
    path.write_bytes(b"a\tb\n1\t2\n")
    assert read(path, "y.txt")[0].cells.values.tolist() == [["1", "2"]]


def test_an_xlsx_keeps_numbers_apart_and_is_bounded():
    book = openpyxl.Workbook()
    for row in (["Kunde", "Umsatz"], ["K1", 12.5], ["K2", "7"]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)

    table, errors = read(buffer.getvalue(), "values.xlsx")
    assert errors == []
    assert table.cells.values.tolist() == [["K1", "12.5"], ["K2", "7"]]
    assert table.numbers[1].tolist()[0] == 12.5
    assert table.default_decimal == "."

    narrow = Limits(rows=100, columns=1, cells=1000, unpacked_bytes=1 << 20)
    table, errors = read(buffer.getvalue(), "values.xlsx", narrow)
    assert table is None
    assert [(e.row, e.code, e.params) for e in errors] == [
        (None, "sheet_too_wide", {"columns": 2, "max": 1})
    ]


def test_file_errors_are_codes_put_into_words_with_grouped_counts():
    table, errors = read(b"", "notes.pdf")
    assert table is None
    assert errors == [RowError(None, "", "file_type", {"extension": ".pdf"})]

    error = RowError(None, "", "sheet_more_rows", {"max": 1048576})
    with translation.override("en"):
        assert error.message.startswith("The sheet has more than 1,048,576 rows")
    with translation.override("de"):
        assert "1.048.576" in error.message
    assert RowError.from_json(error.to_json()) == error
    assert message_text("unheard_of", {"x": 1}) == "unheard_of {'x': 1}"


def test_an_app_registers_its_own_codes_but_cannot_take_one(monkeypatch):
    monkeypatch.setattr(tables, "MESSAGES", dict(tables.MESSAGES))
    own = Text("Row %(row)s is odd.")
    messages_register({"test_tables_odd": own})
    assert RowError(2, "", "test_tables_odd", {"row": 2}).message == "Row 2 is odd."
    with pytest.raises(ValueError, match="empty"):
        messages_register({"empty": Text("Nothing.")})


def test_headings_compare_alike_and_columns_have_excel_letters():
    assert normalise("Kunden-Nr.") == normalise("kunden nr") == "kunden nr"
    assert normalise("\ufeffErlös (EUR)") == normalise("erloes") == "erloes"
    assert [column_letter(p) for p in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


@pytest.mark.parametrize("space", [" ", "\t", "\u00a0", "\u2003", "\u3000", "\u1680", "\x1f"])
def test_a_plain_csv_strips_every_kind_of_white_space(space):
    # Plain files (pyarrow's path) strip only the blocks whose bytes may hold white
    # space; quoted ones (the pandas path) strip every cell: both alike.
    text = f"id,name\nA1,{space}Müller{space}\n{space}B2,Meier\n"
    plain, errors = read(text.encode(), "plain.csv")
    quoted, _ = read(text.replace("Meier", '"Meier"').encode(), "quoted.csv")

    assert errors == []
    assert plain.cells.values.tolist() == [["A1", "Müller"], ["B2", "Meier"]]
    assert quoted.cells.values.tolist() == plain.cells.values.tolist()


def test_only_the_blocks_with_white_space_are_stripped():
    column = pa.chunked_array([["a", "b"], [" c", "d "], ["e", "f"]], type=pa.large_string())
    stripped = tables._stripped(column)

    assert stripped.to_pylist() == ["a", "b", "c", "d", "e", "f"]
    assert [tables._may_have_space(chunk) for chunk in column.chunks] == [False, True, False]
    # A slice looks only at its own cells.
    cells = pa.array(["x", " y", "z"], type=pa.large_string())
    assert [tables._may_have_space(cells.slice(i, 1)) for i in range(3)] == [False, True, False]


def test_holds_bytes_looks_at_the_utf8_of_every_cell():
    wanted = np.zeros(256, dtype=bool)
    wanted[0xC2] = True  # the lead byte of U+0080-U+00BF
    cells = pd.Series(["abc", "Müller", "x\u00a0y"], dtype="str")

    assert tables.holds_bytes(cells, wanted)
    assert not tables.holds_bytes(cells.iloc[:2], wanted)
    assert tables.holds_bytes(pd.Series([1, "a"], dtype=object), wanted)  # not text: maybe
