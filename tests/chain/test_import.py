"""Import of actors and contacts into a chain: reading, mapping, preview, confirmation."""

import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chain import imports, services
from chain.activity import activity_list
from chain.imports import Mapping, actor_key, catalog_load, guess_mapping, plan_import, read_sheet
from chain.models import Actor, ActorKind, Chain, ChainLink, Contact
from tests.factories import make_actor, make_chain, make_contact, make_link

DATA = Path(__file__).parent / "data"
KINDS = ("Großhandel", "Handwerksbetrieb", "Hersteller")
STAGES = ("Lieferant", "Hersteller", "Handel", "Handwerk")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path / "chain-imports"


@pytest.fixture
def kinds(db):
    return {name: ActorKind.objects.create(name=name) for name in KINDS}


@pytest.fixture
def german_chain(chain, kinds):
    """The chain with German stage names, as a German team would have it."""
    for stage, name in zip(chain.stages.all(), STAGES, strict=True):
        stage.name = name
        stage.save(update_fields=["name"])
    return chain


def _url(chain: Chain, step: str = "") -> str:
    return f"/chains/{chain.pk}/import/" + (f"{step}/" if step else "")


def _upload(client, chain, name: str, content: bytes | None = None):
    content = (DATA / name).read_bytes() if content is None else content
    return client.post(_url(chain), {"file": SimpleUploadedFile(name, content)})


def _token(client, chain) -> str:
    return client.session[f"chain-import-{chain.pk}"]["token"]


def _map(client, chain, **columns):
    """Post the mapping: the guessed one (as the form pre-selects it) with changes."""
    state = client.session[f"chain-import-{chain.pk}"]
    header = json.loads(_media_file(state).read_text())["header"]
    data = {code: str(pos) for code, pos in guess_mapping(header).items()}
    data |= {code: "" if value is None else str(value) for code, value in columns.items()}
    data["token"] = state["token"]
    return client.post(_url(chain, "mapping"), data)


def _media_file(state) -> Path:
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / "chain-imports" / f"{state['token']}.json"


def _confirm(client, chain):
    preview = client.get(_url(chain, "preview"))
    expect = preview.context["plan"].counts.fingerprint
    return client.post(_url(chain, "confirm"), {"token": _token(client, chain), "expect": expect})


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- pure functions ---------------------------------------------------------------------------


def test_it_guesses_german_and_english_headings():
    german = ["Firma", "Typ", "Stufe", "Vorname", "Nachname", "Funktion", "E-Mail", "Telefon"]
    assert guess_mapping(german) == {
        "actor_name": 0,
        "actor_kind": 1,
        "stage": 2,
        "first_name": 3,
        "last_name": 4,
        "role": 5,
        "email": 6,
        "phone": 7,
    }
    english = ["Account Name", "Full Name", "Title", "Email Address", "Mobile Phone", "Kind"]
    assert guess_mapping(english) == {
        "actor_name": 0,
        "contact_name": 1,
        "role": 2,
        "email": 3,
        "phone": 4,
        "actor_kind": 5,
    }
    assert guess_mapping(["Unternehmen", "Ansprechpartner", "Rolle", "Stage"]) == {
        "actor_name": 0,
        "contact_name": 1,
        "role": 2,
        "stage": 3,
    }


def test_the_duplicate_rule_ignores_case_spaces_punctuation_and_legal_forms():
    same = ["Müller GmbH", "müller  gmbh", "Müller", "MÜLLER AG", "Mueller GmbH & Co. KG"]
    assert {actor_key(name) for name in same} == {"mueller"}
    assert actor_key("Fliesen Schäfer e.K.") == actor_key("fliesen schäfer")
    assert actor_key("Acme Adhesives, Inc.") == actor_key("ACME adhesives LLC")
    assert actor_key("Müller Bau GmbH") != actor_key("Müller GmbH")
    # A name that is only a legal form stays a name.
    assert actor_key("AG") == "ag"


# --- reading real files -----------------------------------------------------------------------


