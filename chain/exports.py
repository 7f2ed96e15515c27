"""Per-chain exports: the PDF report, the XLSX workbook and the diagram as PNG.

`chain_export_data` loads everything of one chain with a fixed number of queries, on top
of the chain page's `chain_board`; the builders turn it into bytes in the active language.
"""

import io
import re
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.db.models import Model
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .diagram import render_svg
from .models import (
    CHAIN_QUESTIONS,
    Actor,
    Chain,
    ChainLink,
    Contact,
    Coverage,
    Influence,
    Question,
    ReviewComment,
    Stage,
    WorksheetAnswer,
)
from .selectors import ChainBoard, chain_board, review_comments
from .snapshots import LIGHTS

# Data -------------------------------------------------------------------------------------


@dataclass
class Member:
    """One actor of the chain, with what the exports show of it."""

    link: ChainLink
    stage: Stage
    place: int  # 1-based, within its stage
    factors: list[str]  # catalog success factors, by name
    contacts: list[Contact]
    gap: str  # why the actor is a white spot ("nobody known", ...), or ""

    @property
    def actor(self) -> Actor:
        return self.link.actor

    @property
    def has_direct_contact(self) -> bool:
        return self.link.coverage in (Coverage.REGULAR, Coverage.DIRECT)

    @property
    def shows_contacts(self) -> bool:
        """Our own company gets no contacts section unless somebody entered some."""
        return bool(self.contacts) or not self.actor.is_own_company


@dataclass
class AnswerRow:
    question: Question
    member: Member | None  # None: an answer for the chain as a whole
    answer: WorksheetAnswer


@dataclass
class QuestionBlock:
    """One worksheet question with its answers, for the report."""

    label: str
    per_actor: bool
    rows: list[AnswerRow]


@dataclass
class ChainExport:
    chain: Chain
    board: ChainBoard
    stages: list[tuple[Stage, list[Member]]]
    members: list[Member]
    answers: list[AnswerRow]  # worksheet order, then chain order; blank answers left out
    comments: list[ReviewComment]  # newest first, each with its replies (`reply_list`)
    exported_at: datetime

    @property
    def open_comments(self) -> list[ReviewComment]:
        return [c for c in self.comments if c.is_open]

    @property
    def resolved_comments(self) -> list[ReviewComment]:
        return [c for c in self.comments if not c.is_open]

    @property
    def contact_count(self) -> int:
        return sum(len(m.contacts) for m in self.members)

    def questions(self) -> list[QuestionBlock]:
        """Every question of the worksheet, answered or not, in worksheet order."""
        by_question = {
            code: list(rows) for code, rows in groupby(self.answers, key=lambda r: r.question)
        }
        return [
            QuestionBlock(
                label=str(question.label),
                per_actor=question not in CHAIN_QUESTIONS,
                rows=by_question.get(question, []),
            )
            for question in Question
        ]


def chain_export_data(chain: Chain) -> ChainExport:
    """Everything of one chain the exports show, with a fixed number of queries."""
    board = chain_board(chain)
    factors = _factor_names(chain)
    users = _users(chain, board)
    if chain.owner_id:
        chain.owner = users[chain.owner_id]
    # White spots of the actor itself; placeholder contacts are marked in their own row.
    gaps = {spot.link.pk: spot.reason for spot in board.white_spots if spot.placeholder is None}
    stages: list[tuple[Stage, list[Member]]] = []
    members: dict[int, Member] = {}
    for column in board.columns:
        block = []
        for place, link in enumerate(column.members, start=1):
            for contact in link.contact_list:
                if contact.owner_id:
                    # The users loaded at once, instead of a query per contact.
                    contact.owner = users[contact.owner_id]
            member = Member(
                link=link,
                stage=column.stage,
                place=place,
                factors=factors.get(link.pk, []),
                contacts=link.contact_list,
                gap=gaps.get(link.pk, ""),
            )
            members[link.pk] = member
            block.append(member)
        stages.append((column.stage, block))
    return ChainExport(
        chain=chain,
        board=board,
        stages=stages,
        members=list(members.values()),
        answers=_answer_rows(chain, members),
        comments=review_comments(chain),
        exported_at=timezone.localtime(),
    )


