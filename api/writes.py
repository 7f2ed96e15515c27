"""The API's writes: contacts, chain members, worksheet answers, actions, value imports
(and the reads of the imports, on the same routes).

Each endpoint does what the page does: the same selector with `edit=True` (another team's
object is 404, a chain the user may only read is 403), the same form (its rules and
messages, in the language of the request's Accept-Language), the same service (history
rows, "changed since approval", versions). See docs/architecture.md, "The API".

Versions: every object carries its `version`. An update names the version it was read at,
as `If-Match: "<version>"` or as `version` in the body (the header wins); an outdated one
is refused with 409 and the current object. An update without a version is applied to the
object as it is.
"""

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, NinjaAPI, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from chain import actions as act
from chain import services
from chain.forms import ActionForm, ContactForm, LinkForm
from chain.models import (
    ACTOR_QUESTIONS,
    CHAIN_QUESTIONS,
    Action,
    ActorKind,
    ChainLink,
    Contact,
    SuccessFactor,
)
from chain.selectors import (
    chain_get_for_user,
    contact_get_for_user,
    link_get_for_user,
    team_ids_for_user,
)
from customers import forms as customer_forms
from customers import services as customer_services
from customers.models import ImportBatch
from lib.text import strip_control

from . import schemas
from . import schemas_write as sw
from .pagination import PageNumberPagination
from .resources import MAX_PAGE_SIZE, PAGE_SIZE

router = Router(tags=["writes"])

ERRORS = {409: sw.ConflictOut, 422: sw.FieldErrorsOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut}
# A new object cannot be in conflict.
CREATE_ERRORS = {k: v for k, v in ERRORS.items() if k != 409}


class Refused(Exception):
    """A write refused with `status` and the JSON `body`."""

    def __init__(self, status: int, body: dict):
        super().__init__(status)
        self.status = status
        self.body = body


def install(api: NinjaAPI) -> None:
    """Add the writes to `api`, with the answers to refusals and to PermissionDenied
    (the selectors' "may see but not change": 403, as on the pages)."""
    api.add_router("", router)

    def refused(request: HttpRequest, exc: Refused) -> HttpResponse:
        return api.create_response(request, exc.body, status=exc.status)

    def denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        detail = str(exc) or _("You may not change this.")
        return api.create_response(request, {"detail": detail}, status=403)

    api.add_exception_handler(Refused, refused)
    api.add_exception_handler(PermissionDenied, denied)


# Versions, conflicts, field errors ------------------------------------------------------


def _version(request: HttpRequest, body: sw.WriteIn | None) -> int | None:
    """The version the client read: If-Match ("3", W/"3") or the body's `version`."""
    header = request.headers.get("If-Match", "").strip()
    if header and header != "*":
        value = header.removeprefix("W/").strip('"')
        if not (value.isascii() and value.isdigit() and len(value) < 10):
            raise Refused(
                422,
                {
                    "detail": _("The request has errors."),
                    "errors": {"version": [_("If-Match must be a version number in quotes.")]},
                },
            )
        return int(value)
    return body.version if body is not None else None


def _conflict(current: Any, schema: type[Schema]) -> Refused:
    if current is None:
        detail = _("Somebody else removed it meanwhile.")
        return Refused(409, {"detail": detail, "current": None})
    detail = _("Somebody else changed it meanwhile; nothing was saved. This is the current state.")
    return Refused(409, {"detail": detail, "current": _dump(current, schema)})


def _dump(obj: Any, schema: type[Schema]) -> dict:
    return schema.from_orm(obj).model_dump(mode="json")


def _invalid(errors: dict[str, list[str]], renames: dict[str, str] | None = None) -> Refused:
    renames = renames or {}
    named = {
        renames.get(field, field): [str(m) for m in messages] for field, messages in errors.items()
    }
    return Refused(422, {"detail": _("The request has errors."), "errors": named})


def _validation_error(error: ValidationError, renames: dict[str, str] | None = None) -> Refused:
    if hasattr(error, "error_dict"):
        return _invalid(error.message_dict, renames)
    return _invalid({"__all__": error.messages})


