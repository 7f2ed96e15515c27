"""customers.reading.read_history against real files in tests/customers/files/.

Rows are numbered as Excel shows them: the header is row 1, the first data row row 2.
"""

import datetime as dt
import io
import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from customers.reading import (
    COLUMN_SYNONYMS,
    HISTORY_COLUMNS,
    LAYOUT_FIELDS,
    TRANSACTION_COLUMNS,
    RowError,
    read_history,
)
from lib.tables import normalise

FILES = Path(__file__).parent / "files"


def read(name: str, **kwargs):
    return read_history(FILES / name, filename=name, **kwargs)


def read_text(tmp_path, text: str, name: str = "upload.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return read_history(path, filename=name)


def errors_of(result) -> list[tuple[int | None, str, str]]:
    return [(e.row, e.column, e.message) for e in result.errors]


def months(*values: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(value) for value in values]


# --- good files -------------------------------------------------------------------------


def test_it_reads_a_german_excel_csv():
    result = read("de_period.csv")

    assert result.errors == []
    assert result.kind == "period"
    assert (result.rows, result.customers, result.periods) == (6, 3, 3)
    history = result.history
    assert tuple(history.columns) == HISTORY_COLUMNS
    assert history["customer_id"].tolist() == ["10001"] * 3 + ["10002"] * 2 + ["10003"]
    assert history["customer_name"].iloc[3] == "Bäckerei Schäfer & Söhne KG"
    assert history["customer_name"].iloc[5] == "Weiß Industriebedarf AG"
    assert history["period"].tolist() == months(
        "2024-01-01", "2024-02-01", "2024-03-01", "2024-01-01", "2024-02-01", "2024-03-01"
    )
    assert history["revenue"].tolist() == [12345.67, 9876.5, 15000.0, 1234.56, 980.0, 1250000.0]
    assert history["margin"].iloc[3] == -120.5
    assert math.isnan(history["margin"].iloc[4])
    assert result.transactions is None


def test_it_gives_the_documented_dtypes():
    history = read("de_period.csv").history

    assert history["period"].dtype == np.dtype("datetime64[ns]")
    assert history["revenue"].dtype == np.dtype("float64")
    assert history["margin"].dtype == np.dtype("float64")
    assert pd.api.types.is_string_dtype(history["customer_id"])
    assert pd.api.types.is_string_dtype(history["customer_name"])


def test_it_reads_an_english_csv_with_thousands_commas():
    result = read("en_period.csv")

    assert result.errors == []
    assert (result.kind, result.rows, result.customers, result.periods) == ("period", 5, 3, 2)
    history = result.history
    assert history["customer_name"].iloc[2] == "Smith, Jones & Co"
    assert pd.isna(history["customer_name"].iloc[4])
    assert history["revenue"].tolist() == [12345.67, 9876.5, 1250000.0, -250.0, 500.0]
    assert history["margin"].iloc[:4].tolist() == [3086.42, 2469.13, 187500.0, -80.5]


def test_it_reads_a_utf8_csv_with_bom_and_german_dates_as_periods():
    result = read("utf8_bom.csv")

    assert result.errors == []
    history = result.history
    assert history["customer_id"].tolist() == ["K-7", "K-7", "K-8"]
    assert history["customer_name"].iloc[0] == "Öztürk Gießerei GmbH"
    # 15.02.2024 is a day in February: the period is the first of its month.
    assert history["period"].tolist() == months("2024-01-01", "2024-02-01", "2024-02-01")
    assert history["revenue"].tolist() == [1000.5, 2000.25, 300.0]
    assert history["margin"].isna().all()


def test_it_sums_transactions_to_months():
    result = read("en_transactions.csv")

    assert result.errors == []
    assert result.kind == "transaction"
    assert (result.rows, result.customers, result.periods) == (6, 2, 3)
    expected = pd.DataFrame(
        {
            "customer_id": pd.Series(["C-001", "C-001", "C-002", "C-002"], dtype="str"),
            "customer_name": pd.Series([np.nan] * 4, dtype="str"),
            "period": pd.to_datetime(
                ["2024-01-01", "2024-02-01", "2024-01-01", "2024-03-01"]
            ).astype("datetime64[ns]"),
            "revenue": [350.5, 99.5, 1000.0, 300.0],
            # February's only transaction has no margin: no margin for that month.
            "margin": [100.25, np.nan, 200.0, 60.0],
        }
    )
    pd.testing.assert_frame_equal(result.history, expected)


def test_it_keeps_the_single_transactions():
    transactions = read("en_transactions.csv").transactions

    assert tuple(transactions.columns) == TRANSACTION_COLUMNS
    assert len(transactions) == 6
    assert transactions["date"].dtype == np.dtype("datetime64[ns]")
    assert transactions["date"].iloc[1] == pd.Timestamp("2024-01-20")
    assert transactions["amount"].sum() == pytest.approx(1750.0)


def test_it_reads_german_transactions_with_umsatz_as_amount():
    result = read("de_transactions.csv")

    assert result.errors == []
    assert result.kind == "transaction"
    history = result.history
    assert history["customer_id"].tolist() == ["4711", "4711", "4712"]
    assert history["customer_name"].tolist() == [
        "Schröder Möbelwerke",
        "Schröder Möbelwerke",
        "Köhler & Kühn OHG",
    ]
    assert history["period"].tolist() == months("2024-01-01", "2024-02-01", "2024-03-01")
    # 31.01. and 02.01. add up; "150,00-" is a credit note; "2.000,00 €" has a currency sign.
    assert history["revenue"].tolist() == [2000.0, -150.0, 2000.0]
    assert history["margin"].tolist() == [500.0, -37.5, 500.0]
    assert result.transactions["date"].iloc[0] == pd.Timestamp("2024-01-31")


def test_it_reads_an_xlsx_workbook():
    result = read("period.xlsx")

    assert result.errors == []
    assert (result.kind, result.rows, result.customers, result.periods) == ("period", 3, 2, 3)
    history = result.history
    # Customer numbers stored as numbers come back without ".0".
    assert history["customer_id"].tolist() == ["10001", "10001", "10002"]
    assert history["period"].tolist() == months("2024-01-01", "2024-02-01", "2024-03-01")
    # Real number cells as they are, and a number typed as German text.
    assert history["revenue"].tolist() == [12345.67, 9876.5, 1234.56]
    assert history["margin"].iloc[2] == -120.5
    assert math.isnan(history["margin"].iloc[1])


def test_it_reads_an_uploaded_file():
    content = (FILES / "de_period.csv").read_bytes()
    upload = SimpleUploadedFile("Umsätze 2024.csv", content, content_type="text/csv")
    upload.read(10)  # a size check may have read from it before

    result = read_history(upload, filename=upload.name)

    assert result.errors == []
    assert result.rows == 6


def test_each_column_name_means_one_field_per_layout():
    for fields in LAYOUT_FIELDS.values():
        names = [normalise(name) for f in fields for name in COLUMN_SYNONYMS[f]]
        assert len(names) == len(set(names))


def test_it_accepts_header_synonyms_case_and_units(tmp_path):
    result = read_text(
        tmp_path,
        " KUNDEN-NR. ;Customer Name;Month;Revenue (EUR);Contribution Margin\n1;A;2024-01;10;2\n",
    )

    assert result.errors == []
    assert result.history["revenue"].tolist() == [10.0]
    assert result.history["margin"].tolist() == [2.0]


def test_it_accepts_negative_revenue_and_margin(tmp_path):
    result = read_text(tmp_path, "Kunde;Monat;Umsatz;DB\n1;03/2024;-1.500,00;-300,5\n")

    assert result.errors == []
    assert result.history["revenue"].tolist() == [-1500.0]
    assert result.history["margin"].tolist() == [-300.5]


def test_it_skips_blank_rows_and_empty_trailing_columns(tmp_path):
    result = read_text(tmp_path, "Kunde;Monat;Umsatz;;\n1;2024-01;5;;\n;;;;\n\n2;2024-02;6;;\n")

    assert result.errors == []
    assert result.rows == 2
    assert result.history["customer_id"].tolist() == ["1", "2"]


def test_it_takes_the_decimal_convention_from_the_values(tmp_path):
    # Semicolons suggest a decimal comma, but these values only parse with a point.
    result = read_text(tmp_path, "customer;period;revenue\nC1;2024-01;12.5\nC1;2024-02;7.25\n")

    assert result.errors == []
    assert result.history["revenue"].tolist() == [12.5, 7.25]


def test_it_reads_utf16_with_bom_as_excel_unicode_text(tmp_path):
    result = read_text(tmp_path, "Kunde\tMonat\tUmsatz\r\n1\t2024-01\t12,5\r\n", encoding="utf-16")

    assert result.errors == []
    assert result.history["revenue"].tolist() == [12.5]


# --- broken files -------------------------------------------------------------------------


def test_it_reports_a_missing_column():
    result = read("missing_column.csv")

    assert result.history is None
    [error] = result.errors
    assert (error.row, error.column) == (1, "")
    assert error.message.startswith("Required columns are missing: revenue (sales, ")
    assert 'Columns found: "Kundennummer", "Monat", "Deckungsbeitrag".' in error.message


def test_it_reports_bad_numbers_with_row_column_and_value():
    result = read("bad_number.csv")

    assert result.history is None
    assert result.rows == 3
    assert errors_of(result) == [
        (3, "Umsatz", 'Not a number: "zwölf" (expected for example 1.234,56).'),
        (4, "Deckungsbeitrag", 'Not a number: "2,50,0" (expected for example 1.234,56).'),
    ]


def test_it_reports_bad_and_empty_periods():
    result = read("bad_date.csv")

    assert result.history is None
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "period"),
        (4, "period"),
        (5, "period"),
    ]
    assert result.errors[0].message.startswith('Not a valid month: "2024-13"')
    assert result.errors[1].message.startswith('Not a valid month: "March 2024"')
    assert result.errors[2].message == "This value is empty, but the column is required."


