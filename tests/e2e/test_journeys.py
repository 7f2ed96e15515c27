"""The main journeys besides the newcomer's, in a real browser.

A manager reviews a submitted chain and returns it with comments; two people edit the same
actor at once and the second is refused with an explanation; the language switches; a
customer import leads to the portfolio and a customer page. Results are checked in the
browser and in the database.
"""

import re

import pandas as pd
import pytest

from chain.models import Chain, ChainLink, ReviewComment, Team, WorksheetAnswer
from customers.management.commands.demo_data import SCOPE
from customers.models import Assessment, Customer
from customers.synthetic import generate
from tests.factories import make_user

from .conftest import CHROMIUM, close_settled, log_in, new_context

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


def _second_page(browser, locale: str = "en-US"):
    context = new_context(browser, locale)
    return context, context.new_page()


def test_a_manager_returns_a_submitted_chain_with_comments(live_server, page, browser, demo_chain):
    base, chain = live_server.url, demo_chain
    link = chain.links.select_related("actor").order_by("stage__position", "position").first()

    # The team submits the chain.
    log_in(page, base, "demo")
    page.goto(f"{base}/chains/{chain.pk}/?tab=review")
    page.locator("#review button", has_text="Submit for review").click()
    expect(page.locator("#review .badge")).to_have_text("Submitted")

    # A manager of no team opens it from the dashboard, comments on an actor, returns it.
    context, manager = _second_page(browser)
    try:
        log_in(manager, base, "leitung")
        manager.goto(f"{base}/chains/dashboard/")
        manager.locator(f'a[href="/chains/{chain.pk}/"]').first.click()
        expect(manager.locator("#summary h1")).to_contain_text(SCOPE)
        manager.locator("#tab-review").click()
        # A reader sees no edit tools on the board.
        expect(manager.locator("#board .card-tools")).to_have_count(0)

        manager.locator("#review details.review-details summary").click()
        comment_form = manager.locator("#review form.comment-form")
        comment_form.locator("[name=about]").select_option(f"link:{link.pk}")
        comment_form.locator("[name=text]").fill("Who decides on the adhesive here?")
        comment_form.locator("button[type=submit]").click()
        comment = manager.locator("#review .comments li", has_text="Who decides")
        expect(comment).to_contain_text(link.actor.name)

        manager.locator("#review details.review-details summary").click()
        return_form = manager.locator("#review form.return-form")
        return_form.locator("button[type=submit]").click()
        # The reason is required: the form says so and the chain stays submitted.
        expect(manager.locator("#review form.return-form .errorlist")).to_be_visible()
        chain.refresh_from_db()
        assert chain.status == Chain.Status.SUBMITTED

        return_form = manager.locator("#review form.return-form")
        return_form.locator("[name=text]").fill("Add the planners' contacts before approval.")
        return_form.locator("button[type=submit]").click()
        expect(manager.locator("#review .badge").first).to_have_text("Returned")
    finally:
        close_settled(context, manager)

    chain.refresh_from_db()
    assert chain.status == Chain.Status.RETURNED
    texts = set(ReviewComment.objects.filter(chain=chain).values_list("text", flat=True))
    assert {"Who decides on the adhesive here?"} <= texts
    assert any("planners' contacts" in text for text in texts)

    # The team sees the returned chain with both comments and resolves one.
    page.reload()
    expect(page.locator("#review .badge").first).to_have_text("Returned")
    open_comment = page.locator("#review .comments li", has_text="Who decides")
    expect(open_comment).to_be_visible()
    open_comment.locator("button", has_text="Mark as resolved").click()
    still_open = page.locator("#review li.comment:not(.resolved)", has_text="Who decides")
    expect(still_open).to_have_count(0)
    expect(page.locator("#review .resolved-comments summary")).to_contain_text("1 resolved")
    assert ReviewComment.objects.get(text__startswith="Who decides").resolved_at is not None


