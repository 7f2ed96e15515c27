"""Products and segments: the optional columns of the value import in both layouts, CSV
and XLSX, German and English; their checks; replacement per product; the analysis per
customer and product; the customer page's table per product; the scope selectors."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from django.core.management import call_command

from chain.models import Chain
from customers.models import AnalysisRun, Assessment, Customer, ImportBatch, Purchase, ValueRecord
from customers.reading import PRODUCT_MAX_LENGTH, read_history
from customers.selectors import chain_customer_list, customer_products, customer_records
from customers.services import analysis_run_create, value_records_load
from tests.factories import make_chain

MONTHS = [dt.date(2022 + m // 12, m % 12 + 1, 1) for m in range(36)]  # 2022-01 .. 2024-12


def _values() -> list[dict]:
    """K1 buys screws more and more and anchors less and less; K2 buys screws steadily.
    K1 was a builder ("Bau") and trades ("Handel") since 2024."""
    rows = []
    for m, month in enumerate(MONTHS):
        segment = "Bau" if month.year < 2024 else "Handel"
        rows.append(("K1", month, "Schrauben", 100 + 20 * m, segment))
        rows.append(("K1", month, "Dübel", 1000 - 25 * m, segment))
        rows.append(("K2", month, "Schrauben", 500 + (m % 3) * 10, "Industrie"))
    return [
        {"customer": c, "month": d, "product": p, "revenue": r, "margin": r * 0.3, "segment": s}
        for c, d, p, r, s in rows
    ]


def _german(value: float) -> str:
    return f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    lines = [";".join(header)] + [";".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_xlsx(path: Path, header: list[str], rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def german_period_csv(path: Path) -> Path:
    header = ["Kundennummer", "Monat", "Umsatz", "Deckungsbeitrag", "Artikelgruppe", "Branche"]
    rows = [
        [
            v["customer"],
            f"{v['month']:%m.%Y}",
            _german(v["revenue"]),
            _german(v["margin"]),
            v["product"],
            v["segment"],
        ]  # fmt: skip
        for v in _values()
    ]
    return _write_csv(path / "werte.csv", header, rows)


def english_period_xlsx(path: Path) -> Path:
    header = ["Customer ID", "Period", "Revenue", "Margin", "Product", "Segment"]
    rows = [
        [
            v["customer"],
            f"{v['month']:%Y-%m}",
            v["revenue"],
            v["margin"],
            v["product"],
            v["segment"],
        ]  # fmt: skip
        for v in _values()
    ]
    return _write_xlsx(path / "values.xlsx", header, rows)


def german_transaction_csv(path: Path) -> Path:
    """Each month's value in two sales, on the 3rd and the 20th."""
    header = ["Kunde", "Datum", "Betrag", "DB", "Warengruppe", "Kundentyp"]
    rows = []
    for v in _values():
        for day in (3, 20):
            date = v["month"].replace(day=day)
            rows.append([v["customer"], f"{date:%d.%m.%Y}", _german(v["revenue"] / 2),
                         _german(v["margin"] / 2), v["product"], v["segment"]])  # fmt: skip
    return _write_csv(path / "umsaetze.csv", header, rows)


def english_transaction_xlsx(path: Path) -> Path:
    header = ["Customer", "Date", "Amount", "Margin", "Product group", "Customer type"]
    rows = []
    for v in _values():
        for day in (3, 20):
            date = v["month"].replace(day=day)
            rows.append([v["customer"], f"{date:%Y-%m-%d}", v["revenue"] / 2, v["margin"] / 2,
                         v["product"], v["segment"]])  # fmt: skip
    return _write_xlsx(path / "sales.xlsx", header, rows)


FILES = [german_period_csv, english_period_xlsx, german_transaction_csv, english_transaction_xlsx]


def _upload(client, path: Path):
    with path.open("rb") as fh:
        return client.post("/customers/import/", {"file": fh})


def _latest_types() -> dict[tuple[str, str], Assessment]:
    run = AnalysisRun.objects.latest()
    return {
        (a.customer.number, a.product): a
        for a in Assessment.objects.filter(run=run).select_related("customer")
    }


