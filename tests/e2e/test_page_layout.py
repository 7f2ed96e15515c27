"""The chain page's layout in a real browser at 1440 x 900: tabs by keyboard, focus after a
keyboard move, regions that reload only when what they show changed, a diagram of six
stages that fits the screen."""

import pytest

from chain.models import ChainLink, Contact

from .conftest import CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]

REGIONS = {
    "summary",
    "review",
    "diagram",
    "white-spots",
    "influence-list",
    "actor-questions",
    "activity",
}


@pytest.fixture
def chain_page(live_server, page, demo_chain):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url)
    return page


class _Regions:
    """The regions the page asks for (their HX-Target), and the requests still open."""

    def __init__(self, page) -> None:
        self.page = page
        self.asked: list[str] = []
        self.open: set = set()
        page.on("request", self._sent)
        page.on("requestfinished", lambda request: self.open.discard(request))
        page.on("requestfailed", lambda request: self.open.discard(request))

    def _sent(self, request) -> None:
        self.open.add(request)
        target = request.headers.get("hx-target", "")
        if request.method == "GET" and target in REGIONS:
            self.asked.append(target)

    def settle(self) -> None:
        """Wait until the page has sent what an edit makes it send, and got the answers:
        the regions ask as soon as the edit's answer arrives."""
        quiet = 0
        while quiet < 4:
            self.page.wait_for_timeout(100)
            quiet = 0 if self.open else quiet + 1


def test_the_diagram_of_six_stages_fits_the_screen(live_server, chain_page, demo_chain):
    page = chain_page
    page.goto(f"{live_server.url}/chains/{demo_chain.pk}/")
    svg = page.locator("#diagram svg.diagram")
    expect(svg).to_be_visible()
    box = svg.bounding_box()
    # Drawn at its own size, not shrunk, and whole within the window.
    assert box["width"] == pytest.approx(float(svg.get_attribute("width")), abs=1)
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1440
    stages = page.locator("#diagram svg text.d-stage")
    for i in range(demo_chain.stages.count()):
        expect(stages.nth(i)).to_be_in_viewport()
    # The diagram is on the first screen, below the chain's summary and the tabs.
    assert box["y"] < 900
    assert page.evaluate("document.documentElement.scrollHeight") < 2500


