"""The catalogs (actor kinds, actors, success factors) and teams are kept here by admins."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from lib.forms import CleanTextMixin

from . import services
from .models import (
    Actor,
    ActorKind,
    Chain,
    ChainLink,
    Contact,
    Influence,
    Stage,
    SuccessFactor,
    Team,
    WorksheetAnswer,
)


class VersionedAdminForm(CleanTextMixin, forms.ModelForm):
    """An admin form that refuses to save over a newer version of its row.

    The admin runs validation and the save in one transaction (`changeform_view`), so the
    row locked in `clean` stays locked until `VersionedAdmin.save_model` has written it:
    of two stale saves exactly one wins, as in `services.versioned_save`.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        if self.instance.pk is None:
            return data
        model = type(self.instance)
        current = model.objects.select_for_update().filter(pk=self.instance.pk).first()
        if current is None:
            raise forms.ValidationError(_("Somebody else deleted this while you were editing it."))
        if current.version != data.get("version"):
            changed = [
                str(self.fields[name].label)
                for name in self.changed_data
                if name in self.fields and name != "version"
            ]
            raise forms.ValidationError(
                _(
                    "Somebody else saved this while you were editing it, so your changes were "
                    "not saved. Fields that differ from what is saved now: %(fields)s. Open "
                    "it again to start from the saved values."
                )
                % {"fields": ", ".join(changed) or "–"}
            )
        return data


class VersionedAdmin(admin.ModelAdmin):
    """For the `Versioned` models: a stale form is refused, a saved one bumps the version."""

    form = VersionedAdminForm

    def save_model(self, request, obj, form, change):
        if change:
            obj.version = form.cleaned_data["version"] + 1
        super().save_model(request, obj, form, change)
        _touch(obj)

    def delete_model(self, request, obj):
        chain_id = None if isinstance(obj, Actor | Chain) else _chain_of(obj).pk
        super().delete_model(request, obj)
        if chain_id is not None:
            services.chain_touch(chain=Chain.objects.get(pk=chain_id))


def _chain_of(obj) -> Chain:
    return obj.link.chain if isinstance(obj, Contact) else obj.chain


def _touch(obj) -> None:
    """An admin's edit is a change like any other: "changed since approval", "last change"."""
    if isinstance(obj, Actor):
        services.chains_touch_for_actor(actor=obj)
    else:
        services.chain_touch(chain=obj if isinstance(obj, Chain) else _chain_of(obj))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(ActorKind)
class ActorKindAdmin(admin.ModelAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]
    search_fields = ["name"]


@admin.register(SuccessFactor)
class SuccessFactorAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Actor)
class ActorAdmin(VersionedAdmin):
    list_display = ["name", "kind", "size", "is_own_company"]
    list_filter = ["kind", "size", "is_own_company"]
    search_fields = ["name", "notes"]
    list_select_related = ["kind"]


class StageInline(admin.TabularInline):
    model = Stage
    form = VersionedAdminForm
    extra = 0


@admin.register(Chain)
class ChainAdmin(VersionedAdmin):
    list_display = ["scope_name", "scope_kind", "team", "goal", "status", "updated_at"]
    list_filter = ["scope_kind", "goal", "status", "team"]
    search_fields = ["scope_name", "coach_whom"]
    list_select_related = ["team"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [StageInline]

    def save_formset(self, request, form, formset, change):
        # The stages' rows, like the chain's own (`VersionedAdmin.save_model`).
        for stage_form in formset.forms:
            if stage_form.instance.pk and stage_form.has_changed():
                stage_form.instance.version = (stage_form.cleaned_data.get("version") or 0) + 1
        super().save_formset(request, form, formset, change)


@admin.register(ChainLink)
class ChainLinkAdmin(VersionedAdmin):
    list_display = ["actor", "chain", "stage", "importance", "relationship"]
    list_filter = ["relationship", "importance"]
    search_fields = ["actor__name", "chain__scope_name"]
    list_select_related = ["actor", "chain", "stage"]
    autocomplete_fields = ["actor"]


@admin.register(Contact)
class ContactAdmin(VersionedAdmin):
    list_display = ["__str__", "role", "link", "level", "attitude", "owner"]
    list_filter = ["level", "attitude", "buying_role"]
    search_fields = ["name", "role", "email", "link__actor__name"]
    list_select_related = ["link__actor", "owner"]
    raw_id_fields = ["link"]


@admin.register(Influence)
class InfluenceAdmin(VersionedAdmin):
    list_display = ["__str__", "chain", "strength"]
    list_select_related = ["chain", "source__actor", "target__actor"]
    raw_id_fields = ["source", "target"]


@admin.register(WorksheetAnswer)
class WorksheetAnswerAdmin(VersionedAdmin):
    list_display = ["chain", "question", "link", "updated_at"]
    list_filter = ["question"]
    list_select_related = ["chain", "link__actor"]
    raw_id_fields = ["link"]