def test_it_reads_a_german_excel_csv_in_cp1252():
    sheet = read_sheet((DATA / "crm_de_cp1252.csv").read_bytes(), filename="crm_de_cp1252.csv")
    assert sheet.errors == []
    assert sheet.header[:3] == ["Firma", "Art", "Stufe"]
    assert sheet.rows[0][:2] == ["Müller GmbH", "Großhandel"]
    # The quoted note keeps its semicolon; the blank line is skipped but counted.
    assert sheet.rows[2][10] == "Kunde seit 2019; zahlt pünktlich"
    assert sheet.rownum == [2, 3, 4, 6]


def test_it_reads_utf8_with_a_byte_order_mark():
    sheet = read_sheet((DATA / "crm_en_utf8_bom.csv").read_bytes(), filename="crm.csv")
    assert sheet.header[0] == "Account Name"
    assert sheet.rows[0][0] == "Acme Adhesives, Inc."
    assert sheet.rows[1][3:5] == ["Zoë", "Brontë"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not_a_workbook.xlsx", "is not a valid Excel workbook"),
        ("empty.csv", "The submitted file is empty."),  # the form field's own check
        ("garbage.csv", "has the wrong encoding"),
    ],
)
def test_broken_files_are_refused_at_upload(client_owner, chain, media, name, message):
    response = _upload(client_owner, chain, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert f"chain-import-{chain.pk}" not in client_owner.session
    assert not media.exists() or not any(media.iterdir())


def test_blank_lines_no_data_rows_and_a_missing_header_are_refused(client_owner, chain):
    body = _upload(client_owner, chain, "blank.csv", b";;\n;;\n").content.decode()
    assert "The file blank.csv is empty." in body
    body = _upload(client_owner, chain, "h.csv", b"Firma;Name\n").content.decode()
    assert "has a header row but no data rows" in body
    body = _upload(
        client_owner, chain, "d.csv", b"Acme;jo@acme.example\nBeta;b@beta.example\n"
    ).content.decode()
    assert "should hold the column headings" in body


def test_it_refuses_files_with_more_rows_than_one_import_takes(client_owner, chain):
    lines = ["Firma"] + [f"Firma {n}" for n in range(imports.MAX_ROWS + 1)]
    body = _upload(client_owner, chain, "long.csv", "\n".join(lines).encode()).content.decode()
    assert f"at most {imports.MAX_ROWS:,} rows can be imported at once" in body


def test_it_refuses_other_file_types_and_big_files(client_owner, chain):
    body = _upload(client_owner, chain, "crm.pdf", b"%PDF-1.4").content.decode()
    assert "Upload a .csv, .txt or .xlsx file." in body
    big = b"Firma\n" + b"x" * (5 * 1024 * 1024)
    body = _upload(client_owner, chain, "big.csv", big).content.decode()
    assert "The file is larger than 5 MB." in body


# --- the whole way ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_german_csv_goes_through_mapping_and_preview_into_the_chain(
    client_owner, german_chain, owner, media
):
    chain = german_chain
    response = _upload(client_owner, chain, "crm_de_cp1252.csv")
    assert response.status_code == 302 and response.url == _url(chain, "mapping")
    assert len(list(media.iterdir())) == 1

    page = client_owner.get(_url(chain, "mapping")).content.decode()
    # Pre-selected from the headings, with sample values of each column.
    assert '<option value="0" selected>A: Firma</option>' in page
    assert '<option value="9" selected>J: Kontaktlevel</option>' in page
    assert "Fliesen Schäfer e.K." in page and "Einkaufsleiterin" in page

    response = _map(client_owner, chain)
    assert response.status_code == 302 and response.url == _url(chain, "preview")

    preview = client_owner.get(_url(chain, "preview"))
    body = preview.content.decode()
    counts = preview.context["plan"].counts
    assert (counts.new_actors, counts.reused, counts.new_contacts, counts.skipped) == (3, 0, 3, 0)
    assert "new actor (will be added to the catalog)" in body
    assert "Same actor as in row 2." in body
    assert "Import into the chain" in body
    assert not Actor.objects.filter(name="Müller GmbH").exists()  # the preview writes nothing

    response = _confirm(client_owner, chain)
    assert response.status_code == 302 and response.url == chain.get_absolute_url() + "?tab=board"
    mueller = ChainLink.objects.get(chain=chain, actor__name="Müller GmbH")
    assert (mueller.actor.kind.name, mueller.stage.name) == ("Großhandel", "Handel")
    contacts = {c.name: c for c in Contact.objects.filter(link__chain=chain)}
    assert set(contacts) == {"Jana Böhm", "Jörg Weiß", "Sören Schäfer"}
    jana = contacts["Jana Böhm"]
    assert (jana.role, jana.email, jana.phone, jana.level, jana.owner) == (
        "Einkaufsleiterin",
        "jana.boehm@mueller-gmbh.de",
        "+49 89 1234-0",
        Contact.Level.OCCASIONAL,
        owner,
    )
    assert jana.notes == "Messe München 2026"
    assert contacts["Jörg Weiß"].level == Contact.Level.REGULAR
    assert contacts["Sören Schäfer"].notes == "Kunde seit 2019; zahlt pünktlich"
    nord = ChainLink.objects.get(chain=chain, actor__name="Baustoffe Nord AG")
    assert not nord.contacts.exists()  # a row with an actor only
    assert ChainLink.objects.get(actor__name="Fliesen Schäfer e.K.").stage.name == "Handwerk"
    # Written with history, in the importing user's name.
    assert Contact.history.filter(history_type="+", history_user=owner).count() == 3
    new_links = ChainLink.history.filter(history_type="+", chain_id=chain.pk, history_user=owner)
    assert new_links.count() == 3
    assert Actor.history.filter(history_type="+", history_user=owner).count() == 3
    # Done: the file is gone, the session forgets the import, the user is told.
    assert not any(media.iterdir())
    assert f"chain-import-{chain.pk}" not in client_owner.session
    page = client_owner.get(chain.get_absolute_url()).content.decode()
    assert "Imported. New actors: 3, actors from the catalog: 0, new contacts: 3" in page
    # The same file again: everything is known, nothing is offered for import.
    _upload(client_owner, chain, "crm_de_cp1252.csv")
    _map(client_owner, chain)
    body = client_owner.get(_url(chain, "preview")).content.decode()
    assert "there is nothing to import" in body and "Import into the chain" not in body


