"""Small builders for test data; each returns a saved object."""

from itertools import count

from django.contrib.auth.models import Group, User

from chain import services
from chain.models import (
    Actor,
    ActorKind,
    Chain,
    ChainLink,
    Contact,
    Influence,
    SuccessFactor,
    Team,
)

_seq = count(1)


def make_user(
    username: str, team: Team | None = None, roles: tuple[str, ...] | None = None, **fields
) -> User:
    """A user in `team` with the given roles (groups); team members are sales by default."""
    user = User.objects.create_user(username=username, password="pw-" + username, **fields)
    if team:
        team.members.add(user)
    if roles is None:
        roles = ("sales",) if team else ()
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def make_team(name: str = "") -> Team:
    return Team.objects.create(name=name or f"Team {next(_seq)}")


def make_kind(name: str = "") -> ActorKind:
    return ActorKind.objects.get_or_create(name=name or "Supplier")[0]


def make_actor(name: str = "", **fields) -> Actor:
    fields.setdefault("kind", make_kind())
    return Actor.objects.create(name=name or f"Actor {next(_seq)}", **fields)


def make_chain(team: Team, owner: User | None = None, scope_name: str = "Mounting glue") -> Chain:
    return services.chain_create(team=team, owner=owner, scope_name=scope_name)


def make_link(chain: Chain, stage=None, actor: Actor | None = None, **fields) -> ChainLink:
    stage = stage or chain.stages.first()
    return services.link_add(chain=chain, stage=stage, actor=actor or make_actor(), **fields)


def make_contact(link: ChainLink, name: str = "Anna Weber", **fields) -> Contact:
    fields.setdefault("role", "Purchasing")
    return Contact.objects.create(link=link, name=name, **fields)


def make_influence(source: ChainLink, target: ChainLink, **fields) -> Influence:
    fields.setdefault("description", "Decides the range")
    return Influence.objects.create(chain=source.chain, source=source, target=target, **fields)


def make_success_factor(name: str) -> SuccessFactor:
    return SuccessFactor.objects.get_or_create(name=name)[0]


def grow_chain(chain: Chain, actors: int, contacts_each: int) -> None:
    """Add `actors` members over the chain's stages, each with `contacts_each` regular
    contacts, and an influence between each member and the next."""
    stages = list(chain.stages.all())
    links = [make_link(chain, stages[i % len(stages)], importance=3) for i in range(actors)]
    for link in links:
        for j in range(contacts_each):
            make_contact(link, name=f"P{link.pk}-{j}", level=Contact.Level.REGULAR)
    for a, b in zip(links, links[1:], strict=False):
        make_influence(a, b)


def contact_form_data(contact: Contact, version: int | None = None, **fields) -> dict:
    """What the contact's edit form posts: its main fields, the version it was loaded at
    (the contact's current one unless given) and `fields` changed."""
    data = {
        "name": contact.name,
        "role": contact.role,
        "level": contact.level,
        "attitude": contact.attitude,
        "relation_now": contact.relation_now,
        "version": contact.version if version is None else version,
    }
    return {**data, **fields}


def api_auth(user: User, scope: str = "read") -> dict:
    """The Authorization header of a new API token of `user` (tests/api)."""
    from api.services import token_create

    return {"Authorization": f"Bearer {token_create(user=user, name='t', scope=scope)[1]}"}