def _factor_names(chain: Chain) -> dict[int, list[str]]:
    through = ChainLink.success_factors.through
    rows = (
        through.objects.filter(chainlink__chain=chain)
        .order_by("successfactor__name")
        .values_list("chainlink_id", "successfactor__name")
    )
    names: dict[int, list[str]] = {}
    for link_id, name in rows:
        names.setdefault(link_id, []).append(name)
    return names


def _users(chain: Chain, board: ChainBoard) -> dict[int, Model]:
    """The chain's owner and the contacts' owners, in one query."""
    ids = {c.owner_id for link in board.links.values() for c in link.contact_list if c.owner_id}
    if chain.owner_id:
        ids.add(chain.owner_id)
    return get_user_model().objects.in_bulk(ids)


def _answer_rows(chain: Chain, members: dict[int, Member]) -> list[AnswerRow]:
    order = {question: i for i, question in enumerate(Question)}
    places = {pk: i for i, pk in enumerate(members)}
    answers = [
        a
        for a in chain.answers.select_related("updated_by")
        if a.text.strip() and a.question in order
    ]
    answers.sort(key=lambda a: (order[a.question], -1 if a.link_id is None else places[a.link_id]))
    return [
        AnswerRow(Question(a.question), members[a.link_id] if a.link_id else None, a)
        for a in answers
    ]


def user_name(user: Model | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def export_filename(chain: Chain, what: str, extension: str) -> str:
    """“profix-fliesenkleber-2026-11-28-report.pdf”: ASCII only, safe in any header."""
    slug = slugify(chain.scope_name) or f"chain-{chain.pk}"
    return f"{slug}-{timezone.localdate().isoformat()}-{what}.{extension}"


def _field(model: type[Model], name: str) -> str:
    """A field's translated name, as the forms show it, as a heading: “Size class”."""
    return capfirst(str(model._meta.get_field(name).verbose_name))


# Diagram ----------------------------------------------------------------------------------


def diagram_svg(board: ChainBoard) -> str:
    """The standalone SVG the page offers for download (styles inside, no links)."""
    return render_svg(board, interactive=False, editable=False)


def diagram_png(board: ChainBoard, *, scale: float = 2) -> bytes:
    """The diagram as PNG, drawn at twice its size so that it stays crisp on slides."""
    # Imported here: it loads Cairo from the system, which only the exports need.
    import cairosvg

    return cairosvg.svg2png(bytestring=diagram_svg(board).encode(), scale=scale)


SVG_SIZE = re.compile(r'<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"')

# Wider than this (in SVG pixels, 96 per inch), the diagram gets a landscape page: the
# portrait page's text width of 180 mm holds about three stages at a readable size.
PORTRAIT_MAX_WIDTH = 700


def _inline_svg(board: ChainBoard) -> tuple[str, bool]:
    """The diagram for embedding in HTML (no XML declaration), and whether it is wide."""
    svg = diagram_svg(board)
    svg = svg[svg.index("<svg") :]
    size = SVG_SIZE.match(svg)
    width, height = (float(size[1]), float(size[2])) if size else (0.0, 0.0)
    return svg, width > PORTRAIT_MAX_WIDTH and width > height


# PDF report -------------------------------------------------------------------------------


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _page_counter_css() -> str:
    """The CSS `content` of the footer: “Page 2 of 7” in the active language.

    The translation has the placeholders where the page counters go, so the sentence
    keeps its word order in every language.
    """
    marker = "\x00"
    text = _("Page %(n)s of %(total)s") % {
        "n": marker + "page" + marker,
        "total": marker + "pages" + marker,
    }
    parts = []
    for i, piece in enumerate(text.split(marker)):
        if i % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts)


def report_html(export: ChainExport) -> str:
    svg, wide = _inline_svg(export.board)
    context = {
        "x": export,
        "chain": export.chain,
        "board": export.board,
        "svg": svg,
        "wide_diagram": wide,
        "light_label": LIGHTS.get(export.board.light, export.board.light),
        "page_counter": _page_counter_css(),
        "labels": _report_labels(),
    }
    return render_to_string("chain/report.html", context)


