"""The web import: permission, good and broken files, re-import replaces, recorded batch."""

import html

import pytest

from customers.models import AnalysisRun, Customer, ImportBatch, ValueRecord
from tests.customers.conftest import FILES


def _upload(client, name: str, **headers):
    with (FILES / name).open("rb") as fh:
        return client.post("/customers/import/", {"file": fh}, headers=headers)


@pytest.mark.django_db
def test_a_user_without_the_permission_cannot_import(client_owner):
    assert client_owner.get("/customers/import/").status_code == 403
    with (FILES / "de_period.csv").open("rb") as fh:
        assert client_owner.post("/customers/import/", {"file": fh}).status_code == 403
    assert not ValueRecord.objects.exists()


@pytest.mark.django_db
def test_it_imports_a_german_csv_and_analyses(client_importer, importer):
    response = _upload(client_importer, "de_period.csv")
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == f"/customers/import/{batch.pk}/"
    assert batch.status == "done", batch.message
    assert batch.uploaded_by == importer and batch.file_name == "de_period.csv"
    assert batch.rows == ValueRecord.objects.count() > 0
    assert batch.customers == Customer.objects.count()
    assert AnalysisRun.objects.get().customers == Customer.objects.count()
    body = client_importer.get(response.url).content.decode()
    assert "de_period.csv" in body and "import-done" in body


@pytest.mark.django_db
def test_importing_the_same_periods_again_replaces_them(client_importer):
    _upload(client_importer, "en_period.csv")
    first = {(r.customer_id, r.period): r.revenue for r in ValueRecord.objects.all()}
    _upload(client_importer, "en_period.csv")
    again = {(r.customer_id, r.period): r.revenue for r in ValueRecord.objects.all()}
    assert again == first
    assert ImportBatch.objects.filter(status="done").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("missing_column.csv", "Required columns are missing"),
        ("bad_number.csv", 'Not a number: "zwölf"'),
        ("bad_date.csv", 'Not a valid month: "2024-13"'),
        ("duplicate_row.csv", "rows 2 and 4"),
        ("header_only.csv", "no data rows"),
        ("wrong_encoding.csv", "wrong encoding"),
        ("unknown_column.csv", 'Unknown column "Umstaz"'),
    ],
)
def test_a_broken_file_changes_nothing_and_says_why(client_importer, name, fragment):
    _upload(client_importer, "en_period.csv")
    before = list(ValueRecord.objects.values_list("customer_id", "period", "revenue"))
    _upload(client_importer, name)
    batch = ImportBatch.objects.get(file_name=name)
    assert batch.status == "failed"
    assert batch.errors, batch.message
    assert fragment in " ".join(e.message for e in batch.error_list)
    assert list(ValueRecord.objects.values_list("customer_id", "period", "revenue")) == before
    body = client_importer.get(f"/customers/import/{batch.pk}/").content.decode()
    assert "import-failed" in body and html.escape(batch.error_list[0].message[:20]) in body


@pytest.mark.django_db
def test_the_status_region_polls_while_running(client_importer, htmx_headers):
    batch = ImportBatch.objects.create(file_name="x.csv", status="running", progress=40)
    body = client_importer.get(f"/customers/import/{batch.pk}/", headers=htmx_headers).content
    body = body.decode()
    assert "<html" not in body and 'hx-trigger="every 1s"' in body and 'value="40"' in body


@pytest.mark.django_db
def test_an_empty_file_is_refused_by_the_form(client_importer):
    response = _upload(client_importer, "empty.csv")
    assert response.status_code == 200
    assert "The submitted file is empty." in response.content.decode()
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_it_refuses_other_file_types(client_importer, tmp_path):
    path = tmp_path / "values.pdf"
    path.write_bytes(b"%PDF-1.4")
    with path.open("rb") as fh:
        response = client_importer.post("/customers/import/", {"file": fh})
    assert response.status_code == 200
    assert "Upload a .csv or .xlsx file." in response.content.decode()
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_a_transaction_file_keeps_its_purchases_and_reimports_without_double_counting(
    client_importer,
):
    from customers.models import Purchase

    _upload(client_importer, "en_transactions.csv")
    batch = ImportBatch.objects.get()
    assert batch.status == "done", batch.message
    assert batch.kind == "transaction"
    purchases = Purchase.objects.count()
    records = {(r.customer_id, r.period): r.revenue for r in ValueRecord.objects.all()}
    assert purchases > 0 and records
    _upload(client_importer, "en_transactions.csv")
    assert Purchase.objects.count() == purchases
    assert {(r.customer_id, r.period): r.revenue for r in ValueRecord.objects.all()} == records
    # A month's record is the sum of that month's purchases.
    customer_id, period = next(iter(records))
    month = Purchase.objects.filter(
        customer_id=customer_id, date__year=period.year, date__month=period.month
    )
    assert sum(p.amount for p in month) == records[(customer_id, period)]


@pytest.mark.django_db
def test_errors_are_shown_in_the_readers_language_whoever_uploaded(client_importer):
    with (FILES / "bad_number.csv").open("rb") as fh:
        client_importer.post("/customers/import/", {"file": fh}, headers={"Accept-Language": "de"})
    batch = ImportBatch.objects.get()
    # Stored as code and arguments, not as the uploader's words.
    assert batch.errors[0]["code"] == "bad_number" and "message" not in batch.errors[0]
    url = f"/customers/import/{batch.pk}/"
    english = client_importer.get(url, headers={"Accept-Language": "en"}).content.decode()
    german = client_importer.get(url, headers={"Accept-Language": "de"}).content.decode()
    assert "Not a number" in english and "Keine Zahl" not in english
    assert "The file has errors; nothing was imported." in english
    assert "Keine Zahl" in german and "Not a number" not in german


@pytest.mark.django_db
def test_errors_stored_as_text_before_codes_are_still_shown(client_importer):
    batch = ImportBatch.objects.create(
        file_name="alt.csv",
        status="failed",
        message="Die Datei hat Fehler; nichts wurde importiert.",
        errors=[{"row": 3, "column": "Umsatz", "message": "Keine Zahl: „zwölf“"}],
    )
    body = client_importer.get(f"/customers/import/{batch.pk}/").content.decode()
    assert "Keine Zahl: „zwölf“" in body and "Die Datei hat Fehler" in body
    assert "1 error</h2>" in body
