"""Benchmark: server time and query count of the chain page as the chain grows.

Server time is the median wall time of a GET through Django's test client (the whole
request: middleware, queries, rendering); CPU ms is this process's share of it, which
is steadier on a shared machine. Run with DEBUG=0 for production-like template settings.

Builds, in a throwaway test database, a chain with 40 actors, 200 contacts, 60
influences and 100 actions (a third of them overdue; and a small one for comparison),
then requests the page repeatedly through Django's test client. Prints figures; it is
not a pass/fail test.

Then, where Playwright and Chromium are installed, the demo chain in a real browser at
1440 x 900: the page's height, the bytes of its first load, and per typical edit the
requests and bytes the edit makes the page send and receive (the edit and the regions it
reloads). Regions in a closed tab reload when their tab opens: that is counted apart.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chainmap .venv/bin/python bench/chain_page.py
"""

import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
# Run with DEBUG=0 (make bench), the settings need a secret key; this one signs nothing kept.
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "100"))


def build(actors: int, contacts: int, influences: int, actions: int):
    import datetime

    from chain.models import Action, Contact
    from tests.factories import (
        make_chain,
        make_contact,
        make_influence,
        make_link,
        make_team,
        make_user,
    )

    team = make_team()
    user = make_user(f"bench{team.pk}", team)
    chain = make_chain(team, user, scope_name=f"Bench {actors}")
    stages = list(chain.stages.all())
    links = [make_link(chain, stages[i % len(stages)], importance=1 + i % 5) for i in range(actors)]
    levels = list(Contact.Level)
    for i in range(contacts):
        link = links[i % actors]
        name = "" if i % 17 == 0 else f"Person {i}"
        level = Contact.Level.NONE if not name else levels[i % len(levels)]
        make_contact(link, name=name, role=f"Role {i}", level=level)
    pairs = set()
    step = 1
    while len(pairs) < influences:
        for i in range(actors):
            j = (i + step) % actors
            if len(pairs) < influences and i != j:
                pairs.add((i, j))
        step += 1
    for i, j in sorted(pairs):
        make_influence(links[i], links[j], strength=1 + (i + j) % 3)
    today = datetime.date.today()
    Action.objects.bulk_create(
        Action(
            chain=chain,
            title=f"Action {i}",
            owner=user,
            link=links[i % actors],
            due=today + datetime.timedelta(days=i % 30 - 10),
        )
        for i in range(actions)
    )
    return chain, user


def measure(chain, user, tab: str = "") -> tuple[float, float, float, int, int]:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = chain.get_absolute_url() + (f"?tab={tab}" if tab else "")
    client.get(url)  # warm up templates and connection
    times, cpu = [], []
    for _ in range(ROUNDS):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    return statistics.median(times), p95, statistics.median(cpu), len(ctx), len(response.content)


class _Traffic:
    """Responses the page receives, and the requests still open."""

    def __init__(self, page) -> None:
        self.page, self.responses, self.open = page, [], set()
        page.on("request", lambda r: self.open.add(r))
        page.on("requestfinished", lambda r: self.open.discard(r))
        page.on("requestfailed", lambda r: self.open.discard(r))
        page.on("response", self._received)

    def _received(self, response) -> None:
        try:
            size = len(response.body())
        except Exception:  # a redirect or an aborted request has no body
            size = 0
        kind = response.request.resource_type
        self.responses.append((response.request.headers.get("hx-target", ""), kind, size))

    def settle(self) -> None:
        quiet = 0
        while quiet < 5:
            self.page.wait_for_timeout(100)
            quiet = 0 if self.open else quiet + 1

    def take(self, what) -> tuple[int, int]:
        """Run `what` and return the number of responses and their bytes."""
        self.settle()
        self.responses.clear()
        what()
        self.settle()
        return len(self.responses), sum(size for *_, size in self.responses)


