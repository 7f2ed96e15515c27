"""Browser fixtures for the real-browser tests: the system Chromium, driven by Playwright."""

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread, so Django's ORM (used by the
# test to prepare and check data) would otherwise refuse to run as "async unsafe".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # Keep each phase's report on the item, so the page fixture knows whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        # CI installs Chromium (.ci/run); there a missing browser is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is not installed")
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        # Never a downloaded browser: the system one, so the tests run offline.
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Requests sent and not yet answered, per browser context (see close_settled).
_PENDING: dict[int, set] = {}


def new_context(browser, locale: str):
    """A browser context asking for `locale` that keeps track of its open requests."""
    context = browser.new_context(
        locale=locale, viewport={"width": 1600, "height": 1000}, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    pending: set = set()
    context.on("request", lambda request: pending.add(request))
    context.on("requestfinished", lambda request: pending.discard(request))
    context.on("requestfailed", lambda request: pending.discard(request))
    _PENDING[id(context)] = pending
    return context


def close_settled(context, page) -> None:
    """Close the context once the server has answered all its requests. A write makes the
    page reload its regions; a request still running when the test database is flushed
    after the test can deadlock the flush."""
    pending = _PENDING.pop(id(context), set())
    deadline = time.monotonic() + 10
    while pending and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    context.close()


def open_page(browser, request: pytest.FixtureRequest, locale: str) -> Iterator:
    """A page in a fresh browser context whose browser asks for `locale`; a screenshot of
    it lands in test-artifacts/ when the test fails."""
    context = new_context(browser, locale)
    page = context.new_page()
    yield page
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    close_settled(context, page)


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator:
    # en-US makes LocaleMiddleware pick English, whatever LANGUAGE_CODE says.
    yield from open_page(browser, request, "en-US")


def log_in(page, base: str, username: str = "demo", password: str | None = None) -> None:
    """Log in through the form, as a person does (django-axes needs the real login)."""
    from playwright.sync_api import expect

    from customers.management.commands.demo_data import DEMO_PASSWORD

    page.goto(f"{base}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password or DEMO_PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page).to_have_url(f"{base}/chains/")


@pytest.fixture
def demo_chain(transactional_db, settings, tmp_path):
    """The demo data (demo_data command) and its chain; uploads land in a temporary folder."""
    from django.core.management import call_command

    from chain.models import Chain
    from customers.management.commands.demo_data import SCOPE

    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("demo_data", stdout=io.StringIO())
    return Chain.objects.get(scope_name=SCOPE)
