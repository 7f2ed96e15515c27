"""The XLSX export: the assessments sheet, and the portfolio sheet with sums and chart."""

import datetime
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from PIL import Image as PillowImage

from customers.export_chart import log_threshold, portfolio_png
from customers.models import AnalysisRun, Assessment, Customer
from customers.selectors import assessment_list
from customers.views import XLSX_OPTIONS, _assessments_sheet
from lib.value_types import ValueType

URL = "/customers/export.xlsx"
CSV_URL = "/customers/export.csv"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _workbook(client, **headers) -> openpyxl.Workbook:
    response = client.get(URL, **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return openpyxl.load_workbook(io.BytesIO(response.content))


def _blocks(sheet) -> dict[str, dict[str, tuple]]:
    """Per value basis (its title row), label -> (customers, current, future), from its
    table: the title, a header row, one row per type and the total."""
    blocks: dict[str, dict[str, tuple]] = {}
    rows = list(sheet.iter_rows(min_row=3, max_col=4, values_only=True))
    for index, (title, *rest) in enumerate(rows):
        if title and all(v is None for v in rest) and index + 1 < len(rows):
            block = blocks.setdefault(title, {})
            for label, n, current, future in rows[index + 2 :]:
                block[label] = (n, current, future)
                if label == "Total" or label == "Summe":
                    break
    return blocks


def _summary_rows(sheet) -> dict[str, tuple]:
    """Label -> (customers, current, future), from the first basis's table."""
    return next(iter(_blocks(sheet).values()))


@pytest.mark.django_db
def test_it_keeps_the_assessments_sheet_first(client_manager, analysed):
    book = _workbook(client_manager)

    assert book.sheetnames == ["Assessments", "Portfolio"]
    sheet = book["Assessments"]
    assert book.active.title == "Assessments"
    assert [cell.value for cell in sheet[1]][:6] == [
        "Customer number",
        "Customer name",
        "Value type",
        "Value basis",
        "Current value",
        "Future value",
    ]
    assert sheet.max_row == Assessment.objects.filter(run=analysed).count() + 1


@pytest.mark.django_db
def test_the_cells_are_numbers_with_number_formats(client_manager, analysed):
    sheet = _workbook(client_manager)["Assessments"]
    header = [cell.value for cell in sheet[1]]
    first = Assessment.objects.filter(run=analysed).order_by("customer__number").first()

    cells = dict(zip(header, sheet[2], strict=True))
    assert cells["Customer number"].value == first.customer.number
    assert cells["Customer name"].value == first.customer.name
    assert cells["Value type"].value == first.get_value_type_display().capitalize()
    assert cells["Current value"].value == round(first.current_value, 2)
    assert cells["Future value"].value == round(first.future_value, 2)
    assert cells["Hidden pearl"].value == ("yes" if first.hidden_pearl else "no")
    for column in ("Current value", "Future value", "Mean value per period"):
        assert cells[column].number_format == "#,##0.00"
    assert cells["Periods since first business"].value == first.figures["periods"]
    assert cells["Periods since first business"].number_format == "#,##0"
    share = cells["Share of periods with business"]
    assert share.value == pytest.approx(first.figures["active_share"])
    assert share.number_format == "0.0%"
    assert cells["How well a straight trend fits (R²)"].number_format == "0.00"
    assert cells["How the forecast was made"].number_format == "General"
    assert cells["Forecast per period"].value == str(first.figures["forecast_path"])
    # A figure that a customer lacks is an empty cell that keeps the column's format.
    empty = [
        cell
        for column in sheet.iter_cols(min_row=2)
        for cell in column
        if cell.value is None and cell.number_format != "General"
    ]
    assert empty, "the synthetic customers lack some figures"


@pytest.mark.django_db
def test_the_assessments_sheet_holds_what_the_csv_export_holds(client_manager, analysed):
    sheet = pd.read_excel(io.BytesIO(client_manager.get(URL).content), sheet_name="Assessments")
    table = pd.read_csv(io.BytesIO(client_manager.get(CSV_URL).content))

    assert len(sheet) == Assessment.objects.filter(run=analysed).count()
    # The CSV has every float's shortest form, the sheet 16 significant digits.
    pd.testing.assert_frame_equal(sheet, table, check_exact=False, rtol=1e-15)


@pytest.mark.django_db
def test_names_stay_text(client_manager, analysed):
    customer = Customer.objects.get(assessments__run=analysed, number="C0000001")
    customer.name = '=HYPERLINK("http://example.com") & Co'
    customer.save()

    cell = _workbook(client_manager)["Assessments"]["B2"]

    assert cell.value == customer.name and cell.data_type == "s"


def _sheet_of(records: list[dict], columns: list[str]):
    """The assessments sheet that the export writes for these records, read back."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, XLSX_OPTIONS)
    _assessments_sheet(book, book.add_worksheet("assessments"), columns, records)
    book.close()
    return openpyxl.load_workbook(buffer)["assessments"]


def test_values_are_written_as_before():
    columns = ["customer_name", "current_value", "active_share", "forecast_path"]
    records = [
        {"customer_name": "a", "current_value": float("inf"), "active_share": float("nan")},
        {"customer_name": "b", "current_value": float("-inf"), "active_share": 0.1 + 0.2},
        {"customer_name": "c", "current_value": 10**20, "forecast_path": [1.5, 2.0]},
        {"customer_name": "d", "current_value": 3, "active_share": True},
    ]

    sheet = _sheet_of(records, columns)

    assert sheet["B2"].value == "inf" and sheet["B3"].value == "-inf"  # pandas' spelling
    assert sheet["B2"].number_format == "#,##0.00"
    # NaN and a missing figure are empty cells that keep the column's number format.
    assert sheet["C2"].value is None and sheet["C2"].number_format == "0.0%"
    assert sheet["C4"].value is None and sheet["C4"].number_format == "0.0%"
    assert sheet["C3"].value == 0.3 and sheet["C3"].data_type == "n"
    assert sheet["B4"].value == 10**20 and sheet["B5"].value == 3
    assert sheet["C5"].value is True
    assert sheet["D4"].value == "[1.5, 2.0]"
    assert sheet["A1"].number_format == sheet["B1"].number_format == "General"


def test_text_stays_text():
    names = [
        "=SUM(B1:B9)",
        "http://example.com",
        "Müller & <Söhne>",
        "  spaced  ",
        "bell\x07 ring",
        "",
    ]

    sheet = _sheet_of([{"customer_name": name} for name in names], ["customer_name"])

    assert sheet["A2"].value == "=SUM(B1:B9)" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "http://example.com" and not sheet["A3"].hyperlink
    assert sheet["A4"].value == "Müller & <Söhne>"
    assert sheet["A5"].value == "  spaced  "
    assert sheet["A6"].value == "bell ring"  # control characters are dropped
    assert sheet["A7"].value is None


@pytest.mark.django_db
def test_it_embeds_the_portfolio_chart_as_png(client_manager, analysed):
    sheet = _workbook(client_manager)["Portfolio"]

    assert len(sheet._images) == 1
    data = sheet._images[0]._data()
    assert data.startswith(PNG_SIGNATURE)
    picture = PillowImage.open(io.BytesIO(data))
    assert picture.format == "PNG"
    assert picture.size == (990, 660)
    # Below the summary table: anchored in column A, under the total row.
    anchor = sheet._images[0].anchor._from
    assert anchor.col == 0 and anchor.row + 1 > 5 + len(ValueType.choices)


@pytest.mark.django_db
def test_the_sums_per_type_match_the_database(client_manager, analysed):
    sheet = _workbook(client_manager)["Portfolio"]

    assert sheet["A1"].value == f"Analysis as of {analysed.as_of:%B %Y}"
    assert sheet["A3"].value == "Valued by contribution margin"
    assert [cell.value for cell in sheet[4]] == [
        "Value type",
        "Customers",
        "Current value",
        "Future value",
    ]
    # Margin and revenue apart: one table per basis, never added up.
    blocks = _blocks(sheet)
    titles = {
        "margin": "Valued by contribution margin",
        "revenue": "Valued by revenue (no margin data)",
    }
    assert list(blocks) == list(titles.values())
    for basis, title in titles.items():
        rows = blocks[title]
        assessments = assessment_list(analysed).filter(value_basis=basis).order_by()
        expected = {
            row["value_type"]: row
            for row in assessments.values("value_type").annotate(
                n=Count("pk"), current=Sum("current_value"), future=Sum("future_value")
            )
        }
        for code, label in ValueType.choices:
            n, current, future = rows[str(label).capitalize()]
            db = expected.get(code, {"n": 0, "current": 0.0, "future": 0.0})
            assert n == db["n"]
            assert current == pytest.approx(db["current"])
            assert future == pytest.approx(db["future"])
        total = assessments.aggregate(
            n=Count("pk"), current=Sum("current_value"), future=Sum("future_value")
        )
        assert rows["Total"] == (
            total["n"],
            pytest.approx(total["current"]),
            pytest.approx(total["future"]),
        )
    assert sheet["C5"].number_format == "#,##0.00"
    assert sheet["B5"].number_format == "#,##0"


@pytest.mark.django_db
def test_the_portfolio_table_keeps_its_look(client_manager, analysed):
    sheet = _workbook(client_manager)["Portfolio"]
    total = 5 + len(ValueType.choices)

    assert sheet["A1"].font.b and sheet["A1"].font.sz == 13
    assert sheet["A3"].font.b
    assert all(cell.font.b for cell in (*sheet[4], *sheet[total]))
    assert not any(cell.font.b for cell in sheet[5])
    assert sheet.cell(total, 1).value == "Total"
    assert [sheet.cell(total, column).number_format for column in (2, 3, 4)] == [
        "#,##0",
        "#,##0.00",
        "#,##0.00",
    ]
    # Stored as Excel stores a width typed in (30 characters are 30.71 with the padding),
    # neighbouring columns of one width in one range.
    widths = {
        column: int(dimension.width)
        for dimension in sheet.column_dimensions.values()
        for column in range(dimension.min, dimension.max + 1)
    }
    assert [widths[column] for column in (1, 2, 3, 4)] == [30, 12, 20, 20]


@pytest.mark.django_db
def test_the_portfolio_sheet_speaks_the_users_language(client_manager, analysed):
    book = _workbook(client_manager, HTTP_ACCEPT_LANGUAGE="de")

    assert book.sheetnames == ["Bewertungen", "Kundenportfolio"]
    sheet = book["Kundenportfolio"]
    assert sheet["A3"].value == "Bewertet nach Deckungsbeitrag"
    assert sheet["A4"].value == "Kundenwerttyp"
    assert "Glockenkunde" in _summary_rows(sheet)
    assessments = book["Bewertungen"]
    header = [cell.value for cell in assessments[1]]
    assert header[:4] == ["Kundennummer", "Kundenname", "Kundenwerttyp", "Wertbasis"]
    assert "Versteckte Perle" in header
    types = {row[2] for row in assessments.iter_rows(min_row=2, values_only=True)}
    assert "Glockenkunde" in types and "bell" not in types
    assert {row[3] for row in assessments.iter_rows(min_row=2, values_only=True)} == {
        "Deckungsbeitrag",
        "Umsatz",
    }


@pytest.mark.django_db
def test_without_an_analysis_the_portfolio_sheet_says_so(client_manager):
    book = _workbook(client_manager)

    assert book["Assessments"].max_row == 1
    sheet = book["Portfolio"]
    assert sheet["A1"].value == "No analysis yet."
    assert sheet._images == []


@pytest.mark.django_db
def test_it_keeps_its_query_count(client_manager, analysed, django_assert_max_num_queries):
    # session, user, permissions (2), latest run, assessments, sums per type
    with django_assert_max_num_queries(7):
        client_manager.get(URL)


def _more_customers(run: AnalysisRun, n: int) -> None:
    """n more customers in the run, each with a copy of its first assessment."""
    model = Assessment.objects.filter(run=run).first()
    customers = Customer.objects.bulk_create(
        Customer(number=f"X{i:05}", name=f"Firma X{i}") for i in range(n)
    )
    Assessment.objects.bulk_create(
        Assessment(
            run=run,
            customer=customer,
            value_type=model.value_type,
            current_value=model.current_value,
            future_value=model.future_value,
            figures=model.figures,
        )
        for customer in customers
    )


@pytest.mark.django_db
def test_its_query_count_does_not_grow_with_the_customers(
    client_manager, analysed, django_assert_num_queries
):
    with CaptureQueriesContext(connection) as few:
        client_manager.get(URL)
    _more_customers(analysed, 300)

    with django_assert_num_queries(len(few)):
        sheet = _workbook(client_manager)["Assessments"]

    assert sheet.max_row == Assessment.objects.filter(run=analysed).count() + 1


@pytest.mark.django_db
def test_it_needs_the_view_permission(client, outsider):
    outsider.user_permissions.clear()
    outsider.groups.clear()
    client.force_login(outsider)

    assert client.get(URL).status_code == 403


# The chart itself ---------------------------------------------------------------------


def test_the_axes_turn_logarithmic_beyond_two_decades():
    assert log_threshold(np.array([100.0, 500.0, 9000.0])) is None
    assert log_threshold(np.array([0.0, -50.0, 120.0, 3_000.0, 80_000.0] * 20)) == 10.0
    assert log_threshold(np.array([0.0, np.nan])) is None


def test_the_chart_draws_every_type_and_zero_or_negative_values():
    frame = pd.DataFrame(
        {
            "value_type": ["steady", "burr", "growth", "insufficient_data"] * 25,
            "current_value": np.tile([10_000.0, -200.0, 500_000.0, 0.0], 25),
            "future_value": np.tile([11_000.0, -250.0, 900_000.0, 40.0], 25),
        }
    )

    data = portfolio_png(
        frame,
        labels={"steady": "Steady (25)"},
        axis={"current": "Now", "future": "Later", "no_change": "Same", "log": "Log"},
        money=lambda value: f"{value:,.0f} €",
    )

    picture = PillowImage.open(io.BytesIO(data))
    assert picture.format == "PNG" and picture.size == (990, 660)
    # The steady customers' blue is in the picture.
    colours = {colour for _count, colour in picture.convert("RGB").getcolors(1_000_000)}
    assert (0x25, 0x63, 0xEB) in colours


@pytest.mark.django_db
def test_a_run_over_no_customers_has_sums_but_no_chart(client_manager):
    AnalysisRun.objects.create(as_of=datetime.date(2026, 6, 1))

    sheet = _workbook(client_manager)["Portfolio"]

    assert _summary_rows(sheet)["Total"] == (0, 0, 0)
    assert sheet._images == []
