import pytest
from django.db import IntegrityError

from chain.models import ChainLink, Contact, Coverage
from tests.factories import make_contact, make_influence, make_link


@pytest.mark.django_db
def test_importance_must_be_1_to_5(chain):
    link = make_link(chain)
    link.importance = 6
    with pytest.raises(IntegrityError):
        link.save()


@pytest.mark.django_db
def test_an_actor_cannot_influence_itself(chain):
    link = make_link(chain)
    with pytest.raises(IntegrityError):
        make_influence(link, link)


@pytest.mark.django_db
def test_direct_contact_needs_a_name(chain):
    link = make_link(chain)
    with pytest.raises(IntegrityError):
        make_contact(link, name="", role="Head of purchasing", level=Contact.Level.REGULAR)


@pytest.mark.django_db
def test_coverage_follows_the_best_contact(chain):
    link = make_link(chain)

    def coverage() -> str:
        # Coverage is kept per instance (computed from the loaded contacts): reload.
        return ChainLink.objects.get(pk=link.pk).coverage

    assert coverage() == Coverage.NOBODY
    make_contact(link, name="", role="Head of purchasing")
    assert coverage() == Coverage.NOBODY  # a placeholder is nobody known
    make_contact(link, name="Eva", level=Contact.Level.INDIRECT)
    assert coverage() == Coverage.KNOWN
    make_contact(link, name="Tom", level=Contact.Level.OCCASIONAL)
    assert coverage() == Coverage.DIRECT
    make_contact(link, name="Ida", level=Contact.Level.REGULAR)
    assert coverage() == Coverage.REGULAR


@pytest.mark.django_db
def test_characterised_needs_importance_relationship_and_a_need(chain):
    link = make_link(chain, importance=4, relationship="direct_customer")
    assert not link.is_characterised
    link.problems_needs = "Short curing time on site"
    assert link.is_characterised
