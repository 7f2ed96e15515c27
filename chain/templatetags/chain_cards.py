"""`{% member_card link %}`: one chain member's card on the board, and
`{% influence_row influence %}`: one row of the influence list.

Written in Python rather than as included templates because the board shows every
member with its contacts: with 40 actors and 200 contacts the included template took
about 28 ms of a page that must render in 50, this takes about a tenth of that. The
strings are built with str.format and html.escape rather than format_html(): a quarter
of the time again (4 ms to 1 ms for those 40 cards; the board is rendered after every edit).
The markup is the same a template would produce; labels come translated once per page
in the context variable `t` (see `chain.views._card_labels`).
"""

from datetime import date
from functools import lru_cache
from html import escape

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext, npgettext, pgettext
from django.utils.translation import gettext as _

from ..models import ChainLink, Contact, Coverage, Influence
from .chain_urls import pk_url

register = template.Library()


def _e(value: object) -> str:
    """Escaped for HTML, as format_html() escapes its arguments (Django's escape() is
    html.escape too), without a SafeString and a lazy check per value."""
    return value if isinstance(value, SafeString) else escape(str(value))


# A symbol per buying role and attitude; each comes with its words for screen readers and
# as a tooltip, and the attitude chip also differs by shape, not by colour alone.
BUYING_ROLE_SYMBOLS = {
    Contact.BuyingRole.DECISION_MAKER: "★",
    Contact.BuyingRole.INFLUENCER: "↗",
    Contact.BuyingRole.USER: "◆",
    Contact.BuyingRole.GATEKEEPER: "⊘",
    Contact.BuyingRole.OTHER: "○",
}
ATTITUDE_SYMBOLS = {
    Contact.Attitude.SUPPORTER: "+",
    Contact.Attitude.NEUTRAL: "=",
    Contact.Attitude.CRITIC: "−",
    Contact.Attitude.UNKNOWN: "?",
}
RELATION_ORDER = list(Contact.Relation.values)
SYMBOL = (
    '<span class="sym {}" title="{}"><span aria-hidden="true">{}</span>'
    '<span class="visually-hidden">{}</span></span>'
)


@lru_cache(maxsize=8)
def _people_labels(language: str) -> dict:
    """The words and the symbols' markup, once per language (see `t` for the other labels).

    Built once because the board shows 200 contacts: formatting each one's symbols, dates
    and gaps anew took a third of the page's time."""
    buying = {value: str(label) for value, label in Contact.BuyingRole.choices}
    attitude = {value: str(label) for value, label in Contact.Attitude.choices}
    buying_text = {v: _("Buying role: %(role)s") % {"role": buying[v]} for v in buying}
    attitude_text = {v: _("Attitude: %(attitude)s") % {"attitude": attitude[v]} for v in attitude}
    return {
        "buying": {
            v: SYMBOL.format(f"role role-{v}", _e(text), BUYING_ROLE_SYMBOLS[v], _e(text))
            for v, text in buying_text.items()
        },
        "attitude": {
            v: SYMBOL.format(f"attitude attitude-{v}", _e(text), ATTITUDE_SYMBOLS[v], _e(text))
            for v, text in attitude_text.items()
        },
        "relations": {value: str(label) for value, label in Contact.Relation.choices},
        "last_contact": pgettext("contact", "Last contact"),
        "reached": _("target reached"),
        "create_action": pgettext("white spot", "Create action"),
        "create_action_title": _("Plan what we do about this white spot"),
        "type_change_title": _("Plan what we do about the changed customer type"),
        "seen": pgettext("type change", "Seen"),
        "seen_title": _("Noted, nothing to do: the mark goes"),
    }


def ago(day: date | None, today: date) -> str:
    """How long ago, in the reader's language: "3 weeks ago", "vor 3 Wochen", "never"."""
    if day is None:
        return pgettext("last contact", "never")
    days = (today - day).days
    if days < 0:
        return date_format(day, "SHORT_DATE_FORMAT")
    if days == 0:
        return _("today")
    if days < 14:
        return ngettext("%(n)s day ago", "%(n)s days ago", days) % {"n": days}
    if days < 61:
        n = days // 7
        return npgettext("time ago", "%(n)s week ago", "%(n)s weeks ago", n) % {"n": n}
    if days < 730:
        n = days // 30
        return npgettext("time ago", "%(n)s month ago", "%(n)s months ago", n) % {"n": n}
    n = days // 365
    return npgettext("time ago", "%(n)s year ago", "%(n)s years ago", n) % {"n": n}


