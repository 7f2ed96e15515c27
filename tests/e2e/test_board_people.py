"""People, roles and type changes on the demo chain's board and diagram, in a real browser,
in German and in English."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chain.models import ChainEvent, ChainLink, Contact, StageRole

from .conftest import ARTIFACTS, CHROMIUM, close_settled, log_in, new_context

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]

WORDS = {
    "en-US": {
        "role": "Buying role: decision maker",
        "ago": "3 weeks ago",
        "caption": "customer's customer",
        "scheme": "attitude of the decision makers",
        "legend": "decision makers critical",
        "change": "customer type changed: Bau Meyer growth customer → bell customer",
    },
    "de-DE": {
        "role": "Rolle im Einkauf: Entscheider",
        "ago": "vor 3 Wochen",
        "caption": "Kunde des Kunden",
        "scheme": "Haltung der Entscheider",
        "legend": "Entscheider kritisch",
        "change": "Kundenwerttyp geändert: Bau Meyer Wachstumskunde → Glockenkunde",
    },
}


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
def test_the_board_and_the_diagram_show_people_roles_and_changes(
    live_server, browser, demo_chain, locale
):
    words = WORDS[locale]
    link = ChainLink.objects.filter(
        chain=demo_chain, stage__role=StageRole.CUSTOMER, actor__is_own_company=False
    ).first()
    contact = Contact.objects.filter(link=link).exclude(name="").first()
    contact.buying_role, contact.attitude = "decision_maker", "critic"
    contact.last_contact = timezone.localdate() - timedelta(days=22)
    contact.save()
    data = {"customer": "K-1", "name": "Bau Meyer", "from": "growth", "to": "bell"}
    ChainEvent.objects.create(chain=demo_chain, link=link, kind="type_change", data=data)

    context = new_context(browser, locale)
    page = context.new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    try:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/chains/{demo_chain.pk}/?tab=board")
        row = page.locator(f"#contact-{contact.pk}")
        # The symbol's words: a tooltip, and text that screen readers read.
        expect(row.locator(".sym.role")).to_have_attribute("title", words["role"])
        expect(row.locator(".sym.role .visually-hidden")).to_have_text(words["role"])
        expect(row.locator(".when")).to_contain_text(words["ago"])
        card = page.locator(f"#link-{link.pk}")
        expect(card.locator(".type-change")).to_contain_text(words["change"])
        expect(page.locator(".stage-role").filter(has_text=words["caption"])).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#board").screenshot(path=str(ARTIFACTS / f"board-{locale}.png"))

        page.goto(f"{live_server.url}/chains/{demo_chain.pk}/?tab=diagram")
        page.get_by_label(words["scheme"]).check()
        diagram = page.locator("#diagram svg")
        expect(diagram).to_contain_text(words["legend"])
        expect(diagram.locator(f"#box-{link.pk} .type-change-mark")).to_have_count(1)
        expect(diagram.locator(".d-role").filter(has_text=words["caption"])).to_have_count(1)
        page.locator("#diagram").screenshot(path=str(ARTIFACTS / f"diagram-{locale}.png"))
    finally:
        close_settled(context, page)
