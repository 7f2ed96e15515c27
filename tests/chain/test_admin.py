import pytest

from tests.factories import make_actor, make_contact, make_influence, make_link


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model",
    [
        "team",
        "actorkind",
        "successfactor",
        "actor",
        "chain",
        "chainlink",
        "contact",
        "influence",
        "worksheetanswer",
    ],
)
def test_admins_keep_the_catalogs(admin_client, chain, model):
    a = make_link(chain, actor=make_actor("Tile Trade"))
    b = make_link(chain)
    make_contact(a)
    make_influence(a, b)
    assert admin_client.get(f"/admin/chain/{model}/").status_code == 200
    assert admin_client.get(f"/admin/chain/{model}/add/").status_code == 200


@pytest.mark.django_db
def test_sales_users_cannot_open_the_admin(client_owner):
    response = client_owner.get("/admin/chain/actor/")
    assert response.status_code == 302 and "/admin/login/" in response.url