def test_a_conflicting_edit_is_refused_and_explained(live_server, page, browser, demo_chain):
    base, chain = live_server.url, demo_chain
    make_user("jonas", Team.objects.get(chains=chain), first_name="Jonas", last_name="Berg")
    link = chain.links.select_related("actor").first()

    log_in(page, base, "demo")
    context, other = _second_page(browser)
    try:
        log_in(other, base, "jonas", "pw-jonas")
        # Both open the same actor's form.
        for p in (page, other):
            p.goto(f"{base}/chains/{chain.pk}/?tab=board")
            p.locator(f"#title-{link.pk}").click()
            expect(p.locator(f"form#link-{link.pk}")).to_be_visible()

        # Jonas saves first.
        jonas_form = other.locator(f"form#link-{link.pk}")
        jonas_form.locator("[name=problems_needs]").fill("Jonas: short delivery times.")
        jonas_form.locator("button[type=submit]").click()
        expect(other.locator(f"form#link-{link.pk}")).to_have_count(0)
    finally:
        close_settled(context, other)

    # The other save is refused: the form explains who saved what and keeps the input.
    form = page.locator(f"form#link-{link.pk}")
    form.locator("[name=problems_needs]").fill("Demo: technical training.")
    form.locator("button[type=submit]").click()
    conflict = page.locator(f"form#link-{link.pk} .conflict")
    expect(conflict).to_contain_text("Jonas Berg saved this at")
    expect(conflict.locator(".conflict-table")).to_contain_text("Jonas: short delivery times.")
    expect(form.locator("[name=problems_needs]")).to_have_value("Demo: technical training.")
    assert ChainLink.objects.get(pk=link.pk).problems_needs == "Jonas: short delivery times."

    # Saving again knowingly applies the own value over the other one.
    page.locator(f"form#link-{link.pk} button[type=submit]").click()
    expect(page.locator(f"form#link-{link.pk}")).to_have_count(0)
    assert ChainLink.objects.get(pk=link.pk).problems_needs == "Demo: technical training."


def test_the_language_switches_and_stays(live_server, page, demo_chain):
    base, chain = live_server.url, demo_chain
    log_in(page, base, "demo")
    page.goto(f"{base}/chains/{chain.pk}/")
    expect(page.locator("#tab-review")).to_contain_text("Review")
    expect(page.locator("#white-spots h2")).to_have_text("White spots")

    page.locator("form.lang button[value=de]").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page).to_have_url(f"{base}/chains/{chain.pk}/")
    expect(page.locator("#tab-review")).to_contain_text("Prüfung")
    expect(page.locator("#white-spots h2")).not_to_have_text("White spots")
    # A tab opened later loads in the chosen language too.
    page.locator("#tab-worksheet").click()
    expect(page.locator("#worksheet h2")).to_have_text("Arbeitsblatt")
    # It sticks on other pages.
    page.goto(f"{base}/chains/")
    expect(page.locator("h1")).to_have_text("Problemlöseketten")

    page.locator("form.lang button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Problem-solving chains")


def _history_csv(path) -> pd.DataFrame:
    """A value history as a German spreadsheet writes it: semicolons, decimal commas."""
    history, _types, _future = generate(40, seed=11, as_of=pd.Timestamp("2026-09-01"))
    frame = pd.DataFrame(
        {
            "Kundennummer": history["customer_id"].astype(str),
            "Periode": history["period"].dt.strftime("%Y-%m"),
            "Umsatz": history["revenue"].round(2),
            "Deckungsbeitrag": history["margin"].round(2),
        }
    )
    frame.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig")
    return frame