def test_the_tabs_work_by_keyboard(live_server, chain_page, demo_chain):
    page = chain_page
    url = f"{live_server.url}/chains/{demo_chain.pk}/"
    page.goto(url)
    diagram_tab = page.locator("#tab-diagram")
    expect(diagram_tab).to_have_attribute("aria-selected", "true")
    # Only the open tab is in the tab order; arrow keys move between tabs.
    tabs = page.locator("[role=tab]").count()
    assert tabs >= 5
    expect(page.locator("[role=tab][tabindex='-1']")).to_have_count(tabs - 1)
    diagram_tab.focus()
    page.keyboard.press("ArrowRight")
    board_tab = page.locator("#tab-board")
    expect(board_tab).to_be_focused()
    expect(board_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-board")).to_be_visible()
    expect(page.locator("#panel-diagram")).to_be_hidden()
    assert page.url == url + "?tab=board"

    # The activity feed loads when its tab opens.
    page.keyboard.press("End")
    expect(page.locator("#tab-activity")).to_be_focused()
    expect(page.locator("#activity .feed-entry").first).to_be_visible()
    page.keyboard.press("Home")
    expect(diagram_tab).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#tab-activity")).to_have_attribute("aria-selected", "true")

    # A reload keeps the tab; a link to an actor's card from another tab opens the board.
    page.reload()
    expect(page.locator("#panel-activity")).to_be_visible()
    page.locator("#tab-diagram").click()
    spot = page.locator("#white-spots .spots a").first
    spot.click()
    expect(page.locator("#panel-board")).to_be_visible()
    card_id = spot.get_attribute("href").split("#")[1]
    expect(page.locator(f"#{card_id}")).to_be_in_viewport()


def test_a_box_in_the_diagram_opens_the_actors_form_on_the_board(
    live_server, chain_page, demo_chain
):
    page = chain_page
    page.goto(f"{live_server.url}/chains/{demo_chain.pk}/")
    link = demo_chain.links.filter(actor__is_own_company=False).first()
    page.locator(f"#diagram #box-{link.pk}").click()
    expect(page.locator(f"form#link-{link.pk}")).to_be_visible()
    expect(page.locator("#tab-board")).to_have_attribute("aria-selected", "true")


def test_moving_by_keyboard_keeps_the_focus_on_the_moved_item(live_server, chain_page, demo_chain):
    page = chain_page
    page.goto(f"{live_server.url}/chains/{demo_chain.pk}/?tab=board")
    stage = next(s for s in demo_chain.stages.all() if s.links.count() >= 3)
    first = ChainLink.objects.filter(stage=stage).order_by("position").first()
    down = page.locator(f"#link-{first.pk} .card-tools button[value=down]")
    down.focus()
    for expected_place in (1, 2):
        with page.expect_response(lambda r: "/move/" in r.url and r.ok):
            page.keyboard.press("Enter")
        cards = page.locator(f"#stage-{stage.pk} .link-card")
        expect(cards.nth(expected_place)).to_have_id(f"link-{first.pk}")  # the new board
        focused = page.locator(f"#link-{first.pk} .card-tools button[value=down]")
        expect(focused).to_be_focused()
        order = list(
            ChainLink.objects.filter(stage=stage).order_by("position").values_list("pk", flat=True)
        )
        assert order.index(first.pk) == expected_place

    # A stage too: to the right, and from the last place the left button takes the focus.
    stages = list(demo_chain.stages.order_by("position"))
    second_last = stages[-2]
    right = page.locator(f"#stage-{second_last.pk} .stage-tools button[value=right]")
    right.focus()
    with page.expect_response(lambda r: "/move/" in r.url and r.ok):
        page.keyboard.press("Enter")
    expect(page.locator("#board .stages > .stage").last).to_have_id(f"stage-{second_last.pk}")
    left = page.locator(f"#stage-{second_last.pk} .stage-tools button[value=left]")
    expect(left).to_be_focused()
    assert demo_chain.stages.order_by("position").last() == second_last


def test_an_edit_reloads_only_the_regions_that_show_what_changed(
    live_server, chain_page, demo_chain
):
    page = chain_page
    page.goto(f"{live_server.url}/chains/{demo_chain.pk}/?tab=board")
    regions = _Regions(page)
    regions.settle()
    regions.asked.clear()

    # Moving an actor changes no figure: the summary stays, and the regions of the other
    # tabs wait until their tab opens.
    link = ChainLink.objects.filter(chain=demo_chain).order_by("stage__position", "position")[0]
    with page.expect_response(lambda r: "/move/" in r.url and r.ok):
        page.locator(f"#link-{link.pk} .card-tools button[value=down]").click()
    regions.settle()
    assert regions.asked == []

    # A contact changes the coverage: the summary reloads at once.
    contact = Contact.objects.filter(link__chain=demo_chain).exclude(name="").first()
    page.locator(f"#contact-{contact.pk} a").click()
    form = page.locator("form.contact-form")
    form.locator("[name=level]").select_option(Contact.Level.NONE)
    with page.expect_response(lambda r: "/edit/" in r.url and r.request.method == "POST"):
        form.locator("button.primary[type=submit]").click()
    regions.settle()
    assert regions.asked == ["summary"]

    # The diagram's tab opens: its regions changed by the move and the contact reload
    # once each; the influence list, unchanged by both, does not.
    regions.asked.clear()
    page.locator("#tab-diagram").click()
    regions.settle()
    assert sorted(regions.asked) == ["diagram", "white-spots"]

    # An influence removed: the diagram reloads, and the figures (influences count for the
    # completeness and the light).
    regions.asked.clear()
    influence = demo_chain.influences.first()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: "/delete/" in r.url and r.ok):
        page.locator(f"#influence-{influence.pk} button.danger-outline").click()
    regions.settle()
    assert sorted(regions.asked) == ["diagram", "summary"]
    assert not demo_chain.influences.filter(pk=influence.pk).exists()


def test_a_button_aimed_at_a_closed_tab_opens_it_and_goes_on(live_server, chain_page, demo_chain):
    """Only the open tab's regions come with the page: a review comment's "Create action"
    aims at the Actions tab's form slot before that tab has ever loaded."""
    from chain.models import ReviewComment

    page = chain_page
    comment = ReviewComment.objects.create(chain=demo_chain, text="Who signs the orders?")
    page.goto(f"{live_server.url}/chains/{demo_chain.pk}/?tab=review")
    # The Actions tab is a placeholder yet, the form slot not on the page.
    expect(page.locator("#actions.region-later")).to_have_count(1)
    expect(page.locator("#action-form-slot")).to_have_count(0)
    page.locator(f"#comment-{comment.pk} a.create-action").click()
    expect(page.locator("#tab-actions")).to_have_attribute("aria-selected", "true")
    form = page.locator("#action-form-slot form")
    expect(form).to_be_visible()
    expect(form.locator("input[name=title]")).to_have_value(
        "Answer review comment: Who signs the orders?", timeout=10_000
    )
