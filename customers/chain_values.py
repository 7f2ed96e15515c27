"""The customers behind a chain: its customers tab and the value on its diagram.

A chain's customers are those in its scope (customers.selectors.chain_scope_filter): linked
to one of its actors, buying its product or service, or of its customer type. The chain
app does not know this app; `chain_decoration` is registered with chain.decorations when
the app starts (apps.py) and hands the chain page ready-made numbers and a link.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext as _

from chain.decorations import ActorValue, ChainDecoration, ChainValues, TypeWeight
from chain.models import Chain, ChainLink
from lib.palette import TYPE_COLOURS

from .models import Assessment, ValueType
from .selectors import _has_field, chain_customer_list, run_subquery, value_basis
from .templatetags.money import number
from .value_basis import MARGIN, REVENUE

# Value at risk: what the customers whose value is falling bring today.
AT_RISK = (ValueType.BELL, ValueType.SHRINKING)
MIXED = "mixed"


def compact(value: float) -> str:
    """A short amount for a diagram box: 950, 1.2k, 12k, 4.5M, 2,099M (in the reader's language)."""
    size = abs(value)
    if size >= 9_995_000:
        return number(value / 1_000_000, 0) + "M"
    if size >= 999_500:
        return number(value / 1_000_000, 1) + "M"
    if size >= 9_995:
        return number(value / 1000, 0) + "k"
    if size >= 999.5:
        return number(value / 1000, 1) + "k"
    return number(value, 0)


def basis_abbreviation(basis: str) -> str:
    # Translators: short for contribution margin (Deckungsbeitrag), on a diagram box.
    return _("CM") if basis == MARGIN else _("Rev.")  # Umsatz


def _overall(assessments):
    """The customers' type over all their products (runs before products: every row)."""
    return assessments.filter(product="") if _has_field(Assessment, "product") else assessments


def _actor_values(chain: Chain) -> ChainValues:
    """Per actor of the chain, its linked customers' value in the latest analysis (1 query)."""
    actors = ChainLink.objects.filter(chain=chain).values("actor_id")
    rows = (
        _overall(Assessment.objects.filter(run=run_subquery(), customer__actor_id__in=actors))
        .annotate(basis=value_basis())
        .values("customer__actor_id", "value_type", "basis")
        .annotate(n=Count("pk"), current=Sum("current_value"), future=Sum("future_value"))
        .order_by()
    )
    by_actor: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_actor[row["customer__actor_id"]].append(row)
    labels = dict(ValueType.choices)
    tab = reverse("chain:detail", args=[chain.pk])
    values = {
        actor_id: _actor_value(groups, labels, f"{tab}?tab=customers&actor={actor_id}")
        for actor_id, groups in by_actor.items()
    }
    bases = {basis for value in values.values() for basis in value.basis.split("+")}
    return ChainValues(values, _legend(bases))


def _actor_value(groups: list[dict], labels: dict, url: str) -> ActorValue:
    # Margin and revenue are different money: summed per basis, never together.
    sums: dict[str, list[float]] = {}
    for row in groups:
        current, future, risk = sums.setdefault(row["basis"], [0.0, 0.0, 0.0])
        risk += row["current"] if row["value_type"] in AT_RISK else 0.0
        sums[row["basis"]] = [current + row["current"], future + row["future"], risk]
    bases = [basis for basis in (MARGIN, REVENUE) if basis in sums]
    lines, risks = [], []
    for basis in bases:
        current, future, risk = sums[basis]
        short = basis_abbreviation(basis)
        lines.append(f"{short} {compact(current)} → {compact(future)}")
        if risk > 0:
            risks.append(f"{short} {compact(risk)}")
    if risks:
        lines.append("▼ " + " · ".join(risks))
    return ActorValue(
        customers=sum(row["n"] for row in groups),
        lines=lines,
        basis="+".join(bases),
        types=_weights(groups, labels, weigh_by_value=len(bases) == 1),
        url=url,
    )


def _weights(groups: list[dict], labels: dict, *, weigh_by_value: bool) -> list[TypeWeight]:
    """Each value type's share of the actor: of its value where all customers share one
    basis, else (margin and revenue cannot be added) of its customers."""
    per_type: dict[str, list[float]] = {}
    for row in groups:
        n, value = per_type.get(row["value_type"], [0, 0.0])
        per_type[row["value_type"]] = [n + row["n"], value + max(row["current"], 0.0)]
    total_value = sum(value for _n, value in per_type.values())
    total_n = sum(n for n, _value in per_type.values())
    by_value = weigh_by_value and total_value > 0
    weights = [
        TypeWeight(
            code,
            str(labels.get(code, code)),
            TYPE_COLOURS.get(code, "#cbd5e1"),
            int(n),
            (value / total_value) if by_value else n / total_n,
        )
        for code, (n, value) in per_type.items()
    ]
    return sorted(weights, key=lambda w: (-w.share, w.code))


def _legend(bases: set[str]) -> list[str]:
    if not bases:
        return []
    lines = [
        _(
            "Under each actor: the current value of its linked customers (last 12 periods) → "
            "their future value (forecast); ▼ value at risk: the current value of its bell "
            "and shrinking customers. k = thousand, M = million."
        )
    ]
    if MARGIN in bases:
        lines.append(_("CM: contribution margin, for customers whose data has margins."))
    if REVENUE in bases:
        lines.append(_("Rev.: revenue, for customers without margin data."))
    lines.append(_("The stripe's parts: the value types' shares of the actor's value."))
    return lines


def chain_decoration(chain: Chain) -> ChainDecoration:
    """What the chain page shows of its customers (chain.decorations)."""
    return ChainDecoration(
        tab_label=_("Customers"),
        tab_url=reverse("customers:chain-customers", args=[chain.pk]),
        load=lambda: _actor_values(chain),
        plan_url=reverse("customers:chain-plan", args=[chain.pk]),
    )


@dataclass
class ChainCustomer:
    assessment: Assessment
    via: str  # why the customer is the chain's: its actor, product or segment


def chain_assessments(chain: Chain, *, actor_id: int | None = None) -> list[ChainCustomer]:
    """The chain's customers in the latest analysis, most valuable first, in one query.

    For a product or service chain a customer's assessment in that product is shown where
    the analysis made one, else its assessment over all products.
    """
    customers = chain_customer_list(chain)
    if actor_id is not None:
        customers = customers.filter(actor_id=actor_id)
    assessments = Assessment.objects.filter(
        run=run_subquery(), customer__in=customers.values("pk")
    ).select_related("customer__actor")
    product = chain.scope_kind in (Chain.ScopeKind.PRODUCT, Chain.ScopeKind.SERVICE)
    if _has_field(Assessment, "product"):
        wanted = Q(product="")
        if product:
            wanted |= Q(product_upper=chain.scope_name.upper())
            assessments = assessments.annotate(product_upper=Upper("product"))
        assessments = assessments.filter(wanted)
    rows = list(assessments.annotate(value_basis=value_basis()).order_by("-current_value", "pk"))
    chosen: dict[int, Assessment] = {}
    for assessment in rows:
        if assessment.customer_id not in chosen or getattr(assessment, "product", ""):
            chosen[assessment.customer_id] = assessment
    actors = set(ChainLink.objects.filter(chain=chain).values_list("actor_id", flat=True))
    result = []
    for assessment in sorted(chosen.values(), key=lambda a: (-a.current_value, a.pk)):
        customer = assessment.customer
        if customer.actor_id in actors:
            via = str(customer.actor)
        elif getattr(assessment, "product", ""):
            via = assessment.product
        elif chain.scope_kind == Chain.ScopeKind.CUSTOMER_TYPE:
            via = getattr(customer, "segment", "") or chain.scope_name
        else:
            via = chain.scope_name
        result.append(ChainCustomer(assessment, via))
    return result
