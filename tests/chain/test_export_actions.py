"""Actions in the chain's report (PDF) and workbook (XLSX)."""

import io
from datetime import datetime, timedelta

import openpyxl
import pytest
from django.utils import timezone
from pypdf import PdfReader

from chain import exports
from chain.models import Action, ReviewComment
from tests.factories import make_contact, make_link


def _action(chain, title, **fields) -> Action:
    fields.setdefault("status", Action.Status.OPEN)
    if fields["status"] != Action.Status.OPEN:
        fields.setdefault("closed_at", timezone.now())
    return Action.objects.create(chain=chain, title=title, **fields)


@pytest.fixture
def planned(chain, owner, teammate):
    today = timezone.localdate()
    link = make_link(chain)
    contact = make_contact(link, "Anna Weber")
    comment = ReviewComment.objects.create(chain=chain, text="Who decides at the retailer?")
    _action(chain, "Call Anna", owner=owner, due=today - timedelta(days=2), contact=contact)
    _action(chain, "Visit the fair", owner=teammate, due=today + timedelta(days=5), link=link)
    _action(chain, "Answer the reviewer", comment=comment)
    _action(chain, '=HYPERLINK("http://evil.example","x")', customer_number="K-1001")
    _action(chain, "Old idea", status=Action.Status.DROPPED, closed_by=owner)
    _action(chain, "Sent samples", status=Action.Status.DONE, owner=owner, closed_by=owner)
    _action(chain, "Sent brochure", status=Action.Status.DONE)
    return chain


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.django_db
def test_the_report_lists_open_actions_and_counts_closed_ones(client_owner, planned, owner):
    response = client_owner.get(f"/chains/{planned.pk}/report.pdf")
    text = _pdf_text(response.content)
    assert "Actions" in text
    for expected in ("Call Anna", "Visit the fair", "Anna Weber", "Answer the reviewer"):
        assert expected in text, expected
    assert "4 open actions" in text and "1 overdue" in text
    assert "2 done" in text and "1 dropped" in text
    assert "Old idea" not in text and "Sent samples" not in text


@pytest.mark.django_db
def test_the_report_html_marks_overdue_actions(planned):
    html = exports.report_html(exports.chain_export_data(planned))
    section = html[html.index('class="actions-section"') :]
    assert section.index("Call Anna") < section.index("Visit the fair")
    assert section.count('<tr class="overdue">') == 1


@pytest.mark.django_db
def test_an_empty_chain_says_it_has_no_actions(chain):
    html = exports.report_html(exports.chain_export_data(chain))
    assert "No open actions." in html


@pytest.mark.django_db
def test_the_report_speaks_german(client_owner, planned):
    response = client_owner.get(
        f"/chains/{planned.pk}/report.pdf", headers={"accept-language": "de"}
    )
    text = _pdf_text(response.content)
    assert "Maßnahmen" in text and "4 offene Maßnahmen" in text and "überfällig" in text


@pytest.mark.django_db
def test_the_workbook_has_an_actions_sheet(client_owner, planned, owner):
    response = client_owner.get(f"/chains/{planned.pk}/workbook.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["Actions"]
    headers = [cell.value for cell in sheet[1]]
    values = sheet.iter_rows(min_row=2, values_only=True)
    rows = [dict(zip(headers, row, strict=True)) for row in values]
    by_title = {row["Title"]: row for row in rows}
    assert [row["Title"] for row in rows][:4] == [
        "Call Anna",
        "Visit the fair",
        "Answer the reviewer",
        '=HYPERLINK("http://evil.example","x")',
    ]
    call = by_title["Call Anna"]
    assert call["Owner"] == owner.username and call["Status"] == "open"
    assert call["Overdue"] is True and isinstance(call["Due"], datetime)
    assert call["About"] == "Anna Weber (" + planned.links.get().actor.name + ")"
    assert by_title["Visit the fair"]["Overdue"] is False
    assert by_title["Answer the reviewer"]["About"].startswith("Review comment: Who decides")
    assert by_title['=HYPERLINK("http://evil.example","x")']["About"] == "Customer K-1001"
    assert by_title["Old idea"]["Status"] == "dropped"
    assert isinstance(by_title["Old idea"]["Closed"], datetime)
    # Stays text: no cell of the workbook is a formula.
    formula = next(c for c in sheet["A"] if str(c.value).startswith("="))
    assert formula.data_type == "s"


@pytest.mark.django_db
def test_the_workbook_sheet_is_german_for_german_readers(client_owner, planned):
    response = client_owner.get(
        f"/chains/{planned.pk}/workbook.xlsx", headers={"accept-language": "de"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["Maßnahmen"]
    headers = [cell.value for cell in sheet[1]]
    assert "Titel" in headers and "Fällig" in headers and "Überfällig" in headers
