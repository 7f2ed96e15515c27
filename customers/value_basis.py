"""The value basis: whether a customer's figures are contribution margin or revenue.

A customer whose data has margins is valued by its contribution margin (Deckungsbeitrag),
one without by its revenue (Umsatz). The two are different money and are never added
up: sums and shares are shown per basis, and rankings that need margins (profitability)
leave the revenue customers out and list them apart.
"""

from dataclasses import dataclass

import pandas as pd
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MARGIN = "margin"
REVENUE = "revenue"
BASES = (MARGIN, REVENUE)

# The words of the import columns and of the method: "Deckungsbeitrag" and "Umsatz".
LABELS = {MARGIN: gettext_lazy("contribution margin"), REVENUE: gettext_lazy("revenue")}


def label(basis: str) -> str:
    """The basis in the active language, "Contribution margin" or "Revenue" (else as is)."""
    return str(capfirst(LABELS[basis])) if basis in LABELS else basis


def labels() -> dict[str, str]:
    return {basis: label(basis) for basis in BASES}


@dataclass
class BasisTotal:
    """The customers valued on one basis, and their summed current and future value."""

    basis: str
    label: str
    n: int
    current: float
    future: float


def totals(frame: pd.DataFrame) -> list[BasisTotal]:
    """Per basis present (margin first): customers, summed current and future value.

    `frame` columns: value_basis, current_value, future_value (currency).
    """
    grouped = frame.groupby("value_basis").agg(
        n=("value_basis", "size"), current=("current_value", "sum"), future=("future_value", "sum")
    )
    return [
        BasisTotal(
            basis,
            label(basis),
            int(grouped.at[basis, "n"]),
            float(grouped.at[basis, "current"]),
            float(grouped.at[basis, "future"]),
        )
        for basis in BASES
        if basis in grouped.index
    ]


def type_shares(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per basis, each type's share (percent) of the basis's positive current value.

    `frame` columns: value_type, value_basis, current_value. Values below zero count as
    zero, as in the portfolio's type summary: a loss-making customer holds no share.
    """
    value = frame["current_value"].clip(lower=0)
    sums = value.groupby([frame["value_basis"], frame["value_type"]]).sum()
    shares: dict[str, dict[str, float]] = {}
    for basis in BASES:
        if basis not in sums.index.get_level_values(0):
            continue
        part = sums.loc[basis]
        total = float(part.sum()) or 1.0
        shares[basis] = {str(code): 100 * float(v) / total for code, v in part.items()}
    return shares


def profitability_split(assessments: list, *, limit: int = 15) -> tuple[list, list, int]:
    """The customers the profitability goal may rank (valued by margin), and the others.

    Returns the margin customers, up to `limit` customers without margin data (by
    customer number) and how many of those there are in all.
    """
    ranked = [a for a in assessments if a.value_basis == MARGIN]
    others = sorted(
        (a for a in assessments if a.value_basis != MARGIN), key=lambda a: a.customer.number
    )
    return ranked, others[:limit], len(others)


def profitability_title() -> str:
    """The profitability goal's title as the focus lists name it."""
    return _("Profitability")
