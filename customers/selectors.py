"""Reads: the value history as a DataFrame, assessments of the latest run."""

import pandas as pd
from django.db import models
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Upper
from django.shortcuts import get_object_or_404

from chain.models import Chain, ChainLink
from chain.selectors import User, team_ids_for_user

from .models import AnalysisRun, Assessment, Customer, Purchase, ValueRecord
from .value_basis import MARGIN, REVENUE

HISTORY_COLUMNS = ["customer_id", "period", "revenue", "margin"]
TRANSACTION_COLUMNS = ["customer_id", "date", "amount", "margin"]


def _frame(rows: QuerySet, columns: list[str], texts: tuple[str, ...] = ()) -> pd.DataFrame:
    """customer number, a date, then two money columns, as the analysis expects them
    (then the ``texts`` columns, such as the product, as str).

    Decimals become floats and dates datetime64 here, once: object columns would defeat
    the vectorised analysis (see customers.analysis).
    """
    customer, day, *money = columns
    frame = pd.DataFrame.from_records(rows.iterator(chunk_size=20000), columns=[*columns, *texts])
    for column in (customer, *texts):
        frame[column] = frame[column].astype(str)
    frame[day] = pd.to_datetime(frame[day]).astype("datetime64[ns]")
    for column in money:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def history_frame(
    *, products: bool = False, customer_numbers: list[str] | None = None
) -> pd.DataFrame:
    """All value records, one row per customer and month (and product: the analysis sums
    a customer's rows of a month). ``products`` adds the ``product`` column ("" for
    none); ``customer_numbers`` keeps only those customers' records."""
    fields = ["customer__number", "period", "revenue", "margin"]
    records = ValueRecord.objects.all()
    if customer_numbers is not None:
        records = records.filter(customer__number__in=customer_numbers)
    rows = records.values_list(*fields, *(["product"] if products else []))
    return _frame(rows, HISTORY_COLUMNS, ("product",) if products else ())


def transactions_frame(*, products: bool = False) -> pd.DataFrame | None:
    """The stored purchases of per-transaction imports, or None if there are none;
    ``products`` adds the ``product`` column."""
    fields = ["customer__number", "date", "amount", "margin"]
    rows = Purchase.objects.values_list(*fields, *(["product"] if products else []))
    frame = _frame(rows, TRANSACTION_COLUMNS, ("product",) if products else ())
    return None if frame.empty else frame


def products_given() -> bool:
    """Whether any value record names a product (read from the index on UPPER(product))."""
    return ValueRecord.objects.annotate(u=Upper("product")).filter(u__gt="").exists()


def latest_run() -> AnalysisRun | None:
    return AnalysisRun.objects.order_by("-created_at", "-pk").first()


def run_subquery(offset: int = 0) -> Subquery:
    """The pk of the latest analysis run (0) or of the one before it (1), as a subquery."""
    runs = AnalysisRun.objects.order_by("-created_at", "-pk").values("pk")
    return Subquery(runs[offset : offset + 1])


def value_basis() -> Coalesce:
    """Whether an assessment's figures are contribution margin ("margin") or revenue.

    As the analysis stored it (figures["value_basis"]); runs from before it did are
    derived the way the analysis decides: a customer with a margin in any value record is
    valued by margin, one without by revenue.
    """
    has_margin = Exists(
        ValueRecord.objects.filter(customer_id=OuterRef("customer_id"), margin__isnull=False)
    )
    derived = Case(When(has_margin, then=Value(MARGIN)), default=Value(REVENUE))
    stored = KeyTextTransform("value_basis", "figures")
    return Coalesce(stored, derived, output_field=CharField())


def assessment_list(run: AnalysisRun) -> QuerySet[Assessment]:
    """The run's assessments over all products, one per customer."""
    return (
        Assessment.objects.filter(run=run, product="")
        .select_related("customer__actor")
        .annotate(value_basis=value_basis())
    )


def assessment_history(customer: Customer) -> list[Assessment]:
    """The customer's assessments, one per period (as_of), oldest period first.

    The analysis may run many times for the same period (every import and every click
    on "Analyse again"); the type history keeps the latest run of each period, read in
    one query however many runs there are.
    """
    # The customer's type over all its products ("") in a later run of the same period.
    later = Assessment.objects.filter(
        customer_id=OuterRef("customer_id"), product="", run__as_of=OuterRef("run__as_of")
    ).filter(
        Q(run__created_at__gt=OuterRef("run__created_at"))
        | Q(run__created_at=OuterRef("run__created_at"), run_id__gt=OuterRef("run_id"))
    )
    return list(
        customer.assessments.filter(~Exists(later), product="")
        .select_related("run")
        .annotate(value_basis=value_basis())
        .order_by("run__as_of", "run__created_at", "run_id")
    )


# Who sees which customers (docs/architecture.md, "Who sees which customers"): those who
# see every chain (managers, superusers) see every customer; anyone else the customers in
# the scope of their teams' chains. Every customer page, export and chart reads through
# customer_list_for_user, so no page can forget the rule.


