"""Every export, downloaded in a real browser and opened: the chain's report, workbook and
diagram (SVG, PNG), and the customer assessments as XLSX with the portfolio chart."""

import io
import struct
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from pypdf import PdfReader

from chain.models import Chain, Contact
from customers.management.commands.demo_data import SCOPE
from customers.models import Assessment
from customers.selectors import latest_run

from .conftest import CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


def _download(page, link, folder: Path) -> Path:
    with page.expect_download() as info:
        link.click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


@pytest.mark.django_db(transaction=True)
def test_each_export_downloads_and_holds_the_chain(live_server, page, tmp_path):
    call_command("demo_data", stdout=StringIO())
    chain = Chain.objects.get(scope_name=SCOPE)
    actors = list(chain.links.values_list("actor__name", flat=True))
    contact = Contact.objects.filter(link__chain=chain).exclude(name="").order_by("name").first()
    assert latest_run() is not None  # the demo data brings an analysed customer base

    base = live_server.url
    log_in(page, base)
    page.goto(f"{base}/chains/{chain.pk}/")
    exports = page.locator("#summary nav.exports")

    pdf = _download(page, exports.locator("a", has_text="Report (PDF)"), tmp_path)
    assert pdf.suffix == ".pdf"
    reader = PdfReader(pdf)
    text = " ".join(p.extract_text() for p in reader.pages)
    first = reader.pages[0].mediabox
    assert (round(float(first.width)), round(float(first.height))) in {(595, 842), (842, 595)}
    assert SCOPE.split()[0] in text
    assert contact.name in text

    xlsx = _download(page, exports.locator("a", has_text="Workbook (XLSX)"), tmp_path)
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["Actors", "Contacts", "Influences", "Answers", "Actions"]
    listed = {row[2] for row in book["Actors"].iter_rows(min_row=2, values_only=True)}
    assert set(actors) <= listed
    contact_names = [row[2] for row in book["Contacts"].iter_rows(min_row=2, values_only=True)]
    assert contact.name in contact_names

    svg = _download(page, exports.locator("a", has_text="Diagram (SVG)"), tmp_path)
    assert svg.name.endswith("-diagram.svg")
    assert actors[0] in svg.read_text(encoding="utf-8")

    png = _download(page, exports.locator("a", has_text="Diagram (PNG)"), tmp_path)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 800 and height > 300

    # The customer assessments, from the customer list.
    page.goto(f"{base}/customers/")
    sheet = _download(page, page.locator("a", has_text="Export XLSX"), tmp_path)
    book = openpyxl.load_workbook(io.BytesIO(sheet.read_bytes()))
    # The first sheet, named in the reader's language ("Assessments", "Bewertungen").
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert len(rows) == Assessment.objects.filter(run=latest_run()).count() > 0
    images = [image for ws in book.worksheets for image in ws._images]
    assert images, "the portfolio chart is embedded as a picture"


@pytest.mark.django_db(transaction=True)
def test_a_slow_download_says_it_is_being_prepared_and_a_failed_one_says_why(
    live_server, page, tmp_path, settings
):
    call_command("demo_data", stdout=StringIO())
    chain = Chain.objects.get(scope_name=SCOPE)
    base = live_server.url
    log_in(page, base)
    page.goto(f"{base}/chains/{chain.pk}/")
    exports = page.locator("#summary nav.exports")
    pdf_link = exports.locator("a", has_text="Report (PDF)")

    # The server's answer is held back: meanwhile the link says what is going on.
    held = []
    page.route("**/report.pdf", lambda route: held.append(route))
    pdf_link.click()
    busy = exports.locator("a[aria-busy=true]")
    expect(busy).to_have_text("Preparing the PDF…")
    with page.expect_download() as info:
        held[0].continue_()
    assert info.value.suggested_filename.endswith("-report.pdf")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert PdfReader(path).pages
    expect(pdf_link).to_have_text("Report (PDF)")
    expect(busy).to_have_count(0)

    # A build over the time limit: the page stays, and says why and what to do instead.
    settings.EXPORT_TIME_LIMIT = 0.001
    png_link = exports.locator("a", has_text="Diagram (PNG)")
    png_link.click()
    expect(page.locator("#messages .message.error")).to_contain_text(
        "could not be drawn as PNG within"
    )
    expect(png_link).to_have_text("Diagram (PNG)")
    assert page.url == f"{base}/chains/{chain.pk}/"