def test_it_reports_bad_transaction_dates(tmp_path):
    result = read_text(tmp_path, "Kunde;Datum;Betrag\n1;31.02.2024;5\n2;2024-01-31;6\n")

    assert errors_of(result) == [
        (
            2,
            "Datum",
            'Not a valid date: "31.02.2024" (expected for example 2024-01-31 or 31.01.2024).',
        ),
    ]


def test_it_reports_dates_outside_plausible_years(tmp_path):
    result = read_text(tmp_path, "customer,period,revenue\nC1,2204-03,5\n")

    assert errors_of(result) == [
        (2, "period", 'The date "2204-03" is outside the years 1900 to 2100.'),
    ]


def test_it_reports_a_duplicate_row_naming_both_rows():
    result = read("duplicate_row.csv")

    assert result.history is None
    # Rows 2 and 4 write the month differently but mean the same one.
    assert errors_of(result) == [
        (4, "Monat", 'Customer "10001" appears twice for 2024-01: rows 2 and 4.'),
    ]


def test_it_allows_several_transactions_per_day(tmp_path):
    result = read_text(tmp_path, "customer,date,amount\nC1,2024-01-05,5\nC1,2024-01-05,6\n")

    assert result.errors == []
    assert result.history["revenue"].tolist() == [11.0]


