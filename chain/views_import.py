"""Import of actors and contacts into a chain from a CSV or XLSX file, in four steps:
upload, column mapping, preview (no writes), confirmation (one transaction).

The uploaded file is read once, at the upload (bounded: chain.imports.LIMITS); its
cells wait under ``MEDIA_ROOT/chain-imports/<token>.json`` for the later steps, which
only load that JSON; the upload itself is not kept. The token and the mapping live in
the user's session, one entry per chain. Forms post the token back only so that a stale
tab or another chain's form is refused: the path is always built from the session, never
from what the client sends.
"""

import json
import re
import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lib.forms import CleanTextMixin
from lib.numbers import number
from lib.tables import EXTENSIONS

from .imports import (
    PREVIEW_ROWS,
    TARGETS,
    Catalog,
    Mapping,
    Plan,
    Sheet,
    catalog_load,
    file_columns,
    guess_mapping,
    import_apply,
    plan_import,
    read_sheet,
    sheet_from_json,
    sheet_to_json,
)
from .models import ActorKind, Chain, Stage
from .selectors import chain_get_for_user

MAX_UPLOAD_MB = 5
FOLDER = "chain-imports"
# Files of imports that were never confirmed or cancelled are removed after a day.
STALE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")


# --- forms -----------------------------------------------------------------------------------


