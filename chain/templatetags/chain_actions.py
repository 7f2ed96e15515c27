"""`{% action_about action chain_url %}`: what an action is about, linked to where it is;
`{% action_rows actions %}`: the open actions' table rows on the chain page;
`{% closed_action_items actions %}`: the closed ones' list items.

Written in Python for the reason `chain_cards` gives: a chain with 100 actions took about
60 ms as included templates, a tab that must open in a fraction of that. The markup is the
same a template would produce; the labels are translated once per language.
"""

from functools import lru_cache
from html import escape
from urllib.parse import quote

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from ..models import Action
from .chain_urls import pk_url

register = template.Library()


@lru_cache(maxsize=8)
def _labels(language: str) -> dict:
    try:
        # The customer list, where the app has one (chain imports nothing from customers).
        customers = reverse("customers:list")
    except NoReverseMatch:
        customers = ""
    return {
        "overdue": escape(_("overdue")),
        "nobody": escape(_("nobody yet")),
        "done": escape(pgettext("action", "Done")),
        "drop": escape(_("Drop")),
        "edit": escape(_("Edit")),
        "reopen": escape(_("Reopen")),
        "worksheet": escape(_("Worksheet")),
        "comment": escape(_("Review comment")),
        "customer": _("Customer %(number)s"),
        "whole": escape(_("the chain as a whole")),
        "status": {
            Action.Status.DONE: escape(pgettext("action", "done")),
            Action.Status.DROPPED: escape(pgettext("action", "dropped")),
            Action.Status.OPEN: escape(pgettext("action", "open")),
        },
        "customers_url": customers,
    }


def _about(action: Action, chain_url: str, labels: dict) -> str:
    if action.link_id:
        href = f"{chain_url}?tab=board#link-{action.link_id}"
        return f'<a href="{escape(href)}">{escape(action.link.actor.name)}</a>'
    if action.contact_id:
        contact = action.contact
        href = f"{chain_url}?tab=board#link-{contact.link_id}"
        return (
            f'<a href="{escape(href)}">{escape(str(contact))}</a> '
            f'<span class="muted">({escape(contact.link.actor.name)})</span>'
        )
    if action.question:
        text = Truncator(action.get_question_display()).words(8)
        href = f"{chain_url}?tab=worksheet#worksheet"
        return f'<a href="{escape(href)}">{labels["worksheet"]}: {escape(text)}</a>'
    if action.comment_id:
        text = Truncator(action.comment.text).words(8)
        href = f"{chain_url}?tab=review#comment-{action.comment_id}"
        return f'<a href="{escape(href)}">{labels["comment"]}: {escape(text)}</a>'
    if action.customer_number:
        words = escape(labels["customer"] % {"number": action.customer_number})
        if not labels["customers_url"]:
            return words
        query = escape(f"?q={quote(action.customer_number, safe='')}")
        return f'<a href="{escape(labels["customers_url"])}{query}">{words}</a>'
    return f'<span class="muted">{labels["whole"]}</span>'


def _owner(action: Action, labels: dict) -> str:
    owner = action.owner
    if owner is None:
        return f'<span class="muted">{labels["nobody"]}</span>'
    return escape(owner.get_full_name() or owner.username)


def _notes(text: str) -> str:
    """As Django's linebreaksbr: escaped, every line break a <br>."""
    lines = escape(text.replace("\r\n", "\n").replace("\r", "\n"))
    return lines.replace("\n", "<br>")


@register.simple_tag
def action_about(action: Action, chain_url: str) -> str:
    return mark_safe(_about(action, chain_url, _labels(get_language())))


@register.simple_tag(takes_context=True)
def action_rows(context, actions: list[Action]) -> str:
    """The open actions' rows: due date (overdue marked), title and notes, owner, what it is
    about, and for editors the steps (done, drop, edit)."""
    labels = _labels(get_language())
    chain_url = context["chain"].get_absolute_url()
    steps_form = ""
    if context.get("can_edit"):
        token = escape(str(context.get("csrf_token", "")))
        steps_form = (
            '<form method="post" action="{close}" hx-post="{close}" hx-target="#actions" '
            'hx-swap="outerHTML">\n'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n'
            f'<button class="small done" name="status" value="done">✓ {labels["done"]}</button>\n'
            f'<button class="small" name="status" value="dropped">{labels["drop"]}</button>\n'
            "</form>\n"
            '<a class="button small" href="{edit}" hx-get="{edit}" hx-target="#action-form-slot" '
            f'hx-swap="innerHTML">{labels["edit"]}</a>'
        )
    rows = []
    for action in actions:
        due = date_format(action.due, "SHORT_DATE_FORMAT") if action.due else "–"
        if action.overdue:
            due += f' <span class="badge overdue">{labels["overdue"]}</span>'
        notes = f'<div class="muted small">{_notes(action.notes)}</div>' if action.notes else ""
        steps = ""
        if steps_form:
            close, edit = (
                pk_url("chain:action-close", action.pk),
                pk_url("chain:action-edit", action.pk),
            )
            steps = steps_form.replace("{close}", close).replace("{edit}", edit)
        css = "action-row overdue" if action.overdue else "action-row"
        rows.append(
            f'<tr id="action-{action.pk}" class="{css}">'
            f'<td class="due">{due}</td>'
            f'<td><strong class="action-title">{escape(action.title)}</strong>{notes}</td>'
            f"<td>{_owner(action, labels)}</td>"
            f"<td>{_about(action, chain_url, labels)}</td>"
            f'<td class="action-steps">{steps}</td></tr>'
        )
    return mark_safe("\n".join(rows))


@register.simple_tag(takes_context=True)
def closed_action_items(context, actions: list[Action]) -> str:
    """The closed actions' list items: status, title, what about, when, whose; for editors a
    button to reopen."""
    labels = _labels(get_language())
    chain_url = context["chain"].get_absolute_url()
    can_edit = context.get("can_edit")
    token = escape(str(context.get("csrf_token", ""))) if can_edit else ""
    items = []
    for action in actions:
        status = labels["status"].get(action.status, escape(action.status))
        when = (
            date_format(localtime(action.closed_at), "SHORT_DATE_FORMAT")
            if action.closed_at
            else ""
        )
        owner = ""
        if action.owner is not None:
            owner = " · " + escape(action.owner.get_full_name() or action.owner.username)
        reopen = ""
        if can_edit:
            url = pk_url("chain:action-reopen", action.pk)
            reopen = (
                f'<form class="inline" method="post" action="{url}" hx-post="{url}" '
                'hx-target="#actions" hx-swap="outerHTML">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
                f'<button class="small">{labels["reopen"]}</button></form>'
            )
        items.append(
            f'<li id="action-{action.pk}"><span class="badge action-{escape(action.status)}">'
            f"{status}</span> {escape(action.title)} "
            f'<span class="muted small">· {_about(action, chain_url, labels)} · {when}{owner}'
            f"</span> {reopen}</li>"
        )
    return mark_safe("\n".join(items))
