"""Walk every URL pattern, so that a new URL is covered without anyone adding a test."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import make_contact, make_influence, make_link

# Pages that must stay reachable without a login.
PUBLIC = {"login", "set_language", "admin:login"}


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
        assert response.status_code in (302, 405), f"{name} {path}: {response.status_code}"
        if response.status_code == 302:
            assert response.url.startswith("/accounts/login/"), f"{name} {path}"
        checked += 1
    assert checked >= 20


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_outsider_gets_404_for_every_chain_part(client, chain, outsider, method):
    """Every chain URL with a pk addresses a chain or one of its parts: all 404."""
    a = make_link(chain)
    b = make_link(chain, chain.stages.last())
    contact = make_contact(a)
    influence = make_influence(a, b)
    stage = chain.stages.first()
    pk_for = {
        "stage": stage.pk,
        "link": a.pk,
        "contact": contact.pk,
        "influence": influence.pk,
    }
    paths = []
    for name, route in _chain_routes():
        if "<int:" in route:
            kind = next((k for k in pk_for if route.startswith(f"chains/{k}s/")), "chain")
            paths.append((name, _fill(route, pk_for.get(kind, chain.pk))))
    # Control: the same paths exist for a member of the team.
    client.force_login(chain.owner)
    for name, path in paths:
        assert client.get(path).status_code != 404, name
    client.force_login(outsider)
    checked = 0
    for name, path in paths:
        response = getattr(client, method)(path)
        assert response.status_code in (404, 405), f"{name}: {response.status_code}"
        checked += 1
    assert checked >= 20
    chain.refresh_from_db()
    assert chain.links.count() == 2 and chain.influences.count() == 1
