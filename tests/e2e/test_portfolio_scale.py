"""In a real browser: the portfolio opens on logarithmic axes with the customers of zero
or less at the edge, switches to linear and back, and the favicon loads on every page."""

import pandas as pd
import pytest
from django.db.models import Q

from customers.models import Assessment
from customers.services import analysis_run_create, value_records_load
from customers.synthetic import generate
from tests.factories import make_user

from .conftest import CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]

AXES = """id => {
  const layout = document.getElementById(id)._fullLayout;
  return [layout.xaxis.type, layout.yaxis.type];
}"""
# Visible traces of the chart, by name.
SHOWN = """id => document.getElementById(id)._fullData
  .filter(t => t.visible === true).map(t => t.name)"""


@pytest.mark.django_db(transaction=True)
def test_the_portfolio_starts_logarithmic_and_shows_where_the_negative_customers_went(
    live_server, page
):
    history, _types, _future = generate(40, seed=5, as_of=pd.Timestamp("2026-06-01"))
    value_records_load(history=history)
    run = analysis_run_create()
    first = Assessment.objects.filter(run=run).order_by("customer__number")[:3]
    Assessment.objects.filter(pk__in=[a.pk for a in first]).update(current_value=-250)
    at_edge = run.assessments.filter(Q(current_value__lte=0) | Q(future_value__lte=0)).count()
    make_user("anna", roles=("manager",))  # a manager sees every customer
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    base = live_server.url

    log_in(page, base, "anna", "pw-anna")
    page.goto(f"{base}/customers/portfolio/")
    chart = page.locator("#portfolio-chart")
    expect(chart.locator("svg.main-svg").first).to_be_attached()
    assert page.evaluate(AXES, "portfolio-chart") == ["log", "log"]
    edge = "Zero or less: at the edge"
    assert edge in page.evaluate(SHOWN, "portfolio-chart")
    expect(page.locator("#portfolio-edge")).to_contain_text(
        f"{at_edge} customers have a current or future value of zero or less"
    )

    chart.locator(".updatemenu-button", has_text="Linear scale").click()
    page.wait_for_function(
        "document.getElementById('portfolio-chart')._fullLayout.xaxis.type === 'linear'"
    )
    assert edge not in page.evaluate(SHOWN, "portfolio-chart")
    chart.locator(".updatemenu-button", has_text="Logarithmic scale").click()
    page.wait_for_function(
        "document.getElementById('portfolio-chart')._fullLayout.xaxis.type === 'log'"
    )
    assert edge in page.evaluate(SHOWN, "portfolio-chart")

    # The icon the page links, and the one browsers ask for on their own.
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).headers["content-type"].startswith("image/svg+xml")
    response = page.request.get(f"{base}/favicon.ico")
    assert response.ok and response.url == icon
    assert failed == []
