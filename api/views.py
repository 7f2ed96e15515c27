"""The API tokens page: create, see and revoke personal tokens (/api/tokens/)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .forms import TokenForm
from .selectors import token_list_for_user, tokens_all_visible
from .services import token_create, token_revoke


def _page(request: HttpRequest, form: TokenForm, secret: str = "", status: int = 200):
    context = {
        "form": form,
        "tokens": token_list_for_user(request.user).order_by("revoked_at", "-created_at", "-pk"),
        "all_users": tokens_all_visible(request.user),
        "secret": secret,
    }
    return render(request, "api/tokens.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
@never_cache
def tokens_page(request: HttpRequest) -> HttpResponse:
    return _page(request, TokenForm())


@require_POST
@never_cache  # the answer shows the new secret: no cache may keep it
def token_add(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    token, secret = token_create(
        user=request.user,
        name=form.cleaned_data["name"],
        scope=form.cleaned_data["scope"],
        expires_at=form.expires_at(),
    )
    # Rendered, not redirected: the secret is shown this once and kept nowhere.
    return _page(request, TokenForm(), secret=secret)


@require_http_methods(["GET", "HEAD", "POST"])
def token_revoke_page(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(token_list_for_user(request.user), pk=pk, revoked_at=None)
    if request.method == "POST":
        token_revoke(token=token)
        messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
        return redirect("api-tokens:list")
    return render(request, "api/revoke.html", {"token": token})
