"""A newcomer's first session on the demo chain, in a real browser.

Logs in, extends the chain (stage, actor, characterisation, contact, influence), answers a
worksheet question, reorders by drag and drop and by keyboard buttons, switches the diagram
colour and downloads the diagram. Every write is checked after a reload or in the database.
"""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from chain.models import Chain, ChainLink, Stage
from customers.management.commands.demo_data import SCOPE

from .conftest import CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]

STAGE = "Service partners"
ACTOR = "Fliesenlabor Nord"  # short enough not to be truncated in the diagram
ACTOR_KIND = "Servicepartner"
CONTACT = "Jana Petersen"
INFLUENCE_TARGET = "Fliesenleger-Betriebe Region Süd"
INFLUENCE_TEXT = "Tests adhesives on cold substrates and advises the tilers."
ANSWER = "ProFix for tilers in southern Germany, checked in the browser."


def _board_write(page, url_part: str):
    """Wait for the htmx POST to `url_part` to be answered, so the DB reflects the write."""
    return page.expect_response(lambda r: url_part in r.url and r.request.method == "POST" and r.ok)


def _tab(page, name: str) -> None:
    """Open a tab of the chain page."""
    page.locator(f"#tab-{name}").click()
    expect(page.locator(f"#panel-{name}")).to_be_visible()


def _stage_ids(page) -> list[str]:
    return page.locator("#board .stages > .stage").evaluate_all("els => els.map(e => e.id)")


