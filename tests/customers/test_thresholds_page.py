"""The administrators' page of the analysis thresholds: who reaches it, saving, the
checks, the dry run (preview) and the reset (docs/operations.md, "Analysis thresholds")."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from customers import thresholds
from customers.analysis import Thresholds
from customers.models import AnalysisRun, Assessment, Customer, ThresholdSettings
from customers.services import analysis_run_create, value_records_load
from tests.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/customers/thresholds/"
SHORT, LONG = 4, 7  # customers with 9 and with 36 months of history


@pytest.fixture
def admin(db):
    return make_user("ada", roles=("administrator",), is_staff=True)


@pytest.fixture
def client_admin(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def portfolio(db):
    """Steady customers: SHORT with 9 months of history, LONG with 36, analysed."""
    rng = np.random.default_rng(3)
    months = pd.date_range("2023-07-01", "2026-06-01", freq="MS")
    rows = []
    for i in range(SHORT + LONG):
        span = months[-9:] if i < SHORT else months
        for period in span:
            revenue = 1000 + rng.normal(0, 20)
            rows.append((f"K{i:02d}", period, revenue, revenue * 0.3, f"Firma {i:02d}"))
    history = pd.DataFrame(
        rows, columns=["customer_id", "period", "revenue", "margin", "customer_name"]
    )
    value_records_load(history=history)
    return analysis_run_create()


def _form_data(**changes) -> dict:
    """Every threshold as in force, with `changes`, as the page posts them."""
    data = dataclasses.asdict(thresholds.thresholds_in_force()[0])
    data.update(changes)
    return {name: str(value) for name, value in data.items()}


@pytest.mark.parametrize("who", ["owner", "manager", "outsider"])
def test_only_administrators_reach_the_page(client, request, who, admin):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, _form_data(min_periods=9) | {"action": "save"}).status_code == 403
    assert not ThresholdSettings.objects.exists()
    client.force_login(admin)
    assert client.get(URL).status_code == 200


def test_the_page_shows_every_threshold_with_its_default(client_admin):
    body = client_admin.get(URL).content.decode()
    for field in dataclasses.fields(Thresholds):
        assert f'name="{field.name}"' in body, field.name
    assert "Minimum history (periods)" in body and "Default: 6." in body


def test_the_customer_pages_link_to_it_for_administrators_only(client, admin, manager):
    superuser = make_user("root", is_superuser=True, is_staff=True)
    client.force_login(superuser)
    assert 'href="/customers/thresholds/"' in client.get("/customers/").content.decode()
    client.force_login(admin)  # no customers to see: the main navigation has the link
    assert 'href="/customers/thresholds/"' in client.get("/chains/").content.decode()
    client.force_login(manager)
    assert "/customers/thresholds/" not in client.get("/customers/").content.decode()


def test_saved_values_are_what_the_next_run_uses(client_admin, admin, portfolio):
    assert portfolio.thresholds["min_periods"] == 6 and portfolio.threshold_settings is None
    response = client_admin.post(URL, _form_data(min_periods=12) | {"action": "save"})
    assert response.status_code == 302

    version = ThresholdSettings.objects.get()
    assert version.values == {"min_periods": 12}  # only what differs from the defaults
    assert version.changed_by == admin
    run = analysis_run_create()
    assert run.thresholds["min_periods"] == 12
    assert run.thresholds["smoothing_window"] == 5
    assert run.threshold_settings == version
    short = Assessment.objects.filter(run=run, customer__number__in=["K00", "K01", "K02", "K03"])
    assert set(short.values_list("value_type", flat=True)) == {"insufficient_data"}


def test_the_list_says_the_run_used_changed_thresholds(client, client_admin, admin, portfolio):
    superuser = make_user("root", is_superuser=True)
    client_admin.post(URL, _form_data(min_periods=12) | {"action": "save"})
    client.force_login(superuser)
    assert "thresholds changed by" not in client.get("/customers/").content.decode()
    analysis_run_create()
    body = client.get("/customers/").content.decode()
    assert "thresholds changed by ada on" in body


def test_settings_are_the_defaults_the_stored_values_overlay(settings, admin):
    settings.CUSTOMER_ANALYSIS = {**settings.CUSTOMER_ANALYSIS, "thresholds": {"min_periods": 8}}
    thresholds.thresholds_save(
        values={"min_periods": 8, "growth_min_t": 2.5, "decay_window": 6}, user=admin
    )
    assert ThresholdSettings.objects.get().values == {"growth_min_t": 2.5}
    in_force, _version = thresholds.thresholds_in_force()
    assert (in_force.min_periods, in_force.growth_min_t, in_force.decay_window) == (8, 2.5, 6)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("smoothing_window", "4", "Smoothing window (periods, odd): must be an odd whole number"),
        (
            "level_min_share",
            "1.5",
            "End of the start-up phase (share): must be a share from 0 to 1",
        ),
        ("min_periods", "0", "Minimum history (periods): must be a whole number of at least 1"),
        ("min_periods", "6.5", "Minimum history (periods): enter a whole number"),
        ("gap_max_periods", "-1", "Bridged gaps (periods): must be a whole number of 0 or more"),
        ("growth_min_t", "many", "Growth certainty (t): enter a number"),
        ("trend_min_t", "-2", "Minimum trend certainty (t): must be 0 or more"),
        ("pearl_min_periods", "", "Pearl history (periods): enter a value"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(client_admin, field, value, message):
    response = client_admin.post(URL, _form_data(**{field: value}) | {"action": "save"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(response.context["form"].errors) == [field]
    assert not ThresholdSettings.objects.exists()


def test_german_numbers_are_understood(client_admin):
    data = _form_data(level_min_share="0,7") | {"action": "save"}
    response = client_admin.post(URL, data, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 302
    assert ThresholdSettings.objects.get().values == {"level_min_share": 0.7}


def test_the_preview_counts_who_would_change_type(client_admin, portfolio):
    before = dict(
        Assessment.objects.filter(run=portfolio, product="").values_list(
            "customer__number", "value_type"
        )
    )
    short_types = {before[f"K{i:02d}"] for i in range(SHORT)}
    assert "insufficient_data" not in short_types

    response = client_admin.post(URL, _form_data(min_periods=12) | {"action": "preview"})

    preview = response.context["preview"]
    assert preview.changed == SHORT
    assert preview.customers == preview.total == SHORT + LONG and not preview.sampled
    assert sum(n for (_old, new), n in preview.counts.items() if new == "insufficient_data") == (
        SHORT
    )
    assert set(preview.counts) == {(old, "insufficient_data") for old in short_types}
    body = response.content.decode()
    assert "would change type" in body and 'id="preview-table"' in body
    # The administrator role sees no customers (customers.selectors): counts, no names.
    assert not [c for e in preview.examples.values() for c in e]
    assert "Firma 00" not in body and "Examples name only customers you may see." in body
    # Nothing stored: no run, no version.
    assert AnalysisRun.objects.count() == 1 and not ThresholdSettings.objects.exists()


def test_the_same_thresholds_change_nobody(client_admin, portfolio):
    response = client_admin.post(URL, _form_data() | {"action": "preview"})
    assert response.context["preview"].changed == 0
    assert "No customer would change type." in response.content.decode()


def test_a_large_portfolio_is_previewed_on_a_sample(client_admin, portfolio, settings):
    settings.THRESHOLD_PREVIEW_MAX_CUSTOMERS = 5
    response = client_admin.post(URL, _form_data(min_periods=12) | {"action": "preview"})
    preview = response.context["preview"]
    assert (preview.customers, preview.total, preview.sampled) == (5, SHORT + LONG, True)
    # Evenly spaced over K00..K10: K00, K03 (short), K05, K08, K10.
    assert preview.changed == 2
    assert 'id="preview-sample"' in response.content.decode()


def test_examples_link_to_customers_the_viewer_may_see(client, portfolio):
    superuser = make_user("root", is_superuser=True)
    client.force_login(superuser)
    response = client.post(URL, _form_data(min_periods=12) | {"action": "preview"})
    examples = [c for e in response.context["preview"].examples.values() for c in e]
    assert len(examples) == 3  # at most three per change
    assert {c.number for c in examples} <= {f"K{i:02d}" for i in range(SHORT)}
    k00 = Customer.objects.get(number="K00")
    assert f'href="/customers/{k00.pk}/">Firma 00</a>' in response.content.decode()


def test_reset_to_defaults_asks_first(client_admin, admin, portfolio):
    client_admin.post(URL, _form_data(min_periods=12, growth_min_t=2.5) | {"action": "save"})
    page = client_admin.get(URL).content.decode()
    assert 'href="?reset=1#reset-confirm"' in page and 'id="reset-confirm"' not in page
    assert 'value="12"' in page

    confirm = client_admin.get(URL + "?reset=1").content.decode()
    assert 'id="reset-confirm"' in confirm and 'value="reset"' in confirm
    assert ThresholdSettings.objects.count() == 1  # asking changes nothing

    assert client_admin.post(URL, {"action": "reset"}).status_code == 302
    latest = thresholds.settings_in_force()
    assert latest.values == {} and latest.changed_by == admin
    assert thresholds.thresholds_in_force()[0] == Thresholds()
    run = analysis_run_create()
    assert run.thresholds == dataclasses.asdict(Thresholds())
    assert 'value="6"' in client_admin.get(URL).content.decode()