class UploadForm(CleanTextMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        help_text=gettext_lazy(
            "One row per contact or per actor, with a heading row, for example an export "
            "from your CRM. Semicolon or comma separated, UTF-8 or Windows encoding."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in EXTENSIONS:
            raise forms.ValidationError(_("Upload a .csv, .txt or .xlsx file."))
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _(
                    "The file is larger than %(mb)s MB. Split it, or leave out columns you "
                    "do not need."
                )
                % {"mb": MAX_UPLOAD_MB}
            )
        return upload


class MappingForm(CleanTextMixin, forms.Form):
    """One select per target field with the file's columns, plus the two defaults."""

    token = forms.CharField(widget=forms.HiddenInput)
    default_kind = forms.ModelChoiceField(
        queryset=ActorKind.objects.all(),
        required=False,
        label=gettext_lazy("Default kind for new actors"),
        help_text=gettext_lazy("For rows whose kind is empty or unknown."),
        empty_label=gettext_lazy("— none —"),
    )
    default_stage = forms.ModelChoiceField(
        queryset=Stage.objects.none(),
        required=False,
        label=gettext_lazy("Default stage for new members"),
        help_text=gettext_lazy("For rows whose stage is empty or unknown."),
        empty_label=gettext_lazy("— none —"),
    )

    def __init__(self, *args, chain: Chain, sheet: Sheet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_stage"].queryset = chain.stages.all()
        choices = [("", _("— not in the file —"))] + [
            (str(column.position), f"{column.letter}: {column.label}")
            for column in file_columns(sheet)
        ]
        mapped = {}
        for target in TARGETS:
            mapped[target.code] = forms.TypedChoiceField(
                label=target.label,
                choices=choices,
                coerce=int,
                empty_value=None,
                required=target.code == "actor_name",
                error_messages={"required": _("Choose the column that holds the actor names.")},
            )
        # The targets first, in their order; the defaults after them.
        self.fields = {**mapped, **self.fields}

    def target_fields(self):
        return [self[target.code] for target in TARGETS]

    def clean(self):
        data = super().clean()
        used: dict[int, str] = {}
        for target in TARGETS:
            position = data.get(target.code)
            if position is None:
                continue
            if position in used:
                self.add_error(
                    target.code,
                    _("This column is chosen for “%(other)s” already.") % {"other": used[position]},
                )
            used.setdefault(position, str(target.label))
        return data

    def mapping(self) -> Mapping:
        data = self.cleaned_data
        columns = {t.code: data[t.code] for t in TARGETS if data.get(t.code) is not None}
        kind, stage = data.get("default_kind"), data.get("default_stage")
        return Mapping(columns, kind.pk if kind else None, stage.pk if stage else None)


# --- the file and the session ----------------------------------------------------------------


def _key(chain: Chain) -> str:
    return f"chain-import-{chain.pk}"


def _state(request: HttpRequest, chain: Chain) -> dict | None:
    """This chain's import in the session, if it is well-formed."""
    state = request.session.get(_key(chain))
    if not isinstance(state, dict):
        return None
    if not _TOKEN.fullmatch(str(state.get("token", ""))) or state.get("suffix") not in EXTENSIONS:
        return None
    return state


def _path(state: dict) -> Path:
    """Where the sheet read at the upload waits for the later steps."""
    return Path(settings.MEDIA_ROOT) / FOLDER / f"{state['token']}.json"


def _drop(request: HttpRequest, chain: Chain) -> None:
    """Forget this chain's import and remove its file."""
    state = _state(request, chain)
    if state:
        _path(state).unlink(missing_ok=True)
    request.session.pop(_key(chain), None)


def _remove_stale_files(folder: Path) -> None:
    cutoff = time.time() - STALE_SECONDS
    for path in folder.glob("*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            continue  # removed by another request meanwhile


def _store(upload) -> tuple[dict, Sheet]:
    """Read the upload once; a readable sheet is kept as JSON for the later steps."""
    folder = Path(settings.MEDIA_ROOT) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_files(folder)
    state = {
        "token": uuid.uuid4().hex,
        "suffix": Path(upload.name).suffix.lower(),
        "filename": Path(upload.name).name,
    }
    upload.seek(0)
    sheet = read_sheet(upload, filename=state["filename"])
    if sheet.readable:
        _path(state).write_text(json.dumps(sheet_to_json(sheet)), encoding="utf-8")
    return state, sheet


def _sheet(state: dict, path: Path | None = None) -> Sheet | None:
    path = path or _path(state)
    try:
        return sheet_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None  # gone (done, cancelled, expired), or not written by this version


def _lost(request: HttpRequest, chain: Chain) -> HttpResponse:
    """The import's file is gone (done, cancelled or expired): start again."""
    messages.error(request, _("This import is no longer open. Upload the file again."))
    _drop(request, chain)
    return redirect("chain:import", pk=chain.pk)


def _stale(request: HttpRequest, chain: Chain) -> HttpResponse:
    """A form of another upload (an old tab, another session): the open import stays."""
    messages.error(
        request, _("This form belongs to an import that is no longer open. Nothing was changed.")
    )
    return redirect("chain:import", pk=chain.pk)


def _posted_token_ok(request: HttpRequest, state: dict | None) -> bool:
    return state is not None and request.POST.get("token") == state["token"]


# --- steps -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1: the file."""
    chain = chain_get_for_user(request.user, pk, edit=True)
    form = UploadForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        state, sheet = _store(form.cleaned_data["file"])
        if sheet.readable:
            previous = _state(request, chain)
            if previous and previous.get("mapping") and previous.get("header") == sheet.header:
                # The same columns again (a corrected file): the mapping chosen stays.
                state |= {"mapping": previous["mapping"], "header": previous["header"]}
            _drop(request, chain)  # a new file replaces the one of an unfinished import
            request.session[_key(chain)] = state
            return redirect("chain:import-mapping", pk=chain.pk)
        errors = sheet.errors
    context = {"chain": chain, "form": form, "errors": errors, "step": 1, "max_mb": MAX_UPLOAD_MB}
    context["open_import"] = _state(request, chain)
    return render(request, "chain/import.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2: which column holds what, with sample values of each column."""
    chain = chain_get_for_user(request.user, pk, edit=True)
    state = _state(request, chain)
    if request.method == "POST" and not _posted_token_ok(request, state):
        return _stale(request, chain)
    sheet = _sheet(state) if state else None
    if sheet is None or not sheet.readable:
        return _lost(request, chain)
    saved = Mapping.from_session(state.get("mapping"), len(sheet.header))
    initial = {"token": state["token"]}
    if saved:
        initial |= {code: str(position) for code, position in saved.columns.items()}
        initial |= {"default_kind": saved.default_kind, "default_stage": saved.default_stage}
    else:
        initial |= {code: str(position) for code, position in guess_mapping(sheet.header).items()}
    form = MappingForm(request.POST or None, initial=initial, chain=chain, sheet=sheet)
    if request.method == "POST" and form.is_valid():
        state |= {"mapping": form.mapping().to_session(), "header": sheet.header}
        request.session[_key(chain)] = state
        return redirect("chain:import-preview", pk=chain.pk)
    context = {
        "chain": chain,
        "form": form,
        "columns": file_columns(sheet),
        "filename": state["filename"],
        "rows": len(sheet.rows),
        "step": 2,
    }
    return render(request, "chain/import_mapping.html", context)


def _plan(chain: Chain, state: dict, sheet: Sheet) -> tuple[Plan, Catalog] | None:
    mapping = Mapping.from_session(state.get("mapping"), len(sheet.header))
    if mapping is None or "actor_name" not in mapping.columns:
        return None
    catalog = catalog_load(chain, mapping)
    return plan_import(sheet, mapping, catalog), catalog


def _render_preview(
    request: HttpRequest, chain: Chain, state: dict, plan: Plan, catalog: Catalog
) -> HttpResponse:
    context = {
        "chain": chain,
        "plan": plan,
        "rows": plan.rows[:PREVIEW_ROWS],
        "hidden_rows": max(0, len(plan.rows) - PREVIEW_ROWS),
        "token": state["token"],
        "filename": state["filename"],
        "default_kind": catalog.default_kind,
        "default_stage": catalog.default_stage,
        "step": 3,
    }
    return render(request, "chain/import_preview.html", context)


# Not kept by the browser: going back after the import must not show a live Import button.
@never_cache
@require_GET
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 3: what the import would do, row by row; writes nothing."""
    chain = chain_get_for_user(request.user, pk, edit=True)
    state = _state(request, chain)
    sheet = _sheet(state) if state else None
    if sheet is None or not sheet.readable:
        return _lost(request, chain)
    planned = _plan(chain, state, sheet)
    if planned is None:
        return redirect("chain:import-mapping", pk=chain.pk)
    return _render_preview(request, chain, state, *planned)


@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 4: check the sheet again (the catalog may have changed), then write it all or
    nothing."""
    chain = chain_get_for_user(request.user, pk, edit=True)
    state = _state(request, chain)
    if not _posted_token_ok(request, state):
        messages.error(request, _("This import is done already, or it is no longer open."))
        return redirect(chain)
    path = _path(state)
    claimed = path.with_name(path.name + ".importing")
    try:
        # Renaming is atomic: of two submits of the same form only one gets the file.
        path.rename(claimed)
    except FileNotFoundError:
        messages.error(request, _("This import is done already, or it is no longer open."))
        return redirect(chain)
    try:
        response = _confirm(request, chain, state, claimed)
    finally:
        if claimed.exists():
            claimed.rename(path)  # not imported: the user may correct and try again
    return response


def _confirm(request: HttpRequest, chain: Chain, state: dict, claimed: Path) -> HttpResponse:
    sheet = _sheet(state, claimed)
    planned = _plan(chain, state, sheet) if sheet and sheet.readable else None
    if planned is None:
        return redirect("chain:import-mapping", pk=chain.pk)
    plan, catalog = planned
    if not plan.ok:
        return _render_preview(request, chain, state, plan, catalog)
    if request.POST.get("expect") != plan.counts.fingerprint:
        messages.error(
            request,
            _("The catalog or the chain changed since the preview. Check the preview again."),
        )
        return _render_preview(request, chain, state, plan, catalog)
    try:
        counts = import_apply(chain=chain, plan=plan, user=request.user)
    except (ValidationError, IntegrityError):
        messages.error(
            request,
            _(
                "The import failed because the catalog or the chain changed meanwhile; "
                "nothing was imported. Check the preview and try again."
            ),
        )
        return redirect("chain:import-preview", pk=chain.pk)
    claimed.unlink()
    request.session.pop(_key(chain), None)
    messages.success(
        request,
        _(
            "Imported. New actors: %(new)s, actors from the catalog: %(reused)s, new "
            "contacts: %(contacts)s, duplicates skipped: %(skipped)s."
        )
        % {
            "new": number(counts.new_actors),
            "reused": number(counts.reused),
            "contacts": number(counts.new_contacts),
            "skipped": number(counts.skipped),
        },
    )
    # The imported actors and contacts are on the board.
    return redirect(chain.get_absolute_url() + "?tab=board")


@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    chain = chain_get_for_user(request.user, pk, edit=True)
    if _posted_token_ok(request, _state(request, chain)):
        _drop(request, chain)
        messages.success(request, _("Import cancelled; the uploaded file was removed."))
    return redirect(chain)
