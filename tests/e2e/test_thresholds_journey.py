"""An administrator changes an analysis threshold in a real browser: opens the thresholds
page from the customer pages, raises the minimum history, previews how many demo customers
would change type, and saves (docs/operations.md, "Analysis thresholds")."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from customers.management.commands.demo_data import ADMIN_PASSWORD
from customers.models import AnalysisRun, Assessment, ThresholdSettings

from .conftest import CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


@pytest.mark.django_db(transaction=True)
def test_an_administrator_previews_and_saves_a_threshold(live_server, page):
    call_command("demo_data", stdout=StringIO())
    base = live_server.url
    run = AnalysisRun.objects.latest()
    # The demo has four years of values: a minimum history of 60 months leaves every
    # customer with too little data.
    typed = Assessment.objects.filter(run=run, product="").exclude(value_type="insufficient_data")
    expected = typed.count()
    assert expected > 0

    log_in(page, base, "admin", ADMIN_PASSWORD)
    page.goto(f"{base}/customers/")
    page.locator("nav.subnav").get_by_role("link", name="Thresholds").click()
    expect(page).to_have_url(f"{base}/customers/thresholds/")
    field = page.get_by_label("Minimum history (periods)")
    expect(field).to_have_value("6")
    field.fill("60")

    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text(
        re.compile(rf"With these thresholds {expected} of \d+ customers")
    )
    expect(page.locator("#preview-table")).to_contain_text("Insufficient data")
    expect(page.locator("#preview-examples a").first).to_have_attribute(
        "href", re.compile(r"^/customers/\d+/$")
    )
    expect(page.get_by_label("Minimum history (periods)")).to_have_value("60")
    assert not ThresholdSettings.objects.exists()

    page.get_by_role("button", name="Save thresholds").click()
    expect(page.locator("#messages")).to_contain_text("The thresholds are saved")
    expect(page.locator("#threshold-changes")).to_contain_text("Minimum history (periods)")
    version = ThresholdSettings.objects.get()
    assert version.values == {"min_periods": 60} and version.changed_by.username == "admin"