def test_it_reports_an_empty_file():
    result = read("empty.csv")

    assert result.history is None
    assert errors_of(result) == [(None, "", "The file empty.csv is empty.")]


def test_it_reports_a_header_without_data():
    result = read("header_only.csv")

    assert result.history is None
    assert result.rows == 0
    assert errors_of(result) == [
        (None, "", "The file header_only.csv has a header row but no data rows."),
    ]


def test_it_reports_utf16_without_bom_as_wrong_encoding():
    result = read("wrong_encoding.csv")

    assert result.history is None
    [error] = result.errors
    assert (error.row, error.column) == (None, "")
    assert error.message.startswith("The file wrong_encoding.csv has the wrong encoding")


def test_it_reports_bytes_that_are_neither_utf8_nor_cp1252(tmp_path):
    path = tmp_path / "garbage.csv"
    # 0x81 and 0x8D are undefined in cp1252 and not valid UTF-8 on their own.
    path.write_bytes(b"Kunde;Monat;Umsatz\n\x81\x8d;2024-01;5\n")

    result = read_history(path, filename="garbage.csv")

    assert len(result.errors) == 1
    assert "garbage.csv has the wrong encoding" in result.errors[0].message


def test_it_reports_an_unknown_column_and_lists_the_accepted_names():
    result = read("unknown_column.csv")

    assert result.history is None
    unknown, missing = result.errors
    assert (unknown.row, unknown.column) == (1, "Umstaz")
    assert unknown.message.startswith('Unknown column "Umstaz". Accepted columns: customer_id (')
    assert "revenue (sales, turnover, umsatz," in unknown.message
    assert (missing.row, missing.column) == (1, "")
    assert missing.message.startswith("Required columns are missing: revenue")


