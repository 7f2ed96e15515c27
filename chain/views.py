"""Chain pages. Every object is fetched through a selector that 404s on other teams' data."""

import logging
from functools import partial

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import OperationalError, models, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, retarget, trigger_client_event
from django_htmx.middleware import HtmxDetails

from lib.search import search_term
from lib.text import strip_control
from lib.value_types import ValueType

from . import services, snapshots
from .actions import chain_actions, chain_events_seen
from .activity import RESTORABLE, activity_list
from .diagram import COLOR_SCHEMES, filter_choices, render_svg
from .exports import export_filename
from .forms import (
    ChainForm,
    CommentForm,
    ContactForm,
    InfluenceForm,
    LinkAddForm,
    LinkForm,
    ReplyForm,
    ReturnForm,
    StageForm,
    VersionedForm,
)
from .models import (
    ACTOR_QUESTIONS,
    CHAIN_QUESTIONS,
    Actor,
    Chain,
    ChainLink,
    ChainSnapshot,
    CompetitivePosition,
    Contact,
    Coverage,
    Influence,
    Question,
    ReviewComment,
)
from .selectors import (
    ChainBoard,
    DashboardFilters,
    chain_board,
    chain_can_edit,
    chain_can_review,
    chain_changes_since_approval,
    chain_dashboard,
    chain_get_for_user,
    chain_health,
    chain_list_for_user,
    chain_list_with_counts,
    comment_get_for_user,
    contact_get_for_user,
    influence_get_for_user,
    link_get_for_user,
    review_comments,
    stage_get_for_user,
)

logger = logging.getLogger(__name__)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# What a write changed, told to the page as an event (HX-Trigger): each region of the chain
# page reloads only on the events that change what it shows (its hx-trigger in
# templates/chain/detail.html). "chain-changed" may mean anything (the scope, a restore):
# every region listens to it.
EVENT_OF_REGION = {
    "board": "links-changed",
    "influences": "influences-changed",
    "review": "review-changed",
}
STAGES_CHANGED = "stages-changed"  # added, renamed, removed, our stage: the diagram's columns
ORDER_CHANGED = "order-changed"  # stages or members moved
CONTACTS_CHANGED = "contacts-changed"

# The chain page's tabs, in their order; the first is where a chain with members opens.
TABS = ("diagram", "board", "customers", "worksheet", "review", "actions", "activity")

# The tab that shows a region: a plain form's write goes back to it (without JavaScript
# only the open tab is on the page).
TAB_OF_REGION = {
    "board": "board",
    "review": "review",
    "worksheet": "worksheet",
    "actor-questions": "worksheet",
    "diagram": "diagram",
    "white-spots": "diagram",
    "influences": "diagram",
    "influence-list": "diagram",
    "actions": "actions",
}


def chain_tab_url(chain: Chain, tab: str) -> str:
    """The chain page opened on `tab` (the default tab for "")."""
    return chain.get_absolute_url() + (f"?tab={tab}" if tab else "")


# Regions of the chain page that htmx may ask for by target id.
REGIONS = {
    "summary",
    "review",
    "diagram",
    "board",
    "white-spots",
    "influences",
    "influence-list",
    "worksheet",
    "actor-questions",
    "actions",
}


@require_GET
def chain_list(request: HtmxHttpRequest) -> HttpResponse:
    chains = chain_list_with_counts(request.user)
    q = search_term(request.GET.get("q"))
    if q:
        chains = chains.filter(Q(scope_name__icontains=q) | Q(coach_whom__icontains=q))
    filters = {
        "scope_kind": Chain.ScopeKind,
        "goal": Chain.Goal,
        "status": Chain.Status,
    }
    active = {}
    for name, choices in filters.items():
        value = request.GET.get(name, "")
        if value in choices.values:
            chains = chains.filter(**{name: value})
            active[name] = value
    page = Paginator(chains.order_by("-updated_at", "pk"), 50).get_page(request.GET.get("page"))
    on_page = list(page.object_list)
    health = chain_health(on_page)
    for chain in on_page:
        chain.health = health[chain.pk]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "chains": on_page,
        "page": page,
        "query": query.urlencode(),
        "q": q,
        "active": active,
        "scope_kinds": Chain.ScopeKind.choices,
        "goals": Chain.Goal.choices,
        "statuses": Chain.Status.choices,
        "filtered": bool(q or active),
    }
    template = "chain/list.html#chain-table" if request.htmx else "chain/list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def chain_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ChainForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        del data["version"]
        chain = services.chain_create(owner=request.user, **data)
        messages.success(request, _("Chain created with the default stages."))
        return redirect(chain)
    return render(request, "chain/create.html", {"form": form})


