"""The chain diagram as server-rendered SVG.

Stages are columns in chain order, each headed by its name and its role in the chain;
members are boxes stacked in their stage, influences are arrows. Box colour follows one of
four schemes (importance, contact coverage, relationship with us, attitude of the decision
makers); a box whose linked customer's value type changed lately carries a mark; a filter
fades everything that does not match instead of removing it, so that boxes keep their
place while the user switches filters.

Layout: names wrap onto as many lines as they need (boxes and stage headers grow), and
columns narrow as stages are added so that seven stages fit a 1440 px screen at full
size. Arrows never cross a box they do not start or end at: between neighbouring stages
they curve through the gap between the columns; to a stage further away they leave
through the gap beside their box, run along a lane below all boxes and come up through
the gap beside the target (docs/architecture.md describes the chain page).
"""

import html
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from lib.palette import TYPE_COLOURS
from lib.text import strip_control
from lib.value_types import ValueType

from .models import ChainLink, Contact, Coverage, Influence, StageRole
from .selectors import ChainBoard
from .templatetags.chain_urls import pk_url


# Text cleaning for the SVG (exports' owner): every text reaches the SVG through this one
# function, so that a control character stored in a name or description (a vertical tab
# pasted from an office program) can never make the diagram invalid XML, nor break the PNG
# and PDF drawn from it.
def escape(text: str) -> str:
    return html.escape(strip_control(str(text)))


# The diagram panel's inner width on a 1440 px wide screen: up to seven stages are drawn
# at full size within it; more stages shrink with the picture (width 100 % on the page).
TARGET_WIDTH = 1340
MAX_COLUMN_WIDTH = 180
MIN_COLUMN_WIDTH = 120
COLUMN_GAP = 48  # the arrows' gutter between columns
BOX_GAP = 14
MARGIN = 16
LEGEND_ROW = 22
NAME_LINE = 15  # line height of a wrapped actor name
VALUE_LINE = 14  # line height of the linked customers' value under the name
STAGE_LINE = 17  # line height of a wrapped stage name
LANE_GAP = 8  # distance between the lanes of long arrows below the boxes
TRACK_GAP = 5  # distance between arrows that share a gutter
CORNER = 6  # radius of a routed arrow's corners
NAME_SIZE = 13  # font size of the actor names (d-name in app.css)
STAGE_SIZE = 14  # and of the stage names (d-stage)
MAX_NAME_LINES = 6  # longer names are cut; the box's tooltip holds the whole name
MAX_STAGE_LINES = 4

COLOR_SCHEMES = ("importance", "coverage", "relationship", "attitude")
ROLE_LINE = 15  # the stage's role under its name (d-role)

# Our own company in the coverage and relationship colourings: not a white spot, not a
# customer, but "us".
US_COLOR = "#c7d2fe"
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

# "Attitude of the decision makers": the contacts whose buying role is decision maker.
DM_SUPPORTERS = "supporters"
DM_MIXED = "mixed"
DM_NEUTRAL = "neutral"
DM_CRITICS = "critics"
DM_UNKNOWN = "unknown"
DM_NONE = "none"
ATTITUDE_COLORS = {
    DM_SUPPORTERS: "#86efac",
    DM_MIXED: "#fde68a",
    DM_NEUTRAL: "#e5e7eb",
    DM_CRITICS: "#fca5a5",
    DM_UNKNOWN: "#f3f4f6",
    DM_NONE: "#ffffff",
}


def attitude_labels() -> dict[str, str]:
    return {
        DM_SUPPORTERS: _("decision makers support us"),
        DM_MIXED: _("decision makers divided"),
        DM_NEUTRAL: _("decision makers neutral"),
        DM_CRITICS: _("decision makers critical"),
        DM_UNKNOWN: _("decision makers' attitude unknown"),
        DM_NONE: _("no decision maker known"),
    }