@pytest.mark.django_db
def test_a_utf8_csv_with_first_and_last_names(client_owner, german_chain):
    chain = german_chain
    _upload(client_owner, chain, "crm_en_utf8_bom.csv")
    _map(client_owner, chain)
    body = client_owner.get(_url(chain, "preview")).content.decode()
    assert "Same actor as in row 3." in body  # "Café Crème Ltd." is "Café Crème Ltd"
    _confirm(client_owner, chain)
    cafe = ChainLink.objects.get(chain=chain, actor__name="Café Crème Ltd")
    assert sorted((c.name, c.role) for c in cafe.contacts.all()) == [
        ("", "Store manager"),
        ("Zoë Brontë", "Buyer"),
    ]
    acme = Contact.objects.get(name="Ann Lee")
    assert (acme.level, acme.link.stage.name) == (Contact.Level.OCCASIONAL, "Hersteller")


@pytest.mark.django_db
def test_an_xlsx_file_made_with_openpyxl(client_owner, german_chain):
    chain = german_chain
    content = _xlsx(
        [
            ["Unternehmen", "Typ", "Ansprechpartner", "Funktion", "Email", "Telefon"],
            [
                "Keramik Süd GmbH",
                "Großhandel",
                "Lea Roth",
                "Einkauf",
                "lea@keramik.example",
                4989123,
            ],
            [None, None, None, None, None, None],
            ["Keramik Süd GmbH", "Großhandel", "Ben Ott", None, None, None],
        ]
    )
    response = _upload(client_owner, chain, "export.xlsx", content)
    assert response.status_code == 302
    _map(client_owner, chain, default_stage=chain.stages.get(name="Handel").pk)
    preview = client_owner.get(_url(chain, "preview"))
    assert [row.row for row in preview.context["plan"].rows] == [2, 4]
    _confirm(client_owner, chain)
    link = ChainLink.objects.get(chain=chain, actor__name="Keramik Süd GmbH")
    assert link.stage.name == "Handel"
    assert {(c.name, c.phone) for c in link.contacts.all()} == {
        ("Lea Roth", "4989123"),
        ("Ben Ott", ""),
    }


