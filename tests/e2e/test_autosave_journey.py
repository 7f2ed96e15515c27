"""Worksheet autosave in a real browser: typing and clicking on at once, three per-actor
answers in quick succession, a save that fails and is tried again, leaving the page right
after typing. No typed text is lost, no request fails on the server."""

import logging
import time

import pytest
from django.db import connection

from chain.models import Chain, WorksheetAnswer

from .conftest import CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]

SAVE = "/answers/save/"


@pytest.fixture
def server_errors(caplog) -> list[logging.LogRecord]:
    """Requests the server answered with 5xx, from the request log of the live server."""
    caplog.set_level(logging.INFO, logger="chainmap.request")
    yield caplog.records
    # Read at the end of the test by _assert_no_server_errors.


def _busy_allowed() -> bool:
    """On SQLite the live server's threads share the one connection to the in-memory test
    database, so that overlapping requests can find a table locked whatever the settings
    (tests/test_database.py shows a database file taking overlapping saves). The answer is
    a 503 that the page tries again; never a 500. On PostgreSQL not even that."""
    return connection.vendor == "sqlite"


def _assert_no_server_errors(records: list[logging.LogRecord], statuses: list[int]) -> None:
    allowed = {503} if _busy_allowed() else set()
    logged = [getattr(r, "status", 0) for r in records if r.name == "chainmap.request"]
    failed = [status for status in [*logged, *statuses] if status >= 500]
    assert set(failed) <= allowed, failed


def _answer(chain: Chain, question: str, link_pk: int | None = None) -> str:
    found = WorksheetAnswer.objects.filter(chain=chain, link_id=link_pk, question=question)
    return found.values_list("text", flat=True).first() or ""


def _eventually(check, seconds: float = 10) -> None:
    """Wait for `check()` to hold: a save sent while the page is left lands a moment later."""
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert check()


def _open_worksheet(page, base: str, chain: Chain) -> None:
    page.goto(f"{base}/chains/{chain.pk}/?tab=worksheet")
    expect(page.locator("#worksheet textarea").first).to_be_visible()


def test_three_quick_answers_and_typing_then_clicking_on_are_all_saved(
    live_server, page, demo_chain, server_errors
):
    base, chain = live_server.url, demo_chain
    responses = []
    page.on("response", lambda r: responses.append(r.status) if SAVE in r.url else None)
    log_in(page, base, "demo")
    _open_worksheet(page, base, chain)

    # Three answers for one actor, one right after the other: their saves overlap.
    actor = page.locator("#actor-questions details.actor-questions").first
    actor.locator("summary").click()
    fields = actor.locator("textarea[data-link]")
    expect(fields).to_have_count(3)
    link_pk = int(fields.first.get_attribute("data-link"))
    texts = {}
    for index in range(3):
        one = fields.nth(index)
        texts[one.get_attribute("data-question")] = f"Quick answer {index + 1}."
        one.fill(f"Quick answer {index + 1}.")

    # Typing a chain question, and at once on to the board and a click that changes the
    # chain: its save and the move overlap, and the move reloads the actors' questions.
    field = page.locator("#worksheet textarea:not([data-link])").first
    question = field.get_attribute("data-question")
    typed = "Typed, then straight on to the board."
    field.select_text()  # typing replaces the demo's answer
    field.press_sequentially(typed, delay=5)
    board_tab = page.locator("#tab-board")
    if board_tab.count():
        board_tab.click()
    with page.expect_response(lambda r: "/move/" in r.url):
        page.locator('#board button[name="direction"][value="right"]:not([disabled])').first.click()

    expect(page.locator("#messages .message.error")).to_have_count(0)
    _eventually(lambda: _answer(chain, question) == typed)
    _eventually(lambda: {key: _answer(chain, key, link_pk) for key in texts} == texts)

    # After a reload every typed text is there.
    page.reload()
    _open_worksheet(page, base, chain)
    expect(page.locator(f"#answer-{question}")).to_have_value(typed)
    actor = page.locator("#actor-questions details.actor-questions").first
    actor.locator("summary").click()
    for key, text in texts.items():
        expect(page.locator(f"#answer-{link_pk}-{key}")).to_have_value(text)
    # Unchanged answers were not sent again: one save per field typed in, at most one more
    # for a field changed while its first save was on its way.
    assert 4 <= len([s for s in responses if s != 503]) <= 8
    _assert_no_server_errors(server_errors, responses)


def test_a_failed_save_keeps_the_text_says_so_and_is_tried_again(
    live_server, page, demo_chain, server_errors
):
    base, chain = live_server.url, demo_chain
    log_in(page, base, "demo")
    _open_worksheet(page, base, chain)
    field = page.locator("#worksheet textarea:not([data-link])").first
    question = field.get_attribute("data-question")
    status = page.locator(f"#{field.get_attribute('data-status')}")

    # The first save never reaches the server (the connection drops).
    dropped = []

    def drop_once(route):
        if dropped:
            route.continue_()
        else:
            dropped.append(route.request.post_data)
            route.abort("connectionreset")

    page.route(f"**{SAVE}", drop_once)
    text = "Written while the connection dropped."
    field.fill(text)

    expect(status).to_contain_text("Not saved yet – retrying…")
    expect(field).to_have_value(text)
    # Tried again by itself, and saved.
    expect(status).to_contain_text("Saved")
    assert len(dropped) == 1
    assert _answer(chain, question) == text
    _assert_no_server_errors(server_errors, [])


def test_the_notice_speaks_german(live_server, browser, demo_chain, request):
    from .conftest import open_page

    base, chain = live_server.url, demo_chain
    pages = open_page(browser, request, "de-DE")
    page = next(pages)
    try:
        log_in(page, base, "demo")
        _open_worksheet(page, base, chain)
        field = page.locator("#worksheet textarea:not([data-link])").first
        page.route(f"**{SAVE}", lambda route: route.abort("connectionreset"))
        field.fill("Nicht verloren.")
        status = page.locator(f"#{field.get_attribute('data-status')}")
        expect(status).to_contain_text("Nicht gespeichert – neuer Versuch…")
        page.unroute(f"**{SAVE}")
        expect(status).to_contain_text("Gespeichert")
    finally:
        next(pages, None)


def test_text_typed_just_before_leaving_the_page_is_saved(live_server, page, demo_chain):
    base, chain = live_server.url, demo_chain
    log_in(page, base, "demo")
    _open_worksheet(page, base, chain)
    field = page.locator("#worksheet textarea:not([data-link])").first
    question = field.get_attribute("data-question")

    text = "Typed, and off to the chain list at once."
    field.fill(text)
    # Before the pause after typing is over: the save goes as the page is left.
    page.goto(f"{base}/chains/")

    _eventually(lambda: _answer(chain, question) == text)
    _open_worksheet(page, base, chain)
    expect(page.locator(f"#answer-{question}")).to_have_value(text)