def test_it_reports_a_file_without_period_or_date_column(tmp_path):
    result = read_text(tmp_path, "Kunde;Artikel;Umsatz\n1;x;5\n")

    assert result.kind is None
    [error] = result.errors
    assert error.row == 1
    assert error.message.startswith("The file needs a period column")
    assert 'Columns found: "Kunde", "Artikel", "Umsatz".' in error.message


def test_it_reports_both_a_period_and_a_date_column(tmp_path):
    result = read_text(tmp_path, "Kunde;Monat;Datum;Umsatz\n1;2024-01;2024-01-01;5\n")

    [error] = result.errors
    assert error.message.startswith(
        'The file has both a period column ("Monat") and a date column ("Datum").'
    )


def test_it_reports_two_columns_with_the_same_meaning(tmp_path):
    result = read_text(tmp_path, "Kunde;Kundennummer;Monat;Umsatz\n1;1;2024-01;5\n")

    assert errors_of(result) == [
        (
            1,
            "Kundennummer",
            'The columns "Kunde" and "Kundennummer" both mean customer_id. Keep one.',
        ),
    ]


def test_it_reports_values_in_a_column_without_heading(tmp_path):
    result = read_text(tmp_path, "Kunde;Monat;Umsatz;\n1;2024-01;5;\n2;2024-01;6;oops\n")

    assert errors_of(result) == [(1, "", "Column D has values but no heading.")]


def test_it_reports_rows_with_too_many_values_and_keeps_counting_rows(tmp_path):
    result = read_text(tmp_path, "customer;period;revenue\nC1;2024-01;5;7\n\nC2;2024-01;x\n")

    assert errors_of(result) == [
        (2, "", "The row has 4 values, but the header has 3 columns."),
        (4, "revenue", 'Not a number: "x" (expected for example 1.234,56).'),
    ]


def test_it_reports_empty_customer_ids(tmp_path):
    result = read_text(tmp_path, "Kundennummer;Monat;Umsatz\n;2024-01;5\n 7 ;2024-01;6\n")

    assert errors_of(result) == [
        (2, "Kundennummer", "This value is empty, but the column is required."),
    ]


def test_it_lists_all_errors_of_a_row_left_to_right(tmp_path):
    result = read_text(tmp_path, "customer,period,revenue\nC1,2024-99,abc\n,2024-01,1\n")

    assert [(e.row, e.column) for e in result.errors] == [
        (2, "period"),
        (2, "revenue"),
        (3, "customer"),
    ]


def test_it_lists_up_to_max_errors_and_counts_the_rest(tmp_path):
    lines = ["customer,period,revenue"] + [f"C{i},2024-01,bad{i}" for i in range(200)]

    result = read_text(tmp_path, "\n".join(lines) + "\n")

    assert len(result.errors) == 50 and result.error_count == 200
    assert result.errors[0] == RowError(
        2, "revenue", "bad_number", {"value": "bad0", "example": "1,234.56"}
    )
    assert result.errors[0].message == 'Not a number: "bad0" (expected for example 1,234.56).'
    assert result.errors[49].row == 51


def test_it_honours_a_smaller_error_limit(tmp_path):
    path = tmp_path / "values.csv"
    path.write_text("customer,period,revenue\nC1,x,y\nC2,x,y\n")

    result = read_history(path, filename="values.csv", max_errors=3)

    assert [e.row for e in result.errors] == [2, 2, 3]
    assert result.error_count == 4