def _report_labels() -> dict[str, str]:
    """Column and field names, as the forms call them."""
    return {
        "kind": _field(Actor, "kind"),
        "size": _field(Actor, "size"),
        "position": _field(ChainLink, "competitive_position"),
        "count": _field(ChainLink, "count"),
        "importance": _field(ChainLink, "importance"),
        "relationship": _field(ChainLink, "relationship"),
        "success_factors": _field(ChainLink, "success_factors"),
        "other_factors": _field(ChainLink, "success_factors_text"),
        "problems_needs": _field(ChainLink, "problems_needs"),
        "notes": _field(ChainLink, "notes"),
        "name": _field(Contact, "name"),
        "role": _field(Contact, "role"),
        "buying_role": _field(Contact, "buying_role"),
        "attitude": _field(Contact, "attitude"),
        "level": _field(Contact, "level"),
        "relation_now": _field(Contact, "relation_now"),
        "relation_goal": _field(Contact, "relation_goal"),
        "last_contact": _field(Contact, "last_contact"),
        "source": _field(Influence, "source"),
        "target": _field(Influence, "target"),
        "strength": _field(Influence, "strength"),
        "description": _field(Influence, "description"),
        "scope_kind": _field(Chain, "scope_kind"),
        "scope_name": _field(Chain, "scope_name"),
        "goal": _field(Chain, "goal"),
        "customer_type": _field(Chain, "customer_type"),
        "coach_whom": _field(Chain, "coach_whom"),
        "team": _field(Chain, "team"),
        "owner": _field(Chain, "owner"),
        "status": _field(Chain, "status"),
        "author": _field(ReviewComment, "author"),
        "written": _field(ReviewComment, "created_at"),
        "resolved": _field(ReviewComment, "resolved_at"),
        "resolved_by": _field(ReviewComment, "resolved_by"),
        "comment": _field(ReviewComment, "text"),
    }


def report_pdf(export: ChainExport) -> bytes:
    """The A4 report: rendered from HTML with the print stylesheet static/css/report.css."""
    # Imported here: loading WeasyPrint (Pango, fonts) takes a moment no other page needs.
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    stylesheet = Path(finders.find("css/report.css"))
    # The report needs nothing from the network; local files only, should a style want one.
    fetcher = URLFetcher(allowed_protocols={"file", "data"})
    base_url = stylesheet.parent.as_uri() + "/"
    html = HTML(string=report_html(export), base_url=base_url, url_fetcher=fetcher)
    return html.write_pdf(stylesheets=[CSS(filename=stylesheet, url_fetcher=fetcher)])


# XLSX workbook ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    max_width: int = 40
    wrap: bool = False  # long texts: wrapped in a column of at most max_width
    number_format: str = ""


# Excel's built-in date formats 14 and 22: Excel shows them in the reader's own locale.
DATE = "mm-dd-yy"
DATETIME = "m/d/yy h:mm"
HEADER_FILL = PatternFill("solid", fgColor="E5E7EB")
HEADER_BORDER = Border(bottom=Side(style="thin", color="6B7280"))
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


def workbook_xlsx(export: ChainExport) -> bytes:
    """One sheet each for actors, contacts, influences and answers; headers translated."""
    book = Workbook()
    book.remove(book.active)
    _write_sheet(book, _("Actors"), *_actor_sheet(export))
    _write_sheet(book, _("Contacts"), *_contact_sheet(export))
    _write_sheet(book, _("Influences"), *_influence_sheet(export))
    _write_sheet(book, _("Answers"), *_answer_sheet(export))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


Rows = list[list[object]]


def _actor_sheet(export: ChainExport) -> tuple[list[Column], Rows]:
    columns = [
        Column(_field(ChainLink, "stage")),
        Column(_field(ChainLink, "position"), 10),
        Column(_field(ChainLink, "actor")),
        Column(_field(Actor, "kind"), 24),
        Column(_field(Actor, "size"), 22),
        Column(_field(ChainLink, "competitive_position"), 22),
        Column(_field(ChainLink, "count"), 10, number_format="#,##0"),
        Column(_field(Actor, "is_own_company"), 12),
        Column(_field(ChainLink, "importance"), 12),
        Column(_field(ChainLink, "relationship"), 22),
        Column(_field(ChainLink, "success_factors"), 40, wrap=True),
        Column(_field(ChainLink, "success_factors_text"), 40, wrap=True),
        Column(_field(ChainLink, "problems_needs"), 60, wrap=True),
        Column(_field(ChainLink, "notes"), 50, wrap=True),
        Column(_("Number of contacts"), 12),
        Column(_("Direct contact"), 12),
    ]
    rows = []
    for m in export.members:
        link, actor = m.link, m.actor
        rows.append(
            [
                m.stage.name,
                m.place,
                actor.name,
                actor.kind.name,
                actor.get_size_display(),
                link.get_competitive_position_display(),
                link.count,
                actor.is_own_company,
                link.importance,
                link.get_relationship_display(),
                ", ".join(m.factors),
                link.success_factors_text,
                link.problems_needs,
                link.notes,
                len(m.contacts),
                m.has_direct_contact,
            ]
        )
    return columns, rows


