"""The administrators' webhooks pages (/webhooks/): register, edit, pause and resume,
rotate the secret, delete, and see the recent deliveries (README, "Webhooks")."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import services
from .forms import WebhookForm
from .models import Delivery, Webhook

RECENT_ON_LIST = 5
RECENT_ON_DETAIL = 50


@require_safe
@permission_required("webhooks.view_webhook", raise_exception=True)
def webhook_list(request: HttpRequest) -> HttpResponse:
    # The last few deliveries of each hook, for all hooks in one query (a sliced prefetch:
    # the database numbers each hook's deliveries and keeps the first few).
    recent = Delivery.objects.order_by("-created_at", "-pk")[:RECENT_ON_LIST]
    hooks = Webhook.objects.select_related("created_by").prefetch_related(
        Prefetch("deliveries", queryset=recent, to_attr="recent")
    )
    return render(request, "webhooks/list.html", {"hooks": hooks})


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("webhooks.add_webhook", raise_exception=True)
@never_cache  # the answer shows the new secret
def webhook_add(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        hook = form.save(commit=False)
        hook.created_by = request.user
        hook.save()
        messages.success(
            request,
            _("The webhook “%(name)s” is registered. Give its secret to the receiver.")
            % {"name": hook.name},
        )
        return redirect("webhooks:detail", hook.pk)
    return render(request, "webhooks/form.html", {"form": form})


@require_safe
@permission_required("webhooks.change_webhook", raise_exception=True)
@never_cache  # the page shows the secret
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook.objects.select_related("created_by"), pk=pk)
    deliveries = hook.deliveries.order_by("-created_at", "-pk")[:RECENT_ON_DETAIL]
    return render(request, "webhooks/detail.html", {"hook": hook, "deliveries": deliveries})


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("webhooks.change_webhook", raise_exception=True)
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk)
    form = WebhookForm(request.POST or None, instance=hook)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The webhook is saved."))
        return redirect("webhooks:detail", hook.pk)
    return render(request, "webhooks/form.html", {"form": form, "hook": hook})


@require_POST
@permission_required("webhooks.change_webhook", raise_exception=True)
def webhook_pause(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk, active=True)
    services.webhook_pause(webhook=hook, reason=_("Paused by %(user)s.") % {"user": request.user})
    messages.success(request, _("The webhook is paused: no deliveries until it is resumed."))
    return redirect("webhooks:detail", hook.pk)


@require_POST
@permission_required("webhooks.change_webhook", raise_exception=True)
def webhook_resume(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk, active=False)
    services.webhook_resume(webhook=hook)
    messages.success(request, _("The webhook is active again."))
    return redirect("webhooks:detail", hook.pk)


@require_POST
@permission_required("webhooks.change_webhook", raise_exception=True)
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk)
    services.webhook_secret_rotate(webhook=hook)
    messages.success(
        request,
        _("The webhook has a new secret; the old one no longer signs. Give it to the receiver."),
    )
    return redirect("webhooks:detail", hook.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("webhooks.delete_webhook", raise_exception=True)
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook, pk=pk)
    if request.method == "POST":
        hook.delete()
        messages.success(request, _("The webhook “%(name)s” is deleted.") % {"name": hook.name})
        return redirect("webhooks:list")
    return render(request, "webhooks/delete.html", {"hook": hook})
