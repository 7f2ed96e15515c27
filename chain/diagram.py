"""The chain diagram as server-rendered SVG.

Stages are columns in chain order, members are boxes stacked in their stage, influences
are arrows. Box colour follows one of three schemes (importance, contact coverage,
relationship with us); a filter fades everything that does not match instead of removing
it, so that boxes keep their place while the user switches filters.
"""

from dataclasses import dataclass
from html import escape

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from customers.models import ValueType
from customers.palette import TYPE_COLOURS

from .models import ChainLink, Coverage, Influence
from .selectors import ChainBoard
from .templatetags.chain_urls import pk_url

COLUMN_WIDTH = 180
COLUMN_GAP = 56  # room for the arrows between columns
BOX_HEIGHT = 62
BOX_GAP = 14
HEADER_HEIGHT = 44
MARGIN = 16
LEGEND_ROW = 22

COLOR_SCHEMES = ("importance", "coverage", "relationship")

IMPORTANCE_COLORS = {
    None: "#e5e7eb",
    1: "#eff6ff",
    2: "#dbeafe",
    3: "#bfdbfe",
    4: "#93c5fd",
    5: "#60a5fa",
}
COVERAGE_COLORS = {
    Coverage.REGULAR: "#86efac",
    Coverage.DIRECT: "#d9f99d",
    Coverage.KNOWN: "#fde68a",
    Coverage.NOBODY: "#fca5a5",
}
RELATIONSHIP_COLORS = {
    ChainLink.Relationship.DIRECT_CUSTOMER: "#86efac",
    ChainLink.Relationship.INDIRECT_CUSTOMER: "#bbf7d0",
    ChainLink.Relationship.SUPPLIER: "#bfdbfe",
    ChainLink.Relationship.PARTNER: "#ddd6fe",
    ChainLink.Relationship.COMPETITOR: "#fca5a5",
    ChainLink.Relationship.NONE: "#e5e7eb",
    "": "#f3f4f6",
}
STRENGTH_WIDTH = {1: 1.2, 2: 2.2, 3: 3.6}


@dataclass
class Box:
    link: ChainLink
    x: float
    y: float
    visible: bool

    @property
    def mid_y(self) -> float:
        return self.y + BOX_HEIGHT / 2


def link_matches(link: ChainLink, scheme: str, value: str) -> bool:
    """Does a member match the filter `value` of the colour scheme?"""
    if not value:
        return True
    if scheme == "importance":
        return str(link.importance or "") == value
    if scheme == "coverage":
        return link.coverage == value
    return link.relationship == value


def _fill(link: ChainLink, scheme: str) -> str:
    if scheme == "coverage":
        return COVERAGE_COLORS[link.coverage]
    if scheme == "relationship":
        return RELATIONSHIP_COLORS.get(link.relationship, "#f3f4f6")
    return IMPORTANCE_COLORS.get(link.importance, "#e5e7eb")


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(text: str, width: int, lines: int = 2) -> list[str]:
    """Break a name at spaces into at most `lines` lines; the last one is cut with an ellipsis."""
    out: list[str] = []
    rest = text.split()
    while rest and len(out) < lines - 1:
        line = rest.pop(0)
        while rest and len(line) + 1 + len(rest[0]) <= width:
            line += " " + rest.pop(0)
        out.append(_truncate(line, width))
    if rest:
        out.append(_truncate(" ".join(rest), width))
    return out


def _coverage_icon(coverage: str, x: float, y: float) -> str:
    """Shape, not colour alone, tells the coverage (readable in print and for colour-blind)."""
    r = 6
    if coverage == Coverage.REGULAR:
        return f'<circle cx="{x}" cy="{y}" r="{r}" fill="#15803d"/>'
    if coverage == Coverage.DIRECT:
        return (
            f'<circle cx="{x}" cy="{y}" r="{r}" fill="#fff" stroke="#15803d" stroke-width="1.5"/>'
            f'<path d="M{x},{y - r} A{r},{r} 0 0,1 {x},{y + r} Z" fill="#15803d"/>'
        )
    if coverage == Coverage.KNOWN:
        return f'<circle cx="{x}" cy="{y}" r="{r}" fill="#fff" stroke="#b45309" stroke-width="2"/>'
    return (
        f'<path d="M{x - 5},{y - 5} L{x + 5},{y + 5} M{x + 5},{y - 5} L{x - 5},{y + 5}" '
        f'stroke="#b91c1c" stroke-width="2.5"/>'
    )


