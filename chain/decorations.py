"""What another app adds to a chain's pages: the value of the customers behind its actors.

The customer value analysis builds on the chain (docs/architecture.md): chain must not
import it. Instead the customers app registers a provider here when it starts
(customers/apps.py), and the chain page and its diagram render the numbers and the link
they are given, without knowing how they were reached. Without a provider (chain alone)
the page has no customers tab and the diagram no values.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from .models import Chain


@dataclass(frozen=True)
class TypeWeight:
    """One value type among an actor's customers: how many, and their share of the value."""

    code: str
    label: str
    colour: str
    customers: int
    share: float  # 0..1 of the actor's value (of its customers count when all values are 0)


@dataclass(frozen=True)
class ActorValue:
    """The value of the customers linked to one actor, ready to show."""

    customers: int
    lines: list[str]  # short lines for the actor's box, in the reader's language
    basis: str  # "margin", "revenue" or "margin+revenue": what the numbers are
    types: list[TypeWeight]  # largest share first
    url: str  # the chain's customers tab, filtered to this actor


@dataclass(frozen=True)
class ChainValues:
    actors: dict[int, ActorValue] = field(default_factory=dict)  # by actor pk
    legend: list[str] = field(default_factory=list)  # what the numbers are, one line each


@dataclass
class ChainDecoration:
    """The customers tab (label and the URL of its content) and the actors' values.

    The values cost a query: they load on first use, so that a region of the chain page
    reloaded alone pays only for what it shows.
    """

    tab_label: str
    tab_url: str
    load: Callable[[], ChainValues]
    # Where to act next: an HTML fragment the Actions tab loads at its top ("" for none).
    plan_url: str = ""

    @cached_property
    def values(self) -> ChainValues:
        return self.load()


Provider = Callable[[Chain], ChainDecoration | None]
_providers: list[Provider] = []


def provider_register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def chain_decoration(chain: Chain) -> ChainDecoration | None:
    """The first registered provider's decoration of the chain, or None."""
    for provider in _providers:
        decoration = provider(chain)
        if decoration is not None:
            return decoration
    return None


# Per actor or per chain, the value types of the linked customers in the latest analysis,
# with counts, most frequent first: {pk: [("growth", 3), ...]}. The customers app
# registers the query (customers.selectors.value_type_counts); without it, none.
TypeCounts = dict[int, list[tuple[str, int]]]
TypeCounter = Callable[[str, list[int]], TypeCounts]
_counters: list[TypeCounter] = []


def type_counter_register(counter: TypeCounter) -> None:
    if counter not in _counters:
        _counters.append(counter)


def value_type_counts(by: str, pks: list[int]) -> TypeCounts:
    """`by` is "actor" or "chain"; one query whatever the number of `pks`."""
    if not _counters or not pks:
        return {}
    return _counters[0](by, pks)