# --- duplicates -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_preview_reuses_catalog_actors_and_skips_known_contacts(client_owner, german_chain):
    chain = german_chain
    kinds = {kind.name: kind for kind in ActorKind.objects.all()}
    mueller = make_actor("Müller GmbH", kind=kinds["Großhandel"])
    member = make_link(chain, chain.stages.get(name="Handel"), actor=mueller)
    make_contact(member, "Jana Böhm", email="JANA.BOEHM@mueller-gmbh.de")
    make_contact(member, "jörg   weiß", email="")
    make_actor("Fliesen Schäfer", kind=kinds["Handwerksbetrieb"])  # catalog, not in the chain

    _upload(client_owner, chain, "crm_de_cp1252.csv")
    _map(client_owner, chain)
    preview = client_owner.get(_url(chain, "preview"))
    body = preview.content.decode()
    counts = preview.context["plan"].counts
    assert (counts.new_actors, counts.reused, counts.members) == (1, 1, 1)
    assert (counts.new_contacts, counts.skipped) == (1, 2)
    assert "already in this chain: Müller GmbH (contacts are added there)" in body
    assert "actor in catalog: Fliesen Schäfer (will be reused)" in body
    assert "duplicate: already known at this actor (same email) — skipped" in body
    assert "duplicate: already known at this actor (same name) — skipped" in body

    _confirm(client_owner, chain)
    assert Actor.objects.filter(name__startswith="Fliesen").count() == 1
    assert member.contacts.count() == 2
    schaefer = ChainLink.objects.get(chain=chain, actor__name="Fliesen Schäfer")
    assert schaefer.stage.name == "Handwerk"
    assert schaefer.contacts.get().name == "Sören Schäfer"


@pytest.mark.django_db
def test_duplicates_within_the_file_become_one(client_owner, german_chain):
    chain = german_chain
    content = (
        "Firma;Art;Stufe;Name;E-Mail\n"
        "Müller GmbH;Großhandel;Handel;Jana Böhm;jana@mueller.example\n"
        "MÜLLER gmbh;Großhandel;Handel;J. Böhm;JANA@mueller.example\n"
        "Müller;Großhandel;Handel;jana  böhm;\n"
    ).encode()
    _upload(client_owner, chain, "dupes.csv", content)
    _map(client_owner, chain)
    preview = client_owner.get(_url(chain, "preview"))
    body = preview.content.decode()
    assert "duplicate: the same contact as in row 2 — skipped" in body
    counts = preview.context["plan"].counts
    assert (counts.new_actors, counts.new_contacts, counts.skipped) == (1, 1, 2)
    _confirm(client_owner, chain)
    link = ChainLink.objects.get(chain=chain, actor__name="Müller GmbH")
    assert [c.name for c in link.contacts.all()] == ["Jana Böhm"]


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_errors_name_row_and_column_and_nothing_is_written(client_owner, german_chain):
    chain = german_chain
    links_before = chain.links.count()
    _upload(client_owner, chain, "errors_de.csv")
    _map(client_owner, chain, level=5)
    preview = client_owner.get(_url(chain, "preview"))
    errors = [str(e) for e in preview.context["plan"].errors]
    assert errors == [
        "row 3, column Firma: The actor name is empty.",
        "row 4, column E-Mail: Not a valid email address: “max(at)zwei.example”.",
        "row 5, column Art: Unknown actor kind “Gemischtwarenladen”. Known kinds: Großhandel, "
        "Handwerksbetrieb, Hersteller. Choose a default kind in the column mapping to use it "
        "instead.",
        "row 6, column Stufe: Unknown stage “Mond”. Stages of this chain: Lieferant, "
        "Hersteller, Handel, Handwerk. Choose a default stage in the column mapping to use "
        "it instead.",
        "row 7, column Kontaktlevel: Unknown contact level “häufig”. Use direct, indirect or "
        "none (German: direkt, indirekt, kein), or regular/regelmäßig.",
        "row 8, column Name: The value is too long: 170 characters, at most 160 are allowed.",
    ]
    body = preview.content.decode()
    assert "The file has 6 errors." in body
    assert "Import into the chain" not in body
    # Posting the confirmation anyway writes nothing and shows the errors again.
    response = client_owner.post(
        _url(chain, "confirm"), {"token": _token(client_owner, chain), "expect": "x"}
    )
    assert response.status_code == 200
    assert "The actor name is empty." in response.content.decode()
    assert chain.links.count() == links_before
    assert not Actor.objects.filter(name="Ok GmbH").exists()


