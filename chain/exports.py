"""Per-chain exports: the PDF report, the XLSX workbook and the diagram as PNG.

`chain_export_data` loads everything of one chain with a fixed number of queries, on top
of the chain page's `chain_board`; the builders turn it into bytes in the active language.

Every export writes what is stored as plain text: control characters are dropped (a
vertical tab pasted from an office program is invalid in XML, hence in XLSX and SVG), and
no cell of the workbook is ever a formula. The PDF and the PNG are drawn in a child
process with a time and a memory limit (sandbox.py), and the report prints at most
`REPORT_TEXT_BUDGET` characters of long texts, so that no chain, however long its texts,
holds a server for long (bench/pdf_limits.py shows the figures).
"""

import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.db.models import Model
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from lib.text import strip_control

from . import sandbox
from .diagram import render_svg
from .models import (
    CHAIN_QUESTIONS,
    Action,
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
    actions: list["ActionRow"]  # open ones first, by due date; then the closed ones

    @property
    def today(self) -> date:
        return self.exported_at.date()

    @property
    def open_actions(self) -> list["ActionRow"]:
        return [row for row in self.actions if row.action.is_open]

    @property
    def done_actions(self) -> int:
        return sum(1 for row in self.actions if row.action.status == Action.Status.DONE)

    @property
    def dropped_actions(self) -> int:
        return sum(1 for row in self.actions if row.action.status == Action.Status.DROPPED)

    @property
    def overdue_actions(self) -> int:
        return sum(1 for row in self.actions if row.overdue)

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
        actions=chain_actions(chain, today=timezone.localdate()),
    )


@dataclass
class ActionRow:
    action: Action
    about: str  # what it is about, in words ("" for the chain as a whole)
    overdue: bool


def chain_actions(chain: Chain, *, today: date) -> list[ActionRow]:
    """The chain's actions for the exports, in one query: open ones by due date (undated
    last), then the closed ones, newest first."""
    actions = list(
        chain.actions.select_related(
            "owner", "created_by", "closed_by", "link__actor", "contact__link__actor", "comment"
        )
    )
    open_ = [a for a in actions if a.is_open]
    closed = sorted(
        (a for a in actions if not a.is_open), key=lambda a: (a.closed_at, a.pk), reverse=True
    )
    return [
        ActionRow(a, action_about(a), a.is_open and a.due is not None and a.due < today)
        for a in open_ + closed
    ]


def action_about(action: Action) -> str:
    """What an action is about, as a short text: an actor, a contact, a question, a review
    comment, a customer, or "" for the chain as a whole."""
    if action.contact_id:
        return f"{action.contact.name or action.contact.role} ({action.contact.link.actor.name})"
    if action.link_id:
        return action.link.actor.name
    if action.question:
        return _("Worksheet: %(question)s") % {"question": action.get_question_display()}
    if action.comment_id:
        text = " ".join(action.comment.text.split())
        return _("Review comment: %(text)s") % {
            "text": text if len(text) <= 60 else text[:59] + "…"
        }
    if action.customer_number:
        return _("Customer %(number)s") % {"number": action.customer_number}
    return ""


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


