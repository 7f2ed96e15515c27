import pytest
from django.core.exceptions import ValidationError

from chain import services
from chain.models import ChainLink
from tests.factories import make_actor, make_chain, make_link


@pytest.mark.django_db
def test_chain_create_uses_the_default_stages_and_places_our_company(team, owner):
    us = make_actor("Glue & Co", is_own_company=True)
    chain = make_chain(team, owner)
    stages = list(chain.stages.all())
    assert [s.name for s in stages] == ["Supplier", "Manufacturer", "Retail", "User"]
    own = [s for s in stages if s.is_own]
    assert len(own) == 1
    assert chain.links.get().actor == us
    assert chain.links.get().stage == own[0]


@pytest.mark.django_db
def test_stage_reorder_rewrites_positions(chain):
    pks = list(chain.stages.values_list("pk", flat=True))
    services.stage_reorder(chain=chain, stage_pks=pks[::-1])
    assert list(chain.stages.values_list("pk", flat=True)) == pks[::-1]


@pytest.mark.django_db
def test_stage_reorder_refuses_an_incomplete_list(chain):
    pks = list(chain.stages.values_list("pk", flat=True))
    with pytest.raises(ValidationError):
        services.stage_reorder(chain=chain, stage_pks=pks[:-1])


@pytest.mark.django_db
def test_stage_move_swaps_neighbours(chain):
    first, second = chain.stages.all()[:2]
    services.stage_move(stage=first, offset=1)
    assert list(chain.stages.values_list("pk", flat=True))[:2] == [second.pk, first.pk]


@pytest.mark.django_db
def test_stage_delete_refuses_a_stage_with_actors(chain):
    stage = chain.stages.first()
    make_link(chain, stage)
    with pytest.raises(ValidationError):
        services.stage_delete(stage=stage)
    assert chain.stages.filter(pk=stage.pk).exists()


@pytest.mark.django_db
def test_link_reorder_moves_a_member_to_another_stage(chain):
    supplier, maker = chain.stages.all()[:2]
    a, b = make_link(chain, supplier), make_link(chain, maker)
    services.link_reorder(chain=chain, stage=maker, link_pks=[a.pk, b.pk])
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.stage, a.position, b.position) == (maker, 0, 1)


@pytest.mark.django_db
def test_link_reorder_refuses_members_of_another_chain(chain, other_team):
    foreign = make_link(make_chain(other_team, scope_name="Other"))
    stage = chain.stages.first()
    with pytest.raises(ValidationError):
        services.link_reorder(chain=chain, stage=stage, link_pks=[foreign.pk])
    foreign.refresh_from_db()
    assert foreign.chain != chain


@pytest.mark.django_db
def test_link_move_goes_up_and_to_the_next_stage(chain):
    supplier, maker = chain.stages.all()[:2]
    a, b = make_link(chain, supplier), make_link(chain, supplier)
    services.link_move(link=b, direction="up")
    assert list(supplier.links.order_by("position").values_list("pk", flat=True)) == [b.pk, a.pk]
    services.link_move(link=ChainLink.objects.get(pk=b.pk), direction="right")
    assert ChainLink.objects.get(pk=b.pk).stage == maker


@pytest.mark.django_db
def test_link_add_refuses_an_actor_twice(chain):
    link = make_link(chain)
    with pytest.raises(ValidationError):
        services.link_add(chain=chain, stage=link.stage, actor=link.actor)


@pytest.mark.django_db
def test_every_write_moves_the_last_change(chain):
    before = chain.updated_at
    services.stage_add(chain=chain, name="Planner")
    chain.refresh_from_db()
    assert chain.updated_at > before