def _importance_dots(importance: int | None, x: float, y: float) -> str:
    parts = []
    for i in range(5):
        filled = importance is not None and i < importance
        parts.append(
            f'<circle cx="{x + i * 10}" cy="{y}" r="3.5" '
            f'fill="{"#1e3a8a" if filled else "#fff"}" stroke="#1e3a8a" stroke-width="1"/>'
        )
    return "".join(parts)


def _box(box: Box, scheme: str, interactive: bool, editable: bool) -> str:
    link = box.link
    actor = link.actor
    own = actor.is_own_company
    stroke = "#111827" if own else "#6b7280"
    width = 3 if own else 1
    name_lines = _wrap(actor.name, 19)  # fits the box in DejaVu Sans Bold too
    coverage = Coverage(link.coverage)
    types = getattr(link, "value_types", [])
    tooltip = escape(
        f"{actor.name} · {_('importance')}: {link.importance or '–'} · {coverage.label}"
        + (f" · {link.get_relationship_display()}" if link.relationship else "")
        + "".join(f" · {ValueType(code).label} ×{n}" for code, n in types)
    )
    count = f"×{link.count}" if link.count > 1 else ""
    body = (
        f"<title>{tooltip}</title>"
        f'<rect x="{box.x}" y="{box.y}" width="{COLUMN_WIDTH}" height="{BOX_HEIGHT}" rx="6" '
        f'fill="{_fill(link, scheme)}" stroke="{stroke}" stroke-width="{width}"/>'
        + "".join(
            f'<text x="{box.x + 10}" y="{box.y + 17 + 15 * i}" class="d-name">{escape(line)}</text>'
            for i, line in enumerate(name_lines)
        )
        + _importance_dots(link.importance, box.x + 14, box.y + 50)
        + (
            f'<text x="{box.x + 70}" y="{box.y + 54}" class="d-small">{escape(count)}</text>'
            if count
            else ""
        )
        + (
            f'<text x="{box.x + 130}" y="{box.y + 54}" class="d-small d-own">'
            f"{escape(_('us'))}</text>"
            if own
            else ""
        )
        + ("" if own else _coverage_icon(coverage, box.x + COLUMN_WIDTH - 14, box.y + 50))
        + (
            # A stripe on the left edge: the most common value type of the linked customers.
            f'<rect x="{box.x + 1}" y="{box.y + 6}" width="5" height="{BOX_HEIGHT - 12}" '
            f'rx="2" fill="{TYPE_COLOURS[types[0][0]]}" class="value-type" '
            f'data-type="{types[0][0]}"/>'
            if types
            else ""
        )
    )
    opacity = "" if box.visible else ' opacity="0.18"'
    attrs = f'id="box-{link.pk}" class="box" data-link="{link.pk}"{opacity}'
    if interactive and not editable:
        return f'<a href="#link-{link.pk}" {attrs}>{body}</a>'
    if interactive:
        # Clicking a box opens the member's edit form in its card below the diagram.
        edit_url = pk_url("chain:link-edit", link.pk)
        return (
            f'<a href="#link-{link.pk}" {attrs} hx-get="{edit_url}" '
            f'hx-target="#link-{link.pk}" hx-swap="outerHTML show:#link-{link.pk}:top">'
            f"{body}</a>"
        )
    return f"<g {attrs}>{body}</g>"


