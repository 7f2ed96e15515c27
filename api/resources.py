"""Read endpoints for the catalogs (actors, success factors), value records and analysis
runs (the list of value imports is in api/writes.py, with the other /imports routes).

As in api/api.py, each reads through the selector of the page that shows the same rows
(chain.selectors.actor_list_for_user, customer_list_for_user, assessment_list_for_user,
...), so the API shows exactly what the pages show. Lists are paged and in id order.
"""

from datetime import date
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Query, Router, Schema
from ninja.pagination import paginate

from chain.selectors import actor_list_for_user, success_factor_list_for_user
from customers.models import AnalysisRun, ValueRecord
from customers.selectors import (
    assessment_list_for_user,
    customer_list_for_user,
    customers_all_visible,
)

from . import limits, schemas
from .pagination import PageNumberPagination

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

router = Router()

# A text filter: bounded, so that it cannot make a page-long query.
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


def install(api: NinjaAPI) -> None:
    api.add_router("", router)


# Catalogs -------------------------------------------------------------------------------


class ActorFilters(Schema):
    kind: ShortText | None = Field(None, description="the kind's name, exactly")
    name: ShortText | None = Field(None, description="part of the name, any case")


@router.get("/actors", response=list[schemas.CatalogActorOut], tags=["catalogs"])
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def actor_list(request: HttpRequest, filters: Query[ActorFilters]):
    """The catalog actors the user sees on the pages (the whole catalog for who picks from
    it; else the members of the chains they may see), ordered by id."""
    actors = actor_list_for_user(request.user).select_related("kind").order_by("pk")
    if filters.kind:
        actors = actors.filter(kind__name=filters.kind)
    if filters.name:
        actors = actors.filter(name__icontains=filters.name)
    return actors


@router.get(
    "/actors/{actor_id}",
    response={200: schemas.CatalogActorOut, 404: schemas.ErrorOut},
    tags=["catalogs"],
)
def actor_detail(request: HttpRequest, actor_id: int):
    """One catalog actor; 404 for an actor the user does not see."""
    return get_object_or_404(actor_list_for_user(request.user).select_related("kind"), pk=actor_id)


@router.get("/success-factors", response=list[schemas.SuccessFactorOut], tags=["catalogs"])
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def success_factor_list(request: HttpRequest):
    """The success factors the user sees on the pages, ordered by id."""
    return success_factor_list_for_user(request.user).order_by("pk")


# Value records --------------------------------------------------------------------------


class ValueRecordFilters(Schema):
    customer: limits.DbId | None = Field(None, description="the customer's id")
    customer_number: ShortText | None = None
    period_from: date | None = Field(None, description="first period, inclusive")
    period_to: date | None = Field(None, description="last period, inclusive")
    product: str | None = Field(None, max_length=200, description="the product, exactly")


@router.get("/value-records", response=list[schemas.ValueRecordOut], tags=["customers"])
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def value_record_list(request: HttpRequest, filters: Query[ValueRecordFilters]):
    """The value records of the customers the user may see (as on the customer pages),
    ordered by id."""
    records = ValueRecord.objects.select_related("customer").order_by("pk")
    if not customers_all_visible(request.user):
        records = records.filter(customer__in=customer_list_for_user(request.user).values("pk"))
    if filters.customer is not None:
        records = records.filter(customer_id=filters.customer)
    if filters.customer_number:
        records = records.filter(customer__number=filters.customer_number)
    if filters.period_from:
        records = records.filter(period__gte=filters.period_from)
    if filters.period_to:
        records = records.filter(period__lte=filters.period_to)
    if filters.product is not None:
        records = records.filter(product=filters.product)
    return records


# Analysis runs --------------------------------------------------------------------------


def _runs_permission(request: HttpRequest) -> None:
    """Runs show on the customer pages: for who may see customers."""
    if not request.user.has_perm("customers.view_customer"):
        raise PermissionDenied(_("You may not see the customer analysis."))


@router.get(
    "/analysis-runs",
    response={200: list[schemas.AnalysisRunOut], 403: schemas.ErrorOut},
    tags=["customers"],
)
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def analysis_run_list(request: HttpRequest):
    """The analysis runs, ordered by id, for who may see customers (403 for anyone
    else)."""
    _runs_permission(request)
    return AnalysisRun.objects.order_by("pk")


@router.get(
    "/analysis-runs/{run_id}",
    response={200: schemas.AnalysisRunDetailOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut},
    tags=["customers"],
)
def analysis_run_detail(request: HttpRequest, run_id: int):
    """One analysis run: the thresholds it used, its backtest figures (for who sees every
    customer, as on the portfolio page) and how many of the customers the user may see
    it found of each value type (one query)."""
    _runs_permission(request)
    run = get_object_or_404(AnalysisRun, pk=run_id)
    run.value_type_counts = list(
        assessment_list_for_user(run, request.user)
        .order_by()
        .values("value_type")
        .annotate(count=Count("pk"))
        .order_by("value_type")
    )
    return run