@pytest.mark.django_db
@pytest.mark.parametrize("make_file", FILES, ids=lambda f: f.__name__)
def test_each_layout_imports_products_and_segments(client_importer, tmp_path, make_file):
    _upload(client_importer, make_file(tmp_path))
    batch = ImportBatch.objects.get()
    assert batch.status == "done", batch.error_list
    stored = {
        (r.customer.number, r.period, r.product): (r.revenue, r.margin, r.segment)
        for r in ValueRecord.objects.select_related("customer")
    }
    assert len(stored) == 3 * len(MONTHS)
    assert stored["K1", dt.date(2022, 1, 1), "Dübel"] == (Decimal("1000"), Decimal("300"), "Bau")
    assert stored["K1", dt.date(2024, 12, 1), "Schrauben"] == (
        Decimal("800"),
        Decimal("240"),
        "Handel",
    )
    # The customer's segment is the latest one given: K1 became a trader in 2024.
    assert dict(Customer.objects.values_list("number", "segment")) == {
        "K1": "Handel",
        "K2": "Industrie",
    }
    if "transaction" in make_file.__name__:
        assert set(Purchase.objects.values_list("product", flat=True)) == {"Schrauben", "Dübel"}
        assert Purchase.objects.count() == 2 * 3 * len(MONTHS)


@pytest.mark.django_db
@pytest.mark.parametrize("make_file", FILES, ids=lambda f: f.__name__)
def test_each_customer_gets_a_type_overall_and_per_product(client_importer, tmp_path, make_file):
    _upload(client_importer, make_file(tmp_path))
    types = _latest_types()
    assert set(types) == {("K1", ""), ("K2", ""), ("K1", "Schrauben"), ("K1", "Dübel"),
                          ("K2", "Schrauben")}  # fmt: skip
    assert types["K1", "Schrauben"].value_type == "growth"
    assert types["K1", "Dübel"].value_type == "shrinking"
    # The current value is the margin of the last 12 months: per product, and over all
    # products their sum.
    last_year = [v for v in _values() if v["month"] >= dt.date(2024, 1, 1)]
    screws = sum(
        v["margin"] for v in last_year if v["customer"] == "K1" and v["product"] == "Schrauben"
    )
    assert types["K1", "Schrauben"].current_value == pytest.approx(screws)
    assert types["K1", ""].current_value == pytest.approx(
        types["K1", "Schrauben"].current_value + types["K1", "Dübel"].current_value
    )
    # The run counts customers, not customer-product histories.
    assert AnalysisRun.objects.latest().customers == 2


@pytest.mark.django_db
def test_a_file_without_products_gets_only_the_overall_types(client_importer):
    from tests.customers.conftest import FILES as FIXTURES

    with (FIXTURES / "de_period.csv").open("rb") as fh:
        client_importer.post("/customers/import/", {"file": fh})
    assert set(ValueRecord.objects.values_list("product", flat=True)) == {""}
    assert set(Assessment.objects.values_list("product", flat=True)) == {""}