def relation_gap(contact: Contact, labels: dict) -> str:
    """ "vendor → trusted advisor: 3 steps", or that the target is reached; "" without one."""
    goal = contact.relation_goal
    if not goal or goal not in RELATION_ORDER:
        return ""
    now = contact.relation_now if contact.relation_now in RELATION_ORDER else "none"
    steps = RELATION_ORDER.index(goal) - RELATION_ORDER.index(now)
    names = labels["relations"]
    if steps <= 0:
        return f"{names[now]} ✓ {labels['reached']}"
    words = ngettext("%(n)s step", "%(n)s steps", steps) % {"n": steps}
    return f"{names[now]} → {names[goal]}: {words}"


@lru_cache(maxsize=2048)
def _when(language: str, last: date | None, today: date) -> str:
    """The last contact's markup; many contacts share a day."""
    label = _people_labels(language)["last_contact"]
    title = label if last is None else f"{label}: {date_format(last, 'SHORT_DATE_FORMAT')}"
    return (
        f'<span class="small when{"" if last else " never"}" title="{_e(title)}">'
        f'<span class="visually-hidden">{_e(label)}: </span>{_e(ago(last, today))}</span>'
    )


@lru_cache(maxsize=256)
def _gap(language: str, now: str, goal: str) -> str:
    gap = relation_gap(Contact(relation_now=now, relation_goal=goal), _people_labels(language))
    return f' <span class="small gap">{_e(gap)}</span>' if gap else ""


def _people(contact: Contact, language: str, today: date) -> str:
    """Buying role and attitude as symbols, the last contact and the relationship's gap."""
    labels = _people_labels(language)
    role = labels["buying"].get(contact.buying_role, "")
    attitude = labels["attitude"].get(contact.attitude, "")
    when = _when(language, contact.last_contact, today)
    gap = ""
    if contact.relation_goal:
        gap = _gap(language, contact.relation_now, contact.relation_goal)
    return f'<span class="people">{role} {attitude} {when}{gap}</span>'


def _contact_row(contact: Contact, t: dict, can_edit: bool, language: str, today: date) -> str:
    pk = contact.pk
    if contact.is_placeholder:
        who = (
            f'<em>{_e(contact.role)}</em> <span class="badge placeholder">'
            f"{_e(t['name_unknown'])}</span>"
        )
        role = ""
    else:
        who = _e(contact.name)
        role = f'<span class="muted small">{_e(contact.role)}</span>' if contact.role else ""
    if can_edit:
        url = _e(pk_url("chain:contact-edit", pk))
        who = CONTACT_LINK.format(url, url, pk, who)
    level = t["levels"].get(contact.level, contact.level)
    facts = _people(contact, language, today)
    return CONTACT_ROW.format(pk, _e(contact.level), who, role, _e(level), facts)


CONTACT_ROW = (
    '<li id="contact-{}" class="contact level-{}">{} {} <span class="small level">{}</span>{}</li>'
)
CONTACT_LINK = '<a href="{}" hx-get="{}" hx-target="#contact-{}" hx-swap="innerHTML">{}</a>'
VALUE_TYPE = ' <span class="badge type-{}">{} ×{}</span>'


CARD = """<article class="card link-card {card_class}" id="link-{pk}" \
data-pk="{pk}">
  <header>
    {title}{count}
  </header>
  <div class="card-meta">
    <span class="dots" title="{importance_label}: {importance}" \
aria-label="{importance_label}: {importance}">{dots}</span>
    {badge}
  </div>
  <div class="card-meta muted small">{facts}</div>{value_types}{marks}
  {warning}
  <ul class="contacts">{contacts}</ul>
  {tools}
</article>
"""

TITLE = """<a class="card-title" id="title-{pk}" href="{edit}" hx-get="{edit}" \
hx-target="#link-{pk}" hx-swap="outerHTML" title="{characterise}">{name}</a>"""

