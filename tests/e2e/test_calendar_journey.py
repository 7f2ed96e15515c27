"""The calendar of one's actions in a real browser: copy the secret address, a calendar
program fetches it without a login, and renewing it (after a confirmation) retires it."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from chain.models import Action, Chain
from customers.management.commands.demo_data import SCOPE

from .conftest import ARTIFACTS, CHROMIUM, close_settled, log_in, new_context

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


@pytest.fixture
def demo_action(transactional_db) -> Action:
    call_command("demo_data", stdout=StringIO())
    return Action.objects.create(
        chain=Chain.objects.get(scope_name=SCOPE),
        owner=User.objects.get(username="demo"),
        title="Einkäufer bei Baustoff Nord anrufen, dann: Muster schicken",
        due=timezone.localdate() + timedelta(days=2),
    )


def _problems(page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    return seen


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
def test_subscribe_copy_and_renew(live_server, browser, demo_action, locale):
    base = live_server.url
    context = new_context(browser, locale)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    problems = _problems(page)
    log_in(page, base)
    page.goto(f"{base}/chains/actions/calendar/")
    field = page.locator("#calendar-url")
    address = field.input_value()
    assert address.startswith(f"{base}/chains/actions/calendar/") and address.endswith(".ics")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"calendar-{locale}.png"), full_page=True)

    page.locator("[data-copy]").click()
    expect(page.locator("[data-copy]")).to_have_text("Copied" if locale == "en-US" else "Kopiert")
    assert page.evaluate("navigator.clipboard.readText()") == address

    # A calendar program: no session, no cookies.
    program = browser.new_context()
    feed = program.request.get(address)
    assert feed.status == 200 and "text/calendar" in feed.headers["content-type"]
    assert "SUMMARY:Einkäufer bei Baustoff Nord anrufen\\, dann: Muster schicken" in feed.text()

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form[data-confirm] button").click()
    expect(page.locator(".message.success")).to_be_visible()
    assert field.input_value() != address
    assert program.request.get(address).status == 404
    assert program.request.get(field.input_value()).status == 200
    program.close()
    assert problems == []
    close_settled(context, page)