def _bind(
    form_class: type[forms.ModelForm],
    instance: Any,
    changes: dict[str, Any],
    version: int | None,
    **kwargs: Any,
) -> forms.ModelForm:
    """The page's form, bound to the object's current values (a new object's: the form's
    start values) with `changes` on top: a PATCH changes only what it names. No version:
    the one read now (no check)."""
    unbound = form_class(instance=instance, **kwargs)
    data = {name: unbound[name].value() for name in unbound.fields}
    data.update(changes)
    data["version"] = version if version is not None else instance.version
    return form_class(data, instance=instance, **kwargs)


def _changes(body: Schema, renames: dict[str, str]) -> dict[str, Any]:
    """The fields the client sent, under the form's names; None is "empty"."""
    sent = body.model_dump(exclude_unset=True)
    sent.pop("version", None)
    return {renames.get(k, k): ("" if v is None else v) for k, v in sent.items()}


# Contacts -------------------------------------------------------------------------------

CONTACT_NAMES = {"owner_id": "owner"}
CONTACT_ERRORS = {"owner": "owner_id"}


@router.post(
    "/links/{link_id}/contacts",
    response={201: schemas.ContactOut, **CREATE_ERRORS},
    summary="Add a contact person to a chain member",
)
def contact_create(request: HttpRequest, link_id: int, body: sw.ContactIn):
    link = link_get_for_user(request.user, link_id, edit=True)
    chain = link.chain
    # The page's form starts with the user as the owner, if they are in the chain's team.
    initial = {}
    if chain.team_id in team_ids_for_user(request.user):
        initial["owner"] = request.user.pk
    changes = _changes(body, CONTACT_NAMES)
    form = _bind(ContactForm, Contact(link=link), changes, None, chain=chain, initial=initial)
    if not form.is_valid():
        raise _invalid(form.errors, CONTACT_ERRORS)
    with transaction.atomic():
        contact = services.versioned_save(form=form)
        services.chain_touch(chain=chain)
    return Status(201, contact)


@router.patch(
    "/contacts/{contact_id}",
    response={200: schemas.ContactOut, **ERRORS},
    summary="Change a contact person",
)
def contact_update(request: HttpRequest, contact_id: int, body: sw.ContactIn):
    contact = contact_get_for_user(request.user, contact_id, edit=True)
    chain = contact.link.chain
    version = _version(request, body)
    form = _bind(ContactForm, contact, _changes(body, CONTACT_NAMES), version, chain=chain)
    if not form.is_valid():
        raise _invalid(form.errors, CONTACT_ERRORS)
    try:
        with transaction.atomic():
            saved = services.versioned_save(form=form)
            services.chain_touch(chain=chain)
    except services.EditConflict as error:
        raise _conflict(error.current, schemas.ContactOut) from None
    return saved


@router.delete(
    "/contacts/{contact_id}",
    response={204: None, **ERRORS},
    summary="Remove a contact person",
)
def contact_delete(request: HttpRequest, contact_id: int):
    contact = contact_get_for_user(request.user, contact_id, edit=True)
    chain = contact.link.chain
    version = _version(request, None)
    with transaction.atomic():
        current = Contact.objects.select_for_update().filter(pk=contact.pk).first()
        if current is None or (version is not None and current.version != version):
            raise _conflict(current, schemas.ContactOut)
        contact.delete()
        services.chain_touch(chain=chain)
    return Status(204, None)


# Chain members --------------------------------------------------------------------------


def _link_out(link: ChainLink) -> ChainLink:
    link.contact_list = list(link.contacts.all())
    return link


def _link_changes(body: sw.LinkIn) -> dict[str, Any]:
    """The body under the form's names: kind and success factors by name become ids (an
    unknown name stays, and the form refuses it in its words)."""
    changes = _changes(body, {})
    if changes.get("kind"):
        kind = ActorKind.objects.filter(name=changes["kind"]).first()
        changes["kind"] = kind.pk if kind else changes["kind"]
    if "success_factors" in changes:
        names = changes["success_factors"] or []
        found = dict(SuccessFactor.objects.filter(name__in=names).values_list("name", "pk"))
        changes["success_factors"] = [found.get(name, name) for name in names]
    return changes