def test_it_reports_xlsx_errors_with_sheet_row_numbers(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Kunde", "Monat", "Umsatz"])
    sheet.append([1, dt.datetime(2024, 1, 1), 10])
    sheet.append([])
    sheet.append([2, "Januar", "viel"])
    workbook.save(tmp_path / "values.xlsx")

    result = read_history(tmp_path / "values.xlsx", filename="values.xlsx")

    assert [(e.row, e.column) for e in result.errors] == [(4, "Monat"), (4, "Umsatz")]
    assert result.errors[1].message == 'Not a number: "viel" (expected for example 1,234.56).'


def test_it_reports_a_file_that_is_not_a_workbook():
    result = read("not_a_workbook.xlsx")

    assert result.history is None
    [error] = result.errors
    assert error.row is None
    assert error.message.startswith(
        "The file not_a_workbook.xlsx is not a valid Excel workbook (.xlsx)."
    )


def test_it_reports_a_workbook_saved_as_csv():
    content = (FILES / "period.xlsx").read_bytes()

    result = read_history(io.BytesIO(content), filename="period.csv")

    assert result.errors[0].message.startswith(
        "The file period.csv is an Excel workbook, not a CSV file."
    )


def test_it_rejects_other_file_types():
    result = read_history(io.BytesIO(b"x"), filename="values.xls")

    assert errors_of(result) == [
        (
            None,
            "",
            "The file type .xls is not supported. Upload a CSV file (.csv, .txt) or an "
            "Excel workbook (.xlsx).",
        ),
    ]


def test_it_translates_messages():
    with translation.override("de"):
        result = read("bad_number.csv")

    message = result.errors[0].message
    assert isinstance(message, str)
    assert message
    # The German wording is checked once the lead has run makemessages and translated
    # the new strings; until then gettext falls back to the English msgid.


# --- the fast paths give what the careful ones give ---------------------------------------
# A plain UTF-8 file (no quotes, no blank lines) is split by pyarrow and its numbers are
# cast by pyarrow; repeated ids and months are parsed once. None of that may accept more,
# or report differently, than the pandas path that quoted or irregular files take.


def test_a_decimal_comma_file_rejects_a_decimal_point(tmp_path):
    result = read_text(tmp_path, "Kunde;Monat;Umsatz\n1;2024-01;1.234,56\n1;2024-02;12.34\n")

    assert errors_of(result) == [
        (3, "Umsatz", 'Not a number: "12.34" (expected for example 1.234,56).'),
    ]


def test_a_decimal_point_file_rejects_commas_out_of_groups_of_three(tmp_path):
    result = read_text(
        tmp_path, 'customer,period,revenue\nC1,2024-01,"1,2,3"\nC1,2024-02,"1,234"\n'
    )

    assert errors_of(result) == [
        (2, "revenue", 'Not a number: "1,2,3" (expected for example 1,234.56).'),
    ]


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "NaN", "5.", "-", "e5", "0x10", "1_0"])
def test_a_plain_file_rejects_what_is_no_plain_number(tmp_path, value):
    result = read_text(tmp_path, f"customer,period,revenue\nC1,2024-01,1.5\nC1,2024-02,{value}\n")

    assert errors_of(result) == [
        (3, "revenue", f'Not a number: "{value}" (expected for example 1,234.56).'),
    ]


def test_a_plain_file_reads_signs_exponents_and_leading_points(tmp_path):
    values = ["+5", ".5", "-1.25", "1e3", "2.5E-2", "0012", " 7 "]
    text = "customer,period,revenue\n" + "".join(
        f"C1,2024-{month:02d},{value}\n" for month, value in enumerate(values, start=1)
    )
    result = read_text(tmp_path, text)

    assert result.errors == []
    assert result.history["revenue"].tolist() == [5.0, 0.5, -1.25, 1000.0, 0.025, 12.0, 7.0]


def test_minus_zero_is_read_as_before(tmp_path):
    # pandas reads a whole-number "-0" as 0 and "-0.00" as -0.0; output shows the sign.
    result = read_text(tmp_path, "customer,period,revenue,margin\nC1,2024-01,-0,-0.00\n")

    assert result.errors == []
    assert not np.signbit(result.history["revenue"].iloc[0])
    assert np.signbit(result.history["margin"].iloc[0])


@pytest.mark.parametrize(
    "variant",
    [
        lambda text: text,
        lambda text: text.replace("\n", "\r\n"),
        lambda text: text.replace("C1,", '"C1",'),  # quotes: the pandas path
        lambda text: text + "\n",  # a trailing blank line: the pandas path
    ],
)
def test_plain_and_irregular_files_read_alike(tmp_path, variant):
    text = (
        "customer,period,revenue,margin\nC1,2024-01,1,234.5\nC1,2024-02, 2.5 ,\nC2,01.2024,3,-1\n"
    )
    result = read_text(tmp_path, variant(text))

    assert result.errors == []
    assert (result.rows, result.customers, result.periods) == (3, 2, 2)
    assert result.history["customer_id"].tolist() == ["C1", "C1", "C2"]
    assert result.history["period"].tolist() == months("2024-01-01", "2024-02-01", "2024-01-01")
    assert result.history["revenue"].tolist() == [1.0, 2.5, 3.0]
    assert result.history["margin"].tolist()[0] == 234.5
    assert math.isnan(result.history["margin"].iloc[1])


