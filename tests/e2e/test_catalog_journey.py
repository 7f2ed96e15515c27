"""Two teams share a catalog actor, in a real browser.

A sales user of the other team characterises BauRing in that team's chain: competitive
position and count are the chain's own, the organisation's kind and size class are read-only
for them because the demo team's chain uses the actor too. The demo team's chain, which the
other team cannot open, still shows BauRing as before.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from chain.models import Actor, Chain, ChainLink, Team
from customers.management.commands.demo_data import OTHER_TEAM, SCOPE
from tests.factories import make_chain, make_link

from .conftest import CHROMIUM, close_settled, log_in, new_context

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]

BAURING = "BauRing Baustoffhandel Gruppe"


@pytest.mark.django_db(transaction=True)
def test_another_teams_characterisation_leaves_the_demo_chain_unchanged(live_server, page, browser):
    call_command("demo_data", stdout=StringIO())
    base = live_server.url
    chain_a = Chain.objects.get(scope_name=SCOPE)
    link_a = ChainLink.objects.get(chain=chain_a, actor__name=BAURING)
    before_a = (link_a.competitive_position, link_a.count, link_a.importance)
    actor = Actor.objects.get(name=BAURING)
    team_b = Team.objects.get(name=OTHER_TEAM)
    colleague = team_b.members.get(username="kollege")
    chain_b = make_chain(team_b, colleague, "Industrieklebstoffe")
    link_b = make_link(chain_b, actor=actor)

    # The colleague of the other team opens BauRing in their own chain.
    log_in(page, base, "kollege")
    page.goto(f"{base}/chains/{chain_b.pk}/?tab=board")
    page.locator(f"#title-{link_b.pk}").click()
    form = page.locator(f"form#link-{link_b.pk}")
    # Kind and size class belong to the organisation, which the demo team's chain uses too.
    expect(form.locator("[name=size]")).to_be_disabled()
    expect(form.locator("[name=kind]")).to_be_disabled()
    expect(form.locator(".field-size")).to_contain_text("Also used in chains of other teams")

    form.locator("[name=competitive_position]").select_option("niche")
    form.locator("[name=count]").fill("12")
    form.locator("[name=importance]").select_option("2")
    form.locator("button[type=submit]").click()
    card_b = page.locator(f"article#link-{link_b.pk}")
    expect(card_b).to_contain_text("niche player")
    expect(card_b.locator("header")).to_contain_text("×12")

    link_b.refresh_from_db()
    assert (link_b.competitive_position, link_b.count, link_b.importance) == ("niche", 12, 2)
    # The other team cannot open the demo team's chain at all.
    assert page.goto(f"{base}/chains/{chain_a.pk}/").status == 404

    # The demo team's chain shows BauRing as it was.
    context = new_context(browser, "en-US")
    demo = context.new_page()
    try:
        log_in(demo, base, "demo")
        demo.goto(f"{base}/chains/{chain_a.pk}/?tab=board")
        card_a = demo.locator(f"article#link-{link_a.pk}")
        expect(card_a).to_contain_text("market leader")
        expect(card_a).not_to_contain_text("niche player")
        expect(card_a.locator("header")).not_to_contain_text("×12")
        expect(card_a.locator(".dots")).to_have_attribute(
            "aria-label", f"importance: {before_a[2]}"
        )
    finally:
        close_settled(context, demo)
    link_a.refresh_from_db()
    assert (link_a.competitive_position, link_a.count, link_a.importance) == before_a
    actor.refresh_from_db()
    assert (actor.size, actor.version) == (Actor.Size.GROUP, 1)