@pytest.mark.django_db
def test_default_kind_and_stage_stand_in_for_unknown_or_missing_values(client_owner, german_chain):
    chain = german_chain
    content = b"Firma;Art;Stufe\nDrei KG;Gemischtwarenladen;\nVier SE;;Mond\n"
    _upload(client_owner, chain, "defaults.csv", content)
    _map(client_owner, chain)
    errors = client_owner.get(_url(chain, "preview")).context["plan"].errors
    assert [(e.row, e.column) for e in errors] == [
        (2, "Art"),
        (2, "Stufe"),
        (3, "Art"),
        (3, "Stufe"),
    ]
    assert "The new actor “Vier SE” needs a kind" in errors[2].message

    handel = chain.stages.get(name="Handel")
    _map(
        client_owner,
        chain,
        default_kind=ActorKind.objects.get(name="Hersteller").pk,
        default_stage=handel.pk,
    )
    body = client_owner.get(_url(chain, "preview")).content.decode()
    assert "Kind “Gemischtwarenladen” unknown: the default kind Hersteller is used." in body
    _confirm(client_owner, chain)
    drei = ChainLink.objects.get(chain=chain, actor__name="Drei KG")
    assert (drei.actor.kind.name, drei.stage) == ("Hersteller", handel)


def test_only_the_first_fifty_errors_are_listed(db, german_chain):
    lines = ["Firma;Name;E-Mail"] + [f"Firma {n};Person {n};kaputt{n}" for n in range(60)]
    sheet = read_sheet("\n".join(lines).encode(), filename="many.csv")
    kind, stage = ActorKind.objects.first().pk, german_chain.stages.first().pk
    mapping = Mapping({"actor_name": 0, "contact_name": 1, "email": 2}, kind, stage)
    plan = plan_import(sheet, mapping, catalog_load(german_chain, mapping))
    assert plan.error_count == 60
    assert len(plan.errors) == 50


@pytest.mark.django_db
def test_the_mapping_needs_the_actor_column_and_each_column_once(client_owner, german_chain):
    chain = german_chain
    _upload(client_owner, chain, "crm_de_cp1252.csv")
    body = _map(client_owner, chain, actor_name=None).content.decode()
    assert "Choose the column that holds the actor names." in body
    body = _map(client_owner, chain, contact_notes=0).content.decode()
    assert "This column is chosen for “Actor name” already." in body
    assert "mapping" not in client_owner.session[f"chain-import-{chain.pk}"]


@pytest.mark.django_db
def test_a_failure_while_writing_leaves_everything_as_it_was(
    client_owner, german_chain, monkeypatch, media
):
    chain = german_chain
    _upload(client_owner, chain, "crm_de_cp1252.csv")
    _map(client_owner, chain)

    def failing(**kwargs):
        real(**kwargs)  # actors, members and contacts are written, then something fails
        raise ValidationError("boom")

    real = services.contacts_add_bulk
    monkeypatch.setattr(services, "contacts_add_bulk", failing)
    response = _confirm(client_owner, chain)
    assert response.status_code == 302 and response.url == _url(chain, "preview")
    assert not Actor.objects.filter(name="Müller GmbH").exists()
    assert not Contact.objects.filter(link__chain=chain).exists()
    # The file stays, so the user can try again.
    assert len(list(media.iterdir())) == 1
    assert f"chain-import-{chain.pk}" in client_owner.session


@pytest.mark.django_db
def test_the_confirmation_checks_again_instead_of_trusting_the_preview(client_owner, german_chain):
    chain = german_chain
    _upload(client_owner, chain, "crm_de_cp1252.csv")
    _map(client_owner, chain)
    preview = client_owner.get(_url(chain, "preview"))
    expect = preview.context["plan"].counts.fingerprint
    # Meanwhile somebody adds one of the file's actors to the catalog.
    make_actor("Baustoffe Nord", kind=ActorKind.objects.get(name="Großhandel"))
    response = client_owner.post(
        _url(chain, "confirm"), {"token": _token(client_owner, chain), "expect": expect}
    )
    assert response.status_code == 200
    assert "changed since the preview" in response.content.decode()
    assert not chain.links.filter(actor__name="Müller GmbH").exists()
    # The fresh preview is what a second click imports.
    _confirm(client_owner, chain)
    assert chain.links.filter(actor__name="Baustoffe Nord").exists()
    assert not Actor.objects.filter(name="Baustoffe Nord AG").exists()


