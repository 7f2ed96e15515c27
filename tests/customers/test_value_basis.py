"""Every figure says its value basis: contribution margin (Deckungsbeitrag) or revenue
(Umsatz). A portfolio of mixed bases: the synthetic customers of the `analysed` fixture,
about a fifth of them without margins in their data."""

import csv
import io

import openpyxl
import pytest
from django.db.models import Count, Sum

from customers.models import Assessment, ValueRecord
from customers.selectors import assessment_list

pytestmark = pytest.mark.django_db


def _bases(run) -> dict[int, str]:
    """customer pk -> its basis, from the records: margin if any record has one."""
    with_margin = set(
        ValueRecord.objects.filter(margin__isnull=False).values_list("customer_id", flat=True)
    )
    customers = Assessment.objects.filter(run=run).values_list("customer_id", flat=True)
    return {pk: "margin" if pk in with_margin else "revenue" for pk in customers}


@pytest.fixture
def mixed(analysed):
    bases = set(_bases(analysed).values())
    assert bases == {"margin", "revenue"}, "the fixture mixes customers with and without margins"
    return analysed


def test_the_basis_follows_the_records_until_the_analysis_stores_it(mixed):
    bases = _bases(mixed)
    assert {a.customer_id: a.value_basis for a in assessment_list(mixed)} == bases

    margin_customer = next(pk for pk, basis in bases.items() if basis == "margin")
    assessment = Assessment.objects.get(run=mixed, customer_id=margin_customer)
    assessment.figures = {**assessment.figures, "value_basis": "revenue"}
    assessment.save()

    assert assessment_list(mixed).get(pk=assessment.pk).value_basis == "revenue"


def test_the_list_says_each_customers_basis_and_filters_by_it(client_manager, mixed):
    bases = _bases(mixed)

    response = client_manager.get("/customers/?basis=revenue")
    shown = response.context["page"].object_list
    assert shown and all(bases[a.customer_id] == "revenue" for a in shown)
    body = response.content.decode()
    assert '<span class="badge basis basis-revenue">Revenue</span>' in body
    assert "basis-margin" not in body

    everyone = client_manager.get("/customers/").content.decode()
    assert "Contribution margin</span>" in everyone and "Revenue</span>" in everyone


def test_the_customer_page_says_a_customer_is_valued_by_revenue(client_manager, mixed):
    revenue = next(pk for pk, basis in _bases(mixed).items() if basis == "revenue")
    margin = next(pk for pk, basis in _bases(mixed).items() if basis == "margin")

    body = client_manager.get(f"/customers/{revenue}/").content.decode()
    assert "No margin data: this customer's figures are revenue" in body

    body = client_manager.get(f"/customers/{margin}/").content.decode()
    assert "basis-margin" in body and "No margin data" not in body


def test_the_portfolio_sums_and_shares_per_basis(client_manager, mixed):
    response = client_manager.get("/customers/portfolio/")

    expected: dict[str, dict] = {}
    for assessment in assessment_list(mixed):
        row = expected.setdefault(assessment.value_basis, {"n": 0, "current": 0.0, "future": 0.0})
        row["n"] += 1
        row["current"] += assessment.current_value
        row["future"] += assessment.future_value
    totals = {t.basis: t for t in response.context["totals"]}
    assert list(totals) == ["margin", "revenue"]
    for basis, row in expected.items():
        assert totals[basis].n == row["n"]
        assert totals[basis].current == pytest.approx(row["current"])
        assert totals[basis].future == pytest.approx(row["future"])
    # Each type's share, once per basis: the shares of each basis add up to 100 %.
    types = response.context["types"]
    for column in range(2):
        assert sum(t["shares"][column] for t in types) == pytest.approx(100)
    body = response.content.decode()
    assert "Share of current value (Contribution margin)" in body
    assert "Share of current value (Revenue)" in body


