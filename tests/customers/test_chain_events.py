"""Type changes of linked customers become chain events after an analysis."""

import datetime

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chain.models import Chain, ChainEvent
from customers.chain_events import type_change_events_create
from customers.models import AnalysisRun, Assessment, Customer
from customers.services import analysis_run_create, value_records_load
from tests.factories import make_actor, make_chain, make_link


def _run() -> AnalysisRun:
    return AnalysisRun.objects.create(as_of=datetime.date(2026, 5, 1))


def _assess(run, customer, value_type, product=""):
    return Assessment.objects.create(
        run=run,
        customer=customer,
        product=product,
        value_type=value_type,
        current_value=1000,
        future_value=900,
    )


def _customer(number, actor=None):
    return Customer.objects.create(number=number, name=f"Firma {number}", actor=actor)


@pytest.fixture
def actor(db):
    return make_actor("Builder AG")


@pytest.fixture
def chains(team, other_team, owner, actor):
    """Two chains (of two teams) with the actor, one without it."""
    with_actor = [make_chain(team, owner), make_chain(other_team, scope_name="Roof")]
    links = [make_link(chain, chain.stages.last(), actor=actor) for chain in with_actor]
    without = make_chain(team, owner, scope_name="Floor")
    make_link(without)
    return {"with": with_actor, "links": links, "without": without}


def _two_runs(pairs: dict[Customer, tuple[str, str]]) -> AnalysisRun:
    first, second = _run(), _run()
    for customer, (old, new) in pairs.items():
        _assess(first, customer, old)
        _assess(second, customer, new)
    return second


@pytest.mark.django_db
def test_a_linked_customer_turning_bell_reaches_every_chain_with_its_actor(chains, actor):
    customer = _customer("K1", actor)
    run = _two_runs({customer: ("growth", "bell")})
    assert type_change_events_create(run=run) == 2
    events = ChainEvent.objects.order_by("chain_id")
    assert [e.chain_id for e in events] == [c.pk for c in chains["with"]]
    assert [e.link_id for e in events] == [link.pk for link in chains["links"]]
    assert events[0].kind == "type_change"
    assert events[0].data == {
        "customer": "K1",
        "name": "Firma K1",
        "from": "growth",
        "to": "bell",
        "product": "",
        "run": run.pk,
    }
    assert not ChainEvent.objects.filter(chain=chains["without"]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new", "counts"),
    [
        ("growth", "bell", True),
        ("growth", "steady", True),
        ("steady", "shrinking", True),
        ("cyclic", "burr", True),
        ("steady", "steady", False),
        ("bell", "bell", False),
        ("steady", "growth", False),
        ("shrinking", "steady", False),
    ],
)
def test_only_changes_for_the_worse_count(chains, actor, old, new, counts):
    run = _two_runs({_customer("K1", actor): (old, new)})
    assert bool(type_change_events_create(run=run)) is counts


@pytest.mark.django_db
def test_unlinked_customers_and_first_runs_make_no_events(chains, actor):
    first = _run()
    _assess(first, _customer("K1", actor), "bell")
    assert type_change_events_create(run=first) == 0
    run = _two_runs({_customer("K2"): ("growth", "bell")})
    assert type_change_events_create(run=run) == 0
    assert not ChainEvent.objects.exists()


@pytest.mark.django_db
def test_a_run_is_recorded_once(chains, actor):
    run = _two_runs({_customer("K1", actor): ("growth", "shrinking")})
    assert type_change_events_create(run=run) == 2
    assert type_change_events_create(run=run) == 0
    assert ChainEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_change_in_one_product_reaches_only_that_products_chains(team, owner, actor):
    glue = make_chain(team, owner, scope_name="Mounting glue")
    screed = make_chain(team, owner, scope_name="Floor screed")
    hospitals = make_chain(team, owner, scope_name="mounting glue")
    Chain.objects.filter(pk=hospitals.pk).update(scope_kind=Chain.ScopeKind.CUSTOMER_TYPE)
    for chain in (glue, screed, hospitals):
        make_link(chain, chain.stages.last(), actor=actor)
    customer = _customer("K1", actor)
    first, second = _run(), _run()
    _assess(first, customer, "growth", product="MOUNTING GLUE")
    _assess(second, customer, "bell", product="MOUNTING GLUE")
    assert type_change_events_create(run=second) == 1
    event = ChainEvent.objects.get()
    assert event.chain_id == glue.pk
    assert event.data["product"] == "MOUNTING GLUE"


@pytest.mark.django_db
def test_the_events_are_written_in_bulk(team, owner):
    chains = [make_chain(team, owner, scope_name=f"Chain {i}") for i in range(3)]
    customers = {}
    for i in range(40):
        actor = make_actor(f"Actor {i}")
        for chain in chains:
            make_link(chain, chain.stages.last(), actor=actor)
        customers[_customer(f"K{i:03}", actor)] = ("growth", "bell")
    run = _two_runs(customers)
    with CaptureQueriesContext(connection) as ctx:
        assert type_change_events_create(run=run) == 120
    # Previous run, already recorded?, the changes, the links, one insert.
    assert len(ctx.captured_queries) <= 6


def _rise_and_fall(months: int) -> pd.DataFrame:
    """A customer whose value rises for two years and then falls fast: growth at the
    peak, bell a year later."""
    periods = pd.date_range("2023-01-01", periods=months, freq="MS")
    up = np.linspace(100, 5000, 24)
    down = np.linspace(5000, 300, months - 24) if months > 24 else np.array([])
    values = np.concatenate([up, down])[:months]
    return pd.DataFrame(
        {
            "customer_id": "K-BELL",
            "period": periods,
            "revenue": values,
            "margin": values / 4,
            "customer_name": "Glockenfirma",
        }
    )


@pytest.mark.django_db
def test_an_analysis_run_records_the_type_changes_of_its_linked_customers(chains, actor):
    value_records_load(history=_rise_and_fall(38))
    Customer.objects.filter(number="K-BELL").update(actor=actor)
    before = analysis_run_create(as_of=pd.Timestamp("2024-12-01"))
    after = analysis_run_create(as_of=pd.Timestamp("2026-02-01"))
    types = [
        Assessment.objects.get(run=run, product="", customer__number="K-BELL").value_type
        for run in (before, after)
    ]
    assert types == ["growth", "bell"]
    events = ChainEvent.objects.filter(data__run=after.pk)
    assert {e.chain_id for e in events} == {c.pk for c in chains["with"]}
    assert events[0].data["to"] == "bell"
    # Analysing the same period again changes no type: no new events.
    analysis_run_create(as_of=pd.Timestamp("2026-02-01"))
    assert ChainEvent.objects.count() == 2