# --- tokens and access ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_submit_imports_nothing_more(client_owner, german_chain):
    chain = german_chain
    _upload(client_owner, chain, "crm_de_cp1252.csv")
    _map(client_owner, chain)
    preview = client_owner.get(_url(chain, "preview"))
    data = {
        "token": _token(client_owner, chain),
        "expect": preview.context["plan"].counts.fingerprint,
    }
    client_owner.post(_url(chain, "confirm"), data)
    response = client_owner.post(_url(chain, "confirm"), data, follow=True)
    assert "This import is done already, or it is no longer open." in response.content.decode()
    assert Contact.objects.filter(link__chain=chain).count() == 3


@pytest.mark.django_db
def test_a_token_of_another_chain_or_session_is_refused(client, german_chain, owner, teammate):
    chain = german_chain
    other = make_chain(chain.team, owner, scope_name="Tile adhesive")
    client.force_login(owner)
    _upload(client, chain, "crm_de_cp1252.csv")
    _map(client, chain)
    token = _token(client, chain)
    # The token of this chain, posted to another chain of the same user.
    response = client.post(_url(other, "confirm"), {"token": token, "expect": ""}, follow=True)
    assert "no longer open" in response.content.decode()
    assert not other.links.exclude(actor__is_own_company=True).exists()
    # The token, posted by a teammate in another session.
    from django.test import Client

    mate = Client()
    mate.force_login(teammate)
    response = mate.post(_url(chain, "confirm"), {"token": token, "expect": ""}, follow=True)
    assert "no longer open" in response.content.decode()
    response = mate.post(_url(chain, "mapping"), {"token": token, "actor_name": "0"})
    assert response.status_code == 302 and response.url == _url(chain)
    assert not Contact.objects.filter(link__chain=chain).exists()
    # The owner's import is still open.
    assert client.get(_url(chain, "preview")).status_code == 200


@pytest.mark.django_db
def test_a_new_upload_replaces_the_open_import_and_an_old_tab_changes_nothing(
    client_owner, german_chain, media
):
    chain = german_chain
    _upload(client_owner, chain, "crm_de_cp1252.csv")
    first = _token(client_owner, chain)
    # A broken file leaves the open import alone.
    _upload(client_owner, chain, "garbage.csv")
    assert _token(client_owner, chain) == first
    _upload(client_owner, chain, "crm_en_utf8_bom.csv")
    second = _token(client_owner, chain)
    assert second != first
    assert [path.name for path in media.iterdir()] == [f"{second}.json"]
    # The mapping form of the first upload, still open in another tab.
    response = client_owner.post(_url(chain, "mapping"), {"token": first, "actor_name": "0"})
    assert response.status_code == 302 and response.url == _url(chain)
    assert _token(client_owner, chain) == second
    page = client_owner.get(_url(chain, "mapping")).content.decode()
    assert "Account Name" in page


@pytest.mark.django_db
def test_cancel_removes_the_file(client_owner, german_chain, media):
    chain = german_chain
    _upload(client_owner, chain, "crm_de_cp1252.csv")
    token = _token(client_owner, chain)
    response = client_owner.post(_url(chain, "cancel"), {"token": token})
    assert response.status_code == 302
    assert not any(media.iterdir())
    assert client_owner.get(_url(chain, "preview")).url == _url(chain)


@pytest.mark.django_db
@pytest.mark.parametrize("step", ["", "mapping", "preview", "confirm", "cancel"])
def test_outsiders_get_404_and_read_only_managers_403(client, chain, outsider, manager, step):
    method = "get" if step == "preview" else "post"
    client.force_login(outsider)
    assert getattr(client, method)(_url(chain, step)).status_code == 404
    client.force_login(manager)
    assert getattr(client, method)(_url(chain, step)).status_code == 403
    if step in ("", "mapping"):
        assert client.get(_url(chain, step)).status_code == 403


