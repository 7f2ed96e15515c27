"""What people type passes the same hygiene in every form: control characters (a vertical
tab pasted from an office program, a NUL byte) are removed, and every text has a maximum
length that a too-long text meets with a field error, never a 500 or a silent cut."""

import inspect
import re

import pytest
from django import forms

import chain.admin
import chain.forms
import chain.views_import
import customers.forms
from chain.models import ChainLink, ChainSnapshot, Contact, ReviewComment
from lib.forms import LINE_MAX, TEXT_MAX, CleanTextMixin
from tests.factories import make_kind, make_link

HX = {"HX-Request": "true"}
LONG = "x" * 100_000


def _contact_add(client, link, **fields):
    data = {"attitude": "unknown", "level": "none", "relation_now": "none", **fields}
    return client.post(f"/chains/links/{link.pk}/contacts/add/", data, headers=HX)


@pytest.mark.django_db
def test_a_vertical_tab_in_a_contact_becomes_a_line_break_or_goes(client_owner, chain):
    link = make_link(chain)
    response = _contact_add(
        client_owner, link, name="Anna\x0bWeber\x00", role="Buyer", notes="Line one\x0bline two"
    )
    assert response.status_code == 200 and response["HX-Retarget"] == "#board"
    contact = Contact.objects.get(link=link)
    # A name is one line: the line break becomes a space.
    assert contact.name == "Anna Weber"
    assert contact.notes == "Line one\nline two"


@pytest.mark.django_db
def test_a_nul_byte_is_no_server_error(client_owner, chain):
    link = make_link(chain)
    response = _contact_add(client_owner, link, name="\x00", role="Head\x00 of buying")
    assert response.status_code == 200
    assert Contact.objects.get(link=link).role == "Head of buying"


@pytest.mark.django_db
def test_100000_characters_of_notes_give_a_field_error(client_owner, chain):
    link = make_link(chain)
    response = _contact_add(client_owner, link, name="Anna Weber", notes=LONG)
    body = response.content.decode()
    assert response.status_code == 200 and "HX-Retarget" not in response
    assert "at most 5000 characters (it has 100000)" in body
    assert re.search(r'field-notes has-error">', body)
    assert not Contact.objects.filter(link=link).exists()


@pytest.mark.django_db
def test_a_long_text_on_a_member_is_refused_not_cut(client_owner, chain):
    link = make_link(chain)
    data = {"version": 1, "actor_version": 1, "kind": link.actor.kind_id, "count": 1}
    response = client_owner.post(
        f"/chains/links/{link.pk}/edit/", {**data, "problems_needs": LONG}, headers=HX
    )
    assert "at most 5000 characters" in response.content.decode()
    assert ChainLink.objects.get(pk=link.pk).problems_needs == ""


@pytest.mark.django_db
def test_textareas_say_their_maximum_length(client_owner, chain):
    link = make_link(chain)
    body = client_owner.get(f"/chains/links/{link.pk}/edit/", headers=HX).content.decode()
    assert re.search(r'<textarea name="notes"[^>]*maxlength="5000"', body)
    assert re.search(r'<textarea name="success_factors_text"[^>]*maxlength="2000"', body)
    body = client_owner.get(f"/chains/links/{link.pk}/contacts/add/", headers=HX).content.decode()
    assert re.search(r'<input type="text" name="name"[^>]*maxlength="160"', body)


@pytest.mark.django_db
def test_a_new_actor_name_loses_its_control_characters(client_owner, chain):
    kind = make_kind("Retail")
    response = client_owner.post(
        f"/chains/{chain.pk}/links/add/",
        {"stage": chain.stages.first().pk, "new_name": "Tile\x07 Trade\x1b", "new_kind": kind.pk},
        headers=HX,
    )
    assert response.status_code == 200
    assert chain.links.filter(actor__name="Tile Trade").exists()


@pytest.mark.django_db
def test_review_texts_are_bounded_and_cleaned(client, manager, chain):
    client.force_login(manager)
    url = f"/chains/{chain.pk}/comments/add/"
    refused = client.post(url, {"about": "", "text": LONG}, headers=HX)
    assert refused.status_code == 200 and "at most 5000 characters" in refused.content.decode()
    assert not ReviewComment.objects.exists()
    client.post(url, {"about": "", "text": "Who\x0bdecides?\x00"}, headers=HX)
    assert ReviewComment.objects.get().text == "Who\ndecides?"


@pytest.mark.django_db
def test_a_snapshot_label_with_a_nul_byte_is_no_server_error(client, manager, chain):
    client.force_login(manager)
    url = f"/chains/{chain.pk}/snapshots/add/"
    response = client.post(url, {"label": "Review\x00 2027"}, headers=HX)
    assert response.status_code == 200
    assert ChainSnapshot.objects.get(chain=chain).label == "Review 2027"
    too_long = client.post(url, {"label": LONG}, headers=HX)
    assert too_long.status_code == 200 and "at most 80 characters" in too_long.content.decode()


def test_plain_text_fields_get_a_maximum_length():
    class Note(CleanTextMixin, forms.Form):
        title = forms.CharField()
        body = forms.CharField(widget=forms.Textarea)
        code = forms.CharField(max_length=12)

    form = Note({"title": "t" * (LINE_MAX + 1), "body": "b" * TEXT_MAX, "code": "c\x0b"})
    assert not form.is_valid() and list(form.errors) == ["title"]
    assert form.cleaned_data == {"body": "b" * TEXT_MAX, "code": "c"}
    assert f'maxlength="{TEXT_MAX}"' in str(form["body"])
    assert f'maxlength="{LINE_MAX}"' in str(form["title"])


@pytest.mark.parametrize("module", [chain.forms, customers.forms, chain.admin, chain.views_import])
def test_every_form_of_the_app_uses_the_hygiene(module):
    classes = [
        cls
        for _name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__
    ]
    assert classes
    assert [cls.__name__ for cls in classes if not issubclass(cls, CleanTextMixin)] == []
