"""The JSON API under /api/v1/ (django-ninja): read endpoints for chains and customers.

Every endpoint reads through the selectors the pages use (chain_list_for_user,
chain_get_for_user, customer_list_for_user, ...), so what a user sees here is exactly what
they see in the app: another team's chain or customer is 404 in both.
"""

import json
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Exists, OuterRef, QuerySet, prefetch_related_objects
from django.http import HttpRequest, JsonResponse
from django.utils import translation
from ninja import NinjaAPI, Query, Schema
from ninja.openapi.docs import Swagger
from ninja.pagination import paginate

from chain.models import Chain
from chain.selectors import ChainBoard, chain_get_for_user, chain_list_for_user
from customers.models import Assessment
from customers.selectors import (
    assessment_history,
    customer_get_for_user,
    customer_list_for_user,
    latest_run,
    value_basis,
)
from lib.value_types import ValueType

from . import limits, resources, schemas, writes
from .auth import session_auth, token_auth
from .pagination import PageNumberPagination

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _docs_access(view):
    """The schema and the docs page: for a logged-in user or a valid token; anyone else
    is sent to the login (a browser) or gets 401 (a client that sent a token)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.user.is_authenticated or token_auth(request) is not None:
            return view(request, *args, **kwargs)
        if "Authorization" in request.headers:
            return JsonResponse({"detail": "Unauthorized"}, status=401)
        return redirect_to_login(request.get_full_path())

    return login_not_required(wrapper)


class ChainmapAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> dict:
        """Without the properties' titles: django-ninja takes them from the models' verbose
        names in the language active at import, which would make the schema depend on it."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for component in schema.get("components", {}).get("schemas", {}).values():
            for prop in component.get("properties", {}).values():
                prop.pop("title", None)
        return schema


api = ChainmapAPI(
    title="Chain mapper API",
    version="1",
    description=(
        "Read and write access to problem-solving chains and customers, with the same access "
        "rules as the app. Authenticate with a personal token (create one on /api/tokens/): "
        "`Authorization: Bearer <token>`."
    ),
    urls_namespace="api",
    auth=[token_auth, session_auth],
    # Swagger UI from ninja's own static files ("ninja" in INSTALLED_APPS), started by a
    # script file: works under the Content-Security-Policy, no CDN.
    docs=Swagger(settings={"validatorUrl": None}),
    docs_decorator=_docs_access,
    # Request rates per token, user or address (api/limits.py, settings API_RATE_*).
    throttle=limits.THROTTLES,
    # Query and JSON body: control characters and invalid text are a 400.
    parser=limits.StrictParser(),
)
writes.install(api)  # the writes (api/writes.py)
resources.install(api)  # catalogs, value records, imports, runs (api/resources.py)
limits.install(api)


class CustomerPagination(PageNumberPagination):
    """Pages of customers, each customer with its assessment of the latest run (one query
    for the page, whatever its size)."""

    def paginate_queryset(self, queryset: QuerySet, pagination: Any, **params: Any) -> Any:
        result = super().paginate_queryset(queryset, pagination, **params)
        customers = list(result[self.items_attribute])
        latest = _latest_assessments([c.pk for c in customers])
        for customer in customers:
            customer.latest_assessment = latest.get(customer.pk)
        result[self.items_attribute] = customers
        return result


def _latest_assessments(customer_ids: list[int]) -> dict[int, Assessment]:
    run = latest_run()
    if run is None or not customer_ids:
        return {}
    rows = (
        Assessment.objects.filter(run=run, product="", customer_id__in=customer_ids)
        .select_related("run")
        .annotate(value_basis=value_basis())
    )
    return {a.customer_id: a for a in rows}


# Chains -------------------------------------------------------------------------------


class ChainFilters(Schema):
    team: limits.DbId | None = None
    status: Chain.Status | None = None
    scope_kind: Chain.ScopeKind | None = None
    updated_since: limits.UtcDatetime | None = None


@api.get("/chains", response=list[schemas.ChainOut], tags=["chains"])
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def chain_list(request: HttpRequest, filters: Query[ChainFilters]):
    """The chains the user may see (as on the chains page), ordered by id."""
    chains = chain_list_for_user(request.user).select_related("team").order_by("pk")
    if filters.team is not None:
        chains = chains.filter(team_id=filters.team)
    if filters.status:
        chains = chains.filter(status=filters.status)
    if filters.scope_kind:
        chains = chains.filter(scope_kind=filters.scope_kind)
    if filters.updated_since:
        chains = chains.filter(updated_at__gte=filters.updated_since)
    return chains


@api.get(
    "/chains/{chain_id}",
    response={200: schemas.ChainDetailOut, 404: schemas.ErrorOut},
    tags=["chains"],
)
def chain_detail(request: HttpRequest, chain_id: int):
    """One chain with its stages, members (actor, contacts), influences, worksheet answers
    and actions, in a fixed number of queries (the chain page's ChainBoard)."""
    chain = chain_get_for_user(request.user, chain_id)
    board = ChainBoard(chain)
    links = board.members_in_stage_order()
    prefetch_related_objects(links, "success_factors")
    return {
        **schemas.ChainOut.from_orm(chain).model_dump(),
        "stages": list(chain.stages.all()),
        "links": links,
        "influences": board.influences,
        "answers": list(chain.answers.order_by("link_id", "question", "pk")),
        "actions": list(chain.actions.all()),
    }


# Customers ----------------------------------------------------------------------------


class CustomerFilters(Schema):
    value_type: ValueType | None = None


@api.get("/customers", response=list[schemas.CustomerOut], tags=["customers"])
@paginate(CustomerPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def customer_list(request: HttpRequest, filters: Query[CustomerFilters]):
    """The customers the user may see (as on the customers page), ordered by id, each with
    its assessment of the latest analysis run."""
    customers = customer_list_for_user(request.user).order_by("pk")
    if filters.value_type:
        run = latest_run()
        of_type = Assessment.objects.filter(
            customer_id=OuterRef("pk"), run=run, product="", value_type=filters.value_type
        )
        customers = customers.filter(Exists(of_type)) if run else customers.none()
    return customers


@api.get(
    "/customers/{customer_id}",
    response={200: schemas.CustomerDetailOut, 404: schemas.ErrorOut},
    tags=["customers"],
)
def customer_detail(request: HttpRequest, customer_id: int):
    """One customer with its assessment of the latest run and its type history (the
    latest run of each period, oldest first)."""
    customer = customer_get_for_user(request.user, customer_id)
    customer.latest_assessment = _latest_assessments([customer.pk]).get(customer.pk)
    customer.history = assessment_history(customer)
    return customer


def urls():
    """The API's URL patterns. The endpoints answer 401 themselves (token or session), so
    the login-everywhere middleware must not send API clients to the login page."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        # The root (404 in django-ninja) stays behind the login like any other page.
        if pattern.name != "api-root" and not hasattr(pattern.callback, "login_required"):
            pattern.callback.login_required = False
    return patterns, app_name, namespace


def openapi_text() -> str:
    """The OpenAPI schema as committed in docs/openapi.json: in English (titles come from
    translated field names), keys sorted, so that a diff shows only what changed."""
    with translation.override("en"):
        schema = api.get_openapi_schema(path_params={})
        return json.dumps(schema, cls=DjangoJSONEncoder, indent=2, sort_keys=True) + "\n"