# Only for those who may change the chain; managers of other teams read the cards.
TOOLS = """<div id="contact-slot-{pk}"></div>
  <div class="card-tools" role="group" aria-labelledby="title-{pk}">
    <a class="button small" href="{contact_add}" hx-get="{contact_add}" \
hx-target="#contact-slot-{pk}" hx-swap="innerHTML">+ {contact_label}</a>
    <form method="post" action="{move}" hx-post="{move}" hx-target="#board" hx-swap="outerHTML" \
class="inline move">
      <input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">
      <button class="icon" name="direction" value="up" title="{move_up}">↑</button>
      <button class="icon" name="direction" value="down" title="{move_down}">↓</button>
      <button class="icon" name="direction" value="left" title="{previous_stage}">←</button>
      <button class="icon" name="direction" value="right" title="{next_stage}">→</button>
    </form>
    <form method="post" action="{delete}" hx-post="{delete}" hx-target="#board" \
hx-swap="outerHTML" hx-confirm="{confirm}" data-confirm="{confirm}" class="inline">
      <input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">\
<button class="icon danger-outline" title="{remove}" aria-label="{remove}">✕</button>
    </form>
  </div>"""


@register.simple_tag(takes_context=True)
def member_card(context: template.Context, link: ChainLink) -> str:
    t = context["t"]
    actor = link.actor
    own = actor.is_own_company
    facts = [str(actor.kind)]
    if link.relationship:
        facts.append(t["relationships"].get(link.relationship, link.relationship))
    if actor.size:
        facts.append(t["sizes"].get(actor.size, actor.size))
    if link.competitive_position:
        position = link.competitive_position
        facts.append(t["positions"].get(position, position))
    if own:
        badge = f'<span class="badge own-badge">{_e(t["us"])}</span>'
    else:
        coverage = link.coverage
        badge = f'<span class="badge coverage-{_e(coverage)}">{_e(t["coverage"][coverage])}</span>'
    value_types = "".join(
        VALUE_TYPE.format(_e(code), _e(t["value_types"].get(code, code)), _e(n))
        for code, n in getattr(link, "value_types", [])
    )
    value = getattr(link, "customer_value", None)
    if value is not None:
        # One click to the actor's customers on the chain's customers tab.
        n = value.customers
        label = ngettext("%(n)s linked customer", "%(n)s linked customers", n) % {"n": n}
        figures = " · ".join(value.lines)
        value_types += f' <a class="small card-customers" href="{_e(value.url)}">{_e(label)}</a>'
        value_types += f' <span class="small muted">{_e(figures)}</span>' if figures else ""
    if value_types:
        value_types = f'\n  <div class="card-meta">{value_types}</div>'
    warning = ""
    if not own and not link.is_characterised:
        warning = f'<p class="small warn">{_e(t["not_characterised"])}</p>'
    name = _e(actor.name)
    can_edit = context.get("can_edit", False)
    if can_edit:
        edit = _e(pk_url("chain:link-edit", link.pk))
        title = TITLE.format(pk=link.pk, edit=edit, characterise=_e(t["characterise"]), name=name)
        tools = TOOLS.format(
            pk=link.pk,
            contact_add=_e(pk_url("chain:contact-add", link.pk)),
            move=_e(pk_url("chain:link-move", link.pk)),
            delete=_e(pk_url("chain:link-delete", link.pk)),
            csrf=_e(context.get("csrf_token", "")),
            contact_label=_e(t["contact"]),
            move_up=_e(t["move_up"]),
            move_down=_e(t["move_down"]),
            previous_stage=_e(t["previous_stage"]),
            next_stage=_e(t["next_stage"]),
            remove=_e(t["remove"]),
            confirm=_e(t["confirm_remove"]),
        )
    else:
        title = f'<span class="card-title" id="title-{link.pk}">{name}</span>'
        tools = ""
    importance = _e(link.importance or "–")
    language = get_language() or ""
    today = timezone.localdate()
    contacts = "".join(_contact_row(c, t, can_edit, language, today) for c in link.contact_list)
    marks = _marks(link, _people_labels(language), can_edit, _e(context.get("csrf_token", "")))
    return mark_safe(
        CARD.format(
            pk=link.pk,
            # Our company has no coverage of its own: its card is marked "us" instead.
            card_class="us" if own else f"coverage-{_e(link.coverage)}",
            title=title,
            tools=tools,
            count=f' <span class="muted">×{_e(link.count)}</span>' if link.count > 1 else "",
            importance_label=_e(t["importance"]),
            importance=importance,
            dots=_e(link.importance_dots),
            badge=badge,
            facts=_e(" · ".join(facts)),
            warning=warning,
            value_types=value_types,
            marks=marks,
            contacts=contacts,
        )
    )


