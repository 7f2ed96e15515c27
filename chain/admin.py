"""The catalogs (actor kinds, actors, success factors) and teams are kept here by admins."""

from django.contrib import admin

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
class ActorAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "size", "is_own_company"]
    list_filter = ["kind", "size", "is_own_company"]
    search_fields = ["name", "notes"]
    list_select_related = ["kind"]


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0


@admin.register(Chain)
class ChainAdmin(admin.ModelAdmin):
    list_display = ["scope_name", "scope_kind", "team", "goal", "status", "updated_at"]
    list_filter = ["scope_kind", "goal", "status", "team"]
    search_fields = ["scope_name", "coach_whom"]
    list_select_related = ["team"]
    readonly_fields = ["version", "created_at", "updated_at"]
    inlines = [StageInline]


@admin.register(ChainLink)
class ChainLinkAdmin(admin.ModelAdmin):
    list_display = ["actor", "chain", "stage", "importance", "relationship"]
    list_filter = ["relationship", "importance"]
    search_fields = ["actor__name", "chain__scope_name"]
    list_select_related = ["actor", "chain", "stage"]
    autocomplete_fields = ["actor"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "link", "level", "attitude", "owner"]
    list_filter = ["level", "attitude", "buying_role"]
    search_fields = ["name", "role", "email", "link__actor__name"]
    list_select_related = ["link__actor", "owner"]
    raw_id_fields = ["link"]


@admin.register(Influence)
class InfluenceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "chain", "strength"]
    list_select_related = ["chain", "source__actor", "target__actor"]
    raw_id_fields = ["source", "target"]


@admin.register(WorksheetAnswer)
class WorksheetAnswerAdmin(admin.ModelAdmin):
    list_display = ["chain", "question", "link", "updated_at"]
    list_filter = ["question"]
    list_select_related = ["chain", "link__actor"]
    raw_id_fields = ["link"]
