"""Actions: the chain page's Actions tab, the action form, closing, and "My actions".

Links elsewhere open the form prefilled (`actions.action_initial`): a white spot, a review
comment, a customer's page. A plain link gets the form on a page of its own and returns to
the chain's Actions tab (or to `next`); the chain page loads it into the tab with htmx.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import retarget, trigger_client_event

from . import actions as act
from . import services
from .forms import ActionForm
from .models import Chain
from .selectors import chain_can_edit, chain_get_for_user
from .views import HtmxHttpRequest, _chain_context, _conflict

ACTIONS_CHANGED = "actions-changed"
MY_PAGE_SIZE = 50


def _next(request: HtmxHttpRequest) -> str:
    """Where to go after a write, if the request names a local page to return to."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed and target.startswith("/") else ""


def _tab_url(chain: Chain) -> str:
    return chain.get_absolute_url() + "?tab=actions"


def _after(request: HtmxHttpRequest, chain: Chain) -> HttpResponse:
    """A plain request goes back (`next` or the chain's Actions tab); htmx gets the fresh
    Actions region (without the form, which stood in it)."""
    if not request.htmx:
        return redirect(_next(request) or _tab_url(chain))
    chain.refresh_from_db()
    response = render(request, "chain/detail.html#actions", _chain_context(request, chain))
    return trigger_client_event(retarget(response, "#actions"), ACTIONS_CHANGED)


def _form_page(request: HtmxHttpRequest, chain: Chain, form: ActionForm, **context) -> HttpResponse:
    """The form with its errors (status 200: htmx swaps no 4xx), alone for htmx."""
    template = "chain/_action_form.html"
    context = {
        "chain": chain,
        "form": form,
        "form_template": template,
        "next": _next(request),
        **context,
    }
    return render(request, template if request.htmx else "chain/edit_page.html", context)


@require_http_methods(["GET", "POST"])
def action_new(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    if request.method == "GET":
        initial = act.action_initial(chain, request.user, request.GET)
        return _form_page(request, chain, ActionForm(initial=initial, chain=chain))
    form = ActionForm(request.POST, chain=chain)
    if form.is_valid():
        try:
            act.action_add(form=form, chain=chain, user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Action “%(title)s” added.") % {"title": form.cleaned_data["title"]}
            )
            return _after(request, chain)
    return _form_page(request, chain, form)


@require_http_methods(["GET", "POST"])
def action_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    action = act.action_get_for_user(request.user, pk, edit=True)
    chain = action.chain
    form = ActionForm(request.POST or None, instance=action, chain=chain)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            act.action_update(form=form, user=request.user)
        except services.EditConflict as error:
            conflict = _conflict(form, error.current)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _after(request, chain)
    return _form_page(request, chain, form, conflict=conflict)


@require_POST
def action_close(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    action = act.action_get_for_user(request.user, pk, edit=True)
    status = request.POST.get("status", "")
    try:
        act.action_close(action=action, user=request.user, status=status)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _after(request, action.chain)


@require_POST
def action_reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    action = act.action_get_for_user(request.user, pk, edit=True)
    try:
        act.action_reopen(action=action, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _after(request, action.chain)


@require_GET
def my_actions(request: HtmxHttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    show = show if show in act.MY_FILTERS else "open"
    order = request.GET.get("order", "due")
    order = order if order in act.MY_ORDERS else "due"
    actions = act.my_actions(request.user, show=show, order=order)
    page = Paginator(actions, MY_PAGE_SIZE).get_page(request.GET.get("page"))
    on_page = act.actions_mark_overdue(list(page.object_list))
    for action in on_page:
        action.can_edit = chain_can_edit(request.user, action.chain)
    context = {
        "actions": on_page,
        "page": page,
        "query": f"show={show}&order={order}",
        "show": show,
        "order": order,
        "filters": [("open", _("open")), ("done", _("done or dropped")), ("all", _("all"))],
        "here": request.get_full_path(),
    }
    return render(request, "chain/my_actions.html", context)