def decision_attitude(link: ChainLink) -> str:
    """The attitude of the member's decision makers: critics and supporters together are
    divided; a critic outweighs neutral ones (docs/method.md, "The diagram")."""
    found = {
        c.attitude for c in link.contact_list if c.buying_role == Contact.BuyingRole.DECISION_MAKER
    }
    if not found:
        return DM_NONE
    supporter = Contact.Attitude.SUPPORTER in found
    critic = Contact.Attitude.CRITIC in found
    if supporter and critic:
        return DM_MIXED
    if critic:
        return DM_CRITICS
    if supporter:
        return DM_SUPPORTERS
    if Contact.Attitude.NEUTRAL in found:
        return DM_NEUTRAL
    return DM_UNKNOWN


def filter_choices(scheme: str) -> list[tuple[str, str]]:
    """What "show only" offers for a colour scheme."""
    if scheme == "coverage":
        return list(Coverage.choices)
    if scheme == "relationship":
        return list(ChainLink.Relationship.choices)
    if scheme == "attitude":
        return list(attitude_labels().items())
    return [(str(i), _("importance %(n)s") % {"n": i}) for i in range(5, 0, -1)]


@dataclass
class Box:
    link: ChainLink
    x: float
    y: float
    visible: bool
    width: float = MAX_COLUMN_WIDTH
    lines: list[str] = field(default_factory=list)
    # The linked customers' value, as the customer app worded it (chain.decorations).
    values: list[str] = field(default_factory=list)

    @property
    def height(self) -> float:
        return box_height(len(self.lines)) + (
            VALUE_LINE * len(self.values) + 8 if self.values else 0
        )

    @property
    def mid_y(self) -> float:
        return self.y + self.height / 2


def box_height(lines: int) -> float:
    """Two name lines' room at least, so that most boxes are alike."""
    return 32 + NAME_LINE * max(2, lines)


