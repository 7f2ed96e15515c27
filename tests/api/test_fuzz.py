"""Property-based fuzzing of every API operation from its own OpenAPI schema (schemathesis).

The schema is loaded from the app in process (WSGI, no server), every operation is called
with generated parameters, valid and invalid, with the token of a user who has chains and
customers; no answer may be a server error and every documented answer must match the
schema. Bounded for CI: at most 25 examples per operation, derandomized, no deadline.

Run alone: pytest tests/api/test_fuzz.py; FUZZ_EXAMPLES=500 for a deeper search (README,
"API limits").
"""

import datetime
import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.api import openapi_text
from api.services import token_create
from chain import actions
from chain.models import WorksheetAnswer
from config.wsgi import application
from customers.models import AnalysisRun, Assessment, Customer
from tests.factories import make_contact, make_influence, make_link

# The schema the app serves at /api/v1/openapi.json (tests/api/test_docs.py checks that
# they are the same), taken from the app object: the calls go to it through WSGI.
schema = schemathesis.openapi.from_dict(json.loads(openapi_text()))
schema.app = application


@pytest.fixture
def keep_connection():
    """The calls go through the WSGI handler, which closes the database connection at the
    end of each request (as Django's test client prevents): that would end the test's
    transaction on PostgreSQL."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(db, keep_connection, chain, owner, settings) -> str:
    """The token of a user with data: a chain with members, contacts, an influence, an
    answer and an action; customers assessed in two runs."""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    stages = list(chain.stages.all())
    a = make_link(chain, stages[0])
    b = make_link(chain, stages[1])
    make_contact(a, name="Anna Weber")
    make_influence(a, b, description="sets the standard")
    WorksheetAnswer.objects.create(chain=chain, question="goal", text="Grow with glue")
    actions.action_create(chain=chain, user=owner, title="Call Anna", owner=owner)
    customers = [
        Customer.objects.create(number=f"K-{n}", name=f"Customer {n}", actor=a.actor)
        for n in range(3)
    ]
    for month, value_type in ((4, "steady"), (5, "growth")):
        run = AnalysisRun.objects.create(as_of=datetime.date(2026, month, 1))
        for customer in customers[:2]:
            Assessment.objects.create(
                run=run,
                customer=customer,
                value_type=value_type,
                current_value=100.0,
                future_value=120.0,
            )
    return f"Bearer {token_create(user=owner, name='fuzz', scope='read')[1]}"


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_within_its_schema(case, fuzz_token):
    case.headers = {**(case.headers or {}), "Authorization": fuzz_token}
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