@pytest.mark.django_db
@pytest.mark.parametrize("column", ["Artikelgruppe", "Branche"])
def test_a_300_character_product_or_segment_is_a_row_error_and_nothing_is_imported(
    client_importer, tmp_path, column
):
    _upload(client_importer, german_period_csv(tmp_path))
    before = list(ValueRecord.objects.order_by("pk").values_list("pk", "revenue", "product"))
    header = ["Kundennummer", "Monat", "Umsatz", "Artikelgruppe", "Branche"]
    long = "x" * 300
    rows = [
        ["K1", "01.2025", "100,00", "Schrauben", "Bau"],
        [
            "K1",
            "02.2025",
            "100,00",
            long if column == "Artikelgruppe" else "Dübel",
            long if column == "Branche" else "Bau",
        ],  # fmt: skip
    ]
    path = _write_csv(tmp_path / "lang.csv", header, rows)
    _upload(client_importer, path)
    batch = ImportBatch.objects.get(file_name="lang.csv")
    assert batch.status == "failed"
    (error,) = batch.error_list
    assert (error.row, error.column, error.code) == (3, column, "too_long")
    assert error.params == {"length": 300, "max": PRODUCT_MAX_LENGTH}
    assert list(ValueRecord.objects.order_by("pk").values_list("pk", "revenue", "product")) == (
        before
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_customer_twice_in_a_month_and_product_is_an_error_but_two_products_are_not(
    tmp_path, suffix
):
    header = ["customer_id", "period", "revenue", "product"]
    rows = [
        ["K1", "2024-01", "10", "A"],
        ["K1", "2024-01", "20", "B"],
        ["K1", "2024-01", "30", "A"],
        ["K1", "2024-02", "40", ""],
    ]
    if suffix == ".csv":
        path = _write_csv(tmp_path / "twice.csv", header, rows)
    else:
        path = _write_xlsx(tmp_path / "twice.xlsx", header, rows)
    result = read_history(path, filename=path.name)
    (error,) = result.errors
    assert (error.row, error.column, error.code) == (4, "period", "duplicate_product")
    assert (
        error.message
    ) == 'Customer "K1" appears twice for 2024-01 and product "A": rows 2 and 4.'


def test_control_characters_are_taken_out_of_products_and_segments(tmp_path):
    header = ["customer_id", "date", "amount", "product", "segment"]
    rows = [["K1", "2024-01-05", "10", "Schrau\x07ben", "Groß\x0bhandel"]]
    path = _write_csv(tmp_path / "odd.csv", header, rows)
    result = read_history(path, filename=path.name)
    assert result.ok, result.errors
    assert result.history[["product", "segment"]].to_dict("records") == [
        {"product": "Schrauben", "segment": "Groß handel"}
    ]
    assert list(result.transactions["product"]) == ["Schrauben"]


def _load(tmp_path: Path, name: str, header: list[str], rows: list[list[str]]) -> None:
    path = _write_csv(tmp_path / name, header, rows)
    result = read_history(path, filename=name)
    assert result.ok, result.errors
    value_records_load(history=result.history, transactions=result.transactions)


def _records() -> dict[tuple[str, str], Decimal]:
    return {
        (f"{r.period:%Y-%m}", r.product): r.revenue
        for r in ValueRecord.objects.filter(customer__number="K1")
    }


@pytest.mark.django_db
def test_periods_imported_again_are_replaced_per_product(tmp_path):
    header = ["customer_id", "period", "revenue", "product"]
    _load(tmp_path, "first.csv", header, [
        ["K1", "2024-01", "10", "A"], ["K1", "2024-01", "20", "B"],
        ["K1", "2024-02", "11", "A"], ["K1", "2024-02", "21", "B"],
    ])  # fmt: skip
    # A file of product A alone replaces A and leaves B.
    _load(tmp_path, "a.csv", header, [["K1", "2024-02", "99", "A"]])
    assert _records() == {
        ("2024-01", "A"): 10, ("2024-01", "B"): 20, ("2024-02", "A"): 99, ("2024-02", "B"): 21,
    }  # fmt: skip
    # A total without products replaces the month's products, so nothing counts twice ...
    _load(tmp_path, "total.csv", ["customer_id", "period", "revenue"], [["K1", "2024-02", "150"]])
    assert _records() == {("2024-01", "A"): 10, ("2024-01", "B"): 20, ("2024-02", ""): 150}
    # ... and products replace an earlier total of their month.
    _load(
        tmp_path, "split.csv", header, [["K1", "2024-02", "70", "A"], ["K1", "2024-02", "80", "B"]]
    )
    assert _records() == {
        ("2024-01", "A"): 10, ("2024-01", "B"): 20, ("2024-02", "A"): 70, ("2024-02", "B"): 80,
    }  # fmt: skip
    assert [r["revenue"] for r in customer_records(Customer.objects.get())] == [30, 150]


@pytest.mark.django_db
def test_transactions_imported_again_are_replaced_per_product(tmp_path):
    header = ["customer_id", "date", "amount", "product"]
    _load(tmp_path, "first.csv", header, [
        ["K1", "2024-01-05", "10", "A"], ["K1", "2024-01-06", "20", "B"],
    ])  # fmt: skip
    _load(tmp_path, "again.csv", header, [["K1", "2024-01-05", "15", "A"]])
    assert sorted(Purchase.objects.values_list("product", "amount")) == [
        ("A", Decimal("15")),
        ("B", Decimal("20")),
    ]
    assert _records() == {("2024-01", "A"): 15, ("2024-01", "B"): 20}


@pytest.mark.django_db
def test_a_product_that_stops_keeps_its_history_and_its_type(tmp_path):
    """Types per product only for products with business up to the analysis date."""
    _load(tmp_path, "x.csv", ["customer_id", "period", "revenue", "product"], [
        ["K1", "2024-01", "10", "A"], ["K1", "2024-02", "10", "A"], ["K1", "2024-03", "10", "B"],
    ])  # fmt: skip
    run = analysis_run_create(as_of=pd.Timestamp("2024-02-01"))
    assert set(run.assessments.values_list("product", flat=True)) == {"", "A"}


@pytest.mark.django_db
def test_the_customer_page_shows_the_type_per_product(client_importer, client, manager, tmp_path):
    _upload(client_importer, german_period_csv(tmp_path))
    client.force_login(manager)
    customer = Customer.objects.get(number="K1")
    response = client.get(f"/customers/{customer.pk}/")
    body = response.content.decode()
    assert 'id="customer-products"' in body and "Handel" in body
    products = [(a.product, a.value_type) for a in response.context["products"]]
    assert products == [("Dübel", "shrinking"), ("Schrauben", "growth")]
    # The history is summed over the products: one row per month.
    assert len(response.context["records"]) == 24
    assert response.context["records"][0]["revenue"] == 800 + 125


@pytest.mark.django_db
def test_a_chains_scope_is_its_product_or_its_segment_whatever_the_case(
    client_importer, tmp_path, team, owner, django_assert_num_queries
):
    """One rule for the scope (selectors.chain_scope_filter); umlauts compare without case
    on SQLite as on PostgreSQL ("DÜBEL" is "Dübel")."""
    _upload(client_importer, german_period_csv(tmp_path))
    k1, k2 = Customer.objects.order_by("number")
    assert customer_products(k1) == ["Dübel", "Schrauben"]
    assert customer_products(k2) == ["Schrauben"]

    def numbers(scope_name: str, kind: str = "product") -> list[str]:
        chain = make_chain(team, owner, scope_name=scope_name)
        Chain.objects.filter(pk=chain.pk).update(scope_kind=kind)
        chain.refresh_from_db()
        with django_assert_num_queries(1):
            return sorted(c.number for c in chain_customer_list(chain))

    assert numbers("schrauben") == ["K1", "K2"]
    assert numbers("DÜBEL") == ["K1"]
    assert numbers("dübel", kind="service") == ["K1"]
    assert numbers("Muttern") == []
    assert numbers("handel", kind="customer_type") == ["K1"]
    assert numbers("Bau", kind="customer_type") == []  # K1's segment today is Handel


def _cli(tmp_path: Path, name: str, header: list[str], rows: list[list[str]]) -> pd.DataFrame:
    path = _write_csv(tmp_path / name, header, rows)
    out = tmp_path / f"{name}.out.csv"
    call_command("analyze_customers", str(path), "--output", str(out))
    return pd.read_csv(out, keep_default_na=False, dtype={"product": str})


def test_the_cli_adds_rows_per_product_after_the_overall_rows(tmp_path):
    values = _values()
    header = ["Kundennummer", "Monat", "Umsatz", "Deckungsbeitrag"]
    with_products = _cli(tmp_path, "p.csv", [*header, "Produkt"], [
        [v["customer"], f"{v['month']:%Y-%m}", str(v["revenue"]), str(v["margin"]), v["product"]]
        for v in values
    ])  # fmt: skip
    totals = (
        pd.DataFrame(values)
        .groupby(["customer", "month"], as_index=False)[["revenue", "margin"]]
        .sum()
    )
    without = _cli(tmp_path, "t.csv", header, [
        [r.customer, f"{r.month:%Y-%m}", str(r.revenue), str(r.margin)]
        for r in totals.itertuples()
    ])  # fmt: skip
    assert "product" not in without
    assert list(with_products.columns) == ["customer_id", "product", *without.columns[1:]]
    overall = with_products[with_products["product"] == ""]
    assert list(overall.index) == [0, 1]  # the overall rows come first
    pd.testing.assert_frame_equal(
        overall.drop(columns=["product"]).reset_index(drop=True), without, check_dtype=False
    )
    per_product = with_products.iloc[2:]
    assert list(zip(per_product["customer_id"], per_product["product"], strict=True)) == [
        ("K1", "Dübel"),
        ("K1", "Schrauben"),
        ("K2", "Schrauben"),
    ]
