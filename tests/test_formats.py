"""Numbers, money and dates per language; the value type names of docs/method.md."""

import datetime
import io
import re

import openpyxl
import pandas as pd
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.paginator import Paginator
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format

from customers import charts
from customers.models import Assessment, ImportBatch, ValueType
from customers.services import analysis_run_create, value_records_load
from customers.synthetic import generate
from customers.templatetags.money import money, number, percent

NBSP = "\u00a0"
MINUS = "\u2212"

# The table "The value types" of docs/method.md: code and German name.
METHOD_TYPES = {
    "steady": "unauffälliger Kunde",
    "cyclic": "zyklischer Kunde",
    "bell": "Glockenkunde",
    "growth": "Wachstumskunde",
    "shrinking": "Schrumpfungskunde",
    "burr": "Klettenkunde",
    "insufficient_data": "zu wenig Daten",
}


# --- the money filter --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "value", "shown"),
    [
        ("de", 1234.56, f"1.234,56{NBSP}€"),
        ("en", 1234.56, "€1,234.56"),
        ("de", -1234.56, f"{MINUS}1.234,56{NBSP}€"),
        ("en", -1234.56, f"{MINUS}€1,234.56"),
        ("de", 0, f"0,00{NBSP}€"),
        ("en", 0, "€0.00"),
        ("de", 1234567.891, f"1.234.567,89{NBSP}€"),
        ("en", "1234567.891", "€1,234,567.89"),
        ("de", None, "–"),
        ("en", None, "–"),
        ("en", float("nan"), "–"),
        ("en", "not a number", "–"),
    ],
)
def test_money_follows_the_language(language, value, shown):
    with translation.override(language):
        assert money(value) == shown


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("de", f"1.234.568{NBSP}€ {MINUS}2.346{NBSP}€ 0{NBSP}€"),
        ("en", f"€1,234,568 {MINUS}€2,346 €0"),
    ],
)
def test_the_template_filter_rounds_to_whole_units(language, shown):
    template = Template("{% load money %}{{ a|money:0 }} {{ b|money:0 }} {{ c|money:0 }}")
    with translation.override(language):
        # -0.3 rounds to 0: no minus in front of a zero.
        assert template.render(Context({"a": 1234567.5, "b": -2345.6, "c": -0.3})) == shown


def test_money_shows_the_configured_currency(settings):
    settings.CURRENCY = "USD"
    with translation.override("en"):
        assert money(1234.5) == "$1,234.50"
    with translation.override("de"):
        assert money(1234.5) == f"1.234,50{NBSP}$"
    settings.CURRENCY = "SEK"
    with translation.override("en"):
        assert money(1234.5) == f"SEK{NBSP}1,234.50"


def test_the_currency_comes_from_the_environment_with_euro_by_default():
    assert settings.CURRENCY == "EUR"


def test_numbers_and_percentages_are_grouped_per_language():
    with translation.override("de"):
        assert number(1234567) == "1.234.567"
        assert number(-1234.567, 2) == f"{MINUS}1.234,57"
        assert percent(1234.56) == f"1.234,6{NBSP}%"
        assert percent(None) == "–"
    with translation.override("en"):
        assert number(1234567) == "1,234,567"
        assert percent(-12.34) == f"{MINUS}12.3%"


def test_plain_numbers_stay_plain_and_the_number_filter_groups():
    """Ids end up in markup ungrouped; figures for people are grouped by the filter."""
    template = Template("{% load money %}{{ n }} {{ n|number }}")
    with translation.override("de"):
        assert template.render(Context({"n": 12345})) == "12345 12.345"
    with translation.override("en"):
        assert template.render(Context({"n": 12345})) == "12345 12,345"


def test_dates_are_unambiguous_in_both_languages():
    day = datetime.date(2026, 11, 28)
    with translation.override("de"):
        assert date_format(day, "SHORT_DATE_FORMAT") == "28.11.2026"
    with translation.override("en"):
        assert date_format(day, "SHORT_DATE_FORMAT") == "28 Nov 2026"
        assert date_format(day) == "28 November 2026"


def test_the_pager_keeps_page_numbers_plain_in_urls():
    page = Paginator(range(60_000), 50).get_page(1100)
    with translation.override("de"):
        html = render_to_string("_pager.html", {"page": page, "query": "q=x"})
    assert "page=1099" in html and "page=1101" in html


# --- pages -------------------------------------------------------------------------------


@pytest.fixture
def analysed(db):
    """Synthetic customers, analysed; one of them with known figures."""
    history, _types, _future = generate(30, seed=7, as_of=pd.Timestamp("2026-06-01"))
    history = history.assign(customer_name="Firma " + history["customer_id"].astype(str))
    value_records_load(history=history)
    run = analysis_run_create()
    known = Assessment.objects.filter(run=run).order_by("customer__number").first()
    known.value_type = ValueType.GROWTH
    known.current_value = 1234567.4
    known.future_value = -2345.6
    known.figures = {**known.figures, "trend_slope": 0.01234, "mean_value": 12345.6}
    known.save()
    return known


