"""Small things a new user meets first: the new-chain form, month names, the favicon, the
portfolio's scale, the demo logins on the console."""

from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db.models import Q

from customers import charts
from customers.models import Assessment, Customer
from customers.services import analysis_run_create, value_records_load
from customers.synthetic import generate


def _get(client, url: str, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(url)


# --- the new-chain form ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_new_chain_form_shows_no_label_for_its_hidden_version(client_owner):
    response = client_owner.get("/chains/new/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Version" not in body
    assert 'type="hidden" name="version"' in body
    assert '<label for="id_scope_name">' in body


# --- months in the reader's language ------------------------------------------------------


@pytest.fixture
def december(db) -> Customer:
    """Customers analysed twice, as of November and December 2023."""
    history, _types, _future = generate(8, seed=3, as_of=pd.Timestamp("2023-12-01"), months=36)
    value_records_load(history=history)
    analysis_run_create(as_of=pd.Timestamp("2023-11-01"))
    analysis_run_create(as_of=pd.Timestamp("2023-12-01"))
    return Assessment.objects.order_by("customer__number").first().customer


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "november", "december_", "january"),
    [("de", "Nov. 2023", "Dez. 2023", "Jan. 2023"), ("en", "Nov 2023", "Dec 2023", "Jan 2023")],
)
def test_periods_are_named_in_the_readers_language(
    client_manager, december, language, november, december_, january
):
    response = _get(client_manager, f"/customers/{december.pk}/", language)
    body = response.content.decode()
    # The type over time.
    assert f'<span class="muted">{november}</span>' in body
    assert f'<span class="muted">{december_}</span>' in body
    assert "2023-12" not in body.split('id="history-chart-data"')[0]
    # The value history chart: axis labels and hover texts.
    figure = response.context["chart"]["figure"]
    assert january in figure["layout"]["xaxis"]["ticktext"]
    assert december_ in figure["data"][0]["customdata"]
    assert "%{customdata}" in figure["data"][0]["hovertemplate"]


def test_the_history_chart_labels_every_month_for_a_year_and_fewer_for_longer_spans():
    def labels(months: int) -> list[str]:
        past = pd.DataFrame(
            {"period": pd.date_range("2021-01-01", periods=months, freq="MS"), "value": 1.0}
        )
        figure = charts.history(
            past, past.iloc[:0], labels={"past": "p", "forecast": "f", "value": "v"}
        )
        return list(figure.layout.xaxis.ticktext)

    assert len(labels(12)) == 12
    assert labels(36) == [f"2021-{m:02}" for m in (1, 4, 7, 10)] + [
        f"{y}-{m:02}" for y in (2022, 2023) for m in (1, 4, 7, 10)
    ]
    assert labels(60) == [f"{y}-{m:02}" for y in range(2021, 2026) for m in (1, 7)]
    assert labels(100) == [f"{y}-01" for y in range(2021, 2030)]


# --- the favicon ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_browsers_favicon_request_finds_the_icon(client):
    response = client.get("/favicon.ico")  # no login: browsers ask on the login page too
    assert response.status_code == 302
    assert response.url == f"{settings.STATIC_URL}favicon.svg"
    icon = Path(finders.find("favicon.svg")).read_text()
    assert icon.startswith("<svg") and "viewBox" in icon
    # Link checkers and proxies ask with HEAD first.
    assert client.head("/favicon.ico").status_code == 302


@pytest.mark.django_db
def test_every_page_links_the_icon(client):
    body = client.get("/accounts/login/").content.decode()
    assert f'<link rel="icon" href="{settings.STATIC_URL}favicon.svg" type="image/svg+xml">' in body


# --- the portfolio's scale ------------------------------------------------------------------


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer": ["Big", "Small", "Burr", "Gone"],
            "url": ["/customers/1/", "/customers/2/", "/customers/3/", "/customers/4/"],
            "value_type": ["steady", "growth", "burr", "shrinking"],
            "current_value": [2_000_000.0, 800.0, -1500.0, 400.0],
            "future_value": [2_100_000.0, 1600.0, -900.0, 0.0],
        }
    )