def test_a_plain_file_with_a_short_row_reports_the_missing_value(tmp_path):
    result = read_text(
        tmp_path, "customer,period,revenue\nC1,2024-01,5\nC1,2024-02\nC2,2024-01,x\n"
    )

    assert errors_of(result) == [
        (3, "revenue", "This value is empty, but the column is required."),
        (4, "revenue", 'Not a number: "x" (expected for example 1,234.56).'),
    ]


def test_it_reads_a_file_with_old_mac_line_ends(tmp_path):
    result = read_text(tmp_path, "customer,period,revenue\rC1,2024-01,5\rC2,2024-01,6\r")

    assert result.errors == []
    assert result.history["revenue"].tolist() == [5.0, 6.0]


def test_it_reports_each_repeat_with_the_first_row_of_its_month(tmp_path):
    text = (
        "customer,period,revenue\n"
        "C1,2024-01,1\nC2,2024-01,1\nC1,01.2024,2\nC2,2024-02,1\nC1,2024-01-20,3\nC2,02.2024,4\n"
    )
    result = read_text(tmp_path, text)

    assert errors_of(result) == [
        (4, "period", 'Customer "C1" appears twice for 2024-01: rows 2 and 4.'),
        (6, "period", 'Customer "C1" appears twice for 2024-01: rows 2 and 6.'),
        (7, "period", 'Customer "C2" appears twice for 2024-02: rows 5 and 7.'),
    ]


def test_it_reports_a_bad_month_in_every_row_that_has_it(tmp_path):
    text = "customer,period,revenue\nC1,2024-13,1\nC2,2024-01,1\nC3,2024-13,1\n"
    result = read_text(tmp_path, text)

    assert [(e.row, e.column) for e in result.errors] == [(2, "period"), (4, "period")]


@pytest.mark.parametrize("decimal", [".", ","])
def test_plain_numbers_are_exactly_the_simple_cells_the_pattern_takes(decimal):
    # The numbers of most files are found without the pattern: what is found as plain
    # must be a number to the pattern, and all simple numbers must be found.
    from customers.reading import _NUMBER_PATTERNS, _plain_numbers

    rng = np.random.default_rng(5)
    alphabet = [*"0123456789", ".", ",", "+", "-", "e", " ", "x", "ä", "\u00a0"]
    cells = ["".join(rng.choice(alphabet, size=rng.integers(0, 7))) for _ in range(20_000)]
    cells += ["1", "-1", "+1", "1.5", "1,5", "1.", ".5", "-", "1.2.3", "1,,2", "007", ""]
    text = pd.Series(["header", *cells], dtype="str").iloc[1:]  # a slice, as after a header
    simple = re.compile(rf"[+-]?[0-9]+(?:{re.escape(decimal)}[0-9]+)?")
    pattern = re.compile(_NUMBER_PATTERNS[decimal])

    plain = _plain_numbers(text, decimal)

    assert plain.tolist() == [bool(simple.fullmatch(cell)) for cell in cells]
    assert all(
        pattern.fullmatch(cell) for cell, is_plain in zip(cells, plain, strict=True) if is_plain
    )
    assert plain.sum() > 1000
    assert _plain_numbers(text.astype(object), decimal).tolist() == plain.tolist()


def test_a_plain_file_strips_c1_control_characters_from_ids(tmp_path):
    # Ids are only matched against the control characters when their bytes may hold one;
    # U+0080-U+009F hide behind the lead byte C2 of their UTF-8.
    text = "customer,period,revenue\nK\u009b1,2024-01,1\nK\x012,2024-01,2\nKö3,2024-01,3\n"
    result = read_text(tmp_path, text)

    assert result.errors == []
    assert result.history["customer_id"].tolist() == ["K1", "K2", "Kö3"]


def test_lengths_count_characters_not_bytes(tmp_path):
    # 64 characters fit a customer number (128 bytes of UTF-8), 65 do not.
    text = f"customer,period,revenue\n{'ü' * 64},2024-01,1\n{'ü' * 65},2024-01,2\n"
    result = read_text(tmp_path, text)

    assert [(e.row, e.column, e.code) for e in result.errors] == [(3, "customer", "too_long")]
