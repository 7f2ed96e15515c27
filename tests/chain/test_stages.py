import pytest

from tests.factories import make_link


@pytest.mark.django_db
def test_add_appends_a_stage(client_owner, chain, htmx_headers):
    response = client_owner.post(
        f"/chains/{chain.pk}/stages/add/", {"name": "Planner"}, headers=htmx_headers
    )
    assert response.status_code == 200 and response["HX-Retarget"] == "#board"
    assert chain.stages.last().name == "Planner"
    assert "Planner" in response.content.decode()


@pytest.mark.django_db
def test_add_needs_a_name(client_owner, chain, htmx_headers):
    response = client_owner.post(
        f"/chains/{chain.pk}/stages/add/", {"name": ""}, headers=htmx_headers
    )
    assert "This field is required." in response.content.decode()
    assert chain.stages.count() == 4


@pytest.mark.django_db
def test_rename(client_owner, chain):
    stage = chain.stages.first()
    response = client_owner.post(
        f"/chains/stages/{stage.pk}/rename/", {"name": "Raw materials", "version": stage.version}
    )
    assert response.status_code == 302
    stage.refresh_from_db()
    assert stage.name == "Raw materials"


@pytest.mark.django_db
def test_reorder_persists(client_owner, chain, htmx_headers):
    pks = list(chain.stages.values_list("pk", flat=True))
    client_owner.post(
        f"/chains/{chain.pk}/stages/reorder/", {"stage": pks[::-1]}, headers=htmx_headers
    )
    assert list(chain.stages.values_list("pk", flat=True)) == pks[::-1]


@pytest.mark.django_db
def test_move_left(client_owner, chain):
    first, second = chain.stages.all()[:2]
    client_owner.post(f"/chains/stages/{second.pk}/move/", {"direction": "left"})
    assert list(chain.stages.values_list("pk", flat=True))[:2] == [second.pk, first.pk]


@pytest.mark.django_db
def test_set_own_moves_the_highlight(client_owner, chain):
    retail = chain.stages.get(name="Retail")
    client_owner.post(f"/chains/stages/{retail.pk}/own/")
    assert list(chain.stages.filter(is_own=True)) == [retail]


@pytest.mark.django_db
def test_delete_explains_why_a_stage_with_actors_stays(client_owner, chain, htmx_headers):
    stage = chain.stages.first()
    make_link(chain, stage)
    response = client_owner.post(f"/chains/stages/{stage.pk}/delete/", headers=htmx_headers)
    assert "first." in response.content.decode()
    assert chain.stages.filter(pk=stage.pk).exists()


@pytest.mark.django_db
def test_delete_an_empty_stage(client_owner, chain, htmx_headers):
    stage = chain.stages.last()
    client_owner.post(f"/chains/stages/{stage.pk}/delete/", headers=htmx_headers)
    assert not chain.stages.filter(pk=stage.pk).exists()