def test_the_portfolio_chart_marks_the_revenue_customers(client_manager, mixed):
    figure = client_manager.get("/customers/portfolio/").context["chart"]["figure"]

    names = [trace.get("name") for trace in figure["data"]]
    assert "Valued by contribution margin" in names
    assert "Valued by revenue (no margin data)" in names
    revenue = sum(
        symbol == "diamond-open"
        for trace in figure["data"]
        if trace.get("type") == "scattergl" and trace.get("name") != "Zero or less: at the edge"
        for symbol in trace["marker"].get("symbol") or []
    )
    assert revenue == list(_bases(mixed).values()).count("revenue")


def test_profitability_ranks_only_customers_with_margins(client_manager, mixed):
    bases = _bases(mixed)

    response = client_manager.get("/customers/focus/")

    goals = dict(response.context["goals"])
    ranked = goals["Profitability"]
    assert ranked, "some customers with margins are profitable"
    assert all(bases[e.assessment.customer_id] == "margin" for e in ranked)
    assert response.context["no_margin_count"] == list(bases.values()).count("revenue")
    assert all(bases[a.customer_id] == "revenue" for a in response.context["no_margin"])
    body = response.content.decode()
    assert 'id="no-margin-data"' in body and "cannot be ranked for profitability" in body


def test_the_pages_say_deckungsbeitrag_and_umsatz_in_german(client_manager, mixed):
    german = {"HTTP_ACCEPT_LANGUAGE": "de"}

    body = client_manager.get("/customers/", **german).content.decode()
    assert "Deckungsbeitrag</span>" in body and "Umsatz</span>" in body
    body = client_manager.get("/customers/portfolio/", **german).content.decode()
    assert "Bewertet nach Umsatz (kein Deckungsbeitrag in den Daten)" in body
    assert "Anteil am aktuellen Kundenwert (Deckungsbeitrag)" in body
    body = client_manager.get("/customers/focus/", **german).content.decode()
    assert "Ohne Deckungsbeitrag" in body


def test_the_exports_name_the_basis_in_the_readers_language(client_manager, mixed):
    bases = _bases(mixed)
    numbers = dict(Assessment.objects.filter(run=mixed).values_list("customer__number", "customer"))

    body = client_manager.get("/customers/export.csv", HTTP_ACCEPT_LANGUAGE="de").content
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert list(rows[0])[:6] == [
        "Kundennummer",
        "Kundenname",
        "Kundenwerttyp",
        "Wertbasis",
        "Aktueller Kundenwert",
        "Zukünftiger Kundenwert",
    ]
    words = {"margin": "Deckungsbeitrag", "revenue": "Umsatz"}
    assert {row["Wertbasis"] for row in rows} == {"Deckungsbeitrag", "Umsatz"}
    for row in rows:
        assert row["Wertbasis"] == words[bases[numbers[row["Kundennummer"]]]]

    body = client_manager.get("/customers/export.csv").content.decode()
    header = next(csv.reader(io.StringIO(body)))
    assert header[:4] == ["Customer number", "Customer name", "Value type", "Value basis"]


def test_the_xlsx_portfolio_sums_each_basis_apart(client_manager, mixed):
    content = client_manager.get("/customers/export.xlsx").content
    sheet = openpyxl.load_workbook(io.BytesIO(content))["Portfolio"]

    titles = [row[0] for row in sheet.iter_rows(min_col=1, max_col=1, values_only=True)]
    margin = titles.index("Valued by contribution margin") + 1  # rows count from 1
    revenue = titles.index("Valued by revenue (no margin data)") + 1
    totals = [i + 1 for i, title in enumerate(titles) if title == "Total"]
    assert margin < totals[0] < revenue < totals[1]
    expected = {
        (row["n"], row["current"], row["future"])
        for row in assessment_list(mixed)
        .order_by()
        .values("value_basis")
        .annotate(n=Count("pk"), current=Sum("current_value"), future=Sum("future_value"))
    }
    written = {tuple(c.value for c in sheet[row][1:4]) for row in totals}
    assert len(written) == 2
    for n, current, future in written:
        assert any(
            n == e[0] and current == pytest.approx(e[1]) and future == pytest.approx(e[2])
            for e in expected
        )