def customers_all_visible(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_perm("chain.view_all_chains"))


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def _upper_names(chains: QuerySet[Chain], kinds: list[str]) -> QuerySet:
    return chains.filter(scope_kind__in=kinds).annotate(u=Upper("scope_name")).values("u")


def chain_scope_filter(chains: QuerySet[Chain]) -> Q:
    """Customers in the scope of any of `chains`, as a filter on Customer (subqueries only).

    A customer is in a chain's scope when it is linked to one of the chain's actors, when
    its value records carry the chain's product or service (product or service chains), or
    when its segment is the chain's customer type (customer-type chains); names compare
    case-insensitively.
    """
    scope = Q(actor_id__in=ChainLink.objects.filter(chain__in=chains).values("actor_id"))
    if _has_field(ValueRecord, "product"):
        products = _upper_names(chains, [Chain.ScopeKind.PRODUCT, Chain.ScopeKind.SERVICE])
        records = ValueRecord.objects.annotate(u=Upper("product")).filter(u__in=products)
        # Each customer once: a short list PostgreSQL keeps in a hash, where the records'
        # customer ids (one per month and product) would be searched again for every row.
        scope |= Q(pk__in=records.values("customer_id").distinct())
    if _has_field(Customer, "segment"):
        segments = _upper_names(chains, [Chain.ScopeKind.CUSTOMER_TYPE])
        in_segment = Customer.objects.annotate(u=Upper("segment")).filter(u__in=segments)
        scope |= Q(pk__in=in_segment.values("pk"))
    return scope


def customer_list_for_user(user: User) -> QuerySet[Customer]:
    """The customers `user` may see: all for managers, else those of their teams' chains."""
    customers = Customer.objects.all()
    if not user.is_authenticated or not user.has_perm("customers.view_customer"):
        return customers.none()
    if customers_all_visible(user):
        return customers
    teams = team_ids_for_user(user)
    if not teams:
        return customers.none()
    return customers.filter(chain_scope_filter(Chain.objects.filter(team__in=teams)))


def customer_get_for_user(user: User, pk: int) -> Customer:
    """The customer, or 404 when it is another team's."""
    return get_object_or_404(customer_list_for_user(user).select_related("actor"), pk=pk)


def assessment_list_for_user(run: AnalysisRun, user: User) -> QuerySet[Assessment]:
    """The run's assessments of the customers `user` may see (one query, subqueries)."""
    assessments = assessment_list(run)
    if customers_all_visible(user):
        return assessments
    return assessments.filter(customer__in=customer_list_for_user(user).values("pk"))


def chain_customer_list(chain: Chain) -> QuerySet[Customer]:
    """The customers in the chain's scope (see chain_scope_filter)."""
    return Customer.objects.filter(chain_scope_filter(Chain.objects.filter(pk=chain.pk)))


# Products and segments (docs/architecture.md, "Products and segments"): a customer's value
# records may name a product and a segment; the analysis stores a type over all products
# (Assessment.product = "") and one per product.


def customer_records(customer: Customer) -> list[dict]:
    """The customer's value per period, summed over its products, oldest first: period,
    revenue and margin (None where no record of the period has one)."""
    return list(
        customer.records.order_by("period")
        .values("period")
        .annotate(revenue=models.Sum("revenue"), margin=models.Sum("margin"))
    )


def customer_products(customer: Customer) -> list[str]:
    """The products the customer's value records name, in alphabetical order."""
    return list(
        customer.records.exclude(product="")
        .order_by("product")
        .values_list("product", flat=True)
        .distinct()
    )


def product_assessment_list(customer: Customer, run: AnalysisRun | None) -> list[Assessment]:
    """The customer's assessments per product in ``run``, by product (one query)."""
    if run is None:
        return []
    return list(
        Assessment.objects.filter(run=run, customer=customer)
        .exclude(product="")
        .select_related("run")
        .order_by("product")
    )


# Through which path a customer reaches an actor or a chain (an actor is in a chain at
# most once, so each customer counts once per chain).
_TYPE_COUNT_PATHS = {"actor": "customer__actor", "chain": "customer__actor__links__chain"}


def value_type_counts(by: str, pks: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Per actor or per chain (`by`), the value types of its customers in the latest
    analysis with counts, most frequent first; for the chain pages (chain.decorations)."""
    path = _TYPE_COUNT_PATHS[by]
    rows = (
        # product="": the customer's type over all its products.
        Assessment.objects.filter(run=run_subquery(), product="", **{f"{path}__in": pks})
        .values_list(path, "value_type")
        .annotate(n=Count("pk"))
        .order_by(path, "-n", "value_type")
    )
    counts: dict[int, list[tuple[str, int]]] = {}
    for pk, value_type, n in rows:
        counts.setdefault(pk, []).append((value_type, n))
    return counts
