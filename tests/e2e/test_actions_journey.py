"""Actions in a real browser, on the demo data: from a review comment to "done".

The team lead opens the chain's Actions tab, turns a manager's review comment into an
action with the comment's button, finds it on "My actions" among the others by due date,
and marks it done.
"""

import datetime

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from chain import actions
from chain.models import Action, ReviewComment

from .conftest import ARTIFACTS, CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


def test_from_a_review_comment_to_done(live_server, page, demo_chain):
    base, chain = live_server.url, demo_chain
    demo = User.objects.get(username="demo")
    comment = ReviewComment.objects.create(
        chain=chain, author=User.objects.get(username="leitung"), text="Who decides at Fliesen Süd?"
    )
    today = timezone.localdate()
    sooner = actions.action_create(
        chain=chain, user=demo, owner=demo, title="Call the planners", due=today
    )
    log_in(page, base, "demo")

    # The Actions tab shows what is open, with its count in the tab's label.
    page.goto(f"{base}/chains/{chain.pk}/")
    page.locator("#tab-actions").click()
    expect(page.locator("#panel-actions")).to_be_visible()
    expect(page.locator("#tab-actions .tab-count .badge").first).to_have_text("1")
    expect(page.locator(f"#action-{sooner.pk}")).to_contain_text("Call the planners")

    # The review comment's button opens the form in the Actions tab, prefilled.
    page.locator("#tab-review").click()
    page.locator(f"#comment-{comment.pk} a.create-action").click()
    form = page.locator("#actions form.action-form")
    expect(page.locator("#panel-actions")).to_be_visible()
    expect(form.locator("[name=title]")).to_have_value(
        "Answer review comment: Who decides at Fliesen Süd?"
    )
    expect(form.locator("[name=about]")).to_have_value(f"comment:{comment.pk}")
    due = today + datetime.timedelta(days=14)
    expect(form.locator("[name=due]")).to_have_value(due.isoformat())
    form.locator("button[type=submit]").click()
    row = page.locator("#actions tr.action-row", has_text="Answer review comment")
    expect(row).to_contain_text("Who decides at Fliesen Süd?")
    expect(page.locator("#actions form.action-form")).to_have_count(0)
    expect(page.locator("#tab-actions .tab-count .badge").first).to_have_text("2")
    created = Action.objects.get(comment=comment)
    assert (created.source, created.owner, created.due) == ("review", demo, due)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "actions-tab-en.png"), full_page=True)

    # My actions: earliest due date first, and the other way round on request.
    page.locator("header.topbar nav a", has_text="My actions").click()
    rows = page.locator("table.my-actions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Call the planners")
    expect(rows.nth(1)).to_contain_text("Answer review comment")
    page.locator("table.my-actions th a", has_text="Due").click()
    expect(rows.nth(0)).to_contain_text("Answer review comment")
    page.screenshot(path=str(ARTIFACTS / "my-actions-en.png"), full_page=True)

    # Done: it leaves the open list and counts as done.
    rows.nth(0).locator("button[value=done]").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Call the planners")
    created.refresh_from_db()
    assert created.status == "done" and created.closed_by == demo
    page.locator(".action-filters a", has_text="Done or dropped").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0).locator(".badge.action-done")).to_have_text("done")
