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


# Geometry of the diagram ------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def _svg(chain, **options):
    from xml.etree import ElementTree

    from chain.diagram import render_svg
    from chain.selectors import chain_board

    return ElementTree.fromstring(render_svg(chain_board(chain), interactive=False, **options))


def _box_rect(root, link) -> tuple[float, float, float, float]:
    rect = root.find(f".//*[@id='box-{link.pk}']/{SVG}rect")
    x, y = float(rect.get("x")), float(rect.get("y"))
    return x, y, x + float(rect.get("width")), y + float(rect.get("height"))


def _path_points(d: str, steps: int = 12) -> list[tuple[float, float]]:
    """The points along an SVG path of M, L, Q and C commands (curves sampled)."""
    import re

    tokens = re.findall(r"[MLQC]|-?[\d.]+", d)
    points: list[tuple[float, float]] = []
    i = 0
    while i < len(tokens):
        command = tokens[i]
        n = {"M": 1, "L": 1, "Q": 2, "C": 3}[command]
        coords = [float(t) for t in tokens[i + 1 : i + 1 + 2 * n]]
        controls = [points[-1]] if points else []
        controls += list(zip(coords[::2], coords[1::2], strict=True))
        i += 1 + 2 * n
        if command in "ML":
            points.append(controls[-1])
            continue
        for step in range(1, steps + 1):
            t = step / steps
            # de Casteljau: a Bézier curve of any degree.
            pts = controls
            while len(pts) > 1:
                pts = [
                    (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
                    for a, b in zip(pts, pts[1:], strict=False)
                ]
            points.append(pts[0])
    return points


def _crosses(a, b, rect) -> bool:
    """Does the segment a-b pass through the inside of rect (x1, y1, x2, y2)?"""
    x1, y1, x2, y2 = rect
    for k in range(101):
        t = k / 100
        x, y = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
        if x1 < x < x2 and y1 < y < y2:
            return True
    return False


def _arrow(root, source, target) -> list[tuple[float, float]]:
    path = root.find(f".//{SVG}path[@data-from='{source.pk}'][@data-to='{target.pk}']")
    return _path_points(path.get("d"))


@pytest.mark.django_db
@pytest.mark.parametrize("backwards", [False, True])
def test_an_influence_across_stages_goes_around_the_boxes_between(chain, backwards):
    stages = list(chain.stages.all())[:4]
    # Three members per stage, so that a straight line from the first stage's first member
    # to the fourth stage's would run through boxes of the second and third stages.
    links = [[make_link(chain, stage) for _ in range(3)] for stage in stages]
    first, last = links[0][0], links[3][1]
    source, target = (last, first) if backwards else (first, last)
    make_influence(source, target)
    root = _svg(chain)
    points = _arrow(root, source, target)
    in_between = [link for column in links[1:3] for link in column] + [
        link for link in links[0] + links[3] if link not in (source, target)
    ]
    for link in in_between:
        rect = _box_rect(root, link)
        for a, b in zip(points, points[1:], strict=False):
            assert not _crosses(a, b, rect), f"the arrow crosses {link.actor.name}"
    # It starts at the source's box and ends at the target's.
    sx1, sy1, sx2, sy2 = _box_rect(root, source)
    tx1, ty1, tx2, ty2 = _box_rect(root, target)
    assert points[0][0] in (sx1, sx2) and sy1 < points[0][1] < sy2
    assert points[-1][0] in (tx1, tx2) and ty1 < points[-1][1] < ty2


@pytest.mark.django_db
def test_arrows_between_neighbours_and_within_a_stage_cross_no_box(chain):
    stages = list(chain.stages.all())[:2]
    a, b, c = (make_link(chain, stages[0]) for _ in range(3))
    d = make_link(chain, stages[1])
    make_influence(a, c)  # past b, within the stage
    make_influence(c, d)
    root = _svg(chain)
    for source, target in ((a, c), (c, d)):
        points = _arrow(root, source, target)
        others = [link for link in (a, b, c, d) if link not in (source, target)]
        for link in others:
            rect = _box_rect(root, link)
            assert not any(_crosses(p, q, rect) for p, q in zip(points, points[1:], strict=False))


@pytest.mark.django_db
def test_names_of_40_characters_appear_whole(chain):
    name = "Baustoff-Fachhandel Oberland Süd GmbH & Co"
    assert len(name) > 40
    link = make_link(chain, actor=make_actor(name))
    stage = chain.stages.first()
    stage.name = "Großhandel und Fachhandel für Bauchemie"
    stage.save()
    root = _svg(chain)
    lines = [t.text for t in root.findall(f".//*[@id='box-{link.pk}']/{SVG}text[@class='d-name']")]
    assert len(lines) > 1
    # Lines break at spaces or after a compound's hyphen.
    assert "".join(line if line.endswith("-") else line + " " for line in lines).strip() == name
    stage_lines = [t.text for t in root.findall(f".//{SVG}text[@class='d-stage']")]
    assert "Großhandel und Fachhandel für Bauchemie" in " ".join(stage_lines)


@pytest.mark.django_db
def test_a_long_word_is_split_with_a_hyphen_and_the_box_grows(chain):
    from chain.diagram import box_height

    short = make_link(chain, actor=make_actor("Bau AG"))
    long = make_link(chain, actor=make_actor("Wohnungsbaugesellschaftsverwaltungsgesellschaft"))
    root = _svg(chain)
    lines = [t.text for t in root.findall(f".//*[@id='box-{long.pk}']/{SVG}text[@class='d-name']")]
    assert len(lines) >= 3
    assert "".join(line.removesuffix("-") for line in lines) == long.actor.name
    _, y1, _, y2 = _box_rect(root, long)
    assert y2 - y1 == box_height(len(lines)) > box_height(1)
    # The boxes of a stage stack without overlapping.
    assert _box_rect(root, short)[3] <= y1


@pytest.mark.django_db
def test_seven_stages_fit_a_1440_px_screen_at_full_size(client_owner, chain):
    from xml.etree import ElementTree

    from chain import services

    while chain.stages.count() < 7:
        services.stage_add(chain=chain, name=f"Stage {chain.stages.count() + 1}")
    for stage in chain.stages.all():
        make_link(chain, stage, actor=make_actor(f"Fliesenfachhandel {stage.pk}"))
    response = client_owner.get(chain.get_absolute_url())
    svg = response.context["svg"]()
    root = ElementTree.fromstring(svg)
    _, _, width, _ = (float(v) for v in root.get("viewBox").split())
    # The page shows the picture at its own width (app.css shrinks it only when the
    # panel is narrower): the panel on a 1440 px screen is 1440 px less the page's margins
    # and the panel's padding.
    assert root.get("width") == f"{width:g}"
    assert width <= 1440 - 2 * 20 - 2 * 17 - 16  # margins, panel padding, scroll bar
    assert len(root.findall(f".//{SVG}text[@class='d-stage']")) >= 7


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", ["coverage", "relationship"])
def test_our_company_is_coloured_as_us_not_as_a_white_spot(chain, scheme):
    from chain.diagram import COVERAGE_COLORS, US_COLOR
    from chain.models import Coverage

    us = make_link(chain, actor=make_actor("Kleber & Co.", is_own_company=True))
    other = make_link(chain)  # nobody known: a white spot
    root = _svg(chain, scheme=scheme)
    assert root.find(f".//*[@id='box-{us.pk}']/{SVG}rect").get("fill") == US_COLOR
    if scheme == "coverage":
        fill = root.find(f".//*[@id='box-{other.pk}']/{SVG}rect").get("fill")
        assert fill == COVERAGE_COLORS[Coverage.NOBODY]
    legend = [t.text for t in root.iter(f"{SVG}text")]
    assert "our company" in legend
    # Showing only those with nobody known fades our company with the rest.
    faded = _svg(chain, scheme="coverage", only="nobody")
    assert faded.find(f".//*[@id='box-{us.pk}']").get("opacity") == "0.18"
    assert faded.find(f".//*[@id='box-{other.pk}']").get("opacity") is None


# The linked customers' value on the boxes (given by the customer app) -------------------


def _value_svg(chain, customers, *, interactive=False):
    """customers: (value type, current, future, margin or None) per customer of one actor."""
    import datetime

    from chain.diagram import render_svg
    from chain.selectors import chain_board
    from customers.models import AnalysisRun, Assessment, Customer, ValueRecord

    link = make_link(chain, actor=make_actor("Fliesen Huber"))
    run = AnalysisRun.objects.create(as_of=datetime.date(2026, 5, 1))
    for i, (value_type, current, future, margin) in enumerate(customers):
        customer = Customer.objects.create(number=f"K-{i}", actor=link.actor)
        ValueRecord.objects.create(
            customer=customer, period=datetime.date(2026, 5, 1), revenue=current, margin=margin
        )
        Assessment.objects.create(
            run=run,
            customer=customer,
            value_type=value_type,
            current_value=current,
            future_value=future,
        )
    return link, render_svg(chain_board(chain), interactive=interactive, editable=False)


@pytest.mark.django_db
def test_a_box_shows_its_customers_current_and_future_value_and_the_value_at_risk(chain):
    link, svg = _value_svg(
        chain, [("growth", 9000, 11400, 2000), ("shrinking", 1000, 500, 300)], interactive=True
    )
    assert "CM 10k → 12k" in svg
    assert "▼ CM 1.0k" in svg
    # One click to the actor's customers on the chain's customers tab.
    assert f'href="/chains/{chain.pk}/?tab=customers&amp;actor={link.actor_id}"' in svg
    # The legend says what the numbers are and on which basis.
    assert "CM: contribution margin" in svg
    assert "Rev.: revenue" not in svg


@pytest.mark.django_db
def test_the_stripe_is_weighted_by_value(chain):
    from xml.etree import ElementTree

    _link, svg = _value_svg(chain, [("growth", 9000, 9000, 1), ("shrinking", 1000, 1000, 1)])
    parts = {
        rect.get("data-type"): float(rect.get("data-share"))
        for rect in ElementTree.fromstring(svg).iter(f"{SVG}rect")
        if rect.get("class") == "value-type"
    }
    assert parts == {"growth": 0.9, "shrinking": 0.1}
    # The legend names every type a stripe shows, not only each box's largest.
    assert "growth customer" in svg
    assert "shrinking customer" in svg


@pytest.mark.django_db
def test_margin_and_revenue_are_never_added_up_on_a_box(chain):
    _link, svg = _value_svg(chain, [("steady", 4000, 4000, 1000), ("steady", 2000, 2000, None)])
    assert "CM 4.0k → 4.0k" in svg
    assert "Rev. 2.0k → 2.0k" in svg
    assert "Rev.: revenue, for customers without margin data." in svg


@pytest.mark.django_db
def test_a_box_without_linked_customers_shows_no_value(chain):
    make_link(chain)
    from chain.diagram import render_svg
    from chain.selectors import chain_board

    svg = render_svg(chain_board(chain), interactive=False)
    assert "box-value" not in svg
    assert "CM" not in svg
