"""The customer exports write what is stored as text: no spreadsheet runs a customer's id or
name as a formula, and control characters stored (bypassing the import's checks) leave
the CSV and the XLSX export valid."""

import csv
import io

import openpyxl
import pandas as pd
import pytest

from customers.models import Assessment, Customer
from customers.writing import result_csv_write

CSV_URL = "/customers/export.csv"
XLSX_URL = "/customers/export.xlsx"
# What a spreadsheet program would run: a formula, and the prefixes it also reads as one.
DANGEROUS = {
    '=HYPERLINK("http://evil.example/a","A")': '\'=HYPERLINK("http://evil.example/a","A")',
    "+49 89 1234": "'+49 89 1234",
    "-2+3": "'-2+3",
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
}


def _rename(run, names: list[str]) -> list[Customer]:
    """The first customers of the run get these numbers and names (with a suffix)."""
    customers = list(Customer.objects.filter(assessments__run=run).order_by("number")[: len(names)])
    for customer, name in zip(customers, names, strict=True):
        Customer.objects.filter(pk=customer.pk).update(number=name, name=name + " GmbH")
    return customers


def _csv_rows(client) -> list[dict]:
    response = client.get(CSV_URL)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
def test_the_csv_export_defuses_formulas_in_ids_and_names(client_manager, analysed):
    _rename(analysed, list(DANGEROUS))

    rows = {row["Customer number"]: row for row in _csv_rows(client_manager)}

    for written in DANGEROUS.values():
        assert rows[written]["Customer name"] == written + " GmbH"
    # Numbers stay numbers (a negative value is no formula): each reads back as one.
    for row in rows.values():
        float(row["Current value"]), float(row["Future value"])


@pytest.mark.django_db
def test_the_xlsx_export_keeps_ids_and_names_as_text(client_manager, analysed):
    _rename(analysed, list(DANGEROUS))

    response = client_manager.get(XLSX_URL)

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Assessments"]
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2, max_col=2)}
    for stored in DANGEROUS:
        number, name = cells[stored]
        assert (number.value, number.data_type) == (stored, "s")
        assert (name.value, name.data_type) == (stored + " GmbH", "s")


@pytest.mark.django_db
def test_control_characters_stored_leave_both_exports_valid(client_manager, analysed):
    # No NUL: PostgreSQL cannot store one (the forms and imports refuse it on SQLite too).
    _rename(analysed, ["K\x0b1\x01", "K\x1f2"])

    rows = _csv_rows(client_manager)
    numbers = {row["Customer number"] for row in rows}
    assert {"K\n1", "K2"} <= numbers
    assert "K\n1 GmbH" in {row["Customer name"] for row in rows}

    response = client_manager.get(XLSX_URL)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Assessments"]
    written = [row[0] for row in sheet.iter_rows(min_row=2, max_col=1, values_only=True)]
    assert {"K\n1", "K2"} <= set(written)
    assert len(written) == Assessment.objects.filter(run=analysed).count()


def test_the_analysis_result_file_defuses_formulas_too(tmp_path):
    frame = pd.DataFrame(
        {
            "customer_id": ["K1", "=1+2", "-5", "Line\x0bbreak"],
            "value_type": ["steady", "burr", "steady", "burr"],
            "current_value": [1.0, -2.5, 3.0, 4.0],
        }
    )
    out = tmp_path / "result.csv"

    result_csv_write(frame, out)

    back = pd.read_csv(out)
    assert back["customer_id"].tolist() == ["K1", "'=1+2", "'-5", "Line\nbreak"]
    assert back["current_value"].tolist() == [1.0, -2.5, 3.0, 4.0]
