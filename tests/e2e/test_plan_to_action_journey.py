"""From the map to the plan, in a real browser: a team member turns a white spot on the
board and an entry of "where to act" into actions, finds both on "My actions" and the
chain's row of the managers' dashboard, and closes one."""

from urllib.parse import parse_qs, urlsplit

import pytest

from chain.models import Action

from .conftest import CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


def _save_form(page) -> None:
    form = page.locator("form.action-form")
    expect(form.locator("[name=title]")).not_to_have_value("")
    form.locator("button[type=submit]").click()


def test_a_white_spot_and_a_where_to_act_entry_become_actions(live_server, page, demo_chain):
    base, chain = live_server.url, demo_chain
    log_in(page, base, "demo")

    # A white spot on the board: its "Create action" opens the form about that actor.
    page.goto(f"{base}/chains/{chain.pk}/?tab=board")
    spot = page.locator("#board a.create-action[href*='source=white_spot']").first
    link_pk = int(parse_qs(urlsplit(spot.get_attribute("href")).query)["link"][0])
    spot.click()
    _save_form(page)
    white = Action.objects.get(chain=chain, source="white_spot")
    assert white.link_id == link_pk and white.status == "open"

    # The Actions tab: where to act next on top, each entry with a prefilled action.
    page.goto(f"{base}/chains/{chain.pk}/?tab=actions")
    entry = page.locator("#action-plan .plan-entry").first
    expect(entry).to_be_visible()
    entry.get_by_role("link", name="Create action").click()
    _save_form(page)
    planned = Action.objects.exclude(pk=white.pk).get(chain=chain)
    assert planned.source in ("where_to_act", "type_change")
    expect(page.locator(f"#action-{white.pk}")).to_be_visible()
    expect(page.locator(f"#action-{planned.pk}")).to_be_visible()

    # My actions lists both; the dashboard counts them on the chain's row.
    page.locator("header.topbar nav a", has_text="My actions").click()
    rows = page.locator("table.my-actions tbody tr")
    expect(rows).to_have_count(2)
    page.goto(f"{base}/chains/dashboard/")
    row = page.locator("tr", has=page.locator(f"a[href='/chains/{chain.pk}/']")).first
    expect(row.locator("td.dash-actions")).to_contain_text("2")

    # Done: one stays open, on the page and on the dashboard.
    page.goto(f"{base}/chains/actions/mine/")
    rows.filter(has_text=white.title).locator("button[value=done]").click()
    expect(rows).to_have_count(1)
    white.refresh_from_db()
    assert white.status == "done" and white.closed_at is not None
    page.goto(f"{base}/chains/dashboard/")
    expect(row.locator("td.dash-actions")).to_contain_text("1")