def _chain_context(request: HttpRequest, chain: Chain) -> dict:
    """The chain page's context. A region reloaded alone renders only its part, so the
    parts that cost queries or work are callables or lazy: the template evaluates only
    those it renders (and the board loads only what they ask for)."""
    board = chain_board(chain)
    can_edit = chain_can_edit(request.user, chain)
    can_review = chain_can_review(request.user, chain)
    scheme = request.GET.get("color", "importance")
    if scheme not in COLOR_SCHEMES:
        scheme = "importance"
    only = request.GET.get("only", "")
    return {
        "chain": chain,
        "board": board,
        "scheme": scheme,
        "only": only,
        "filter_choices": partial(_filter_choices, scheme),
        "svg": partial(render_svg, board, scheme=scheme, only=only, editable=can_edit),
        "chain_questions": partial(_chain_questions, board),
        "actor_links": partial(_actor_links, board),
        # Read by the member cards and influence rows, which only the board and the
        # influence list render.
        "t": SimpleLazyObject(_card_labels),
        "can_edit": can_edit,
        "can_review": can_review,
        "tab": partial(_tab, request, board),
        # The customers tab's content comes from the customer app (chain.decorations),
        # filtered to one actor when the page was opened from its box or card.
        "customers_url": partial(_customers_url, request, board),
        "review": partial(
            _review_context, request, chain, can_edit=can_edit, can_review=can_review
        ),
        # Read by the Actions tab's label and its region: one query, on first use.
        "actions": SimpleLazyObject(partial(chain_actions, chain)),
    }


def _chain_questions(board: ChainBoard) -> list[tuple[str, str, str, int]]:
    """(code, label, answer, version) per chain question; version 0: not answered yet."""
    rows = []
    for q in CHAIN_QUESTIONS:
        found = board.answers.get((None, q))
        rows.append(
            (q, Question(q).label, found.text if found else "", found.version if found else 0)
        )
    return rows


def _actor_links(board: ChainBoard) -> list[ChainLink]:
    """The members in stage order, but our own company: the per-actor questions."""
    return [link for link in board.members_in_stage_order() if not link.actor.is_own_company]


def _tab(request: HttpRequest, board: ChainBoard) -> str:
    """The open tab: as asked (?tab=), else the diagram, or the board while it is empty."""
    tab = request.GET.get("tab", "")
    if tab == "customers" and board.decoration is None:
        tab = ""  # no customer app to fill it
    if tab in TABS:
        return tab
    return "diagram" if board.links else "board"


def _customers_url(request: HttpRequest, board: ChainBoard) -> str:
    if board.decoration is None:
        return ""
    actor = request.GET.get("actor", "")
    query = f"?actor={actor}" if actor.isdigit() and len(actor) < 12 else ""
    return board.decoration.tab_url + query