@router.patch(
    "/links/{link_id}",
    response={200: schemas.LinkOut, **ERRORS},
    summary="Characterise a chain member (and its actor's kind and size class)",
)
def link_update(request: HttpRequest, link_id: int, body: sw.LinkIn):
    link = link_get_for_user(request.user, link_id, edit=True)
    version = _version(request, body)
    changes = _link_changes(body)
    if "actor_version" not in changes or changes["actor_version"] == "":
        changes["actor_version"] = link.actor.version
    form = _bind(LinkForm, link, changes, version, user=request.user)
    if not form.catalog_editable:
        # The page shows these disabled; here a change to them is refused, not dropped.
        actor = link.actor
        refused = [
            name
            for name, now in (
                ("kind", actor.kind.name if actor.kind_id else ""),
                ("size", actor.size),
            )
            if name in body.model_fields_set and (getattr(body, name) or "") != now
        ]
        if refused:
            raise _invalid({name: [str(services.ACTOR_SHARED)] for name in refused})
    if not form.is_valid():
        raise _invalid(form.errors)
    try:
        saved = services.link_characterise(form=form, user=request.user)
    except services.EditConflict as error:
        current = error.current and _link_out(error.current)
        raise _conflict(current, schemas.LinkOut) from None
    except ValidationError as error:
        raise _validation_error(error) from None
    return _link_out(saved)


# Worksheet answers ----------------------------------------------------------------------


@router.put(
    "/chains/{chain_id}/answers",
    response={200: schemas.AnswerOut, **ERRORS},
    summary="Save a worksheet answer (of the chain or of one member)",
)
def answer_save(request: HttpRequest, chain_id: int, body: sw.AnswerIn):
    chain = chain_get_for_user(request.user, chain_id, edit=True)
    link = None
    if body.link_id is not None:
        link = chain.links.filter(pk=body.link_id).first()
        if link is None:
            message = _("This actor is no longer in the chain. Reload the page.")
            raise _invalid({"link_id": [message]})
    if body.question not in (ACTOR_QUESTIONS if link else CHAIN_QUESTIONS):
        raise _invalid({"question": [_("Unknown question.")]})
    text = strip_control(body.text)
    if message := services.answer_too_long(text):
        raise _invalid({"text": [message]})
    try:
        answer = services.answer_save(
            chain=chain,
            question=body.question,
            text=text,
            user=request.user,
            link=link,
            version=_version(request, body),
        )
    except services.EditConflict as error:
        raise _conflict(error.current, schemas.AnswerOut) from None
    return answer


# Actions --------------------------------------------------------------------------------

ACTION_NAMES = {"owner_id": "owner"}
ACTION_ERRORS = {"owner": "owner_id"}


@router.post(
    "/chains/{chain_id}/actions",
    response={201: schemas.ActionOut, **CREATE_ERRORS},
    summary="Add an action (a next step) to a chain",
)
def action_create(request: HttpRequest, chain_id: int, body: sw.ActionIn):
    chain = chain_get_for_user(request.user, chain_id, edit=True)
    # The page form's start values: the user as the owner, due in two weeks.
    initial = act.action_initial(chain, request.user, {})
    changes = _changes(body, ACTION_NAMES)
    form = _bind(ActionForm, Action(chain=chain), changes, None, chain=chain, initial=initial)
    if not form.is_valid():
        raise _invalid(form.errors, ACTION_ERRORS)
    try:
        action = act.action_add(form=form, chain=chain, user=request.user)
    except ValidationError as error:
        raise _validation_error(error, ACTION_ERRORS) from None
    return Status(201, action)


@router.patch(
    "/actions/{action_id}",
    response={200: schemas.ActionOut, **ERRORS},
    summary="Change an action's title, owner, due date, notes or what it is about",
)
def action_update(request: HttpRequest, action_id: int, body: sw.ActionIn):
    action = act.action_get_for_user(request.user, action_id, edit=True)
    version = _version(request, body)
    changes = _changes(body, ACTION_NAMES)
    form = _bind(ActionForm, action, changes, version, chain=action.chain)
    if not form.is_valid():
        raise _invalid(form.errors, ACTION_ERRORS)
    try:
        saved = act.action_update(form=form, user=request.user)
    except services.EditConflict as error:
        raise _conflict(error.current, schemas.ActionOut) from None
    except ValidationError as error:
        raise _validation_error(error, ACTION_ERRORS) from None
    return saved