def _contact_sheet(export: ChainExport) -> tuple[list[Column], Rows]:
    columns = [
        Column(_field(Contact, "link")),
        Column(_field(ChainLink, "stage"), 24),
        Column(_field(Contact, "name"), 30),
        Column(_field(Contact, "role"), 30),
        Column(_field(Contact, "email"), 34),
        Column(_field(Contact, "phone"), 20),
        Column(_field(Contact, "buying_role"), 20),
        Column(_field(Contact, "attitude"), 16),
        Column(_field(Contact, "owner"), 24),
        Column(_field(Contact, "level"), 30),
        Column(_field(Contact, "relation_now"), 20),
        Column(_field(Contact, "relation_goal"), 20),
        Column(_field(Contact, "last_contact"), 14, number_format=DATE),
        Column(_field(Contact, "notes"), 50, wrap=True),
    ]
    rows = [
        [
            m.actor.name,
            m.stage.name,
            c.name,
            c.role,
            c.email,
            c.phone,
            c.get_buying_role_display(),
            c.get_attitude_display(),
            user_name(c.owner) if c.owner_id else "",
            c.get_level_display(),
            c.get_relation_now_display(),
            c.get_relation_goal_display(),
            c.last_contact,
            c.notes,
        ]
        for m in export.members
        for c in m.contacts
    ]
    return columns, rows


def _influence_sheet(export: ChainExport) -> tuple[list[Column], Rows]:
    columns = [
        Column(_field(Influence, "source")),
        Column(_field(Influence, "target")),
        Column(_field(Influence, "strength"), 12),
        Column(_field(Influence, "description"), 70, wrap=True),
    ]
    rows = [
        [i.source.actor.name, i.target.actor.name, i.get_strength_display(), i.description]
        for i in export.board.influences
    ]
    return columns, rows


def _answer_sheet(export: ChainExport) -> tuple[list[Column], Rows]:
    columns = [
        Column(_field(WorksheetAnswer, "question"), 50, wrap=True),
        Column(_field(WorksheetAnswer, "link")),
        Column(_field(WorksheetAnswer, "text"), 80, wrap=True),
        Column(_field(WorksheetAnswer, "updated_at"), 17, number_format=DATETIME),
        Column(_("Changed by"), 24),
    ]
    rows = [
        [
            str(row.question.label),
            row.member.actor.name if row.member else "",
            row.answer.text,
            _naive(row.answer.updated_at),
            user_name(row.answer.updated_by),
        ]
        for row in export.answers
    ]
    return columns, rows


def _naive(moment: datetime | None) -> datetime | None:
    """Local time without the zone: Excel cells know no time zones."""
    return timezone.localtime(moment).replace(tzinfo=None, microsecond=0) if moment else None


def _write_sheet(book: Workbook, title: str, columns: list[Column], rows: Rows) -> Worksheet:
    sheet = book.create_sheet(title)
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = HEADER_BORDER
        cell.alignment = WRAP
    # The header stays in view while scrolling, and every column can be filtered.
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        values = [row[index - 1] for row in rows]
        sheet.column_dimensions[letter].width = _width(column, values)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.alignment = WRAP if column.wrap else TOP
            if column.number_format:
                cell.number_format = column.number_format
    return sheet


def _width(column: Column, values: list[object]) -> float:
    """Wide enough for the header's longest word and the longest value, up to max_width."""
    if column.number_format in (DATE, DATETIME):
        return max(column.max_width, *(len(word) + 2 for word in column.header.split()))
    longest = max(
        (len(line) for v in values if isinstance(v, str) for line in v.splitlines()), default=0
    )
    longest = max(longest, *(len(str(v)) for v in values if isinstance(v, int | float)), 0)
    header = max(len(word) for word in column.header.split())
    return min(max(longest, header, 6) + 2, column.max_width)
