"""The review in a real browser, on the demo data.

A manager comments on the chain as a whole and the team replies; the team lead who
submitted the chain is offered no approval and is refused one; a manager of no team
approves, and an edit of the approved chain shows "changed since approval" on the chain
page and on the managers' dashboard.
"""

import re

import pytest

from chain.models import Chain, ReviewComment
from customers.management.commands.demo_data import SCOPE

from .conftest import CHROMIUM, close_settled, log_in, new_context

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


def _review_page(page, base: str, chain: Chain) -> None:
    """The chain page with its review region in view."""
    page.goto(f"{base}/chains/{chain.pk}/?tab=review")
    expect(page.locator("#review")).to_be_visible()


def _post_from_page(page, url: str) -> tuple[int, str]:
    """POST as the page's htmx would (with its CSRF header): what a user gets who sends the
    request without the button."""
    return page.evaluate(
        """async (url) => {
            const headers = JSON.parse(document.body.getAttribute("hx-headers"));
            const response = await fetch(url, {
                method: "POST", headers: {...headers, "HX-Request": "true"},
            });
            return [response.status, await response.text()];
        }""",
        url,
    )


def test_a_comment_on_the_whole_chain_and_a_reply(live_server, page, browser, demo_chain):
    base, chain = live_server.url, demo_chain

    # A manager of no team comments on the chain as a whole: the form's first choice.
    context = new_context(browser, "en-US")
    manager = context.new_page()
    try:
        log_in(manager, base, "leitung")
        _review_page(manager, base, chain)
        manager.locator("#review details.review-details summary").click()
        form = manager.locator("#review form.comment-form")
        expect(form.locator("[name=about]")).to_have_value("")
        form.locator("[name=text]").fill("Who coaches the tilers in the south?")
        form.locator("button[type=submit]").click()
        comment = manager.locator("#review li.comment", has_text="Who coaches the tilers")
        expect(comment).to_contain_text("the chain as a whole")
        expect(manager.locator("#review .errorlist")).to_have_count(0)
    finally:
        close_settled(context, manager)
    saved = ReviewComment.objects.get(text="Who coaches the tilers in the south?")
    assert saved.link is None and saved.question == ""

    # The chain list shows the team one open comment.
    log_in(page, base, "demo")
    row = page.locator("#chain-table tr", has_text=SCOPE)
    expect(row.locator(".open-comments")).to_have_text("1")

    # The team replies under the comment.
    _review_page(page, base, chain)
    comment = page.locator(f"#comment-{saved.pk}")
    comment.locator("details.reply-details summary").click()
    comment.locator("form.reply-form [name=text]").fill("Jana Petersen, from May on.")
    comment.locator("form.reply-form button[type=submit]").click()
    reply = page.locator(f"#comment-{saved.pk} .replies li.reply")
    expect(reply).to_contain_text("Jana Petersen, from May on.")
    assert saved.replies.get().author.username == "demo"
    # A reply is part of its comment, not an open comment of its own.
    page.goto(f"{base}/chains/")
    expect(row.locator(".open-comments")).to_have_text("1")


def test_the_lead_who_submitted_cannot_approve(live_server, page, browser, demo_chain):
    base, chain = live_server.url, demo_chain
    log_in(page, base, "demo")
    _review_page(page, base, chain)
    page.locator("#review button", has_text="Submit for review").click()
    expect(page.locator("#review .badge").first).to_have_text("Submitted")

    # demo leads the team with the manager role, yet gets no approve button, and is told why.
    expect(page.locator("#review button", has_text="Approve")).to_have_count(0)
    expect(page.locator("#review .approval-refusal")).to_contain_text("You submitted this chain")
    # Sent anyway, the approval is refused with the same reason, not a server error.
    status, body = _post_from_page(page, f"/chains/{chain.pk}/approve/")
    assert status == 200 and "You submitted this chain" in body
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED and chain.approved_by is None

    # A manager of no team approves.
    context = new_context(browser, "en-US")
    manager = context.new_page()
    try:
        log_in(manager, base, "leitung")
        _review_page(manager, base, chain)
        manager.locator("#review button", has_text="Approve").click()
        expect(manager.locator("#review .badge").first).to_have_text("Approved")
        expect(manager.locator("#review")).to_contain_text("Approved on")
    finally:
        close_settled(context, manager)
    chain.refresh_from_db()
    assert chain.status == Chain.Status.APPROVED and chain.approved_by.username == "leitung"


def test_an_edit_after_approval_is_marked(live_server, page, browser, demo_chain):
    base, chain = live_server.url, demo_chain
    from django.contrib.auth.models import User

    from chain import services

    services.chain_submit(chain=chain, user=User.objects.get(username="demo"))
    services.chain_approve(chain=chain, user=User.objects.get(username="leitung"))

    # The team answers a worksheet question of the approved chain.
    log_in(page, base, "demo")
    _review_page(page, base, chain)
    expect(page.locator("#review .changed-since-approval")).to_have_count(0)
    page.goto(f"{base}/chains/{chain.pk}/?tab=worksheet")
    answer = page.locator("#worksheet textarea").first
    with page.expect_response(lambda r: "/answers/save/" in r.url and r.ok):
        answer.fill("Tilers in southern Germany, and their planners.")

    _review_page(page, base, chain)
    mark = page.locator("#review .changed-since-approval")
    expect(mark).to_contain_text("Changed since approval on")
    expect(mark).to_contain_text("Tilers in southern Germany, and their planners.")
    chain.refresh_from_db()
    assert chain.changed_since_approval

    # The managers' dashboard marks the chain and filters for it.
    context = new_context(browser, "en-US")
    manager = context.new_page()
    try:
        log_in(manager, base, "leitung")
        manager.goto(f"{base}/chains/dashboard/")
        row = manager.locator(f"#dash-chain-{chain.pk}")
        expect(row.locator(".badge.changed")).to_have_text("changed since approval")
        manager.locator("label", has_text="Changed since approval only").click()
        expect(manager).to_have_url(re.compile(r"[?&]changed=1"))
        expect(manager.locator("#dashboard-results tr[id^=dash-chain-]")).to_have_count(1)
    finally:
        close_settled(context, manager)