def test_a_customer_import_leads_to_the_portfolio_and_a_customer(
    live_server, page, demo_chain, tmp_path
):
    base = live_server.url
    path = tmp_path / "umsaetze.csv"
    frame = _history_csv(path)
    Customer.objects.all().delete()  # only the customers of this file

    log_in(page, base, "demo")
    page.goto(f"{base}/customers/import/")
    page.locator("input[type=file]").set_input_files(str(path))
    page.locator("button", has_text="Upload and import").click()

    # The import runs (at once in tests) and offers the portfolio.
    expect(page.locator("#batch-status .badge")).to_have_text("done", ignore_case=True)
    expect(page.locator("#batch-status")).to_contain_text(str(frame["Kundennummer"].nunique()))
    page.locator("#batch-status a", has_text="See the portfolio").click()

    expect(page.locator("h1")).to_contain_text("Customer portfolio")
    chart = page.locator("#portfolio-chart.js-plotly-plot")
    expect(chart).to_be_visible()
    # Every customer is a point (WebGL points: counted in the chart's data, not the DOM);
    # customers of zero or less also get an edge marker on the log axes, so count each once.
    points = chart.evaluate(
        "el => new Set(el.data.filter(t => t.type === 'scattergl')"
        ".flatMap(t => Array.from(t.customdata))).size"
    )
    assert points == Assessment.objects.count() == 40

    # The value-type table leads to the customers of one type, and on to one customer.
    first_type = page.locator("table a .badge").first
    type_label = first_type.inner_text()
    first_type.click()
    expect(page).to_have_url(re.compile(r"/customers/\?type=\w+"))
    row_link = page.locator("#customer-table tbody a").first
    customer = Customer.objects.get(number=row_link.inner_text())  # the file has no names
    row_link.click()
    expect(page).to_have_url(f"{base}/customers/{customer.pk}/")
    expect(page.locator(".page-head .badge").first).to_have_text(type_label)
    # Its history chart is drawn from the imported months.
    expect(page.locator(".js-plotly-plot").first).to_be_visible()


def test_a_failed_request_is_reported_not_swallowed(live_server, page, demo_chain):
    base, chain = live_server.url, demo_chain
    link = chain.links.first()
    log_in(page, base, "demo")
    page.goto(f"{base}/chains/{chain.pk}/?tab=board")
    # Somebody else removes the actor while the page is open.
    ChainLink.objects.filter(pk=link.pk).delete()
    page.locator(f"#title-{link.pk}").click()
    alert = page.locator("#messages .message.error[role=alert]")
    expect(alert).to_have_text("This was not found; somebody may have deleted it. Reload the page.")


def test_autosave_keeps_saving_and_stops_at_another_persons_answer(live_server, page, demo_chain):
    base, chain = live_server.url, demo_chain
    log_in(page, base, "demo")
    page.goto(f"{base}/chains/{chain.pk}/?tab=worksheet")
    answer = page.locator("#worksheet textarea").first
    question = answer.get_attribute("id").removeprefix("answer-")
    status = page.locator(f"#status-{question}")

    # Saving twice in a row is no conflict with oneself: each save hands on its version.
    for text in ("First thought.", "Second thought."):
        with page.expect_response(lambda r: "/answers/save/" in r.url):
            answer.fill(text)
        expect(status).to_contain_text("Saved")
    saved = WorksheetAnswer.objects.get(chain=chain, link=None, question=question)
    assert saved.text == "Second thought."

    # Somebody else saves meanwhile: the next save is refused and says what they wrote.
    WorksheetAnswer.objects.filter(pk=saved.pk).update(text="Theirs.", version=saved.version + 1)
    with page.expect_response(lambda r: "/answers/save/" in r.url):
        answer.fill("Third thought.")
    expect(status.locator(".conflict-note")).to_contain_text("Theirs.")
    assert WorksheetAnswer.objects.get(pk=saved.pk).text == "Theirs."
    # Typing on saves over it, knowingly.
    with page.expect_response(lambda r: "/answers/save/" in r.url):
        answer.fill("Third thought, final.")
    expect(status).to_contain_text("Saved")
    assert WorksheetAnswer.objects.get(pk=saved.pk).text == "Third thought, final."
