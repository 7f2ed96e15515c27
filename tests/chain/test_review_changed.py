"""Changed since approval: any change to an approved chain or its parts marks it, the
chain page says what changed since the approval, and the managers' dashboard shows and
filters the marked chains. A new submission or approval clears the mark."""

from dataclasses import dataclass
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chain import services
from chain.models import CHAIN_QUESTIONS, Chain, Contact, ReviewComment
from tests.factories import make_actor, make_contact, make_influence, make_kind, make_link

HX = {"HX-Request": "true"}


@pytest.fixture
def client_manager(manager):
    client = Client()
    client.force_login(manager)
    return client


@dataclass
class Parts:
    chain: Chain
    a: object
    b: object
    contact: Contact
    influence: object
    removed_contact_history: int


@pytest.fixture
def parts(chain, owner, manager) -> Parts:
    """An approved chain with two members in its first stage, a contact, an influence, a
    removed contact (to restore) and an answer."""
    stage = chain.stages.first()
    a = make_link(chain, stage, make_actor("Baustoff Nord"))
    b = make_link(chain, stage, make_actor("Fliesen Süd"))
    contact = make_contact(a, name="Anna Weber")
    gone = make_contact(a, name="Otto Alt")
    gone_pk = gone.pk
    gone.delete()
    influence = make_influence(a, b)
    services.answer_save(
        chain=chain, question=CHAIN_QUESTIONS[0], text="Glue", user=owner, link=None
    )
    services.chain_submit(chain=chain, user=owner)
    services.chain_approve(chain=chain, user=manager)
    chain.refresh_from_db()
    assert chain.status == Chain.Status.APPROVED and not chain.changed_since_approval
    record = Contact.history.filter(id=gone_pk, history_type="-").get()
    return Parts(chain, a, b, contact, influence, record.history_id)


def _form_data(client, url: str, **changes: object) -> dict:
    """What the edit form at `url` posts when nothing is changed, plus `changes`."""
    form = client.get(url).context["form"]
    data: dict[str, object] = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif value is True:
            data[name] = "on"
        elif isinstance(value, date):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    return data | changes


def _import(client, chain: Chain, settings, tmp_path) -> object:
    """A CRM file with one new actor and contact, through the four steps of the import."""
    settings.MEDIA_ROOT = tmp_path
    kind, stage = make_kind(), chain.stages.first()
    csv = f"Firma;Art;Stufe;Name\nNeubau AG;{kind.name};{stage.name};Eva Neu\n"
    base = f"/chains/{chain.pk}/import/"
    client.post(base, {"file": SimpleUploadedFile("crm.csv", csv.encode())})
    data = _form_data(client, base + "mapping/")
    client.post(base + "mapping/", data)
    fingerprint = client.get(base + "preview/").context["plan"].counts.fingerprint
    return client.post(base + "confirm/", {"token": data["token"], "expect": fingerprint})


def _chain_fields(c, p, **_):
    url = f"/chains/{p.chain.pk}/edit/"
    return c.post(url, _form_data(c, url, scope_name="Tile glue"), headers=HX)


def _stage_rename(c, p, **_):
    url = f"/chains/stages/{p.chain.stages.first().pk}/rename/"
    return c.post(url, _form_data(c, url, name="Dealers"), headers=HX)


def _link_edit(c, p, **_):
    url = f"/chains/links/{p.a.pk}/edit/"
    return c.post(url, _form_data(c, url, importance="5"), headers=HX)


def _contact_add(c, p, **_):
    url = f"/chains/links/{p.b.pk}/contacts/add/"
    return c.post(url, _form_data(c, url, name="Ina Neu", role="Buyer"), headers=HX)


def _contact_edit(c, p, **_):
    url = f"/chains/contacts/{p.contact.pk}/edit/"
    return c.post(url, _form_data(c, url, role="Head of purchasing"), headers=HX)


def _influence_add(c, p, **_):
    url = f"/chains/{p.chain.pk}/influences/add/"
    data = _form_data(c, url, source=p.b.pk, target=p.a.pk, description="Asks for it")
    return c.post(url, data, headers=HX)


def _influence_edit(c, p, **_):
    url = f"/chains/influences/{p.influence.pk}/edit/"
    return c.post(url, _form_data(c, url, description="Sets the standard"), headers=HX)


def _stage_reorder(c, p, **_):
    pks = list(p.chain.stages.values_list("pk", flat=True))[::-1]
    return c.post(f"/chains/{p.chain.pk}/stages/reorder/", {"stage": pks}, headers=HX)


def _link_reorder(c, p, **_):
    data = {"stage": p.a.stage_id, "link": [p.b.pk, p.a.pk]}
    return c.post(f"/chains/{p.chain.pk}/links/reorder/", data, headers=HX)


