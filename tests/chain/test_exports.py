"""Per-chain downloads: the PDF report, the XLSX workbook, and the diagram as PNG and SVG."""

import io
import struct
from datetime import date, datetime

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from chain import exports, services
from chain.models import (
    Action,
    Actor,
    ChainLink,
    CompetitivePosition,
    Contact,
    Influence,
    ReviewComment,
)
from tests.factories import (
    make_actor,
    make_contact,
    make_influence,
    make_kind,
    make_link,
    make_success_factor,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _url(chain, name: str) -> str:
    return f"/chains/{chain.pk}/{name}"


@pytest.fixture
def mapped(chain, owner):
    """A small but complete chain: actors, contacts, an influence, answers and comments."""
    stages = list(chain.stages.all())
    retailer = make_link(
        chain,
        stages[2],
        actor=make_actor("Baustoff Nord", kind=make_kind("Retail"), size=Actor.Size.LARGE),
        count=3,
        importance=5,
        relationship=ChainLink.Relationship.DIRECT_CUSTOMER,
        problems_needs="Short delivery times",
    )
    retailer.success_factors.add(make_success_factor("Availability"))
    crafts = make_link(
        chain,
        stages[3],
        actor=make_actor("Tilers South"),
        competitive_position=CompetitivePosition.NICHE,
        importance=4,
        relationship=ChainLink.Relationship.INDIRECT_CUSTOMER,
    )
    make_link(chain, stages[0], actor=make_actor("Polymer & Söhne <GmbH>"))
    make_contact(
        retailer,
        "Anna Weber",
        role="Head of purchasing",
        email="anna@nord.example",
        level=Contact.Level.REGULAR,
        owner=owner,
        last_contact=date(2026, 3, 9),
        buying_role=Contact.BuyingRole.DECISION_MAKER,
    )
    make_contact(retailer, "", role="Category manager")
    make_influence(
        retailer, crafts, description="Shelf decides the glue", strength=Influence.Strength.STRONG
    )
    services.answer_save(
        chain=chain, question="scope", text="Glue for tilers", user=owner, link=None
    )
    services.answer_save(
        chain=chain, question="known", text="Only the owner", user=owner, link=crafts
    )
    ReviewComment.objects.create(chain=chain, link=retailer, text="Who lists the glue?")
    ReviewComment.objects.create(
        chain=chain, text="Add the planners", resolved_at=timezone.now(), resolved_by=owner
    )
    return chain


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _workbook(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def _rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


def _filename(response) -> str:
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    return disposition.split('filename="')[1].rstrip('"')


# PDF report -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_downloads_the_report_as_pdf(client_owner, mapped):
    response = client_owner.get(_url(mapped, "report.pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    today = timezone.localdate().isoformat()
    assert _filename(response) == f"mounting-glue-{today}-report.pdf"
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    for expected in (
        "Mounting glue",
        "Baustoff Nord",
        "Tilers South",
        "Polymer & Söhne <GmbH>",
        "Anna Weber",
        "Head of purchasing",
        "Shelf decides the glue",
        "Glue for tilers",
        "Only the owner",
        "Who lists the glue?",
        "Add the planners",
        "Availability",
        "Short delivery times",
        "Page 1 of",
    ):
        assert expected in text, expected


@pytest.mark.django_db
def test_the_report_is_in_the_request_language(client_owner, mapped):
    response = client_owner.get(_url(mapped, "report.pdf"), headers={"accept-language": "de"})
    text = _pdf_text(response.content)
    for heading in ("Akteure", "Einflüsse", "Weiße Flecken", "Arbeitsblatt", "Prüfung"):
        assert heading in text, heading
    assert "Größenklasse" in text and "Wettbewerbsposition" in text
    assert "Seite 1 von" in text
    assert "09.03.2026" in text  # the last contact, as German dates go
    assert "Size class" not in text


@pytest.mark.django_db
def test_a_wide_diagram_gets_a_landscape_page(client_owner, mapped):
    response = client_owner.get(_url(mapped, "report.pdf"))
    pages = PdfReader(io.BytesIO(response.content)).pages
    # Four stages are wider than a portrait page: the diagram's page lies sideways.
    shapes = ["landscape" if p.mediabox.width > p.mediabox.height else "portrait" for p in pages]
    assert shapes[:3] == ["portrait", "landscape", "portrait"]
    assert round(float(pages[0].mediabox.width)) == 595  # A4, in points


@pytest.mark.django_db
def test_an_empty_chain_still_makes_a_report(client_owner, chain):
    response = client_owner.get(_url(chain, "report.pdf"))
    text = _pdf_text(response.content)
    assert "No actors in this stage yet." in text
    assert "No influences recorded yet." in text
    assert "Not answered yet." in text


# XLSX workbook ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_workbook_has_a_sheet_per_part(client_owner, mapped, owner):
    response = client_owner.get(_url(mapped, "workbook.xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert _filename(response).endswith("-workbook.xlsx")
    book = _workbook(response.content)
    assert book.sheetnames == ["Actors", "Contacts", "Influences", "Answers", "Actions"]

    actors = book["Actors"]
    headers = [cell.value for cell in actors[1]]
    assert headers[:7] == [
        "Stage",
        "Position",
        "Actor",
        "Kind",
        "Size class",
        "Competitive position",
        "Count",
    ]
    assert headers[-2:] == ["Number of contacts", "Direct contact"]
    assert all(cell.font.bold for cell in actors[1])
    assert actors.freeze_panes == "A2"
    assert actors.auto_filter.ref == f"A1:P{actors.max_row}"
    rows = {row[2]: row for row in _rows(actors)}
    assert set(rows) == {"Baustoff Nord", "Tilers South", "Polymer & Söhne <GmbH>"}
    nord = dict(zip(headers, rows["Baustoff Nord"], strict=True))
    assert nord["Stage"] == "Retail"
    assert nord["Position"] == 1
    assert nord["Kind"] == "Retail"
    assert nord["Size class"] == "large (250+)"
    assert nord["Count"] == 3
    assert nord["Importance"] == 5
    assert nord["Relationship with us"] == "direct customer"
    assert nord["Success factors"] == "Availability"
    assert nord["Problems and needs"] == "Short delivery times"
    assert nord["Number of contacts"] == 2
    assert nord["Direct contact"] is True
    assert dict(zip(headers, rows["Tilers South"], strict=True))["Direct contact"] is False

    contacts = book["Contacts"]
    headers = [cell.value for cell in contacts[1]]
    rows = _rows(contacts)
    assert len(rows) == 2
    anna = dict(zip(headers, next(r for r in rows if r[2] == "Anna Weber"), strict=True))
    assert anna["Actor"] == "Baustoff Nord"
    assert anna["Role"] == "Head of purchasing"
    assert anna["Role in buying decisions"] == "decision maker"
    assert anna["Contact owner on our side"] == owner.username
    assert anna["Contact level"] == "regular direct contact"
    assert anna["Last contact"] == datetime(2026, 3, 9)  # a real date cell
    placeholder = next(r for r in rows if r[2] in ("", None))
    assert placeholder[3] == "Category manager"

    influences = book["Influences"]
    assert [cell.value for cell in influences[1]] == ["From", "On", "Strength", "Description"]
    assert _rows(influences) == [
        ("Baustoff Nord", "Tilers South", "strong", "Shelf decides the glue")
    ]

    answers = book["Answers"]
    assert [cell.value for cell in answers[1]][:3] == ["Question", "Actor", "Answer"]
    rows = _rows(answers)
    assert [(r[1], r[2]) for r in rows] == [
        (None, "Glue for tilers"),
        ("Tilers South", "Only the owner"),
    ]
    assert rows[0][0].startswith("For which product")
    assert isinstance(rows[0][3], datetime)
    assert rows[0][4] == owner.username


@pytest.mark.django_db
def test_the_workbook_speaks_the_request_language(client_owner, mapped):
    response = client_owner.get(_url(mapped, "workbook.xlsx"), headers={"accept-language": "de"})
    book = _workbook(response.content)
    assert book.sheetnames == ["Akteure", "Ansprechpartner", "Einflüsse", "Antworten", "Maßnahmen"]
    headers = [cell.value for cell in book["Akteure"][1]]
    assert "Größenklasse" in headers and "Wettbewerbsposition" in headers
    nord = next(row for row in _rows(book["Akteure"]) if row[2] == "Baustoff Nord")
    assert "Direktkunde" in nord


# Diagram ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_png_is_the_diagram_at_twice_its_size(client_owner, mapped):
    response = client_owner.get(_url(mapped, "diagram.png"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert _filename(response).endswith("-diagram.png")
    png = response.content
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    svg = client_owner.get(_url(mapped, "diagram.svg")).content.decode()
    svg_width, svg_height = exports.SVG_SIZE.search(svg).groups()
    assert (width, height) == (round(2 * float(svg_width)), round(2 * float(svg_height)))
    assert width > 1000 and height > 300


@pytest.mark.django_db
def test_the_svg_download_link_names_the_file(client_owner, mapped):
    response = client_owner.get(_url(mapped, "diagram.svg") + "?download=1")
    today = timezone.localdate().isoformat()
    assert _filename(response) == f"mounting-glue-{today}-diagram.svg"
    assert _filename(client_owner.get(_url(mapped, "diagram.svg"))) == "mounting-glue.svg"


# Access and queries -----------------------------------------------------------------------

DOWNLOADS = ["report.pdf", "workbook.xlsx", "diagram.png"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", DOWNLOADS)
def test_an_outsider_gets_404(client, chain, outsider, name):
    client.force_login(outsider)
    assert client.get(_url(chain, name)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", DOWNLOADS)
def test_a_manager_of_no_team_and_a_teammate_download(client, chain, manager, teammate, name):
    make_link(chain)
    for user in (manager, teammate):
        client.force_login(user)
        assert client.get(_url(chain, name)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", DOWNLOADS)
def test_it_rejects_post(client_owner, chain, name):
    assert client_owner.post(_url(chain, name)).status_code == 405


def _grow(chain, owner, n: int) -> None:
    """Add n actors, each with two contacts, an answer, an influence and a comment."""
    stages = list(chain.stages.all())
    previous = None
    for i in range(n):
        link = make_link(chain, stages[i % len(stages)], importance=1 + i % 5)
        link.success_factors.add(make_success_factor(f"Factor {i % 3}"))
        make_contact(link, f"Person {i}", owner=owner, level=Contact.Level.OCCASIONAL)
        make_contact(link, "", role="Buyer")
        services.answer_save(
            chain=chain, question="known", text=f"Knows {i}", user=owner, link=link
        )
        ReviewComment.objects.create(chain=chain, link=link, author=owner, text=f"Comment {i}")
        Action.objects.create(chain=chain, link=link, owner=owner, title=f"Visit {i}")
        if previous:
            make_influence(previous, link)
        previous = link


def _count_queries(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


@pytest.mark.django_db
def test_the_queries_do_not_grow_with_the_chain(client_owner, chain, owner):
    def workbook():
        assert client_owner.get(_url(chain, "workbook.xlsx")).status_code == 200

    def report():
        # The PDF is drawn from this HTML; every query of the report happens here.
        chain.refresh_from_db()
        exports.report_html(exports.chain_export_data(chain))

    _grow(chain, owner, 3)
    few = (_count_queries(workbook), _count_queries(report))
    _grow(chain, owner, 12)
    many = (_count_queries(workbook), _count_queries(report))
    assert many == few
    # The board's parts and the light's counts, the members' open actions and type changes,
    # and the actions of the report's own section.
    assert few[1] <= 16