def _arrow(influence: Influence, boxes: dict[int, Box], column_of: dict[int, int]) -> str:
    src, dst = boxes[influence.source_id], boxes[influence.target_id]
    cs, cd = column_of[influence.source_id], column_of[influence.target_id]
    # Rightward arrows run a little lower, leftward ones higher: A→B and B→A stay apart.
    shift = 6 if cs <= cd else -6
    sy, dy = src.mid_y + shift, dst.mid_y + shift
    if cs < cd:
        x1, x2 = src.x + COLUMN_WIDTH, dst.x
        bend = (x2 - x1) / 2
        path = f"M{x1},{sy} C{x1 + bend},{sy} {x2 - bend},{dy} {x2},{dy}"
    elif cs > cd:
        x1, x2 = src.x, dst.x + COLUMN_WIDTH
        bend = (x1 - x2) / 2
        path = f"M{x1},{sy} C{x1 - bend},{sy} {x2 + bend},{dy} {x2},{dy}"
    else:
        # Same stage: an arc out to the right of the column.
        x = src.x + COLUMN_WIDTH
        out = 24 + abs(dst.y - src.y) / 8
        path = f"M{x},{sy} C{x + out},{sy} {x + out},{dy} {x},{dy}"
    fade = "" if src.visible and dst.visible else ' opacity="0.1"'
    title = escape(f"{src.link.actor.name} → {dst.link.actor.name}: {influence.description}")
    return (
        f'<path d="{path}" class="influence" data-from="{src.link.pk}" data-to="{dst.link.pk}" '
        f'fill="none" stroke="#374151" stroke-opacity="0.6" '
        f'stroke-width="{STRENGTH_WIDTH.get(influence.strength, 2)}" marker-end="url(#arrow)"'
        f"{fade}><title>{title}</title></path>"
    )


def _legend(scheme: str, y: float, types_shown: list[str]) -> tuple[str, float]:
    if scheme == "coverage":
        entries = [(COVERAGE_COLORS[c], c.label) for c in Coverage]
    elif scheme == "relationship":
        entries = [(RELATIONSHIP_COLORS[r], r.label) for r in ChainLink.Relationship]
    else:
        entries = [(IMPORTANCE_COLORS[i], _("importance %(n)s") % {"n": i}) for i in range(1, 6)]
        entries.append((IMPORTANCE_COLORS[None], _("not rated")))
    colour = escape(_("Colour"))
    parts = [f'<text x="{MARGIN}" y="{y + 12}" class="d-small d-strong">{colour}:</text>']
    x = MARGIN + 60
    for color, label in entries:
        parts.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{color}" stroke="#6b7280"/>'
            f'<text x="{x + 19}" y="{y + 12}" class="d-small">{escape(str(label))}</text>'
        )
        x += 30 + 6.2 * len(str(label))
    y += LEGEND_ROW
    icons = [
        (Coverage.REGULAR, Coverage.REGULAR.label),
        (Coverage.DIRECT, Coverage.DIRECT.label),
        (Coverage.KNOWN, Coverage.KNOWN.label),
        (Coverage.NOBODY, Coverage.NOBODY.label),
    ]
    # Outside the f-string, so that makemessages finds the words.
    icon_heading = escape(pgettext("diagram legend", "Icon"))
    parts.append(f'<text x="{MARGIN}" y="{y + 12}" class="d-small d-strong">{icon_heading}:</text>')
    x = MARGIN + 60
    for coverage, label in icons:
        parts.append(_coverage_icon(coverage, x + 7, y + 7))
        parts.append(f'<text x="{x + 19}" y="{y + 12}" class="d-small">{escape(str(label))}</text>')
        x += 30 + 6.2 * len(str(label))
    y += LEGEND_ROW
    if types_shown:
        stripe_heading = escape(pgettext("diagram legend", "Stripe"))
        parts.append(
            f'<text x="{MARGIN}" y="{y + 12}" class="d-small d-strong">{stripe_heading}:</text>'
        )
        x = MARGIN + 60
        for code in types_shown:
            label = str(ValueType(code).label)
            parts.append(
                f'<rect x="{x}" y="{y}" width="6" height="14" fill="{TYPE_COLOURS[code]}"/>'
                f'<text x="{x + 11}" y="{y + 12}" class="d-small">{escape(label)}</text>'
            )
            x += 24 + 6.2 * len(label)
        y += LEGEND_ROW
    parts.append(
        f'<text x="{MARGIN}" y="{y + 12}" class="d-small">'
        + escape(
            _("●●●○○ importance · thick border: our company · arrow width: strength of influence")
        )
        + "</text>"
    )
    return "".join(parts), y + LEGEND_ROW