@router.post(
    "/actions/{action_id}/close",
    response={200: schemas.ActionOut, **ERRORS},
    summary="Close an action as done or dropped",
    description="As on the page, closing takes no version: it changes the status alone. "
    "An action closed already is refused with 409 and the current action.",
)
def action_close(request: HttpRequest, action_id: int, body: sw.ActionCloseIn):
    action = act.action_get_for_user(request.user, action_id, edit=True)
    if body.status not in (Action.Status.DONE, Action.Status.DROPPED):
        raise _invalid({"status": [_("An action is closed as done or dropped.")]})
    try:
        return act.action_close(action=action, user=request.user, status=body.status)
    except ValidationError as error:
        current = Action.objects.get(pk=action.pk)
        raise Refused(
            409, {"detail": " ".join(error.messages), "current": _dump(current, schemas.ActionOut)}
        ) from None


# Value imports --------------------------------------------------------------------------


def import_permission(request: HttpRequest) -> None:
    if not request.user.has_perm("customers.import_values"):
        raise PermissionDenied(_("You may not import customer data."))


def _import_out(request: HttpRequest, batch: ImportBatch) -> dict:
    errors = [{"row": e.row, "column": e.column, "message": e.message} for e in batch.error_list]
    return {
        "id": batch.pk,
        "url": request.build_absolute_uri(reverse("api:import-detail", args=[batch.pk])),
        "file_name": batch.file_name,
        "status": batch.status,
        "status_display": batch.get_status_display(),
        "progress": batch.progress,
        "rows": batch.rows,
        "customers": batch.customers,
        "periods": batch.periods,
        "created_at": batch.created_at,
        "message": batch.message_text,
        "error_count": batch.total_errors,
        "errors": errors,
    }


@router.post(
    "/imports",
    response={
        202: sw.ImportOut,
        403: schemas.ErrorOut,
        413: sw.FieldErrorsOut,
        422: sw.FieldErrorsOut,
    },
    tags=["imports"],
    summary="Upload a value history (CSV or XLSX) to import in the background",
    description="As the import page: the worker reads, checks and loads the file, then "
    "analyses the customers again. Poll the answer's `url` until `status` is done or "
    "failed. Needs the permission to import customer data.",
)
def import_create(request: HttpRequest, response: HttpResponse, file: File[UploadedFile]):
    import_permission(request)
    form = customer_forms.UploadForm({}, {"file": file})
    if not form.is_valid():
        refusal = _invalid(form.errors)
        if file.size > customer_forms.MAX_UPLOAD_MB * 1024 * 1024:
            refusal.status = 413
        raise refusal
    batch = customer_services.import_batch_start(
        user=request.user, upload=form.cleaned_data["file"]
    )
    body = _import_out(request, batch)
    response["Location"] = body["url"]
    return Status(202, body)


@router.get(
    "/imports/{batch_id}",
    response={200: sw.ImportOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut},
    tags=["imports"],
    url_name="import-detail",
    summary="An import's status, progress, counts and errors",
)
def import_detail(request: HttpRequest, batch_id: int):
    import_permission(request)
    batch = get_object_or_404(ImportBatch, pk=batch_id)
    # As the page: a job whose worker is gone ends here instead of waiting for ever.
    batch = customer_services.import_batch_recover_if_abandoned(batch)
    return _import_out(request, batch)


# Value imports: the list ----------------------------------------------------------------


class ImportFilters(Schema):
    status: ImportBatch.Status | None = None


@router.get(
    "/imports",
    response={200: list[schemas.ImportBatchOut], 403: schemas.ErrorOut},
    tags=["imports"],
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def import_list(request: HttpRequest, filters: Query[ImportFilters]):
    """Every value import, as on the import page: for who may import customer data
    (403 for anyone else), ordered by id."""
    import_permission(request)
    # As the page: imports whose worker stopped would show "running" for ever.
    customer_services.import_batches_recover()
    batches = ImportBatch.objects.order_by("pk")
    if filters.status:
        batches = batches.filter(status=filters.status)
    return batches
