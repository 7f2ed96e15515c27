"""The managers' dashboard: every team's chains with their health, filters and upkeep."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from chain.models import Chain, ReviewComment, Team
from customers.models import AnalysisRun, Assessment, Customer
from tests.factories import make_actor, make_chain, make_contact, make_link

URL = "/chains/dashboard/"


def _rows(response) -> dict[str, Chain]:
    """The chains on the page by name, as the template got them."""
    board = response.context["dashboard"]
    return {chain.scope_name: chain for group in board.groups for chain in group.chains}


def _client(client, user):
    client.force_login(user)
    return client


def _assess(actor, run, *value_types: str) -> None:
    for value_type in value_types:
        customer = Customer.objects.create(number=f"K-{Customer.objects.count() + 1}", actor=actor)
        Assessment.objects.create(
            run=run, customer=customer, value_type=value_type, current_value=1, future_value=1
        )


@pytest.mark.django_db
def test_a_manager_sees_every_teams_chains_with_their_figures(
    client, manager, chain, other_team, owner
):
    link = make_link(chain, importance=5)
    make_contact(link, name="", role="Buyer")  # a placeholder: a white spot
    ReviewComment.objects.create(chain=chain, author=manager, text="Who decides at Huber?")
    ReviewComment.objects.create(
        chain=chain, author=manager, text="Done", resolved_at=timezone.now()
    )
    other = make_chain(other_team, scope_name="Secret sealant")

    response = _client(client, manager).get(URL)

    assert response.status_code == 200
    rows = _rows(response)
    assert set(rows) == {chain.scope_name, other.scope_name}
    mine = rows[chain.scope_name]
    # Nobody known at a key actor: red, with the reason; two white spots (nobody, placeholder).
    assert mine.health.light == "red"
    assert len(mine.health.white_spots) == 2
    assert mine.n_open_comments == 1
    body = response.content.decode()
    assert "Secret sealant" in body and "Sales industry" in body
    assert f'href="{chain.get_absolute_url()}"' in body
    assert "1 key actor with nobody known" in body
    assert f"{mine.health.completeness.percent} %" in body
    assert 'class="badge open-comments">1<' in body
    assert "alice" in body  # the owner, who has no full name


@pytest.mark.django_db
def test_it_groups_the_chains_of_one_scope(client, manager, team, other_team):
    make_chain(team, scope_name="Tile glue")
    make_chain(other_team, scope_name="tile glue ")
    make_chain(team, scope_name="Floor primer")
    Chain.objects.filter(scope_name="Floor primer").update(scope_kind=Chain.ScopeKind.SERVICE)

    board = _client(client, manager).get(URL).context["dashboard"]

    groups = [(g.kind, len(g.chains)) for g in board.groups]
    assert groups == [("product", 2), ("service", 1)]
    assert [c.team.name for c in board.groups[0].chains] == ["Sales adhesives", "Sales industry"]


@pytest.mark.django_db
def test_a_sales_user_gets_403(client, owner, chain):
    assert _client(client, owner).get(URL).status_code == 403


@pytest.mark.django_db
def test_a_superuser_sees_it(client, chain):
    admin = User.objects.create_superuser("root", password="pw")
    response = _client(client, admin).get(URL)
    assert response.status_code == 200
    assert chain.scope_name in _rows(response)


@pytest.mark.django_db
def test_it_rejects_post(client, manager):
    assert _client(client, manager).post(URL).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("team={other_team}", {"Sealant"}),
        ("status=submitted", {"Primer"}),
        ("scope_kind=service", {"Sealant"}),
        ("q=glu", {"Glue"}),
        ("stale=1", {"Primer"}),
        ("status=submitted&team={other_team}", set()),
        ("status=bogus&team=x", {"Glue", "Primer", "Sealant"}),
    ],
)
def test_the_filters_work(client, manager, team, other_team, query, expected):
    make_chain(team, scope_name="Glue")
    primer = make_chain(team, scope_name="Primer")
    make_chain(other_team, scope_name="Sealant")
    Chain.objects.filter(pk=primer.pk).update(
        status=Chain.Status.SUBMITTED, updated_at=timezone.now() - timedelta(days=400)
    )
    Chain.objects.filter(scope_name="Sealant").update(scope_kind=Chain.ScopeKind.SERVICE)

    response = _client(client, manager).get(f"{URL}?{query.format(other_team=other_team.pk)}")

    assert set(_rows(response)) == expected


@pytest.mark.django_db
def test_the_light_filter_and_the_summary_counts(client, manager, team):
    red = make_chain(team, scope_name="Red one")
    make_link(red, importance=5)  # a key actor with nobody known
    make_chain(team, scope_name="Also red")  # empty: under 40 % complete
    Chain.objects.filter(pk=red.pk).update(status=Chain.Status.APPROVED)
    client = _client(client, manager)

    board = client.get(URL).context["dashboard"]
    assert {f.css: f.count for f in board.lights} == {
        "light-red": 2,
        "light-amber": 0,
        "light-green": 0,
    }
    assert {f.css: f.count for f in board.statuses}["status-approved"] == 1

    # The approved facet's link filters; the light counts follow, the status counts do not.
    approved = next(f for f in board.statuses if f.css == "status-approved")
    assert approved.query == "status=approved"
    response = client.get(f"{URL}?{approved.query}")
    board = response.context["dashboard"]
    assert set(_rows(response)) == {"Red one"}
    assert next(f for f in board.statuses if f.css == "status-approved").active
    assert {f.css: f.count for f in board.statuses}["status-draft"] == 1
    assert {f.css: f.count for f in board.lights}["light-red"] == 1
    # Clicking the active facet again clears it.
    assert next(f for f in board.statuses if f.active).query == ""
    assert 'aria-current="true"' in response.content.decode()

    assert set(_rows(client.get(f"{URL}?light=green"))) == set()
    assert set(_rows(client.get(f"{URL}?light=red"))) == {"Red one", "Also red"}


@pytest.mark.django_db
def test_a_chain_not_changed_for_the_stale_time_is_marked_stale(client, manager, team, settings):
    settings.CHAIN_STALE_DAYS = 30
    old = make_chain(team, scope_name="Old plan")
    make_chain(team, scope_name="Fresh plan")
    Chain.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=31))

    response = _client(client, manager).get(URL)

    rows = _rows(response)
    assert rows["Old plan"].is_stale and rows["Old plan"].age_days == 31
    assert not rows["Fresh plan"].is_stale
    assert response.context["dashboard"].stale.count == 1
    body = response.content.decode()
    assert "31 days ago" in body
    row = body.split('id="dash-chain-')
    old_row = next(r for r in row if r.startswith(f'{old.pk}"'))
    fresh_row = next(r for r in row[1:] if not r.startswith(f'{old.pk}"'))
    assert 'class="badge stale"' in old_row
    assert 'class="badge stale"' not in fresh_row
    assert "Not changed for more than 30 days" in body


@pytest.mark.django_db
def test_it_shows_the_linked_customers_value_types_of_the_latest_analysis(
    client, manager, chain, team
):
    actor = make_actor("Fliesen Huber GmbH")
    make_link(chain, actor=actor)
    other = make_chain(team, scope_name="Other glue")
    make_link(other, actor=actor)  # the same actor in a second chain
    make_link(other, actor=make_actor("Baumarkt Nord"))
    old_run = AnalysisRun.objects.create(as_of=date(2025, 1, 1))
    _assess(actor, old_run, "burr")
    run = AnalysisRun.objects.create(as_of=date(2025, 6, 1))
    _assess(actor, run, "growth", "growth", "bell")

    response = _client(client, manager).get(URL)

    rows = _rows(response)
    expected = [("growth", "growth customer", 2, 0.0), ("bell", "bell customer", 1, 200 / 3)]
    for name in (chain.scope_name, "Other glue"):
        shares = rows[name].value_types
        assert [(t.code, t.label, t.count, t.start) for t in shares] == expected
    body = response.content.decode()
    assert '<span class="badge type-growth">Growth customer ×2</span>' in body
    assert '<rect x="66.67" width="33.33" height="6" fill="#f59e0b">' in body  # bell
    assert "type-burr" not in body  # from an older analysis


@pytest.mark.django_db
def test_it_names_the_three_largest_value_types_and_counts_the_rest(client, manager, chain):
    actor = make_actor()
    make_link(chain, actor=actor)
    run = AnalysisRun.objects.create(as_of=date(2025, 6, 1))
    _assess(actor, run, "steady", "steady", "cyclic", "bell", "growth", "burr")

    body = _client(client, manager).get(URL).content.decode()

    # The most common first, ties by type: steady, bell, burr; then cyclic and growth.
    assert "Steady customer ×2" in body and "Burr customer ×1" in body
    assert "+2 more" in body and 'title="Cyclic customer ×1, Growth customer ×1"' in body


@pytest.mark.django_db
def test_an_htmx_request_gets_the_results_or_the_whole_region(client, manager, chain, htmx_headers):
    client = _client(client, manager)
    full = client.get(URL).content.decode()
    assert "<html" in full and 'id="dashboard-results"' in full

    results = client.get(URL, headers={**htmx_headers, "HX-Target": "dashboard-results"})
    body = results.content.decode()
    assert "<html" not in body and "<form" not in body
    assert body.lstrip().startswith('<div id="dashboard-results">')
    assert chain.scope_name in body
    assert "HX-Request" in results["Vary"]

    # The summary's links swap the form too, so that it shows the chosen filter.
    region = client.get(f"{URL}?status=draft", headers={**htmx_headers, "HX-Target": "dashboard"})
    body = region.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="dashboard" ')
    assert '<option value="draft" selected>' in body

    # htmx reloads a page missing from its history cache as a whole.
    restore = client.get(URL, headers={**htmx_headers, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.content.decode()


@pytest.mark.django_db
def test_it_shows_an_empty_state(client, manager):
    body = _client(client, manager).get(URL).content.decode()
    assert "No chains yet." in body
    assert "dash-summary" not in body


@pytest.mark.django_db
def test_it_says_when_no_chain_matches(client, manager, chain):
    body = _client(client, manager).get(f"{URL}?q=nothing-like-this").content.decode()
    assert "No chain matches these filters." in body
    assert "No chains yet." not in body


@pytest.mark.django_db
def test_it_pages_by_50(client, manager, team):
    Chain.objects.bulk_create(Chain(team=team, scope_name=f"Chain {i:02}") for i in range(51))
    client = _client(client, manager)
    first = client.get(URL)
    assert len(_rows(first)) == 50
    assert "Page 1 of 2" in first.content.decode()
    assert set(_rows(client.get(f"{URL}?page=2"))) == {"Chain 50"}


def _chains_with_parts(team, owner, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        chain = make_chain(team, owner, scope_name=f"Chain {i}")
        link = make_link(chain)
        make_contact(link)
        ReviewComment.objects.create(chain=chain, text="Check this")
        customer = Customer.objects.create(number=f"C-{i}", actor=link.actor)
        run = AnalysisRun.objects.first() or AnalysisRun.objects.create(as_of=date(2025, 1, 1))
        Assessment.objects.create(
            run=run, customer=customer, value_type="steady", current_value=1, future_value=1
        )


@pytest.mark.django_db
def test_it_keeps_the_query_count_constant(client, manager, team, owner, django_assert_num_queries):
    client = _client(client, manager)
    _chains_with_parts(team, owner, 3)
    # session, user, the user's permissions (own, groups), chains with open comments,
    # links, contacts, answers, the chains' counts (influences, comments, actions, type
    # changes), customers' value types, teams
    with django_assert_num_queries(11):
        response = client.get(URL)
    assert len(_rows(response)) == 3
    _chains_with_parts(team, owner, 12, start=3)
    with django_assert_num_queries(11):
        response = client.get(URL)
    assert len(_rows(response)) == 15
    assert all(chain.value_types for chain in _rows(response).values())


@pytest.mark.django_db
def test_the_team_filter_keeps_large_ids_plain_in_german(client, manager):
    team = Team.objects.create(pk=12345, name="Sales far away")
    make_chain(team, scope_name="Big glue")
    client = _client(client, manager)
    client.cookies["django_language"] = "de"
    body = client.get(URL).content.decode()
    assert '<option value="12345"' in body
    assert set(_rows(client.get(f"{URL}?team=12345"))) == {"Big glue"}