def column_width(stages: int) -> float:
    """As wide as fits TARGET_WIDTH for this many stages, within the readable range."""
    free = TARGET_WIDTH - 2 * MARGIN - COLUMN_GAP / 2 - (stages - 1) * COLUMN_GAP
    return max(MIN_COLUMN_WIDTH, min(MAX_COLUMN_WIDTH, free // max(1, stages)))


def link_matches(link: ChainLink, scheme: str, value: str) -> bool:
    """Does a member match the filter `value` of the colour scheme?"""
    if not value:
        return True
    if scheme == "importance":
        return str(link.importance or "") == value
    if link.actor.is_own_company:
        # Our company is no white spot, nor our own customer.
        return False
    if scheme == "coverage":
        return link.coverage == value
    if scheme == "attitude":
        return decision_attitude(link) == value
    return link.relationship == value


def _fill(link: ChainLink, scheme: str) -> str:
    if scheme != "importance" and link.actor.is_own_company:
        return US_COLOR
    if scheme == "coverage":
        return COVERAGE_COLORS[link.coverage]
    if scheme == "relationship":
        return RELATIONSHIP_COLORS.get(link.relationship, "#f3f4f6")
    if scheme == "attitude":
        return ATTITUDE_COLORS[decision_attitude(link)]
    return IMPORTANCE_COLORS.get(link.importance, "#e5e7eb")


# Advance widths in em of DejaVu Sans Bold, the widest font the diagram meets (the PNG
# export and Linux browsers use it), by classes of characters: enough to break names into
# lines that fit their box, without font files on the server.
_NARROW = set("iljI|!.,:;'`")
_SMALL = set('ftr-()[]{}/ "\u00a0')
_WIDE = set("mwMW@%")


def text_width(text: str, size: float) -> float:
    """Estimated width in pixels of `text` set in bold at `size` pixels."""
    em = 0.0
    for char in text:
        if char in _NARROW:
            em += 0.35
        elif char in _SMALL:
            em += 0.47
        elif char in _WIDE:
            em += 1.02
        elif char.isupper():
            em += 0.78
        else:
            em += 0.70
    return em * size


def _wrap(text: str, width: float, size: float, lines: int = MAX_NAME_LINES) -> list[str]:
    """Break a name at spaces into lines no wider than `width` pixels.

    A word wider than a line is split with a hyphen. Only a name that needs more than
    `lines` lines is cut, with an ellipsis.
    """
    words: list[str] = []
    # A compound's own hyphens are the first places to break it ("Fliesenleger-Betriebe").
    pieces = [p for word in text.split() for p in re.split(r"(?<=\w-)(?=\w)", word)]
    for word in pieces:
        while text_width(word, size) > width and len(word) > 1:
            cut = 1
            while text_width(word[: cut + 1] + "-", size) <= width:
                cut += 1
            words.append(word[:cut] + "-")
            word = word[cut:]
        words.append(word)
    out: list[str] = []
    for word in words:
        joined = out[-1] + ("" if out and out[-1].endswith("-") else " ") + word if out else ""
        if out and text_width(joined, size) <= width:
            out[-1] = joined
        else:
            out.append(word)
    if len(out) > lines:
        rest = " ".join(out[lines - 1 :])
        while len(rest) > 1 and text_width(rest + "…", size) > width:
            rest = rest[:-1]
        out = out[: lines - 1] + [rest + "…"]
    return out or [""]


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


def _change_mark(x: float, y: float, title: str = "") -> str:
    """A warning triangle: a linked customer's value type changed lately."""
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<g class="type-change-mark">{tip}'
        f'<path d="M{x},{y - 7} L{x + 7},{y + 6} L{x - 7},{y + 6} Z" fill="#f59e0b" '
        f'stroke="#92400e" stroke-width="1"/>'
        f'<text x="{x}" y="{y + 4.5}" text-anchor="middle" class="d-small d-strong">!</text></g>'
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
    coverage = Coverage(link.coverage)
    types = getattr(link, "value_types", [])
    changes = [change.text for change in getattr(link, "type_changes", [])]
    tooltip = escape(
        f"{actor.name} · {_('importance')}: {link.importance or '–'} · "
        + (str(_("our company")) if own else str(coverage.label))
        + (f" · {link.get_relationship_display()}" if link.relationship else "")
        + (f" · {attitude_labels()[decision_attitude(link)]}" if scheme == "attitude" else "")
        + "".join(f" · {ValueType(code).label} ×{n}" for code, n in types)
        + "".join(f" · {text}" for text in changes)
    )
    count = f"×{link.count}" if link.count > 1 else ""
    bottom = box.y + box.height - 12  # the row of dots, count and icon
    right = box.x + box.width
    body = (
        f"<title>{tooltip}</title>"
        f'<rect x="{box.x}" y="{box.y}" width="{box.width}" height="{box.height}" rx="6" '
        f'fill="{_fill(link, scheme)}" stroke="{stroke}" stroke-width="{width}"/>'
        + "".join(
            f'<text x="{box.x + 10}" y="{box.y + 17 + NAME_LINE * i}" class="d-name">'
            f"{escape(line)}</text>"
            for i, line in enumerate(box.lines)
        )
        + _importance_dots(link.importance, box.x + 14, bottom)
        + (
            f'<text x="{box.x + 64}" y="{bottom + 4}" class="d-small">{escape(count)}</text>'
            if count
            else ""
        )
        + (
            f'<text x="{right - 10}" y="{bottom + 4}" text-anchor="end" class="d-small d-own">'
            f"{escape(_('us'))}</text>"
            if own
            else ""
        )
        + ("" if own else _coverage_icon(coverage, right - 14, bottom))
        + (_change_mark(right - 34, bottom, " · ".join(changes)) if changes else "")
        + _stripe(box, types)
    )
    opacity = "" if box.visible else ' opacity="0.18"'
    attrs = f'id="box-{link.pk}" class="box" data-link="{link.pk}"{opacity}'
    values = _values(box, interactive, opacity)
    # The card is on the board tab: without JavaScript the link opens that tab.
    href = f"?tab=board#link-{link.pk}"
    if interactive and not editable:
        return f'<a href="{href}" {attrs}>{body}</a>{values}'
    if interactive:
        # Clicking a box opens the member's edit form in its card on the board.
        edit_url = pk_url("chain:link-edit", link.pk)
        return (
            f'<a href="{href}" {attrs} hx-get="{edit_url}" '
            f'hx-target="#link-{link.pk}" hx-swap="outerHTML show:#link-{link.pk}:top">'
            f"{body}</a>{values}"
        )
    return f"<g {attrs}>{body}</g>{values}"


def _stripe(box: Box, types: list[tuple[str, int]]) -> str:
    """A stripe on the left edge: the linked customers' value types, each part as long as
    its share of their value (as the customer app weighed it), the largest on top."""
    weights = _stripe_types(box.link, types)
    if not weights:
        return ""
    top, length = box.y + 6, box.height - 12
    parts = []
    for code, share in weights:
        if share <= 0:
            continue
        parts.append(
            f'<rect x="{box.x + 1}" y="{top:.1f}" width="5" height="{length * share:.1f}" '
            f'fill="{TYPE_COLOURS.get(code, "#cbd5e1")}" class="value-type" data-type="{code}" '
            f'data-share="{share:.3f}"/>'
        )
        top += length * share
    return "".join(parts)


def _stripe_types(link: ChainLink, types: list[tuple[str, int]]) -> list[tuple[str, float]]:
    """(value type, share) of the stripe's parts; without value, the most common type."""
    value = getattr(link, "customer_value", None)
    if value is not None and value.types:
        return [(t.code, t.share) for t in value.types if t.share > 0]
    return [(types[0][0], 1.0)] if types else []


def _values(box: Box, interactive: bool, opacity: str) -> str:
    """The linked customers' value under the name: a link to them on the customers tab
    (outside the box's own link, which opens the actor's card)."""
    if not box.values:
        return ""
    # The last line sits clear above the row of dots, count and icon.
    first = box.y + box.height - 24 - VALUE_LINE * len(box.values)
    text = "".join(
        f'<text x="{box.x + 10}" y="{first + VALUE_LINE * (i + 1):.1f}" class="d-small d-value">'
        f"{escape(line)}</text>"
        for i, line in enumerate(box.values)
    )
    value = box.link.customer_value
    title = escape(
        _("%(n)s linked customers: show them") % {"n": value.customers}
        if interactive
        else _("%(n)s linked customers") % {"n": value.customers}
    )
    attrs = f'class="box-value" data-link="{box.link.pk}"{opacity}'
    if interactive:
        return f'<a href="{escape(value.url)}" {attrs}><title>{title}</title>{text}</a>'
    return f"<g {attrs}><title>{title}</title>{text}</g>"


class _Router:
    """Where the arrows run: tracks in the gutters, lanes below the boxes.

    Gutter g lies between column g and g + 1 (gutter -1 is the left margin). Arrows that
    share a gutter get tracks side by side; long arrows whose spans overlap get lanes of
    their own, those that do not overlap share one.
    """

    def __init__(self, cw: float, lanes_top: float) -> None:
        self.cw = cw
        self.lanes_top = lanes_top
        self.tracks: dict[int, int] = {}
        self.lanes: list[list[tuple[int, int]]] = []

    def gutter_x(self, gutter: int) -> float:
        return MARGIN + gutter * (self.cw + COLUMN_GAP) + self.cw + COLUMN_GAP / 2

    def track(self, gutter: int) -> float:
        """The next free track in a gutter: the middle first, then alternately right and left."""
        n = self.tracks.get(gutter, 0)
        self.tracks[gutter] = n + 1
        offset = (n + 1) // 2 * TRACK_GAP * (1 if n % 2 else -1)
        room = COLUMN_GAP / 2 - 4  # never into a box
        offset = max(-room, min(room, offset))
        return self.gutter_x(gutter) + offset

    def lane(self, first: int, last: int) -> float:
        for i, taken in enumerate(self.lanes):
            if all(last < a or first > b for a, b in taken):
                taken.append((first, last))
                return self.lanes_top + LANE_GAP * (i + 1)
        self.lanes.append([(first, last)])
        return self.lanes_top + LANE_GAP * len(self.lanes)

    @property
    def bottom(self) -> float:
        return self.lanes_top + LANE_GAP * len(self.lanes)


def _rounded(points: list[tuple[float, float]]) -> str:
    """A polyline through `points` with rounded corners."""
    path = [f"M{points[0][0]:g},{points[0][1]:g}"]
    for (px, py), (x, y), (nx, ny) in zip(points, points[1:], points[2:], strict=False):
        before = abs(x - px) + abs(y - py)
        after = abs(nx - x) + abs(ny - y)
        r = min(CORNER, before / 2, after / 2)
        ax = x - (x - px) / before * r if before else x
        ay = y - (y - py) / before * r if before else y
        bx = x + (nx - x) / after * r if after else x
        by = y + (ny - y) / after * r if after else y
        path.append(f"L{ax:g},{ay:g} Q{x:g},{y:g} {bx:g},{by:g}")
    path.append(f"L{points[-1][0]:g},{points[-1][1]:g}")
    return " ".join(path)


def _arrow(
    influence: Influence, boxes: dict[int, Box], column_of: dict[int, int], router: _Router
) -> str:
    src, dst = boxes[influence.source_id], boxes[influence.target_id]
    cs, cd = column_of[influence.source_id], column_of[influence.target_id]
    # Rightward arrows run a little lower, leftward ones higher: A→B and B→A stay apart.
    shift = 6 if cs <= cd else -6
    sy, dy = src.mid_y + shift, dst.mid_y + shift
    if cs == cd:
        # Same stage: an arc out into the gutter right of the column.
        x = src.x + src.width
        out = min(COLUMN_GAP - 12, 24 + abs(dst.y - src.y) / 8)
        path = f"M{x},{sy} C{x + out},{sy} {x + out},{dy} {x},{dy}"
    elif abs(cs - cd) == 1:
        # Neighbouring stages: a curve within the gutter between them.
        x1, x2 = (src.x + src.width, dst.x) if cs < cd else (src.x, dst.x + dst.width)
        bend = (x2 - x1) / 2
        path = f"M{x1},{sy} C{x1 + bend},{sy} {x2 - bend},{dy} {x2},{dy}"
    elif cs < cd:
        # Down the gutter after the source's stage, along a lane below all boxes, up the
        # gutter before the target's stage.
        t1, t2 = router.track(cs), router.track(cd - 1)
        lane = router.lane(cs, cd - 1)
        x1, x2 = src.x + src.width, dst.x
        path = _rounded([(x1, sy), (t1, sy), (t1, lane), (t2, lane), (t2, dy), (x2, dy)])
    else:
        t1, t2 = router.track(cs - 1), router.track(cd)
        lane = router.lane(cd, cs - 1)
        x1, x2 = src.x, dst.x + dst.width
        path = _rounded([(x1, sy), (t1, sy), (t1, lane), (t2, lane), (t2, dy), (x2, dy)])
    fade = "" if src.visible and dst.visible else ' opacity="0.1"'
    title = escape(f"{src.link.actor.name} → {dst.link.actor.name}: {influence.description}")
    return (
        f'<path d="{path}" class="influence" data-from="{src.link.pk}" data-to="{dst.link.pk}" '
        f'fill="none" stroke="#374151" stroke-opacity="0.6" '
        f'stroke-width="{STRENGTH_WIDTH.get(influence.strength, 2)}" marker-end="url(#arrow)"'
        f"{fade}><title>{title}</title></path>"
    )


class _Flow:
    """Legend entries left to right, on to a new row where the picture ends."""

    def __init__(self, y: float, right: float) -> None:
        self.y, self.right = y, right
        self.parts: list[str] = []
        self.x = MARGIN

    def heading(self, text: str) -> None:
        self.x = MARGIN
        self.parts.append(
            f'<text x="{self.x}" y="{self.y + 12}" class="d-small d-strong">{escape(text)}:</text>'
        )
        self.x = MARGIN + 60

    def entry(self, symbol, label: str, width: float) -> None:
        if self.x + width > self.right and self.x > MARGIN + 60:
            self.y += LEGEND_ROW
            self.x = MARGIN + 60
        self.parts.append(symbol(self.x, self.y))
        self.parts.append(
            f'<text x="{self.x + 19}" y="{self.y + 12}" class="d-small">{escape(label)}</text>'
        )
        self.x += width

    def newline(self) -> None:
        self.y += LEGEND_ROW


def _swatch(color: str):
    return lambda x, y: (
        f'<rect x="{x}" y="{y}" width="14" height="14" fill="{color}" stroke="#6b7280"/>'
    )


def _value_lines(link: ChainLink) -> list[str]:
    value = getattr(link, "customer_value", None)
    return list(value.lines) if value is not None else []


def _legend(
    scheme: str,
    y: float,
    width: float,
    types_shown: list[str],
    values: list[str] = (),
    changes: bool = False,
) -> tuple[str, float]:
    if scheme == "coverage":
        entries = [(COVERAGE_COLORS[c], str(c.label)) for c in Coverage]
    elif scheme == "relationship":
        entries = [(RELATIONSHIP_COLORS[r], str(r.label)) for r in ChainLink.Relationship]
    elif scheme == "attitude":
        entries = [(ATTITUDE_COLORS[k], label) for k, label in attitude_labels().items()]
    else:
        entries = [(IMPORTANCE_COLORS[i], _("importance %(n)s") % {"n": i}) for i in range(1, 6)]
        entries.append((IMPORTANCE_COLORS[None], _("not rated")))
    if scheme != "importance":
        entries.append((US_COLOR, str(_("our company"))))
    flow = _Flow(y, width - MARGIN)
    flow.heading(_("Colour"))
    for color, label in entries:
        flow.entry(_swatch(color), label, 30 + text_width(label, 11))
    flow.newline()
    # Outside the f-string, so that makemessages finds the words.
    flow.heading(pgettext("diagram legend", "Icon"))
    for coverage in Coverage:
        label = str(coverage.label)
        flow.entry(
            lambda x, y, c=coverage: _coverage_icon(c, x + 7, y + 7),
            label,
            30 + text_width(label, 11),
        )
    if changes:
        label = str(_("customer type changed lately"))
        flow.entry(lambda x, y: _change_mark(x + 7, y + 7), label, 30 + text_width(label, 11))
    flow.newline()
    if types_shown:
        flow.heading(pgettext("diagram legend", "Stripe"))
        for code in types_shown:
            label = str(ValueType(code).label)
            flow.entry(
                lambda x, y, code=code: (
                    f'<rect x="{x}" y="{y}" width="6" height="14" fill="{TYPE_COLOURS[code]}"/>'
                ),
                label,
                24 + text_width(label, 11),
            )
        flow.newline()
    if values:
        # What the numbers under the names are, and on which basis (the customer app's words).
        flow.heading(pgettext("diagram legend", "Value"))
        for line in values:
            for part in _wrap(line, width - 2 * MARGIN - 60, 11, 4):
                flow.parts.append(
                    f'<text x="{MARGIN + 60}" y="{flow.y + 12}" class="d-small">'
                    f"{escape(part)}</text>"
                )
                flow.newline()
    flow.parts.append(
        f'<text x="{MARGIN}" y="{flow.y + 12}" class="d-small">'
        + escape(
            _("●●●○○ importance · thick border: our company · arrow width: strength of influence")
        )
        + "</text>"
    )
    return "".join(flow.parts), flow.y + LEGEND_ROW


# Only for the downloaded file: on the page the same rules come from static/css/app.css,
# because the Content-Security-Policy blocks inline <style> (and style="...").
STYLE = (
    "<style>"
    ".diagram text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;fill:#111827}"
    ".diagram .d-name{font-size:13px;font-weight:600}.diagram .d-small{font-size:11px}"
    ".diagram .d-strong{font-weight:600}.diagram .d-own{font-weight:700;fill:#1e3a8a}"
    ".diagram .d-stage{font-size:14px;font-weight:700}.diagram .box{cursor:pointer}"
    ".diagram .d-role{fill:#4b5563;font-style:italic}"
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
    columns = board.columns
    cw = column_width(len(columns))
    stage_lines = [
        _wrap(column.stage.name, cw - 8, STAGE_SIZE, MAX_STAGE_LINES) for column in columns
    ]
    header = 18 + STAGE_LINE * max((len(lines) for lines in stage_lines), default=1) + ROLE_LINE
    boxes: dict[int, Box] = {}
    column_of: dict[int, int] = {}
    body_height = box_height(2) + BOX_GAP
    for i, column in enumerate(columns):
        x = MARGIN + i * (cw + COLUMN_GAP)
        y = MARGIN + header
        for link in column.members:
            box = Box(
                link,
                x,
                y,
                link_matches(link, scheme, only),
                cw,
                _wrap(link.actor.name, cw - 18, NAME_SIZE),
                _value_lines(link),
            )
            boxes[link.pk] = box
            column_of[link.pk] = i
            y += box.height + BOX_GAP
        body_height = max(body_height, y - MARGIN - header)
    parts: list[str] = []
    for i, column in enumerate(columns):
        x = MARGIN + i * (cw + COLUMN_GAP)
        parts.append(
            f'<rect x="{x - 8}" y="{MARGIN}" width="{cw + 16}" height="{header + body_height}" '
            f'rx="8" fill="{"#fef3c7" if column.stage.is_own else "#f9fafb"}" stroke="#e5e7eb"/>'
        )
        for j, line in enumerate(stage_lines[i]):
            parts.append(
                f'<text x="{x + cw / 2}" y="{MARGIN + 25 + STAGE_LINE * j}" '
                f'text-anchor="middle" class="d-stage">{escape(line)}</text>'
            )
        role = dict(StageRole.choices).get(column.stage.role, "")
        role_y = MARGIN + 25 + STAGE_LINE * (len(stage_lines[i]) - 1) + ROLE_LINE
        parts.append(
            f'<text x="{x + cw / 2}" y="{role_y}" text-anchor="middle" class="d-small d-role" '
            f'data-role="{escape(column.stage.role)}">{escape(role)}</text>'
        )
    # Room on the right for the arcs between members of the last stage.
    width = MARGIN * 2 + max(1, len(columns)) * (cw + COLUMN_GAP) - COLUMN_GAP + COLUMN_GAP / 2
    router = _Router(cw, MARGIN + header + body_height)
    arrows = [
        _arrow(inf, boxes, column_of, router)
        for inf in board.influences
        if inf.source_id in boxes and inf.target_id in boxes
    ]
    box_svg = [_box(box, scheme, interactive, editable) for box in boxes.values()]
    # Every type a stripe shows: a stripe is split by the types' shares of the value.
    types_shown = sorted(
        {
            code
            for link in board.links.values()
            for code, _n in _stripe_types(link, getattr(link, "value_types", []))
        }
    )
    decoration = getattr(board, "decoration", None)
    values = decoration.values.legend if decoration is not None and types_shown else []
    changes = any(getattr(link, "type_changes", None) for link in board.links.values())
    legend, bottom = _legend(scheme, router.bottom + MARGIN, width, types_shown, values, changes)
    height = bottom + MARGIN
    title = escape(str(board.chain.scope_name))
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if not interactive else ""
    # On the page the diagram shrinks to the panel's width (app.css); the download keeps its size.
    style = "" if interactive else STYLE
    return (
        f'{head}<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'width="{width:g}" height="{height:g}" role="img" aria-label="{title}" class="diagram">'
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