@pytest.mark.django_db
def test_a_teammate_may_import(client, german_chain, teammate):
    client.force_login(teammate)
    assert _upload(client, german_chain, "crm_de_cp1252.csv").status_code == 302


@pytest.mark.django_db
def test_messages_are_german_for_a_german_user(client_owner, chain):
    client_owner.cookies["django_language"] = "de"
    body = _upload(client_owner, chain, "blank.csv", b";;\n;;\n").content.decode()
    assert "Die Datei blank.csv ist leer." in body
    body = _upload(client_owner, chain, "not_a_workbook.xlsx").content.decode()
    assert "Die Datei not_a_workbook.xlsx ist keine gültige Excel-Arbeitsmappe" in body


# --- queries ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_preview_of_500_rows_needs_few_queries(
    client_owner, german_chain, django_assert_max_num_queries
):
    chain = german_chain
    kind = ActorKind.objects.get(name="Großhandel")
    for n in range(0, 500, 5):  # every fifth actor is in the catalog already
        make_actor(f"Händler {n} GmbH", kind=kind)
    lines = ["Firma;Art;Stufe;Name;E-Mail"] + [
        f"Händler {n} AG;Großhandel;Handel;Person {n};p{n}@example.com" for n in range(500)
    ]
    _upload(client_owner, chain, "big.csv", "\n".join(lines).encode("cp1252"))
    _map(client_owner, chain)
    with django_assert_max_num_queries(12):
        preview = client_owner.get(_url(chain, "preview"))
    counts = preview.context["plan"].counts
    assert (counts.new_actors, counts.reused, counts.new_contacts) == (400, 100, 500)


