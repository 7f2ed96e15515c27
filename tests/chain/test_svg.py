import pytest

from tests.factories import make_actor, make_influence, make_link


@pytest.mark.django_db
def test_it_downloads_a_standalone_svg(client_owner, chain):
    a = make_link(chain, actor=make_actor("Müller & Söhne <GmbH>"))
    b = make_link(chain, chain.stages.last())
    make_influence(a, b)
    response = client_owner.get(f"/chains/{chain.pk}/diagram.svg")
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "attachment" in response["Content-Disposition"]
    svg = response.content.decode()
    assert svg.startswith("<?xml")
    assert "Müller &amp; Söhne &lt;GmbH&gt;" in svg
    assert svg.count('class="influence"') == 1
    assert "hx-get" not in svg


@pytest.mark.django_db
def test_it_parses_as_xml_with_many_actors(client_owner, chain):
    from xml.etree import ElementTree

    stages = list(chain.stages.all())
    links = [make_link(chain, stages[i % 4]) for i in range(40)]
    for i in range(60):
        a, b = links[i % 40], links[(i * 7 + 3) % 40]
        if a != b and not chain.influences.filter(source=a, target=b).exists():
            make_influence(a, b)
    svg = client_owner.get(f"/chains/{chain.pk}/diagram.svg").content
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert len(root.findall(".//{http://www.w3.org/2000/svg}rect")) >= 40