CHANGES = {
    "chain fields": _chain_fields,
    "stage added": lambda c, p, **_: c.post(
        f"/chains/{p.chain.pk}/stages/add/", {"name": "Planners"}, headers=HX
    ),
    "stage renamed": _stage_rename,
    "stage moved": lambda c, p, **_: c.post(
        f"/chains/stages/{p.chain.stages.first().pk}/move/", {"direction": "right"}, headers=HX
    ),
    "stages reordered": _stage_reorder,
    "own stage set": lambda c, p, **_: c.post(
        f"/chains/stages/{p.chain.stages.last().pk}/own/", headers=HX
    ),
    "stage removed": lambda c, p, **_: c.post(
        f"/chains/stages/{p.chain.stages.last().pk}/delete/", headers=HX
    ),
    "actor added": lambda c, p, **_: c.post(
        f"/chains/{p.chain.pk}/links/add/",
        {"stage": p.a.stage_id, "actor": make_actor("Neu GmbH").pk},
        headers=HX,
    ),
    "actor characterised": _link_edit,
    "actor moved": lambda c, p, **_: c.post(
        f"/chains/links/{p.a.pk}/move/", {"direction": "right"}, headers=HX
    ),
    "actors reordered": _link_reorder,
    "actor removed": lambda c, p, **_: c.post(f"/chains/links/{p.b.pk}/delete/", headers=HX),
    "contact added": _contact_add,
    "contact edited": _contact_edit,
    "contact removed": lambda c, p, **_: c.post(
        f"/chains/contacts/{p.contact.pk}/delete/", headers=HX
    ),
    "influence added": _influence_add,
    "influence edited": _influence_edit,
    "influence removed": lambda c, p, **_: c.post(
        f"/chains/influences/{p.influence.pk}/delete/", headers=HX
    ),
    "answer saved": lambda c, p, **_: c.post(
        f"/chains/{p.chain.pk}/answers/save/",
        {"question": CHAIN_QUESTIONS[0], "text": "Glue for tiles"},
        headers=HX,
    ),
    "import": lambda c, p, settings, tmp_path: _import(c, p.chain, settings, tmp_path),
    "restore": lambda c, p, **_: c.post(
        f"/chains/{p.chain.pk}/activity/contact/{p.removed_contact_history}/restore/", headers=HX
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("change", CHANGES)
def test_any_change_marks_an_approved_chain(client_owner, parts, change, settings, tmp_path):
    before = parts.chain.updated_at
    response = CHANGES[change](client_owner, parts, settings=settings, tmp_path=tmp_path)
    assert response.status_code in (200, 302)
    chain = Chain.objects.get(pk=parts.chain.pk)
    assert chain.updated_at > before, "the change did not reach the chain"
    assert chain.status == Chain.Status.APPROVED
    assert chain.changed_since_approval


@pytest.mark.django_db
def test_review_talk_and_snapshots_change_nothing(client_owner, client_manager, parts):
    chain = parts.chain
    client_manager.post(f"/chains/{chain.pk}/comments/add/", {"about": "", "text": "Fine."})
    comment = ReviewComment.objects.get(chain=chain)
    client_owner.post(f"/chains/comments/{comment.pk}/reply/", {"text": "Thanks."})
    client_owner.post(f"/chains/comments/{comment.pk}/resolve/")
    client_manager.post(f"/chains/{chain.pk}/snapshots/add/", {"label": "Approved"})
    client_owner.get(chain.get_absolute_url())
    chain.refresh_from_db()
    assert chain.status == Chain.Status.APPROVED and not chain.changed_since_approval


@pytest.mark.django_db
def test_a_chain_that_is_not_approved_is_not_marked(client_owner, chain):
    client_owner.post(f"/chains/{chain.pk}/stages/add/", {"name": "Planners"})
    chain.refresh_from_db()
    assert not chain.changed_since_approval


@pytest.mark.django_db
def test_submitting_again_clears_the_mark(client_owner, parts):
    chain = parts.chain
    client_owner.post(f"/chains/{chain.pk}/stages/add/", {"name": "Planners"})
    body = client_owner.get(chain.get_absolute_url() + "?tab=review").content.decode()
    # The team may submit the changed chain again.
    assert "Submit for review" in body
    client_owner.post(f"/chains/{chain.pk}/submit/")
    chain.refresh_from_db()
    assert chain.status == Chain.Status.SUBMITTED and not chain.changed_since_approval


@pytest.mark.django_db
def test_approving_again_clears_the_mark(client_owner, client_manager, manager, parts):
    chain = parts.chain
    client_owner.post(f"/chains/{chain.pk}/stages/add/", {"name": "Planners"})
    body = client_manager.get(chain.get_absolute_url() + "?tab=review").content.decode()
    assert f'action="/chains/{chain.pk}/approve/"' in body
    client_manager.post(f"/chains/{chain.pk}/approve/")
    chain.refresh_from_db()
    assert chain.status == Chain.Status.APPROVED and not chain.changed_since_approval
    assert chain.approved_by == manager


@pytest.mark.django_db
def test_an_unchanged_approved_chain_cannot_be_submitted_or_approved_again(
    client_owner, client_manager, parts
):
    chain = parts.chain
    body = client_manager.get(chain.get_absolute_url() + "?tab=review").content.decode()
    assert f'action="/chains/{chain.pk}/approve/"' not in body
    response = client_owner.post(f"/chains/{chain.pk}/submit/", headers=HX)
    assert "reload the page" in response.content.decode()
    chain.refresh_from_db()
    assert chain.status == Chain.Status.APPROVED


@pytest.mark.django_db
def test_returning_clears_the_mark(client_owner, client_manager, parts):
    chain = parts.chain
    client_owner.post(f"/chains/{chain.pk}/stages/add/", {"name": "Planners"})
    client_manager.post(f"/chains/{chain.pk}/return/", {"text": "Explain the planners."})
    chain.refresh_from_db()
    assert chain.status == Chain.Status.RETURNED and not chain.changed_since_approval


@pytest.mark.django_db
def test_the_chain_page_says_what_changed_since_the_approval(client_owner, manager, parts):
    manager.first_name, manager.last_name = "Maria", "Schulz"
    manager.save()
    chain = parts.chain
    url = f"/chains/contacts/{parts.contact.pk}/edit/"
    client_owner.post(url, _form_data(client_owner, url, role="Head of purchasing"))
    response = client_owner.get(chain.get_absolute_url(), headers={**HX, "HX-Target": "review"})
    body = response.content.decode()
    assert "Changed since approval on" in body and "by Maria Schulz" in body
    mark = body[body.index("changed-since-approval") :]
    assert "Head of purchasing" in mark and "Anna Weber" in mark
    # Only what came after the approval: not the approval itself, not the earlier edits.
    mark = mark.split("</div>")[0]
    assert "<ins>approved</ins>" not in mark and "Otto Alt" not in mark


@pytest.mark.django_db
def test_the_mark_reads_in_german(client_owner, parts):
    client_owner.post(f"/chains/{parts.chain.pk}/stages/add/", {"name": "Planer"})
    body = client_owner.get(
        parts.chain.get_absolute_url() + "?tab=review", headers={"Accept-Language": "de"}
    ).content.decode()
    assert "Seit der Freigabe am" in body


@pytest.mark.django_db
def test_the_mark_costs_the_same_queries_for_one_change_or_many(client_owner, parts):
    chain = parts.chain
    headers = {**HX, "HX-Target": "review"}

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client_owner.get(chain.get_absolute_url(), headers=headers).status_code == 200
        return len(ctx.captured_queries)

    client_owner.post(f"/chains/{chain.pk}/stages/add/", {"name": "S1"})
    one = count()
    for i in range(8):
        client_owner.post(f"/chains/{chain.pk}/stages/add/", {"name": f"More {i}"})
        contact = Contact.objects.get(pk=parts.contact.pk)
        url = f"/chains/contacts/{contact.pk}/edit/"
        client_owner.post(url, _form_data(client_owner, url, notes=f"Call {i}"))
    assert count() == one


@pytest.mark.django_db
def test_the_dashboard_marks_and_filters_changed_chains(
    client_owner, client_manager, parts, team, owner, manager
):
    from tests.factories import make_chain

    steady = make_chain(team, owner, scope_name="Steady sealant")
    services.chain_submit(chain=steady, user=owner)
    services.chain_approve(chain=steady, user=manager)
    client_owner.post(f"/chains/{parts.chain.pk}/stages/add/", {"name": "Planners"})

    body = client_manager.get("/chains/dashboard/").content.decode()
    row = body[body.index(f'id="dash-chain-{parts.chain.pk}"') :].split("</tr>")[0]
    assert "changed since approval" in row
    row = body[body.index(f'id="dash-chain-{steady.pk}"') :].split("</tr>")[0]
    assert "changed since approval" not in row

    response = client_manager.get("/chains/dashboard/?changed=1")
    board = response.context["dashboard"]
    shown = [chain.pk for group in board.groups for chain in group.chains]
    assert shown == [parts.chain.pk]
    assert board.changed.count == 1 and board.changed.active
    assert 'name="changed" value="1" checked' in response.content.decode()


@pytest.mark.django_db
def test_the_list_marks_changed_chains(client_owner, parts):
    client_owner.post(f"/chains/{parts.chain.pk}/stages/add/", {"name": "Planners"})
    body = client_owner.get("/chains/").content.decode()
    assert "badge changed" in body


@pytest.mark.django_db
def test_the_feed_shows_an_approval_as_a_status_change_without_bookkeeping(client_owner, parts):
    body = client_owner.get(f"/chains/{parts.chain.pk}/activity/").content.decode()
    assert "approved" in body
    for bookkeeping in ("approved by", "submitted by", "changed since approval"):
        assert bookkeeping not in body