def _import_rows(client, chain: Chain, n: int) -> int:
    """Import n rows into the chain's third stage: new actors, every fifth one from the
    catalog, and contacts for a member the chain has already. Returns the number of
    queries the confirmation took."""
    kind = ActorKind.objects.get(name="Großhandel")
    stage = chain.stages.all()[2]
    prefix = f"C{chain.pk}"
    make_link(chain, stage, make_actor(f"{prefix} Bestand", kind=kind))
    for i in range(0, n, 5):
        make_actor(f"{prefix} Händler {i} GmbH", kind=kind)
    lines = ["Firma;Art;Stufe;Name;E-Mail"]
    lines += [
        f"{prefix} Händler {i} AG;Großhandel;{stage.name};Person {i};p{i}@example.com"
        for i in range(n)
    ]
    lines += [f"{prefix} Bestand;;;Kollege {i};" for i in range(n // 10)]
    _upload(client, chain, "rows.csv", "\n".join(lines).encode("cp1252"))
    _map(client, chain)
    preview = client.get(_url(chain, "preview"))
    counts = preview.context["plan"].counts
    assert (counts.new_actors, counts.reused, counts.members) == (n - n // 5, n // 5, 1)
    data = {"token": _token(client, chain), "expect": counts.fingerprint}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(_url(chain, "confirm"), data)
    assert response.status_code == 302 and response.url == chain.get_absolute_url() + "?tab=board"
    assert chain.links.count() == n + 1
    assert Contact.objects.filter(link__chain=chain).count() == n + n // 10
    return len(queries)


@pytest.mark.django_db
def test_the_confirmation_needs_no_more_queries_for_three_times_the_rows(
    client_owner, german_chain, owner
):
    small = _import_rows(client_owner, german_chain, 60)
    large = _import_rows(client_owner, make_chain(german_chain.team, owner, "Fugenmörtel"), 180)
    assert small == large
    assert large <= 40


@pytest.mark.django_db
def test_imported_rows_are_in_the_history_and_the_feed_as_added_by_the_importer(
    client_owner, german_chain, owner
):
    chain = german_chain
    handel = chain.stages.get(name="Handel")
    kind = ActorKind.objects.get(name="Großhandel")
    before = make_link(chain, handel, make_actor("Bestand KG", kind=kind))
    _upload(client_owner, chain, "crm_de_cp1252.csv")
    _map(client_owner, chain)
    _confirm(client_owner, chain)

    # New members follow the stage's last member, in the order of the file.
    members = handel.links.order_by("position").values_list("actor__name", "position")
    assert list(members) == [("Bestand KG", 0), ("Müller GmbH", 1), ("Baustoffe Nord AG", 2)]
    links = ChainLink.objects.filter(chain=chain).exclude(pk=before.pk)
    contacts = Contact.objects.filter(link__chain=chain)
    history = [
        *Actor.history.filter(id__in=links.values("actor_id")),
        *ChainLink.history.filter(id__in=links.values("pk")),
        *Contact.history.filter(id__in=contacts.values("pk")),
    ]
    assert len(history) == 3 + 3 + 3
    assert {(r.history_type, r.history_user) for r in history} == {("+", owner)}
    # One change batch for the whole import, as one request writes it (see history.py).
    batches = {r.history_batch for r in history}
    assert len(batches) == 1 and None not in batches
    assert ChainLink.history.get(id=before.pk).history_batch not in batches
    assert {r.version for r in ChainLink.history.filter(id__in=links.values("pk"))} == {1}

    entries, _more = activity_list(chain)
    added = {(e.kind, e.label) for e in entries if e.action == "+" and e.who == owner}
    assert {
        ("link", "Müller GmbH"),
        ("link", "Fliesen Schäfer e.K."),
        ("link", "Baustoffe Nord AG"),
        ("actor", "Müller GmbH"),
        ("contact", "Jana Böhm (Müller GmbH)"),
        ("contact", "Sören Schäfer (Fliesen Schäfer e.K.)"),
    } <= added
    body = client_owner.get(f"/chains/{chain.pk}/activity/").content.decode()
    assert re.search(r"alice</strong>\s*added", body) and "Jörg Weiß (Müller GmbH)" in body


@pytest.mark.django_db
def test_the_bulk_service_refuses_what_link_add_refuses(chain, other_team, owner):
    member = make_link(chain)
    stage = chain.stages.last()
    twice = ChainLink(stage=stage, actor=member.actor)
    with pytest.raises(ValidationError, match="already in this chain"):
        services.links_add_bulk(chain=chain, links=[twice], user=owner)
    actor = make_actor("Neu")
    same = [ChainLink(stage=stage, actor=actor), ChainLink(stage=stage, actor=actor)]
    with pytest.raises(ValidationError, match="already in this chain"):
        services.links_add_bulk(chain=chain, links=same, user=owner)
    foreign = make_chain(other_team, scope_name="Other").stages.first()
    with pytest.raises(ValidationError, match="another chain"):
        services.links_add_bulk(
            chain=chain, links=[ChainLink(stage=foreign, actor=actor)], user=owner
        )
    assert list(chain.links.all()) == [member]


@pytest.mark.django_db
def test_a_user_from_another_team_cannot_use_an_own_token_here(client, chain, outsider):
    """Another team's chain: 404 before any token is looked at."""
    other_chain = make_chain(outsider.teams.get(), outsider, scope_name="Other")
    client.force_login(outsider)
    _upload(client, other_chain, "crm_de_cp1252.csv")
    token = _token(client, other_chain)
    assert client.post(_url(chain, "confirm"), {"token": token}).status_code == 404


@pytest.mark.django_db
def test_a_corrected_file_with_the_same_columns_keeps_the_chosen_mapping(
    client_owner, german_chain
):
    chain = german_chain
    _upload(client_owner, chain, "crm_de_cp1252.csv")
    # The user leaves the notes column out on purpose (the guess had mapped it).
    guessed = client_owner.get(_url(chain, "mapping")).context["form"].initial
    assert guessed.get("contact_notes")
    _map(client_owner, chain, contact_notes=None)
    chosen = client_owner.session[f"chain-import-{chain.pk}"]["mapping"]

    _upload(client_owner, chain, "crm_de_cp1252.csv")  # the corrected file
    assert client_owner.session[f"chain-import-{chain.pk}"]["mapping"] == chosen
    form = client_owner.get(_url(chain, "mapping")).context["form"]
    assert not form.initial.get("contact_notes")

    # Other columns: the guess again.
    _upload(client_owner, chain, "crm_en_utf8_bom.csv")
    assert "mapping" not in client_owner.session[f"chain-import-{chain.pk}"]