# Only for the downloaded file: on the page the same rules come from static/css/app.css,
# because the Content-Security-Policy blocks inline <style> (and style="...").
STYLE = (
    "<style>"
    ".diagram text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;fill:#111827}"
    ".diagram .d-name{font-size:13px;font-weight:600}.diagram .d-small{font-size:11px}"
    ".diagram .d-strong{font-weight:600}.diagram .d-own{font-weight:700;fill:#1e3a8a}"
    ".diagram .d-stage{font-size:14px;font-weight:700}.diagram .box{cursor:pointer}"
    ".diagram .influence.lit{stroke:#1d4ed8;stroke-opacity:1}"
    "</style>"
)


def render_svg(
    board: ChainBoard,
    *,
    scheme: str = "importance",
    only: str = "",
    interactive: bool = True,
    editable: bool = True,
) -> str:
    """Render the chain as an SVG document (standalone when not interactive)."""
    if scheme not in COLOR_SCHEMES:
        scheme = "importance"
    boxes: dict[int, Box] = {}
    column_of: dict[int, int] = {}
    parts: list[str] = []
    tallest = max((len(col.members) for col in board.columns), default=0)
    body_height = max(1, tallest) * (BOX_HEIGHT + BOX_GAP)
    for i, column in enumerate(board.columns):
        x = MARGIN + i * (COLUMN_WIDTH + COLUMN_GAP)
        own = column.stage.is_own
        parts.append(
            f'<rect x="{x - 8}" y="{MARGIN}" width="{COLUMN_WIDTH + 16}" '
            f'height="{HEADER_HEIGHT + body_height}" rx="8" '
            f'fill="{"#fef3c7" if own else "#f9fafb"}" stroke="#e5e7eb"/>'
            f'<text x="{x + COLUMN_WIDTH / 2}" y="{MARGIN + 27}" text-anchor="middle" '
            f'class="d-stage">{escape(_truncate(column.stage.name, 24))}</text>'
        )
        for j, link in enumerate(column.members):
            y = MARGIN + HEADER_HEIGHT + j * (BOX_HEIGHT + BOX_GAP)
            boxes[link.pk] = Box(link, x, y, link_matches(link, scheme, only))
            column_of[link.pk] = i
    width = MARGIN * 2 + max(1, len(board.columns)) * (COLUMN_WIDTH + COLUMN_GAP) - COLUMN_GAP
    arrows = [
        _arrow(inf, boxes, column_of)
        for inf in board.influences
        if inf.source_id in boxes and inf.target_id in boxes
    ]
    box_svg = [_box(box, scheme, interactive, editable) for box in boxes.values()]
    types_shown = sorted(
        {
            types[0][0]
            for link in board.links.values()
            if (types := getattr(link, "value_types", []))
        }
    )
    legend, bottom = _legend(scheme, MARGIN * 2 + HEADER_HEIGHT + body_height, types_shown)
    height = bottom + MARGIN
    title = escape(str(board.chain.scope_name))
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if not interactive else ""
    # On the page the diagram shrinks to the panel's width (app.css); the download keeps its size.
    style = "" if interactive else STYLE
    return (
        f'{head}<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{title}" class="diagram">'
        f"<title>{title}</title>{style}"
        # Fixed-size arrowheads: scaled with the stroke, strong influences got huge heads.
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
        'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#374151"/></marker></defs>'
        + "".join(parts)
        + "".join(arrows)
        + "".join(box_svg)
        + legend
        + "</svg>"
    )