@pytest.mark.django_db(transaction=True)
def test_newcomer_maps_the_demo_chain(live_server, page, tmp_path: Path):
    call_command("demo_data", stdout=StringIO())
    chain = Chain.objects.get(scope_name=SCOPE)
    base = live_server.url

    log_in(page, base)

    # The chain list leads to the demo chain.
    page.locator(f'#chain-table a[href="/chains/{chain.pk}/"]').click()
    expect(page).to_have_url(f"{base}/chains/{chain.pk}/")
    expect(page.locator("#summary h1")).to_contain_text(SCOPE)

    # A new stage, added through the htmx form, appears as the last column.
    _tab(page, "board")
    page.locator(f'#board a[href="/chains/{chain.pk}/stages/add/"]').click()
    stage_form = page.locator("#board-form-slot form.stage-form")
    stage_form.locator("[name=name]").fill(STAGE)
    stage_form.locator("button[type=submit]").click()
    expect(page.locator("#board .stage h3", has_text=STAGE)).to_be_visible()
    stage = Stage.objects.get(chain=chain, name=STAGE)
    expect(page.locator("#board .stages > .stage").last).to_have_id(f"stage-{stage.pk}")

    # A new actor from "+ Actor": a new catalog entry placed in the new stage.
    page.locator(f'#board .panel-head a[href="/chains/{chain.pk}/links/add/"]').click()
    add_form = page.locator("#board-form-slot form")
    add_form.locator("[name=new_name]").fill(ACTOR)
    add_form.locator("[name=new_kind]").select_option(label=ACTOR_KIND)
    add_form.locator("[name=stage]").select_option(str(stage.pk))
    add_form.locator("button[type=submit]").click()
    expect(page.locator(f"#stage-{stage.pk} .link-card", has_text=ACTOR)).to_be_visible()
    link = ChainLink.objects.get(chain=chain, actor__name=ACTOR)
    card = page.locator(f"article#link-{link.pk}")
    expect(card.locator(".warn")).to_be_visible()  # "Not characterised yet"

    # Characterise it: the name opens the edit form in place of the card.
    card.locator("a.card-title").click()
    link_form = page.locator(f"form#link-{link.pk}")
    link_form.locator("[name=importance]").select_option("4")
    link_form.locator("[name=relationship]").select_option(ChainLink.Relationship.PARTNER.value)
    link_form.locator("label", has_text="Technische Beratung").locator("input").check()
    link_form.locator("[name=problems_needs]").fill("Needs samples for cold-substrate tests.")
    link_form.locator("button[type=submit]").click()
    expect(card.locator(".dots")).to_have_attribute("aria-label", "importance: 4")
    expect(card.locator(".dots")).to_have_text("●●●●○")
    expect(card.locator(".warn")).to_have_count(0)

    # A contact with regular direct contact, added from the card.
    card.locator(f'a[href="/chains/links/{link.pk}/contacts/add/"]').click()
    contact_form = page.locator(f"#contact-slot-{link.pk} form.contact-form")
    contact_form.locator("[name=name]").fill(CONTACT)
    contact_form.locator("[name=role]").fill("Head of the test lab")
    contact_form.locator("[name=level]").select_option(label="regular direct contact")
    contact_form.locator("button[type=submit]").click()
    contact = card.locator(".contacts li", has_text=CONTACT)
    expect(contact).to_be_visible()
    expect(contact.locator(".level")).to_have_text("regular direct contact")

    # An influence from the new actor: listed, and drawn as one more arrow.
    with page.expect_response(lambda r: r.request.headers.get("hx-target") == "diagram"):
        _tab(page, "diagram")  # the diagram reloads: actors were added meanwhile
    arrows = page.locator("#diagram svg path.influence")
    n_arrows = arrows.count()
    assert n_arrows > 0
    page.locator(f'#influences a[href="/chains/{chain.pk}/influences/add/"]').click()
    influence_form = page.locator("#influence-form-slot form.influence-form")
    influence_form.locator("[name=source]").select_option(label=ACTOR)
    influence_form.locator("[name=target]").select_option(label=INFLUENCE_TARGET)
    influence_form.locator("[name=description]").fill(INFLUENCE_TEXT)
    influence_form.locator("button[type=submit]").click()
    listed = page.locator("#influences .influence-list li", has_text=INFLUENCE_TEXT)
    expect(listed).to_contain_text(f"{ACTOR} → {INFLUENCE_TARGET}")
    expect(arrows).to_have_count(n_arrows + 1)

    # A worksheet answer saves itself while typing and survives a reload (in its tab).
    _tab(page, "worksheet")
    answer = page.locator("#worksheet textarea").first
    answer.fill(ANSWER)
    expect(page.locator("#worksheet .save-status").first).to_contain_text("Saved")
    page.reload()
    expect(page.locator("#worksheet textarea").first).to_have_value(ANSWER)

    # Drag and drop: the new actor's card onto the neighbouring stage "Planer".
    _tab(page, "board")
    planer = Stage.objects.get(chain=chain, name="Planer")
    source = card.locator(".card-meta").first
    target = page.locator(f"#stage-{planer.pk} .links .link-card").first
    source.scroll_into_view_if_needed()
    with _board_write(page, f"/chains/{chain.pk}/links/reorder/"):
        box = source.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 - 20, box["y"] + box["height"] / 2, steps=5)
        drop = target.bounding_box()
        page.mouse.move(drop["x"] + drop["width"] / 2, drop["y"] + drop["height"] / 2, steps=20)
        page.mouse.up()
    page.reload()
    expect(page.locator(f"#stage-{planer.pk} #link-{link.pk}")).to_be_visible()
    expect(page.locator(f"#stage-{stage.pk} .link-card")).to_have_count(0)
    assert ChainLink.objects.get(pk=link.pk).stage == planer

    # Keyboard alternative: the first stage moves one place to the right.
    first, second, *rest = _stage_ids(page)
    first_pk = first.removeprefix("stage-")
    with _board_write(page, f"/chains/stages/{first_pk}/move/"):
        page.locator(f"#{first} .stage-tools button[name=direction][value=right]").click()
    expect(page.locator("#board .stages > .stage").nth(1)).to_have_id(first)
    page.reload()
    assert _stage_ids(page) == [second, first, *rest]
    db_order = list(chain.stages.order_by("position").values_list("pk", flat=True))
    assert [f"stage-{pk}" for pk in db_order] == [second, first, *rest]

    # The diagram switches to contact coverage.
    _tab(page, "diagram")
    with page.expect_response(re.compile(r"color=coverage")):
        page.locator("#diagram-controls input[name=color][value=coverage]").check()
    expect(page.locator("#diagram-controls input[name=color][value=coverage]")).to_be_checked()
    expect(page.locator("#diagram svg")).to_contain_text("nobody known")

    # The download is a standalone SVG file with the new actor in it.
    with page.expect_download() as download_info:
        page.locator(f'#diagram a[href^="/chains/{chain.pk}/diagram.svg"]').click()
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    svg = path.read_text(encoding="utf-8")
    assert svg.startswith("<?xml")
    assert "<svg" in svg
    assert ACTOR in svg
    assert "nobody known" in svg  # the download follows the colour switch
