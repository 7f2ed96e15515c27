"""Importing actors and contacts from a CRM export into the demo chain, in German, in a
real browser.

The sales lead uploads an XLSX export with a typo in one email address: the preview lists
the error with its row and column and offers no import. The corrected file shows what will
happen row by row (a new actor, a catalog actor spelled differently that is reused, a
contact the chain knows already that is skipped); the confirmation lands on the chain page
with the new cards. A second submit of the same preview is refused and writes nothing.
"""

import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command

from chain.models import Actor, ActorKind, Chain, ChainLink, Contact
from customers.management.commands.demo_data import SCOPE

from .conftest import CHROMIUM, log_in, open_page

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]

HEADER = ["Firma", "Art", "Stufe", "Vorname", "Nachname", "Position", "E-Mail", "Telefon"]
# The catalog keeps actors of other chains too; this one is in no chain yet. The export
# spells it with ß and without "& Co. KG".
CATALOG_ACTOR = "Baustoffhandel Kessler GmbH & Co. KG"
TYPO = "lena.schaefer@fliesen-schaefer,example"
FIXED = "lena.schaefer@fliesen-schaefer.example"


def _crm_rows(lena_email: str) -> list[list[str]]:
    """The export's data rows (sheet rows 2 to 6)."""
    return [
        [
            "Fliesen Schäfer e.K.",
            "Handwerksbetrieb",
            "Handwerk",
            "Sören",
            "Schäfer",
            "Inhaber",
            "info@fliesen-schaefer.example",
            "0711 55 66 77",
        ],
        [
            "Fliesen Schäfer e.K.",
            "Handwerksbetrieb",
            "Handwerk",
            "Lena",
            "Schäfer",
            "Büroleitung",
            lena_email,
            "0711 55 66 78",
        ],
        [
            "Baustoffhandel Keßler GmbH",
            "Großhandel/Fachhandel",
            "Fachhandel",
            "Jens",
            "Keßler",
            "Einkaufsleiter",
            "j.kessler@kessler-baustoffe.example",
            "+49 8031 555-12",
        ],
        # Known at BauRing in the demo chain (the CRM writes the address capitalised).
        [
            "BauRing Baustoffhandel Gruppe",
            "Großhandel/Fachhandel",
            "Fachhandel",
            "Frank",
            "Schulte",
            "Niederlassungsleiter München",
            "Frank.Schulte@bauring.example",
            "+49 89 555-7710",
        ],
        [
            "BauRing Baustoffhandel Gruppe",
            "Großhandel/Fachhandel",
            "Fachhandel",
            "Tobias",
            "Brandt",
            "Verkäufer Fliesentheke Rosenheim",
            "tobias.brandt@bauring.example",
            "+49 8031 555-4410",
        ],
    ]


def _crm_export(path: Path, lena_email: str) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Kontakte"
    sheet.append(HEADER)
    for row in _crm_rows(lena_email):
        sheet.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def german_page(browser, request: pytest.FixtureRequest) -> Iterator:
    """A page whose browser asks for German, with a screenshot when the test fails."""
    yield from open_page(browser, request, "de-DE")


@pytest.fixture
def demo_chain(transactional_db, settings, tmp_path) -> Chain:
    settings.MEDIA_ROOT = tmp_path / "media"  # the uploaded files wait here
    call_command("demo_data", stdout=StringIO())
    kind = ActorKind.objects.get(name="Großhandel/Fachhandel")
    Actor.objects.create(name=CATALOG_ACTOR, kind=kind, size=Actor.Size.MEDIUM)
    return Chain.objects.get(scope_name=SCOPE)


def _upload(page, path: Path) -> None:
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Hochladen und Spalten zuordnen").click()
    expect(page.get_by_role("heading", name="Welche Spalte enthält was?")).to_be_visible()


def _expect_guessed_mapping(page) -> None:
    selected = {
        "actor_name": "0",
        "actor_kind": "1",
        "stage": "2",
        "first_name": "3",
        "last_name": "4",
        "role": "5",
        "email": "6",
        "phone": "7",
        "contact_name": "",
        "level": "",
    }
    for code, position in selected.items():
        expect(page.locator(f"select[name={code}]")).to_have_value(position)


