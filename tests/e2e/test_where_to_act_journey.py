"""Where to act next in a real browser: the demo chain's list in English and German, its
"show all", and the prefilled action link of an entry."""

from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import ARTIFACTS, CHROMIUM, log_in, open_page

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


def test_the_list_shows_where_to_act_with_reasons_and_a_prefilled_action(
    live_server, page, demo_chain
):
    base, chain = live_server.url, demo_chain
    log_in(page, base, "demo")
    page.goto(f"{base}/customers/chain/{chain.pk}/plan/")
    region = page.locator(".where-to-act")
    expect(region.locator("h2")).to_have_text("Where to act")
    entries = region.locator(".plan-entry")
    expect(entries.first).to_be_visible()
    assert 1 <= entries.count() <= 10
    expect(entries.first.locator(".plan-reasons li").first).to_be_visible()
    expect(entries.first.locator(".plan-formula")).to_contain_text("=")
    link = entries.first.get_by_role("link", name="Create action")
    query = parse_qs(urlsplit(link.get_attribute("href")).query)
    assert query["source"] in (["where_to_act"], ["type_change"])
    assert query["title"][0]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "where-to-act-en.png"), full_page=True)
    show_all = region.get_by_role("link", name="Show all")
    if show_all.count():
        shown = entries.count()
        show_all.click()
        expect(page.locator(".where-to-act .plan-entry").nth(shown)).to_be_visible()


def test_the_list_speaks_german(live_server, browser, demo_chain, request):
    base, chain = live_server.url, demo_chain
    pages = open_page(browser, request, "de-DE")
    page = next(pages)
    try:
        log_in(page, base, "demo")
        page.goto(f"{base}/customers/chain/{chain.pk}/plan/")
        region = page.locator(".where-to-act")
        expect(region.locator("h2")).to_have_text("Handlungsbedarf")
        expect(region.get_by_role("link", name="Maßnahme anlegen").first).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "where-to-act-de.png"), full_page=True)
    finally:
        next(pages, None)