def _review_context(
    request: HttpRequest, chain: Chain, *, can_edit: bool, can_review: bool
) -> dict:
    comments = review_comments(chain)
    context = {
        "open": [c for c in comments if c.is_open],
        "resolved": [c for c in comments if not c.is_open],
        # The team and the managers talk it over under each open comment.
        "can_reply": can_edit or can_review,
    }
    if can_edit or can_review:
        for comment in context["open"]:
            comment.reply_form = ReplyForm(auto_id=f"reply-{comment.pk}_%s")
    if can_review:
        # Only reviewers get the forms; the comment form lists every member of the chain.
        context["comment_form"] = CommentForm(chain=chain, auto_id="comment_%s")
        context["return_form"] = ReturnForm(auto_id="return_%s")
        # Four eyes: the approve button only for those who may approve; the others learn why.
        if chain.can_approve:
            refusal = services.chain_approval_refusal(chain=chain, user=request.user)
            context["can_approve"] = not refusal
            context["approval_refusal"] = refusal
    if chain.status == Chain.Status.APPROVED:
        by = chain.approved_by
        context["approver"] = (by.get_full_name() or by.get_username()) if by else "–"
    if chain.is_changed_approval:
        context["changes"], context["more_changes"] = chain_changes_since_approval(chain)
    return context


def _card_labels() -> dict:
    """Labels of the member cards, translated once per page instead of once per card."""
    return {
        "characterise": _("Characterise"),
        "importance": _("importance"),
        "us": _("us"),
        "not_characterised": _("Not characterised yet"),
        "name_unknown": _("name unknown"),
        "contact": _("Contact"),
        "move_up": _("Move up"),
        "move_down": _("Move down"),
        "previous_stage": _("Previous stage"),
        "next_stage": _("Next stage"),
        "remove": _("Remove from the chain"),
        "confirm_remove": _("Remove this actor and its contacts from the chain?"),
        # get_FOO_display() translates every choice of the field on each call.
        "levels": {value: str(label) for value, label in Contact.Level.choices},
        "coverage": {value: str(label) for value, label in Coverage.choices},
        "relationships": {value: str(label) for value, label in ChainLink.Relationship.choices},
        "sizes": {value: str(label) for value, label in Actor.Size.choices},
        "positions": {value: str(label) for value, label in CompetitivePosition.choices},
        "value_types": {value: str(label) for value, label in ValueType.choices},
        # The influence list's rows ({% influence_row %}).
        "edit": _("Edit"),
        "delete": _("Delete"),
        "confirm_delete_influence": _("Delete this influence?"),
        "strengths": {value: str(label) for value, label in Influence.Strength.choices},
    }


def _filter_choices(scheme: str) -> list[tuple[str, str]]:
    return filter_choices(scheme)


def _render_chain(request: HtmxHttpRequest, chain: Chain, region: str = "") -> HttpResponse:
    template = "chain/detail.html"
    if region:
        template += "#" + region
    return render(request, template, _chain_context(request, chain))


def _after_write(
    request: HtmxHttpRequest, chain: Chain, region: str, *, swap_into: str = "", event: str = ""
) -> HttpResponse:
    """A plain request goes back to the chain page; htmx gets the fresh region.

    The region replaces the element with its id, or `swap_into` when the form that was
    posted stands in the region's place (the scope form replaces the summary). `event`
    says what changed (by default what the region shows), so that only the regions that
    show it reload.
    """
    if not request.htmx:
        return redirect(chain_tab_url(chain, TAB_OF_REGION.get(region, "")))
    chain.refresh_from_db()
    response = _render_chain(request, chain, region)
    response = retarget(response, swap_into or f"#{region}")
    # The other regions that show what changed listen for this and reload themselves.
    return trigger_client_event(response, event or EVENT_OF_REGION.get(region, "chain-changed"))


def _edit(
    request: HtmxHttpRequest,
    form: forms.ModelForm,
    chain: Chain,
    *,
    template: str,
    region: str,
    swap_into: str = "",
    event: str = "",
    **context: object,
) -> HttpResponse:
    """The inline-edit pattern shared by the chain's parts.

    A valid POST saves, marks the chain changed and answers with the fresh region.
    Otherwise the form comes back, with its errors and status 200 (htmx swaps no 4xx):
    alone for htmx, inside a page for a plain request.
    """
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.versioned_save(form=form)
                services.chain_touch(chain=chain)
        except services.EditConflict as error:
            conflict = _conflict(form, error.current)
        else:
            return _after_write(request, chain, region, swap_into=swap_into, event=event)
    context = {"chain": chain, "form": form, "form_template": template, **context}
    context["conflict"] = conflict
    return render(request, template if request.htmx else "chain/edit_page.html", context)