def _get(client, url, language, how):
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client.get(url)
    return client.get(url, headers={"accept-language": language})


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["header", "cookie"])
@pytest.mark.parametrize(
    ("language", "current", "future"),
    [
        ("de", f"1.234.567{NBSP}€", f"{MINUS}2.346{NBSP}€"),
        ("en", "€1,234,567", f"{MINUS}€2,346"),
    ],
)
def test_the_customer_list_shows_money_in_the_language(
    client_manager, analysed, how, language, current, future
):
    response = _get(client_manager, "/customers/?sort=current", language, how)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<td class="num">{current}</td>' in body
    assert f'<td class="num">{future}</td>' in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "figures"),
    [
        ("de", [f"1.234.567{NBSP}€", f"12.346{NBSP}€", f"1,2{NBSP}%", "Juni 2026"]),
        ("en", ["€1,234,567", "€12,346", "1.2%", "June 2026"]),
    ],
)
def test_the_customer_page_shows_figures_in_the_language(
    client_manager, analysed, language, figures
):
    response = _get(client_manager, f"/customers/{analysed.customer_id}/", language, "header")
    assert response.status_code == 200
    body = response.content.decode()
    for figure in figures:
        assert figure in body
    # The sentence on why the type holds formats its numbers too.
    assert figures[2] in response.context["reason"]
    separators = ",." if language == "de" else ".,"
    assert re.search(rf'"separators":\s*"{re.escape(separators)}"', body)


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "separators"), [("de", ",."), ("en", ".,")])
def test_the_portfolio_chart_uses_the_languages_separators(
    client_manager, analysed, language, separators
):
    body = _get(client_manager, "/customers/portfolio/", language, "cookie").content.decode()
    assert re.search(rf'"separators":\s*"{re.escape(separators)}"', body)
    share = rf"\d+,\d{NBSP}%" if language == "de" else r"\d+\.\d%"
    assert re.search(rf'<td class="num">{share}</td>', body)


@pytest.mark.django_db
def test_the_focus_list_writes_money_in_the_language(client_manager, analysed):
    body = _get(client_manager, "/customers/focus/", "de", "header").content.decode()
    assert re.search(rf"\d{NBSP}€", body)
    body = _get(client_manager, "/customers/focus/", "en", "header").content.decode()
    assert re.search(r"€\d", body)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "shown"), [("de", "28.11.2026 14:30"), ("en", "28 Nov 2026, 14:30")]
)
def test_dates_on_the_import_page_follow_the_language(client, owner, language, shown):
    owner.user_permissions.add(Permission.objects.get(codename="import_values"))
    client.force_login(owner)
    batch = ImportBatch.objects.create(uploaded_by=owner, file_name="values.csv", rows=12345)
    uploaded = datetime.datetime(2026, 11, 28, 13, 30, tzinfo=datetime.UTC)  # 14:30 in Berlin
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=uploaded)
    response = _get(client, "/customers/import/", language, "header")
    assert response.status_code == 200
    body = response.content.decode()
    assert f"<td>{shown}</td>" in body
    assert ("12.345" if language == "de" else "12,345") in body


# --- charts without Django -----------------------------------------------------------------


def test_charts_take_separators_and_the_currency():
    frame = pd.DataFrame(
        {
            "customer": ["A", "B"],
            "url": ["/customers/1/", "/customers/2/"],
            "value_type": ["growth", "bell"],
            "current_value": [1000.0, 250000.0],
            "future_value": [1500.0, 90000.0],
        }
    )
    axis = {"current": "now", "future": "later", "linear": "lin", "log": "log"}
    figure = charts.portfolio(
        frame, labels={}, axis=axis, separators=",.", currency=("", f"{NBSP}€")
    )
    assert figure.layout.separators == ",."
    assert figure.layout.xaxis.ticksuffix == f"{NBSP}€"
    assert figure.layout.yaxis.tickformat == ",.0f"
    assert f"%{{x:,.0f}}{NBSP}€" in figure.data[0].hovertemplate

    past = pd.DataFrame({"period": pd.date_range("2026-01-01", periods=3, freq="MS"), "value": 1.0})
    figure = charts.history(
        past,
        past.iloc[:0],
        labels={"past": "p", "forecast": "f", "value": "v"},
        separators=".,",
        currency=("€", ""),
    )
    assert figure.layout.separators == ".,"
    assert figure.layout.yaxis.tickprefix == "€"


# --- exports -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_xlsx_export_keeps_numbers_numeric_with_a_number_format(client_manager, analysed):
    content = _get(client_manager, "/customers/export.xlsx", "de", "header").content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == analysed.customer.number)
    current = row[header.index("Aktueller Kundenwert")]
    assert current.value == pytest.approx(1234567.4) and current.data_type == "n"
    assert current.number_format == "#,##0.00"
    assert row[header.index("Trend je Periode (relativ zum Mittelwert)")].number_format == "0.0%"


@pytest.mark.django_db
def test_the_csv_export_stays_machine_readable_in_german(client_manager, analysed):
    body = _get(client_manager, "/customers/export.csv", "de", "header").content.decode()
    # Headings and value types in German, the numbers as a program reads them.
    frame = pd.read_csv(io.StringIO(body), dtype={"Kundennummer": str})
    row = frame.set_index("Kundennummer").loc[analysed.customer.number]
    assert row["Aktueller Kundenwert"] == pytest.approx(1234567.4)
    assert "1.234.567" not in body


# --- value type names --------------------------------------------------------------------


def test_value_types_carry_the_german_names_of_design_md():
    assert set(METHOD_TYPES) == set(ValueType.values)
    with translation.override("de"):
        shown = {code: str(label) for code, label in ValueType.choices}
    assert shown == METHOD_TYPES


def test_value_types_have_english_names():
    with translation.override("en"):
        shown = {code: str(label) for code, label in ValueType.choices}
    assert shown["steady"] == "steady customer"
    assert shown["insufficient_data"] == "insufficient data"
    assert all(
        label.endswith("customer") for code, label in shown.items() if code != "insufficient_data"
    )