AXIS = {"current": "now", "future": "later", "linear": "lin", "log": "log", "edge": "edge"}


def test_the_portfolio_starts_logarithmic_and_draws_values_of_zero_or_less_at_the_edge():
    figure = charts.portfolio(_frame(), labels={}, axis=AXIS, money="{:.0f}".format)
    assert figure.layout.xaxis.type == "log" and figure.layout.yaxis.type == "log"
    edge = next(trace for trace in figure.data if trace.name == "edge")
    # Burr: both values negative (the corner); Gone: only the future value is zero.
    assert list(edge.customdata) == ["/customers/3/", "/customers/4/"]
    assert list(edge.marker.symbol) == ["diamond", "triangle-down"]
    smallest = 400.0
    assert edge.x[0] == edge.y[0] == edge.y[1] < smallest and edge.x[1] == 400.0
    # The hover text tells the true values.
    assert list(edge.text) == ["Burr<br>-1500 → -900", "Gone<br>400 → 0"]
    # The type traces keep their true values for the linear view.
    burr = next(trace for trace in figure.data if trace.customdata[0] == "/customers/3/")
    assert (burr.x[0], burr.y[0]) == (-1500.0, -900.0)


def test_the_switch_shows_the_edge_points_only_on_the_logarithmic_scale():
    figure = charts.portfolio(_frame(), labels={}, axis=AXIS)
    edge = [trace.name == "edge" for trace in figure.data]
    log, linear = figure.layout.updatemenus[0].buttons
    assert (log.label, linear.label) == ("log", "lin")
    assert log.args[0]["visible"] == [True] * len(edge)
    assert linear.args[0]["visible"] == [not e for e in edge]
    assert linear.args[1]["xaxis.type"] == linear.args[1]["yaxis.type"] == "linear"
    assert log.args[1]["xaxis.type"] == log.args[1]["yaxis.type"] == "log"
    # Six powers of ten: labelled at the powers of ten only; linear: plotly's own ticks.
    assert log.args[1]["xaxis.dtick"] == figure.layout.xaxis.dtick == 1
    assert linear.args[1]["xaxis.dtick"] is None


def test_without_a_positive_value_the_portfolio_is_linear():
    frame = _frame().assign(current_value=-1.0, future_value=-2.0)
    figure = charts.portfolio(frame, labels={}, axis=AXIS)
    assert figure.layout.xaxis.type == "linear"
    assert [b.label for b in figure.layout.updatemenus[0].buttons] == ["lin"]
    assert not any(trace.name == "edge" for trace in figure.data)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "note"),
    [
        ("de", "{n} Kunden haben einen aktuellen oder zukünftigen Wert von null oder weniger"),
        ("en", "{n} customers have a current or future value of zero or less"),
    ],
)
def test_the_portfolio_page_says_where_the_customers_of_zero_or_less_went(
    client_manager, december, language, note
):
    run = Assessment.objects.latest("run__created_at", "run__pk").run
    first, second = Assessment.objects.filter(run=run).order_by("customer__number")[:2]
    Assessment.objects.filter(pk=first.pk).update(current_value=-500)
    Assessment.objects.filter(pk=second.pk).update(future_value=0)
    at_edge = run.assessments.filter(Q(current_value__lte=0) | Q(future_value__lte=0)).count()
    response = _get(client_manager, "/customers/portfolio/", language)
    assert response.context["at_edge"] == at_edge >= 2
    assert note.format(n=at_edge) in response.content.decode()
    assert response.context["chart"]["figure"]["layout"]["xaxis"]["type"] == "log"


# --- the demo logins ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_data_command_prints_every_demo_login():
    out = StringIO()
    call_command("demo_data", stdout=out)
    printed = out.getvalue()
    for login in ("demo", "leitung", "kollege", "admin"):
        assert f" {login} / " in printed