def _conflict(form: VersionedForm, current: models.Model | None) -> dict:
    """What the refused save is shown: who saved what in between."""
    if current is None:
        return {"deleted": True}
    rows = form.conflict_rows(current)
    form.conflict_take_over(current)
    last = current.history.select_related("history_user").first()
    return {
        "rows": rows,
        "by": last.history_user if last else None,
        "at": last and last.history_date,
    }


def _delete(
    request: HtmxHttpRequest, obj: models.Model, chain: Chain, region: str, event: str = ""
) -> HttpResponse:
    with transaction.atomic():
        obj.delete()
        services.chain_touch(chain=chain)
    return _after_write(request, chain, region, event=event)


@require_GET
def chain_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    region = request.htmx.target if request.htmx and request.htmx.target in REGIONS else ""
    return _render_chain(request, chain, region)


@require_GET
def chain_svg(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    scheme = request.GET.get("color", "importance")
    svg = render_svg(
        chain_board(chain), scheme=scheme, only=request.GET.get("only", ""), interactive=False
    )
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    if request.GET.get("download") == "1":
        # The chain page's download link names the file like the other exports.
        filename = export_filename(chain, "diagram", "svg")
    else:
        filename = f"{slugify(chain.scope_name) or f'chain-{chain.pk}'}.svg"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
def chain_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    form = ChainForm(request.POST or None, instance=chain, user=request.user)
    template = "chain/_chain_form.html"
    return _edit(request, form, chain, template=template, region="summary", swap_into="#chain-form")


@require_http_methods(["GET", "POST"])
def chain_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    if request.method == "POST":
        name = chain.scope_name
        chain.delete()
        messages.success(request, _("Chain “%(name)s” deleted.") % {"name": name})
        if request.htmx:
            return HttpResponseClientRedirect("/chains/")
        return redirect("chain:list")
    return render(request, "chain/delete.html", {"chain": chain})


# Stages ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def stage_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    form = StageForm(request.POST or None, chain=chain)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.stage_add(chain=chain, name=data["name"], role=data["role"])
        return _after_write(request, chain, "board", event=STAGES_CHANGED)
    template = "chain/_stage_form.html" if request.htmx else "chain/edit_page.html"
    return render(
        request, template, {"chain": chain, "form": form, "form_template": "chain/_stage_form.html"}
    )


@require_http_methods(["GET", "POST"])
def stage_rename(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    stage = stage_get_for_user(request.user, pk, edit=True)
    form = StageForm(request.POST or None, instance=stage)
    template, event = "chain/_stage_form.html", STAGES_CHANGED
    return _edit(
        request, form, stage.chain, template=template, region="board", event=event, stage=stage
    )


@require_POST
def stage_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    stage = stage_get_for_user(request.user, pk, edit=True)
    try:
        services.stage_delete(stage=stage)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _after_write(request, stage.chain, "board", event=STAGES_CHANGED)


@require_POST
def stage_move(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    stage = stage_get_for_user(request.user, pk, edit=True)
    offset = -1 if request.POST.get("direction") == "left" else 1
    services.stage_move(stage=stage, offset=offset)
    return _after_write(request, stage.chain, "board", event=ORDER_CHANGED)


@require_POST
def stage_set_own(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    stage = stage_get_for_user(request.user, pk, edit=True)
    services.stage_set_own(stage=stage)
    return _after_write(request, stage.chain, "board", event=STAGES_CHANGED)


@require_POST
def stage_reorder(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    try:
        pks = [int(v) for v in request.POST.getlist("stage")]
        services.stage_reorder(chain=chain, stage_pks=pks)
    except (ValueError, ValidationError):
        messages.error(request, _("The stage list is out of date. Reload the page and try again."))
    return _after_write(request, chain, "board", event=ORDER_CHANGED)


# Members (chain links) --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def link_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    form = LinkAddForm(
        request.POST or None, chain=chain, initial={"stage": request.GET.get("stage")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            actor = data["actor"] or Actor.objects.create(
                name=data["new_name"].strip(), kind=data["new_kind"]
            )
            services.link_add(chain=chain, stage=data["stage"], actor=actor)
        return _after_write(request, chain, "board")
    context = {"chain": chain, "form": form, "form_template": "chain/_link_add_form.html"}
    template = "chain/_link_add_form.html" if request.htmx else "chain/edit_page.html"
    return render(request, template, context)


@require_POST
def link_reorder(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    try:
        stage = chain.stages.get(pk=int(request.POST.get("stage", "")))
        pks = [int(v) for v in request.POST.getlist("link")]
        services.link_reorder(chain=chain, stage=stage, link_pks=pks)
    except (ValueError, ValidationError, chain.stages.model.DoesNotExist):
        messages.error(request, _("The actor list is out of date. Reload the page and try again."))
    return _after_write(request, chain, "board", event=ORDER_CHANGED)


@require_GET
def link_card(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    link = link_get_for_user(request.user, pk)
    return _render_chain(request, link.chain, "board")


@require_GET
def link_answers(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The per-actor worksheet questions, loaded when the user opens the actor."""
    link = link_get_for_user(request.user, pk)
    answers = {a.question: a for a in link.answers.all()}
    questions = [
        (q, Question(q).label, answers[q].text, answers[q].version)
        if q in answers
        else (q, Question(q).label, "", 0)
        for q in ACTOR_QUESTIONS
    ]
    context = {"chain": link.chain, "link": link, "questions": questions}
    context["can_edit"] = chain_can_edit(request.user, link.chain)
    if request.htmx:
        return render(request, "chain/_actor_answers.html", context)
    context["form_template"] = "chain/_actor_answers.html"
    return render(request, "chain/edit_page.html", context)


@require_http_methods(["GET", "POST"])
def link_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """`_edit` for a member, whose form may also change its actor's catalog facts."""
    link = link_get_for_user(request.user, pk, edit=True)
    chain = link.chain
    form = LinkForm(request.POST or None, instance=link, user=request.user)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.link_characterise(form=form, user=request.user)
        except services.EditConflict as error:
            conflict = _link_conflict(form, error.current)
        except ValidationError as error:
            form.add_error(None, error)  # another team took the actor into a chain meanwhile
        else:
            return _after_write(request, chain, "board")
    template = "chain/_link_form.html"
    context = {"chain": chain, "form": form, "form_template": template, "link": link}
    context["conflict"] = conflict
    return render(request, template if request.htmx else "chain/edit_page.html", context)


def _link_conflict(form: LinkForm, current: ChainLink | None) -> dict:
    """`_conflict`, naming whoever saved last: the member's or the actor's editor."""
    conflict = _conflict(form, current)
    if current is not None:
        last = current.actor.history.select_related("history_user").first()
        if last and (conflict["at"] is None or last.history_date > conflict["at"]):
            conflict.update(by=last.history_user, at=last.history_date)
    return conflict


@require_POST
def link_move(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    link = link_get_for_user(request.user, pk, edit=True)
    direction = request.POST.get("direction", "")
    if direction in {"up", "down", "left", "right"}:
        services.link_move(link=link, direction=direction)
    return _after_write(request, link.chain, "board", event=ORDER_CHANGED)


@require_POST
def link_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    link = link_get_for_user(request.user, pk, edit=True)
    messages.success(request, _("%(actor)s removed from the chain.") % {"actor": link.actor})
    return _delete(request, link, link.chain, "board")


@require_POST
def link_events_seen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The team has seen the actor's type changes: their marks go (chain.actions)."""
    link = link_get_for_user(request.user, pk, edit=True)
    chain_events_seen(link=link)
    return _after_write(request, link.chain, "board", event="chain-changed")


# Contacts -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def contact_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    link = link_get_for_user(request.user, pk, edit=True)
    form = ContactForm(request.POST or None, chain=link.chain, initial={"owner": request.user.pk})
    form.instance.link = link
    template, event = "chain/_contact_form.html", CONTACTS_CHANGED
    return _edit(
        request, form, link.chain, template=template, region="board", event=event, link=link
    )


@require_http_methods(["GET", "POST"])
def contact_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = contact_get_for_user(request.user, pk, edit=True)
    link = contact.link
    form = ContactForm(request.POST or None, instance=contact, chain=link.chain)
    template, event = "chain/_contact_form.html", CONTACTS_CHANGED
    return _edit(
        request, form, link.chain, template=template, region="board", event=event, link=link
    )


@require_POST
def contact_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = contact_get_for_user(request.user, pk, edit=True)
    return _delete(request, contact, contact.link.chain, "board", event=CONTACTS_CHANGED)


# Influences -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def influence_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    form = InfluenceForm(request.POST or None, chain=chain)
    return _edit(request, form, chain, template="chain/_influence_form.html", region="influences")


@require_http_methods(["GET", "POST"])
def influence_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    influence = influence_get_for_user(request.user, pk, edit=True)
    chain = influence.chain
    form = InfluenceForm(request.POST or None, instance=influence, chain=chain)
    return _edit(request, form, chain, template="chain/_influence_form.html", region="influences")


@require_POST
def influence_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    influence = influence_get_for_user(request.user, pk, edit=True)
    return _delete(request, influence, influence.chain, "influences")


# Worksheet ------------------------------------------------------------------------------


@require_POST
def answer_save(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Autosave of one worksheet answer while the user types (static/js/autosave.js).

    Bad input is never a server error: an unknown question or actor, or a version that is
    no number, is a 400 with its reason; an answer that is too long is refused next to the
    field (200, so the page shows it); control characters are removed. A database too busy
    to take the save answers 503, and the page tries again.
    """
    chain = chain_get_for_user(request.user, pk, edit=True)
    question = request.POST.get("question", "")
    link = None
    if link_pk := request.POST.get("link", ""):
        link = chain.links.filter(pk=link_pk).first() if _is_id(link_pk) else None
        if link is None:
            return HttpResponse(
                _("This actor is no longer in the chain. Reload the page."), status=400
            )
    if question not in (ACTOR_QUESTIONS if link else CHAIN_QUESTIONS):
        return HttpResponse(_("Unknown question."), status=400)
    version = request.POST.get("version", "")
    if version and not _is_id(version):
        return HttpResponse(_("The answer's version is not a number."), status=400)
    text = strip_control(request.POST.get("text", ""))
    field = f"{link.pk}-{question}" if link else question
    if message := services.answer_too_long(text):
        if not request.htmx:
            return HttpResponse(message, status=400)
        return HttpResponse(
            format_html('<span class="save-error conflict-note" role="alert">{}</span>', message)
        )
    try:
        answer = services.answer_save(
            chain=chain,
            question=question,
            text=text,
            user=request.user,
            link=link,
            version=int(version) if version else None,
        )
    except OperationalError as error:
        # SQLite's busy timeout or PostgreSQL's statement timeout ran out. The page keeps
        # the text and sends it again.
        logger.warning("Answer to %s of chain %s not saved: %s", field, chain.pk, error)
        response = HttpResponse(_("The database is busy. Your answer will be saved shortly."))
        response.status_code = 503
        response["Retry-After"] = "2"
        return response
    except services.EditConflict as conflict:
        if not request.htmx:
            messages.error(
                request, _("Somebody else changed this answer meanwhile; yours was not saved.")
            )
            return redirect(chain)
        # Theirs stays; the page keeps the user's text and now knows the current version,
        # so typing on (or leaving the field) saves the user's text over theirs knowingly.
        context = {"answer": conflict.current, "field": field, "conflict": True}
        return render(request, "chain/_saved.html", context)
    if not request.htmx:
        return redirect(chain_tab_url(chain, "worksheet"))
    response = render(request, "chain/_saved.html", {"answer": answer, "field": field})
    return trigger_client_event(response, "answers-changed")


def _is_id(value: str) -> bool:
    """Whether `value` can be a primary key: digits only, short enough for the column."""
    return value.isascii() and value.isdigit() and len(value) < 19


# Managers' dashboard ----------------------------------------------------------------------


@require_GET
@permission_required("chain.view_all_chains", raise_exception=True)
# The same URL answers with the page or a fragment: keep caches from mixing them up.
@vary_on_headers("HX-Request", "HX-Target")
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params["q"] = search_term(params.get("q"))
    filters = DashboardFilters.from_params(params)
    board = chain_dashboard(request.user, filters, page=request.GET.get("page"))
    template = "chain/dashboard.html"
    # The filter form swaps only the results; the summary's links and "show all" swap the
    # form too, so that its fields show the new filters. A history restore needs the page.
    if request.htmx and not request.htmx.history_restore_request:
        results = request.htmx.target == "dashboard-results"
        template += "#dashboard-results" if results else "#dashboard"
    context = {
        "dashboard": board,
        "filters": filters,
        "query": filters.query(),
        "scope_kinds": Chain.ScopeKind.choices,
        "statuses": Chain.Status.choices,
    }
    return render(request, template, context)


# Review ---------------------------------------------------------------------------------


@require_POST
def chain_submit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    _review_step(request, services.chain_submit, chain=chain, user=request.user)
    return _after_write(request, chain, "review")


@require_POST
def chain_approve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = _chain_for_review(request, pk)
    _review_step(request, services.chain_approve, chain=chain, user=request.user)
    return _after_write(request, chain, "review")


@require_http_methods(["GET", "POST"])
def chain_return(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = _chain_for_review(request, pk)
    form = ReturnForm(request.POST or None, auto_id="return_%s")
    if request.method == "POST" and form.is_valid():
        comment = form.cleaned_data["text"]
        _review_step(
            request, services.chain_return, chain=chain, user=request.user, comment=comment
        )
        return _after_write(request, chain, "review")
    return _review_form(request, chain, form, "chain/_return_form.html", "#review form.return-form")


def _review_form(
    request: HtmxHttpRequest,
    chain: Chain,
    form: forms.Form,
    template: str,
    selector: str,
    **extra: object,
) -> HttpResponse:
    """A review form with its errors: for htmx in place of itself (`selector`; the form
    posts into #review, which must stay), else on a page of its own."""
    context = {"chain": chain, "form": form, "form_template": template, **extra}
    if request.htmx:
        return retarget(render(request, template, context), selector)
    return render(request, "chain/edit_page.html", context)


def _chain_for_review(request: HtmxHttpRequest, pk: int) -> Chain:
    chain = chain_get_for_user(request.user, pk)
    if not chain_can_review(request.user, chain):
        raise PermissionDenied(_("Only managers review chains."))
    return chain


def _review_step(request: HtmxHttpRequest, step, **kwargs) -> None:
    """Run a status change; a refused one (the status changed meanwhile) becomes a message."""
    try:
        step(**kwargs)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))


@require_http_methods(["GET", "POST"])
def comment_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = _chain_for_review(request, pk)
    form = CommentForm(request.POST or None, chain=chain, auto_id="comment_%s")
    if request.method == "POST" and form.is_valid():
        ReviewComment.objects.create(
            chain=chain, author=request.user, text=form.cleaned_data["text"], **form.target()
        )
        return _after_write(request, chain, "review")
    return _review_form(
        request, chain, form, "chain/_comment_form.html", "#review form.comment-form"
    )


@require_http_methods(["GET", "POST"])
def comment_reply(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The chain's team or a manager answers a review comment."""
    comment = comment_get_for_user(request.user, pk)
    chain = comment.chain
    if not (chain_can_edit(request.user, chain) or chain_can_review(request.user, chain)):
        raise PermissionDenied(_("Only the chain's team or a manager may reply to comments."))
    form = ReplyForm(request.POST or None, auto_id=f"reply-{comment.pk}_%s")
    if request.method == "POST" and form.is_valid():
        try:
            text = form.cleaned_data["text"]
            services.comment_reply(comment=comment, user=request.user, text=text)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return _after_write(request, chain, "review")
    return _review_form(
        request,
        chain,
        form,
        "chain/_reply_form.html",
        f"#comment-{comment.pk} form.reply-form",
        comment=comment,
    )


@require_POST
def comment_resolve(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    comment = comment_get_for_user(request.user, pk)
    chain = comment.chain
    if not (chain_can_edit(request.user, chain) or chain_can_review(request.user, chain)):
        raise PermissionDenied(_("Only the chain's team or a manager may resolve comments."))
    services.comment_resolve(comment=comment, user=request.user)
    return _after_write(request, chain, "review")


# Activity feed ----------------------------------------------------------------------------


@require_GET
def activity(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    try:
        limit = min(max(int(request.GET.get("limit", 30)), 1), 500)
    except ValueError:
        limit = 30
    entries, more = activity_list(chain, limit=limit)
    context = {
        "chain": chain,
        "entries": entries,
        "more": more,
        "next_limit": limit + 50,
        "can_edit": chain_can_edit(request.user, chain),
    }
    template = "chain/activity.html#feed" if request.htmx else "chain/activity.html"
    return render(request, template, context)


@require_POST
def restore(request: HtmxHttpRequest, pk: int, kind: str, history_pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    if kind not in RESTORABLE:
        raise Http404
    try:
        obj = services.history_restore(chain=chain, kind=kind, history_pk=history_pk)
    except ObjectDoesNotExist as error:
        raise Http404 from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("“%(name)s” is back.") % {"name": obj})
    # Anything may be back: every region reloads.
    return _after_write(request, chain, "board", event="chain-changed")


# Snapshots ------------------------------------------------------------------------------


def _render_snapshots(
    request: HtmxHttpRequest,
    chain: Chain,
    *,
    label: str | None = None,
    errors: list[str] | None = None,
) -> HttpResponse:
    """The snapshot page, or for htmx its list region, with the form for reviewers."""
    taken = list(chain.snapshots.select_related("taken_by"))
    if label is None:
        label = snapshots.suggested_label(timezone.localdate(), {s.label for s in taken})
    context = {
        "chain": chain,
        "snapshots": taken,
        "can_review": chain_can_review(request.user, chain),
        "label": label,
        "errors": errors or [],
    }
    template = "chain/snapshots.html#snapshots" if request.htmx else "chain/snapshots.html"
    return render(request, template, context)


@require_GET
def snapshot_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    return _render_snapshots(request, chain)


@require_POST
def snapshot_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk)
    if not chain_can_review(request.user, chain):
        raise PermissionDenied(_("Only managers may take snapshots."))
    # No form here: the same hygiene as in the forms (lib.forms), the length is the model's.
    label = strip_control(request.POST.get("label", ""))
    try:
        snapshot = services.snapshot_create(chain=chain, label=label, user=request.user)
    except ValidationError as error:
        # Status 200 with the errors: htmx swaps no 4xx.
        return _render_snapshots(request, chain, label=label, errors=error.messages)
    messages.success(request, _("Snapshot “%(label)s” taken.") % {"label": snapshot.label})
    if request.htmx:
        return _render_snapshots(request, chain)
    return redirect("chain:snapshots", chain.pk)


@require_GET
def snapshot_compare(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The chain now against one of its snapshots; 404 unless the chain is visible."""
    visible = chain_list_for_user(request.user)
    snapshot = get_object_or_404(
        ChainSnapshot.objects.select_related("chain__team", "taken_by").filter(chain__in=visible),
        pk=pk,
    )
    chain = snapshot.chain
    now = snapshots.snapshot_data(chain_board(chain))
    context = {
        "chain": chain,
        "snapshot": snapshot,
        "comparison": snapshots.snapshot_compare(snapshot.data, now),
    }
    return render(request, "chain/snapshot_compare.html", context)