def browser_figures() -> None:
    """The demo chain's page in Chromium at 1440 x 900: height and bytes per edit."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("(no Playwright: page height and bytes per edit not measured)")
        return
    from django.conf import settings
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.db import connections
    from django.test.testcases import LiveServerThread

    from chain.models import Chain, Contact
    from customers.management.commands.demo_data import DEMO_PASSWORD, SCOPE

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        print(f"(no {chromium}: page height and bytes per edit not measured)")
        return
    # Plain HTTP on this machine, whatever DEBUG says.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    call_command("demo_data", stdout=io.StringIO())
    chain = Chain.objects.get(scope_name=SCOPE)
    occasional = str(Contact.Level.OCCASIONAL)
    stages = chain.stages.count()  # no queries once Playwright runs its event loop
    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite"}
    for conn in shared.values():
        conn.inc_thread_sharing()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override=shared)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-US")
            page.set_default_timeout(20_000)
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", "demo")
            page.fill("#id_password", DEMO_PASSWORD)
            page.press("#id_password", "Enter")
            page.wait_for_url(f"{base}/chains/")
            traffic = _Traffic(page)
            n, size = traffic.take(lambda: page.goto(f"{base}/chains/{chain.pk}/"))
            height = page.evaluate("document.documentElement.scrollHeight")
            html = sum(size for _, kind, size in traffic.responses if kind == "document")
            print(f"\nthe demo chain ({stages} stages) in Chromium at 1440 x 900")
            print(f"page height {height} px; HTML {html / 1024:.1f} KiB", end="; ")
            print(f"first load with scripts and styles {n} responses, {size / 1024:.1f} KiB")

            def tab(name: str) -> None:
                # Without tabs (an older layout) everything is on the page already.
                if page.locator(f"#tab-{name}").count():
                    page.locator(f"#tab-{name}").click()

            def move() -> None:
                page.locator("#board .link-card .card-tools button[value=down]").first.click()

            def characterise() -> None:
                form = page.locator("form.link-form")
                form.locator("[name=notes]").fill("Measured.")
                form.locator("button.primary[type=submit]").click()

            def contact() -> None:
                form = page.locator("form.contact-form")
                form.locator("[name=level]").select_option(occasional)
                form.locator("button.primary[type=submit]").click()

            def answer() -> None:
                page.locator("#worksheet textarea").first.fill("Measured answer.")
                page.wait_for_timeout(1500)  # the autosave waits for a pause in typing

            print(f"{'edit':<44}{'requests':>9}{'KiB':>8}")
            traffic.take(lambda: tab("board"))
            rows = [("move an actor with its arrow button", move)]
            rows.append(("characterise an actor (form saved)", characterise))
            rows.append(("change a contact's level (form saved)", contact))
            for label, edit in rows:
                if edit is characterise:
                    page.locator("#board .card-title").nth(2).click()
                    page.locator("form.link-form").wait_for()
                if edit is contact:
                    page.locator("#board .contacts li a").first.click()
                    page.locator("form.contact-form").wait_for()
                n, size = traffic.take(edit)
                print(f"{label:<44}{n:>9}{size / 1024:>8.1f}")
            traffic.take(lambda: tab("worksheet"))
            n, size = traffic.take(answer)
            print(f"{'answer a worksheet question':<44}{n:>9}{size / 1024:>8.1f}")
            n, size = traffic.take(lambda: tab("diagram"))
            label = "then open the diagram tab (stale regions)"
            print(f"{label:<44}{n:>9}{size / 1024:>8.1f}")
            browser.close()
    finally:
        server.terminate()
        for conn in shared.values():
            conn.dec_thread_sharing()


def main() -> None:
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: {connection.vendor}, rounds: {ROUNDS}")
        print(f"{'chain':<56}{'median ms':>10}{'p95 ms':>9}{'CPU ms':>8}{'queries':>9}{'KiB':>7}")
        for actors, contacts, influences, actions in [(4, 10, 3, 2), (40, 200, 60, 100)]:
            chain, user = build(actors, contacts, influences, actions)
            label = f"{actors} actors, {contacts} cont., {influences} infl., {actions} act."
            # The page as it opens (the diagram tab), then opened on the tabs that show
            # every actor with its contacts and every action.
            for tab in ("", "board", "actions"):
                median, p95, cpu, queries, size = measure(chain, user, tab)
                row = f"{label}, ?tab={tab}" if tab else label
                print(
                    f"{row:<56}{median:>10.1f}{p95:>9.1f}{cpu:>8.1f}{queries:>9}{size / 1024:>7.0f}"
                )
        browser_figures()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