def _preview_row(page, row: int):
    return page.locator("table.import-preview tbody tr").filter(
        has=page.locator("td.num", has_text=re.compile(rf"^{row}$"))
    )


def _count(page, label: str):
    return page.locator(".import-counts div").filter(has_text=label).locator("dd")


def _db_state(chain: Chain) -> tuple[int, int, int]:
    return (
        Actor.objects.count(),
        ChainLink.objects.filter(chain=chain).count(),
        Contact.objects.filter(link__chain=chain).count(),
    )


def test_a_crm_export_is_corrected_checked_and_imported(
    live_server, german_page, demo_chain, tmp_path
):
    base, chain, page = live_server.url, demo_chain, german_page
    problems: list[str] = []  # script errors and CSP violations reported by the browser
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    before = _db_state(chain)
    stages = {stage.name: stage for stage in chain.stages.all()}

    log_in(page, base)
    page.goto(f"{base}/chains/{chain.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_role("link", name="Akteure und Ansprechpartner importieren").click()
    expect(page).to_have_url(f"{base}/chains/{chain.pk}/import/")

    # The first export has a typo in an email address.
    _upload(page, _crm_export(tmp_path / "crm-export.xlsx", TYPO))
    expect(page.locator(".import-mapping")).to_contain_text("crm-export.xlsx: 5 Zeilen.")
    _expect_guessed_mapping(page)
    page.get_by_role("button", name="Vorschau anzeigen").click()

    errors = page.locator(".import-errors")
    expect(errors.locator("h2")).to_contain_text("Die Datei hat 1 Fehler.")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors.locator("tbody tr td")).to_have_text(
        ["3", "E-Mail", f"Keine gültige E-Mail-Adresse: „{TYPO}“."]
    )
    expect(page.locator("tr.import-row-error")).to_have_count(1)
    expect(_preview_row(page, 3)).to_have_class(re.compile(r"\bimport-row-error\b"))
    expect(page.get_by_role("button", name="In die Kette importieren")).to_have_count(0)

    # The mapping keeps its choices; the error is in the file, so another file it is.
    page.get_by_role("link", name="Zurück zur Spaltenzuordnung").click()
    _expect_guessed_mapping(page)
    page.get_by_role("link", name="Eine andere Datei hochladen").click()
    expect(page.locator("form + p.hint")).to_contain_text(
        "Sie haben begonnen, crm-export.xlsx zu importieren."
    )
    _upload(page, _crm_export(tmp_path / "crm-export-korrigiert.xlsx", FIXED))
    _expect_guessed_mapping(page)
    page.get_by_role("button", name="Vorschau anzeigen").click()

    expect(page.locator(".import-errors")).to_have_count(0)
    expect(_count(page, "Neue Akteure")).to_have_text("1")
    expect(_count(page, "Aus dem Katalog")).to_have_text("1")
    expect(_count(page, "Bereits in dieser Kette")).to_have_text("1")
    expect(_count(page, "Neue Ansprechpartner")).to_have_text("4")
    expect(_count(page, "Übersprungene Dubletten")).to_have_text("1")
    expect(page.locator("table.import-preview tbody tr")).to_have_count(5)
    expect(_preview_row(page, 2)).to_contain_text("neuer Akteur (wird in den Katalog aufgenommen)")
    expect(_preview_row(page, 2)).to_contain_text("neuer Ansprechpartner")
    expect(_preview_row(page, 3)).to_contain_text("Derselbe Akteur wie in Zeile 2.")
    expect(_preview_row(page, 4)).to_contain_text(
        f"Akteur im Katalog: {CATALOG_ACTOR} (wird übernommen)"
    )
    expect(_preview_row(page, 5)).to_contain_text(
        "bereits in dieser Kette: BauRing Baustoffhandel Gruppe (Ansprechpartner werden dort "
        "ergänzt)"
    )
    expect(_preview_row(page, 5).locator(".badge.import-duplicate")).to_have_text(
        "Dublette: bei diesem Akteur bereits bekannt (gleiche E-Mail) – übersprungen"
    )
    expect(_preview_row(page, 6).locator(".badge.import-new-contact")).to_contain_text(
        "neuer Ansprechpartner"
    )
    assert _db_state(chain) == before  # the preview writes nothing

    page.get_by_role("button", name="In die Kette importieren").click()
    expect(page).to_have_url(f"{base}/chains/{chain.pk}/?tab=board")
    expect(page.locator("#messages .message.success")).to_have_text(
        "Importiert. Neue Akteure: 1, Akteure aus dem Katalog: 1, neue Ansprechpartner: 4, "
        "übersprungene Dubletten: 1."
    )

    # The new actor's card stands in its stage with both contacts; the catalog actor's too.
    schaefer = ChainLink.objects.get(chain=chain, actor__name="Fliesen Schäfer e.K.")
    card = page.locator(f"#stage-{stages['Handwerk'].pk} #link-{schaefer.pk}")
    expect(card.locator(".card-title")).to_have_text("Fliesen Schäfer e.K.")
    expect(card.locator("ul.contacts li")).to_have_count(2)
    expect(card.locator("ul.contacts")).to_contain_text("Sören Schäfer")
    expect(card.locator("ul.contacts")).to_contain_text("Lena Schäfer")
    kessler = ChainLink.objects.get(chain=chain, actor__name=CATALOG_ACTOR)
    card = page.locator(f"#stage-{stages['Fachhandel'].pk} #link-{kessler.pk}")
    expect(card.locator("ul.contacts")).to_have_text(re.compile(r"Jens Keßler"))
    bauring = ChainLink.objects.get(chain=chain, actor__name="BauRing Baustoffhandel Gruppe")
    contacts = page.locator(f"#link-{bauring.pk} ul.contacts")
    expect(contacts.locator("li", has_text="Tobias Brandt")).to_have_count(1)
    expect(contacts.locator("li", has_text="Frank Schulte")).to_have_count(1)

    # In the database: one new catalog actor, the catalog actor reused, four new contacts.
    after = _db_state(chain)
    assert after == (before[0] + 1, before[1] + 2, before[2] + 4)
    assert Actor.objects.filter(name__icontains="Kessler").count() == 1
    assert Actor.objects.filter(name__icontains="Keßler").count() == 0
    assert kessler.stage == stages["Fachhandel"]
    assert schaefer.stage == stages["Handwerk"]
    assert schaefer.actor.kind.name == "Handwerksbetrieb"
    lena = Contact.objects.get(link=schaefer, name="Lena Schäfer")
    assert (lena.email, lena.phone, lena.role) == (FIXED, "0711 55 66 78", "Büroleitung")
    assert lena.owner.username == "demo"
    added = lena.history.get()  # written in bulk, recorded as a save would be
    assert (added.history_type, added.history_user.username) == ("+", "demo")
    names = sorted(Contact.objects.filter(link=bauring).values_list("name", flat=True))
    assert names.count("Frank Schulte") == 1 and "Tobias Brandt" in names
    assert list(Contact.objects.filter(link=kessler).values_list("name", "email")) == [
        ("Jens Keßler", "j.kessler@kessler-baustoffe.example")
    ]

    # Both uploaded files are gone: the first when the second replaced it.
    assert not any((tmp_path / "media" / "chain-imports").iterdir())

    # Back to the preview: it cannot be submitted a second time.
    page.go_back()
    # The preview is not cached: the browser asks again and hears the import is over.
    expect(page).to_have_url(f"{base}/chains/{chain.pk}/import/")
    expect(page.locator("#messages .message")).to_have_text(
        "Dieser Import ist nicht mehr offen. Laden Sie die Datei erneut hoch."
    )
    expect(page.get_by_role("button", name="In die Kette importieren")).to_have_count(0)
    assert _db_state(chain) == after
    assert problems == []