class ExportFailed(Exception):
    """A PDF or PNG could not be built within its limits; `message` tells the user why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def export_time_limit() -> int:
    """Seconds a PDF or PNG may take before its build is stopped."""
    return settings.EXPORT_TIME_LIMIT


def _build(args: list[str], data: bytes, too_large: str) -> bytes:
    """Run a build in the sandbox; its limits turned into a message for the user.

    `too_large` is the message when the build took too long or too much memory, with a
    placeholder for the seconds.
    """
    seconds = export_time_limit()
    try:
        return sandbox.build(args, data, seconds=seconds, memory_mb=settings.EXPORT_MEMORY_MB)
    except sandbox.BuildBusy as error:
        raise ExportFailed(
            _("Other downloads are being prepared right now. Try again in a minute.")
        ) from error
    except (sandbox.BuildTimeout, sandbox.BuildTooLarge) as error:
        raise ExportFailed(too_large % {"seconds": seconds}) from error


def diagram_png(board: ChainBoard, *, scale: float = 2) -> bytes:
    """The diagram as PNG, drawn at twice its size so that it stays crisp on slides."""
    too_large = _(
        "The diagram of this chain could not be drawn as PNG within %(seconds)s seconds. "
        "Download it as SVG instead."
    )
    return _build(["png", str(scale)], diagram_svg(board).encode(), too_large)


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


# The report prints long texts whole while all of them together stay within this many
# characters (about 60 pages); beyond it each is cut to the same length (never below the
# floor), the longest first. 60 actors with every text at its maximum length hold 5 million
# characters, over 1,500 pages; cut, they print on 230 pages in about 15 s
# (bench/pdf_limits.py). The time limit (sandbox.py) bounds a chain of still more actors.
REPORT_TEXT_BUDGET = 200_000
REPORT_TEXT_FLOOR = 300
# A word longer than this is cut in the report (a pasted blob, no word anybody reads).
LONG_WORD = 200
# A word longer than BREAKABLE_WORD gets a break opportunity (a zero-width space) after
# every BREAK_EVERY characters: WeasyPrint lays out the whole rest of a text for each line
# of a word it cannot break, which made a 40,000-character word take minutes.
BREAKABLE_WORD = 40
BREAK_EVERY = 20
_LONG_WORD = re.compile(rf"\S{{{LONG_WORD + 1},}}")
_BREAKABLE_WORD = re.compile(rf"\S{{{BREAKABLE_WORD + 1},}}")


def _report_texts(export: ChainExport) -> list[str]:
    """The long texts the report prints (the TextFields; names are short by their limit)."""
    texts = [export.chain.coach_whom]
    for m in export.members:
        texts += [m.link.success_factors_text, m.link.problems_needs, m.link.notes]
        texts += [c.notes for c in m.contacts]
    texts += [i.description for i in export.board.influences]
    texts += [row.action.notes for row in export.open_actions]
    texts += [row.answer.text for row in export.answers]
    for comment in export.comments:
        texts += [comment.text, *(r.text for r in getattr(comment, "reply_list", []))]
    return [t for t in texts if t]


def text_cap(lengths: list[int], budget: int = REPORT_TEXT_BUDGET) -> int:
    """The length to which the report cuts every text so that all fit the budget.

    Each text whole if they fit; otherwise the c for which the texts, each cut to at most
    c characters, fill the budget (at least REPORT_TEXT_FLOOR).
    """
    lengths = sorted(lengths)
    remaining = budget
    for i, length in enumerate(lengths):
        share = remaining // (len(lengths) - i)
        if length > share:
            return max(REPORT_TEXT_FLOOR, share)
        remaining -= length
    return max(lengths, default=0)


def _break_word(match: re.Match) -> str:
    word = match.group()
    return "\u200b".join(word[i : i + BREAK_EVERY] for i in range(0, len(word), BREAK_EVERY))


def report_text(text: str, cap: int) -> SafeString:
    """A long text as the report prints it: HTML with line breaks, at most `cap` characters.

    A shortened text (or one with a word cut) ends with a note that the workbook holds it
    whole.
    """
    text = strip_control(text or "")
    shown = text
    if len(shown) > cap:
        # At the last space of the allowed length, unless that throws away a lot.
        space = shown.rfind(" ", 0, cap)
        shown = shown[: space if space > cap * 0.8 else cap].rstrip() + " …"
    shown = _LONG_WORD.sub(lambda m: m.group()[:LONG_WORD] + "…", shown)
    shown = _BREAKABLE_WORD.sub(_break_word, shown)
    html = escape(shown).replace("\r\n", "\n").replace("\n", "<br>")
    if _is_shortened(text, cap):
        note = _("Shortened here; the workbook (XLSX) holds the whole text of %(n)s characters.")
        html += (
            '<span class="shortened">'
            + escape(note % {"n": number_format(len(text), force_grouping=True)})
            + "</span>"
        )
    return mark_safe(html)  # noqa: S308 -- escaped above


def _is_shortened(text: str, cap: int) -> bool:
    return len(text) > cap or bool(_LONG_WORD.search(text))


def report_html(export: ChainExport) -> str:
    svg, wide = _inline_svg(export.board)
    texts = _report_texts(export)
    cap = text_cap([len(t) for t in texts])
    context = {
        "x": export,
        "chain": export.chain,
        "board": export.board,
        "svg": svg,
        "wide_diagram": wide,
        "light_label": LIGHTS.get(export.board.light, export.board.light),
        "page_counter": _page_counter_css(),
        "labels": _report_labels(),
        "text_cap": cap,
        "shortened": any(_is_shortened(strip_control(t), cap) for t in texts),
    }
    # Names and every other text too: no control character reaches WeasyPrint.
    return strip_control(render_to_string("chain/report.html", context))


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
        "action_title": _field(Action, "title"),
        "action_owner": _field(Action, "owner"),
        "action_due": _field(Action, "due"),
        "action_status": _field(Action, "status"),
    }


def report_pdf(export: ChainExport) -> bytes:
    """The A4 report: rendered from HTML with the print stylesheet static/css/report.css."""
    stylesheet = Path(finders.find("css/report.css"))
    base_url = stylesheet.parent.as_uri() + "/"
    too_large = _(
        "The report of this chain could not be prepared within %(seconds)s seconds. "
        "The workbook (XLSX) holds all of its data."
    )
    html = report_html(export).encode()
    return _build(["pdf", base_url, str(stylesheet)], html, too_large)


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
    """One sheet each for actors, contacts, influences, answers and actions; headers
    translated."""
    book = Workbook()
    book.remove(book.active)
    _write_sheet(book, _("Actors"), *_actor_sheet(export))
    _write_sheet(book, _("Contacts"), *_contact_sheet(export))
    _write_sheet(book, _("Influences"), *_influence_sheet(export))
    _write_sheet(book, _("Answers"), *_answer_sheet(export))
    _write_sheet(book, _("Actions"), *_action_sheet(export))
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


def _action_sheet(export: ChainExport) -> tuple[list[Column], Rows]:
    columns = [
        Column(_field(Action, "title"), 50, wrap=True),
        Column(_("About"), 40, wrap=True),
        Column(_field(Action, "owner"), 24),
        Column(_field(Action, "due"), 14, number_format=DATE),
        Column(_field(Action, "status"), 14),
        Column(_("Overdue"), 12),
        Column(_field(Action, "source"), 20),
        Column(_field(Action, "notes"), 60, wrap=True),
        Column(_field(Action, "created_by"), 24),
        Column(_field(Action, "created_at"), 17, number_format=DATETIME),
        Column(_field(Action, "closed_by"), 24),
        Column(_field(Action, "closed_at"), 17, number_format=DATETIME),
    ]
    rows = [
        [
            row.action.title,
            row.about,
            user_name(row.action.owner),
            row.action.due,
            row.action.get_status_display(),
            row.overdue,
            row.action.get_source_display(),
            row.action.notes,
            user_name(row.action.created_by),
            _naive(row.action.created_at),
            user_name(row.action.closed_by),
            _naive(row.action.closed_at),
        ]
        for row in export.actions
    ]
    return columns, rows


def _naive(moment: datetime | None) -> datetime | None:
    """Local time without the zone: Excel cells know no time zones."""
    return timezone.localtime(moment).replace(tzinfo=None, microsecond=0) if moment else None


def _write_sheet(book: Workbook, title: str, columns: list[Column], rows: Rows) -> Worksheet:
    sheet = book.create_sheet(title)
    rows = [[_text_cell(value) for value in row] for row in rows]
    for row in [[column.header for column in columns], *rows]:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                # openpyxl makes any text starting with "=" a formula: a name or note like
                # =HYPERLINK("http://evil.example/a","A") would be a live link. Text stays text.
                cell.data_type = "s"
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


def _text_cell(value: object) -> object:
    """Texts without control characters, which XML (and so XLSX) does not allow."""
    return strip_control(value) if isinstance(value, str) else value


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
