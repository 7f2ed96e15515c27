"""What is stored cannot break a chain's exports, nor turn them against their reader.

A formula in any text stays text in the workbook; control characters stored before forms
refused them (written here directly, bypassing forms) leave every export valid; the PDF
of a chain whose every text is at its maximum length is built, with long words broken and
long texts shortened; a PDF or PNG that takes too long is stopped with a page that says why.
"""

import io
import re
import xml.etree.ElementTree as ET
import zipfile

import openpyxl
import pytest
from PIL import Image
from pypdf import PdfReader

from chain import exports
from chain.models import (
    Actor,
    ActorKind,
    Chain,
    ChainLink,
    Contact,
    Influence,
    ReviewComment,
    Stage,
    SuccessFactor,
    WorksheetAnswer,
)
from tests.factories import make_contact, make_influence, make_link, make_success_factor
from tests.full_chain import fill_chain

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _url(chain, name: str) -> str:
    return f"/chains/{chain.pk}/{name}"


def _pdf_text(content: bytes) -> str:
    """The PDF's text on one line, without the break opportunities the report inserts."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.replace("\u200b", "").split())


def _fill(chain, text: str) -> None:
    """`text` (with a suffix naming the field) in every text of the chain that an export
    shows, written with update() so that no form or clean() sees it."""
    stage = chain.stages.first()
    a, b = make_link(chain, stage), make_link(chain, stage)
    contact = make_contact(a)
    influence = make_influence(a, b)
    a.success_factors.add(make_success_factor("factor"))
    answer = WorksheetAnswer.objects.create(chain=chain, question="scope", text="x")
    actor_answer = WorksheetAnswer.objects.create(chain=chain, link=a, question="known", text="x")
    comment = ReviewComment.objects.create(chain=chain, link=a, text="x")
    ReviewComment.objects.create(chain=chain, parent=comment, text="x")
    Chain.objects.filter(pk=chain.pk).update(scope_name=text + "scope", coach_whom=text + "coach")
    Stage.objects.filter(pk=stage.pk).update(name=text + "stage")
    Actor.objects.filter(pk=a.actor_id).update(name=text + "actor A")
    Actor.objects.filter(pk=b.actor_id).update(name=text + "actor B")
    ActorKind.objects.filter(pk=a.actor.kind_id).update(name=text + "kind")
    SuccessFactor.objects.filter(name="factor").update(name=text + "factor")
    ChainLink.objects.filter(pk=a.pk).update(
        success_factors_text=text + "other factors",
        problems_needs=text + "problems",
        notes=text + "notes",
    )
    Contact.objects.filter(pk=contact.pk).update(
        name=text + "contact",
        role=text + "role",
        phone=(text + "phone")[:40],  # its limit
        notes=text + "cnotes",
    )
    Influence.objects.filter(pk=influence.pk).update(description=text + "influence")
    WorksheetAnswer.objects.filter(pk=answer.pk).update(text=text + "answer")
    WorksheetAnswer.objects.filter(pk=actor_answer.pk).update(text=text + "actor answer")
    ReviewComment.objects.filter(chain=chain).update(text=text + "comment")


# Formulas -----------------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/a","A")'


@pytest.mark.django_db
def test_no_text_of_the_workbook_is_a_formula(client_owner, chain):
    _fill(chain, FORMULA)

    response = client_owner.get(_url(chain, "workbook.xlsx"))

    assert response.status_code == 200
    # No formula anywhere in the file: a formula cell is an <f> element in the sheet XML.
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        assert not any(b"<f>" in archive.read(name) for name in sheets)
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith("=")
    ]
    assert {cell.value.removeprefix(FORMULA) for cell in cells} >= {
        "stage",
        "actor A",
        "actor B",
        "kind",
        "factor",
        "other factors",
        "problems",
        "notes",
        "contact",
        "role",
        "cnotes",
        "influence",
        "answer",
        "actor answer",
    }
    assert {cell.data_type for cell in cells} == {"s"}


# Control characters -------------------------------------------------------------------------


@pytest.mark.django_db
def test_control_characters_stored_leave_every_export_valid(client_owner, chain):
    _fill(chain, "Line\x0bbreak\x01 ")

    svg = client_owner.get(_url(chain, "diagram.svg") + "?download=1")
    assert svg.status_code == 200
    root = ET.fromstring(svg.content)  # valid XML
    svg_text = " ".join(root.itertext())
    assert "actor A" in svg_text
    assert not CONTROL.search(svg.content.decode())

    png = client_owner.get(_url(chain, "diagram.png"))
    assert png.status_code == 200
    assert Image.open(io.BytesIO(png.content)).size[0] > 100

    xlsx = client_owner.get(_url(chain, "workbook.xlsx"))
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    values = [
        v for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row
    ]
    texts = [v for v in values if isinstance(v, str)]
    # A vertical tab is a line break for whoever pasted it; other controls are dropped.
    assert "Line\nbreak actor A" in texts
    assert "Line\nbreak answer" in texts
    assert not any(CONTROL.search(t) for t in texts)

    pdf = client_owner.get(_url(chain, "report.pdf"))
    assert pdf.status_code == 200
    text = _pdf_text(pdf.content)
    for field in ("coach", "notes", "cnotes", "influence", "answer", "comment"):
        assert f"Line break {field}" in text


@pytest.mark.django_db
def test_the_page_holds_valid_svg_despite_control_characters(client_owner, chain):
    _fill(chain, "Line\x0bbreak\x01 ")

    response = client_owner.get(_url(chain, "diagram.svg"))

    assert response.status_code == 200
    ET.fromstring(response.content)


# Long texts ---------------------------------------------------------------------------------


def test_the_report_cuts_texts_only_beyond_its_budget():
    assert exports.text_cap([100, 200, 300], budget=1000) == 300  # all whole
    # 100 and 200 whole; the other two share the remaining 700 characters.
    assert exports.text_cap([100, 200, 5000, 9000], budget=1000) == 350
    assert exports.text_cap([5000] * 100, budget=1000) == exports.REPORT_TEXT_FLOOR


def test_a_long_word_gets_break_opportunities_and_a_blob_is_cut():
    url = "https://example.com/" + "a" * 60  # 80 characters
    html = str(exports.report_text(f"see {url} <b>", 10_000))
    assert html.replace("\u200b", "") == f"see {url} &lt;b&gt;"
    assert max(len(part) for part in re.split(r"[\s\u200b]", html)) <= exports.BREAK_EVERY + 4

    blob = str(exports.report_text("X" * 40_000, 100_000))
    assert blob.replace("\u200b", "").startswith("X" * exports.LONG_WORD + "…")
    assert "40,000" in blob  # the note: the workbook holds the whole text


def test_a_text_over_the_cap_is_cut_at_a_word_and_says_so():
    html = str(exports.report_text("word " * 1000, 400))
    assert html.startswith("word word")
    assert '<span class="shortened">' in html
    assert "5,000" in html
    assert len(html.split("<span")[0]) <= 402


@pytest.mark.django_db
def test_the_pdf_of_a_chain_with_every_text_at_its_maximum_is_built(client_owner, chain, owner):
    # One unbroken word in every field: the input that took minutes per contact note.
    fill_chain(chain, actors=12, comments=5, style="token", user=owner)

    response = client_owner.get(_url(chain, "report.pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "Some long texts are shortened in this report" in text
    assert "NOTE000 XXXXXXXX" in text  # an actor's notes, its long word broken over lines
    assert "A011" in text  # the last actor
    assert "ANSWER XXXXXX" in text
    assert "holds the whole text of 20,000 characters" in text


@pytest.mark.django_db
def test_a_chain_of_short_texts_prints_them_whole(client_owner, chain, owner):
    link = make_link(chain, notes="Short delivery times matter. " * 20)

    data = exports.chain_export_data(Chain.objects.get(pk=chain.pk))
    html = exports.report_html(data)

    assert link.notes.strip() in html.replace("<br>", "\n")
    assert "shortened" not in html


# Limits -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "says"), [("report.pdf", "report"), ("diagram.png", "PNG")])
def test_a_build_over_the_time_limit_is_stopped_with_a_page_that_says_why(
    client_owner, chain, settings, name, says
):
    make_link(chain)
    settings.EXPORT_TIME_LIMIT = 0.001  # not even Python starts within it

    response = client_owner.get(_url(chain, name))

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "could not be" in page and says in page
    assert f'href="/chains/{chain.pk}/workbook.xlsx"' in page


@pytest.mark.django_db
def test_a_build_out_of_memory_is_stopped_with_a_page_that_says_why(client_owner, chain, settings):
    make_link(chain)
    settings.EXPORT_MEMORY_MB = 40  # too little to load WeasyPrint

    response = client_owner.get(_url(chain, "report.pdf"))

    assert response.status_code == 503
    assert "could not be prepared" in response.content.decode()


@pytest.mark.django_db
def test_an_outsider_gets_no_export_page(client, outsider, chain, settings):
    settings.EXPORT_TIME_LIMIT = 0.001
    client.force_login(outsider)
    for name in ("report.pdf", "diagram.png", "workbook.xlsx"):
        assert client.get(_url(chain, name)).status_code == 404


@pytest.mark.django_db
def test_the_chain_page_marks_the_slow_downloads(client_owner, chain):
    page = client_owner.get(f"/chains/{chain.pk}/").content.decode()

    assert re.search(r'href="[^"]*report\.pdf"[^>]*data-preparing="Preparing the PDF…"', page)
    assert re.search(r'href="[^"]*diagram\.png"[^>]*data-preparing="Preparing the PNG…"', page)
    assert "js/downloads.js" in page