def is_white_spot(link: ChainLink) -> bool:
    """Nobody known or no direct contact; our own company never is one."""
    if link.actor.is_own_company:
        return False
    return link.coverage in (Coverage.NOBODY, Coverage.KNOWN)


def _marks(link: ChainLink, labels: dict, can_edit: bool, csrf: str = "") -> str:
    """The open actions, the recent type changes and, on a white spot, a "Create action"."""
    parts = []
    chain_url = pk_url("chain:detail", link.chain_id)
    n = getattr(link, "open_actions", 0)
    if n:
        late = getattr(link, "overdue_actions", 0)
        text = npgettext("board", "%(n)s open action", "%(n)s open actions", n) % {"n": n}
        if late:
            text += ", " + npgettext("actions", "%(n)s overdue", "%(n)s overdue", late) % {
                "n": late
            }
        css = "actions-count overdue" if late else "actions-count"
        parts.append(f'<a class="badge {css}" href="{_e(chain_url)}?tab=actions">{_e(text)}</a>')
    changes = getattr(link, "type_changes", [])
    for change in changes:
        parts.append(
            f'<span class="badge type-change" role="note"><span aria-hidden="true">⚠ </span>'
            f"{_e(change.text)}</span>"
        )
    if can_edit and changes:
        # The suggested action: what do we do now that the customer's value turns?
        href = f"{chain_url}actions/new/?source=type_change&link={link.pk}"
        parts.append(
            f'<a class="button small create-action" href="{_e(href)}" '
            f'title="{_e(labels["type_change_title"])}">+ {_e(labels["create_action"])}</a>'
        )
        # Or: seen, nothing to do; the marks go (an action from it marks them seen too).
        seen = pk_url("chain:link-events-seen", link.pk)
        parts.append(
            f'<form class="inline" method="post" action="{_e(seen)}" hx-post="{_e(seen)}" '
            f'hx-target="#board" hx-swap="outerHTML">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
            f'<button type="submit" class="button small" title="{_e(labels["seen_title"])}">'
            f"{_e(labels['seen'])}</button></form>"
        )
    elif can_edit and is_white_spot(link):
        # The action views' contract: prefilled from the white spot (docs/method.md).
        href = f"{chain_url}actions/new/?source=white_spot&link={link.pk}"
        parts.append(
            f'<a class="button small create-action" href="{_e(href)}" '
            f'title="{_e(labels["create_action_title"])}">+ {_e(labels["create_action"])}</a>'
        )
    if not parts:
        return ""
    return f'\n  <div class="card-meta card-marks">{" ".join(parts)}</div>'


INFLUENCE_ROW = """<li id="influence-{pk}">
        <strong>{source}</strong> → <strong>{target}</strong>
        <span class="badge">{strength}</span>
        <div>{description}</div>{tools}
      </li>"""

# Only for those who may change the chain.
INFLUENCE_TOOLS = """
        <div class="row-tools">
          <a class="button small" href="{edit}" hx-get="{edit}" hx-target="#influence-{pk}" \
hx-swap="innerHTML">{edit_label}</a>
          <form method="post" action="{delete}" hx-post="{delete}" hx-target="#influences" \
hx-swap="outerHTML" hx-confirm="{confirm}" data-confirm="{confirm}">
            <input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">\
<button class="small danger-outline">{delete_label}</button>
          </form>
        </div>"""


@register.simple_tag(takes_context=True)
def influence_row(context: template.Context, influence: Influence) -> str:
    """One row of the influence list; 50 influences took 5 ms as template markup."""
    t = context["t"]
    tools = ""
    if context.get("can_edit", False):
        tools = INFLUENCE_TOOLS.format(
            pk=influence.pk,
            edit=_e(pk_url("chain:influence-edit", influence.pk)),
            delete=_e(pk_url("chain:influence-delete", influence.pk)),
            csrf=_e(context.get("csrf_token", "")),
            edit_label=_e(t["edit"]),
            delete_label=_e(t["delete"]),
            confirm=_e(t["confirm_delete_influence"]),
        )
    strength = t["strengths"].get(influence.strength, influence.strength)
    return mark_safe(
        INFLUENCE_ROW.format(
            pk=influence.pk,
            source=_e(influence.source.actor.name),
            target=_e(influence.target.actor.name),
            strength=_e(strength),
            description=_e(influence.description),
            tools=tools,
        )
    )
