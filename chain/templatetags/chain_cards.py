"""`{% member_card link %}`: one chain member's card on the board.

Written in Python rather than as an included template because the board shows every
member with its contacts: with 40 actors and 200 contacts the included template took
about 28 ms of a page that must render in 50, this takes about a tenth of that.
The markup is the same a template would produce; labels come translated once per page
in the context variable `t` (see `chain.views._card_labels`).
"""

from django import template
from django.utils.html import format_html, format_html_join

from ..models import ChainLink, Contact
from .chain_urls import pk_url

register = template.Library()


def _contact_row(contact: Contact, t: dict, can_edit: bool) -> tuple:
    url = pk_url("chain:contact-edit", contact.pk)
    if contact.is_placeholder:
        who = format_html(
            '<em>{}</em> <span class="badge placeholder">{}</span>', contact.role, t["name_unknown"]
        )
        role = ""
    else:
        who = contact.name
        role = (
            format_html('<span class="muted small">{}</span>', contact.role) if contact.role else ""
        )
    level = t["levels"].get(contact.level, contact.level)
    if can_edit:
        who = format_html(CONTACT_LINK, url, url, contact.pk, who)
    return (contact.pk, contact.level, who, role, level)


CONTACT_ROW = (
    '<li id="contact-{}" class="contact level-{}">{} {} <span class="small level">{}</span></li>'
)
CONTACT_LINK = '<a href="{}" hx-get="{}" hx-target="#contact-{}" hx-swap="innerHTML">{}</a>'


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
  <div class="card-meta muted small">{facts}</div>{value_types}
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
    if actor.position:
        facts.append(t["positions"].get(actor.position, actor.position))
    if own:
        badge = format_html('<span class="badge own-badge">{}</span>', t["us"])
    else:
        badge = format_html(
            '<span class="badge coverage-{}">{}</span>', link.coverage, t["coverage"][link.coverage]
        )
    types = getattr(link, "value_types", [])
    value_types = format_html_join(
        "",
        ' <span class="badge type-{}">{} ×{}</span>',
        ((code, t["value_types"].get(code, code), n) for code, n in types),
    )
    if value_types:
        value_types = format_html('\n  <div class="card-meta">{}</div>', value_types)
    warning = ""
    if not own and not link.is_characterised:
        warning = format_html('<p class="small warn">{}</p>', t["not_characterised"])
    can_edit = context.get("can_edit", False)
    if can_edit:
        edit = pk_url("chain:link-edit", link.pk)
        title = format_html(
            TITLE, pk=link.pk, edit=edit, characterise=t["characterise"], name=actor.name
        )
        tools = format_html(
            TOOLS,
            pk=link.pk,
            contact_add=pk_url("chain:contact-add", link.pk),
            move=pk_url("chain:link-move", link.pk),
            delete=pk_url("chain:link-delete", link.pk),
            csrf=context.get("csrf_token", ""),
            contact_label=t["contact"],
            move_up=t["move_up"],
            move_down=t["move_down"],
            previous_stage=t["previous_stage"],
            next_stage=t["next_stage"],
            remove=t["remove"],
            confirm=t["confirm_remove"],
        )
    else:
        title = format_html('<span class="card-title" id="title-{}">{}</span>', link.pk, actor.name)
        tools = ""
    return format_html(
        CARD,
        pk=link.pk,
        # Our company has no coverage of its own: its card is marked "us" instead.
        card_class="us" if own else f"coverage-{link.coverage}",
        title=title,
        tools=tools,
        count=format_html(' <span class="muted">×{}</span>', actor.count)
        if actor.count > 1
        else "",
        importance_label=t["importance"],
        importance=link.importance or "–",
        dots=link.importance_dots,
        badge=badge,
        facts=" · ".join(facts),
        warning=warning,
        value_types=value_types,
        contacts=format_html_join(
            "", CONTACT_ROW, (_contact_row(c, t, can_edit) for c in link.contact_list)
        ),
    )
