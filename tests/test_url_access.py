"""Walk every URL pattern, so that a new URL is covered without anyone adding a test."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import make_contact, make_influence, make_link

# Pages that must stay reachable without a login.
PUBLIC = {"login", "set_language", "admin:login", "health", "favicon", "chain:calendar-feed"}
# The JSON API's endpoints answer a request without a token or session with 401 (a program
# cannot follow a login page); its schema and docs pages send people to the login.
API_PAGES = {"api:openapi-json", "api:openapi-view", "api:api-root"}


def _is_api_endpoint(name: str | None) -> bool:
    return bool(name) and name.startswith("api:") and name not in API_PAGES


def _patterns(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _patterns(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, prefix + str(entry.pattern)


def _fill(route: str, pk: int) -> str:
    """Turn a route like 'chains/<int:pk>/edit/' into a concrete path."""
    import re

    path = re.sub(r"<int:\w+>", str(pk), route)
    path = re.sub(r"<(?:str|slug|path):\w+>", "x", path)
    path = re.sub(r"\^|\$|\(\?P<\w+>[^)]*\)", "1", path)
    return "/" + path.replace("\\", "")


def _chain_routes():
    return [(name, route) for name, route in _patterns() if name and name.startswith("chain:")]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_every_url_needs_a_login(client, chain, method):
    link = make_link(chain)
    checked = 0
    for name, route in _patterns():
        if name in PUBLIC or route.startswith("admin/"):
            continue
        path = _fill(route, link.pk)
        response = getattr(client, method)(path)
        if _is_api_endpoint(name):
            assert response.status_code in (401, 405), f"{name} {path}: {response.status_code}"
            checked += 1
            continue
        assert response.status_code in (302, 405), f"{name} {path}: {response.status_code}"
        if response.status_code == 302:
            assert response.url.startswith("/accounts/login/"), f"{name} {path}"
        checked += 1
    assert checked >= 20


def _chain_paths(chain):
    """A concrete path for every chain URL, each addressing this chain or one of its parts."""
    from chain import actions, services
    from chain.models import ChainLink, ReviewComment

    a = make_link(chain)
    b = make_link(chain, chain.stages.last())
    contact = make_contact(a)
    influence = make_influence(a, b)
    removed = make_link(chain)
    removed_pk = removed.pk
    removed.delete()
    comment = ReviewComment.objects.create(chain=chain, text="Who decides?")
    snapshot = services.snapshot_create(chain=chain, label="Review 2027-Q1", user=chain.owner)
    action = actions.action_create(chain=chain, user=chain.owner, title="Call", owner=chain.owner)
    pk_for = {
        "stages": chain.stages.first().pk,
        "links": a.pk,
        "contacts": contact.pk,
        "influences": influence.pk,
        "comments": comment.pk,
        "snapshots": snapshot.pk,
        "actions": action.pk,
    }
    deleted = ChainLink.history.filter(id=removed_pk, history_type="-")
    history_pk = deleted.get().history_id
    paths = []
    for name, route in _chain_routes():
        if "<int:" not in route:
            continue
        kind = route.split("/")[1]
        path = _fill(route.replace("<str:kind>", "link"), pk_for.get(kind, chain.pk))
        paths.append((name, path.replace(f"/link/{chain.pk}/", f"/link/{history_pk}/")))
    return paths


def _state(chain) -> tuple:
    chain.refresh_from_db()
    return (
        chain.status,
        chain.scope_name,
        chain.links.count(),
        chain.influences.count(),
        chain.comments.filter(resolved_at=None).count(),
        chain.snapshots.count(),
        list(chain.actions.values_list("title", "status", "version")),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_outsider_is_refused_every_chain_part(client, chain, outsider, method):
    """Every chain URL with a pk addresses a chain or one of its parts: all refused."""
    paths = _chain_paths(chain)
    # Control: the same paths exist for a member of the team.
    client.force_login(chain.owner)
    for name, path in paths:
        assert client.get(path).status_code != 404, name
    before = _state(chain)
    client.force_login(outsider)
    checked = 0
    for name, path in paths:
        response = getattr(client, method)(path)
        assert response.status_code in (403, 404, 405), f"{name}: {response.status_code}"
        checked += 1
    assert checked >= 30
    assert _state(chain) == before


# What a manager outside the team may do on a chain: read it and review it.
REVIEW = {
    "chain:approve",
    "chain:return",
    "chain:comment-add",
    "chain:comment-resolve",
    "chain:comment-reply",
    "chain:snapshot-add",
}


@pytest.mark.django_db
def test_a_manager_of_no_team_reads_and_reviews_but_changes_nothing_else(client, chain, manager):
    paths = _chain_paths(chain)
    client.force_login(manager)
    before = _state(chain)
    for name, path in paths:
        if name in REVIEW:
            continue
        response = client.post(path)
        assert response.status_code in (403, 405), f"{name}: {response.status_code}"
    assert _state(chain) == before
    for name in ("chain:detail", "chain:activity", "chain:snapshots", "chain:svg"):
        path = next(path for n, path in paths if n == name)
        assert client.get(path).status_code == 200, name


def _sheet_text(content: bytes) -> str:
    """Every cell of every sheet of an XLSX file, as one text."""
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return " ".join(
        str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
    )


@pytest.mark.django_db
def test_a_user_of_another_team_sees_none_of_the_teams_customers(client, chain, outsider):
    """Every customer URL: another team's customer is 404 where addressed, absent elsewhere."""
    import datetime

    from django.contrib.auth.models import Permission

    from customers.models import AnalysisRun, Assessment, Customer, ValueRecord

    customer = Customer.objects.create(number="K-OURS-7", name="Ours", actor=make_link(chain).actor)
    ValueRecord.objects.create(
        customer=customer, period=datetime.date(2026, 5, 1), revenue=900, margin=200
    )
    run = AnalysisRun.objects.create(as_of=datetime.date(2026, 5, 1))
    Assessment.objects.create(
        run=run, customer=customer, value_type="growth", current_value=900, future_value=1800
    )
    routes = [(n, r) for n, r in _patterns() if n and n.startswith("customers:")]
    # Imports are the managers' (permission), and their pages name files, not customers.
    routes = [(n, r) for n, r in routes if not n.startswith("customers:import")]
    # Control: the team sees its customer on the same URLs.
    client.force_login(chain.owner)
    assert client.get(f"/customers/{customer.pk}/").status_code == 200
    assert "K-OURS-7" in client.get("/customers/export.csv").content.decode()
    outsider.user_permissions.add(Permission.objects.get(codename="import_values"))
    # The administrators' thresholds page: its preview names only visible customers.
    outsider.user_permissions.add(Permission.objects.get(codename="change_thresholdsettings"))
    client.force_login(outsider)
    checked = 0
    for name, route in routes:
        path = _fill(route, customer.pk)
        if "<int:" in route:
            for method in ("get", "post"):
                response = getattr(client, method)(path)
                assert response.status_code in (404, 405), (
                    f"{name} {method}: {response.status_code}"
                )
        else:
            response = client.get(path)
            if response.status_code == 405:
                continue
            assert response.status_code == 200, f"{name}: {response.status_code}"
            content = b"".join(response) if response.streaming else response.content
            if response["Content-Type"].startswith("application/vnd.openxmlformats"):
                text = _sheet_text(content)
            else:
                text = content.decode()
            assert "K-OURS-7" not in text, name
        checked += 1
    assert checked >= 6
    customer.refresh_from_db()
    assert customer.actor is not None


@pytest.mark.django_db
def test_only_administrators_reach_the_webhooks_urls(client, chain, manager):
    """Every webhooks URL: 403 for a manager and a sales user, reachable for an administrator."""
    from tests.factories import make_user
    from webhooks.models import Webhook

    hook = Webhook.objects.create(name="CRM", url="https://crm.example.com/h", events=[])
    routes = [(n, r) for n, r in _patterns() if n and n.startswith("webhooks:")]
    assert len(routes) >= 8
    for user in (manager, chain.owner):
        client.force_login(user)
        for name, route in routes:
            for method in ("get", "post"):
                response = getattr(client, method)(_fill(route, hook.pk))
                assert response.status_code in (403, 405), f"{name} {method}"
    hook.refresh_from_db()
    assert hook.active
    client.force_login(make_user("ada", roles=("administrator",)))
    for name, route in routes:
        if name in ("webhooks:pause", "webhooks:resume", "webhooks:rotate", "webhooks:delete"):
            continue  # writes; test_pages.py covers them
        assert client.get(_fill(route, hook.pk)).status_code == 200, name
