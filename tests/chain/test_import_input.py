"""The CRM import strips control characters from what it stores, and counts rows in the
reader's number format."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chain.imports import read_sheet
from chain.models import ActorKind, Contact


def test_control_characters_are_stripped_when_the_file_is_read():
    data = "Firma;Ansprechpartner;Notiz\nMüller\x0bBau GmbH;Frau\x07 Kurz;Zeile 1\x0bZeile 2\n"

    sheet = read_sheet(data.encode(), filename="crm.csv")

    assert sheet.rows == [["Müller\nBau GmbH", "Frau Kurz", "Zeile 1\nZeile 2"]]


@pytest.mark.django_db
def test_a_vertical_tab_never_reaches_the_chain(client_owner, chain, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    kind = ActorKind.objects.create(name="Hersteller")
    url = f"/chains/{chain.pk}/import/"
    data = b"Firma;Ansprechpartner;Notiz\nVT\x0bGmbH;Frau\x0bKurz;a\x0bb\n"
    client_owner.post(url, {"file": SimpleUploadedFile("crm.csv", data)})
    token = client_owner.session[f"chain-import-{chain.pk}"]["token"]
    mapping = {"token": token, "actor_name": "0", "contact_name": "1", "contact_notes": "2"}
    mapping |= {"default_kind": kind.pk, "default_stage": chain.stages.first().pk}
    client_owner.post(url + "mapping/", mapping)
    expect = client_owner.get(url + "preview/").context["plan"].counts.fingerprint
    client_owner.post(url + "confirm/", {"token": token, "expect": expect})

    contact = Contact.objects.get(link__chain=chain)
    assert (contact.link.actor.name, contact.name, contact.notes) == (
        "VT GmbH",
        "Frau Kurz",
        "a\nb",
    )


@pytest.mark.django_db
def test_the_row_count_is_written_in_the_readers_format(client_owner, chain, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    lines = ["Firma"] + [f"Firma {n}" for n in range(1_080)]
    url = f"/chains/{chain.pk}/import/"
    client_owner.post(url, {"file": SimpleUploadedFile("crm.csv", "\n".join(lines).encode())})

    english = client_owner.get(url + "mapping/", headers={"Accept-Language": "en"})
    german = client_owner.get(url + "mapping/", headers={"Accept-Language": "de"})

    assert "crm.csv: 1,080 rows." in english.content.decode()
    assert "crm.csv: 1.080 Zeilen." in german.content.decode()
