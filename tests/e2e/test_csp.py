"""The pages work under the Content-Security-Policy, in a real browser.

Every violation the browser reports (the `securitypolicyviolation` event and its console
message) and every script error is collected while a user logs in, works on the demo
chain through htmx, opens the customer portfolio and a customer with their charts, and
an administrator opens the admin.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from chain.models import Actor, Chain, ChainLink
from customers.management.commands.demo_data import ADMIN_PASSWORD, DEMO_PASSWORD, SCOPE

from .conftest import CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]

# Runs before any page script, outside the page's CSP (Playwright injects it over CDP).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || document.location.href}:${e.lineNumber} ${e.sample || ""}`);
});
"""


# Where (in pixels from the chart's corner) a WebGL point is drawn, and the URL it carries.
POINT_WITH_LARGEST_X = """
id => {
  const chart = document.getElementById(id);
  const layout = chart._fullLayout;
  let best = null;
  chart._fullData.filter(t => t.type === "scattergl").forEach(t => {
    Array.from(t.x).forEach((x, i) => {
      if (!best || x > best.value) best = {value: x, y: t.y[i], url: t.customdata[i]};
    });
  });
  return {
    x: layout._size.l + layout.xaxis.d2p(best.value),
    y: layout._size.t + layout.yaxis.d2p(best.y),
    url: best.url,
  };
}
"""


@pytest.fixture
def problems(page) -> list[str]:
    """CSP violations and script errors seen on `page`, in the order they happened."""
    seen: list[str] = []
    page.expose_function("reportViolation", lambda text: seen.append(f"violation: {text}"))
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda msg: (
            seen.append(f"console: {msg.text}") if "Content Security Policy" in msg.text else None
        ),
    )
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    return seen


@pytest.mark.django_db(transaction=True)
def test_the_app_works_under_its_content_security_policy(live_server, page, problems):
    call_command("demo_data", stdout=StringIO())
    chain = Chain.objects.get(scope_name=SCOPE)
    assert chain.influences.exists()
    base = live_server.url

    response = page.goto(f"{base}/accounts/login/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    log_in(page, base, "demo", DEMO_PASSWORD)

    # The chain page: the diagram takes its styles from app.css, not from inline <style>.
    page.goto(f"{base}/chains/{chain.pk}/")
    expect(page.locator("#summary h1")).to_contain_text(SCOPE)
    stage_title = page.locator("#diagram svg.diagram text.d-stage").first
    expect(stage_title).to_have_css("font-weight", "700")
    expect(page.locator("#diagram svg.diagram")).to_have_css("max-width", "100%")
    expect(page.locator("#diagram svg path.influence")).not_to_have_count(0)

    # An actor's form, opened and saved through htmx.
    link = ChainLink.objects.filter(chain=chain, actor__is_own_company=False).first()
    card = page.locator(f"article#link-{link.pk}")
    page.locator("#tab-board").click()
    card.locator("a.card-title").click()
    form = page.locator(f"form#link-{link.pk}")
    new_importance = "2" if link.importance != 2 else "3"
    form.locator("[name=importance]").select_option(new_importance)
    with page.expect_response(lambda r: f"/links/{link.pk}/edit/" in r.url and r.ok):
        form.locator("button[type=submit]").click()
    expect(card.locator(".dots")).to_have_attribute("aria-label", f"importance: {new_importance}")
    link.refresh_from_db()
    assert link.importance == int(new_importance)

    # The portfolio chart is drawn by app.js from its JSON.
    page.goto(f"{base}/customers/portfolio/")
    expect(page.locator("#portfolio-chart svg.main-svg").first).to_be_attached()
    expect(page.locator("#portfolio-chart .legendtext").first).to_be_visible()
    # A click on a point opens its customer (app.js attached the handler): the point with
    # the largest current value, which stands apart from the crowd near the origin.
    point = page.evaluate(POINT_WITH_LARGEST_X, "portfolio-chart")
    chart_box = page.locator("#portfolio-chart").bounding_box()
    page.mouse.move(chart_box["x"] + point["x"], chart_box["y"] + point["y"])
    expect(page.locator("#portfolio-chart .hoverlayer .hovertext")).to_be_visible()
    with page.expect_navigation(url=f"{base}{point['url']}"):
        page.mouse.click(chart_box["x"] + point["x"], chart_box["y"] + point["y"])

    # The customer page with its value history chart.
    expect(page.locator("#history-chart svg.main-svg").first).to_be_attached()
    expect(page.locator("#history-chart .scatterlayer .trace").first).to_be_attached()

    # An administrator's admin: index, a changelist and a change form.
    page.locator("header form[action='/accounts/logout/'] button").click()
    log_in(page, base, "admin", ADMIN_PASSWORD)
    page.goto(f"{base}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{base}/admin/chain/actor/")
    expect(page.locator("#result_list")).to_be_visible()
    actor = Actor.objects.order_by("pk").first()
    page.goto(f"{base}/admin/chain/actor/{actor.pk}/change/")
    expect(page.locator("#id_name")).to_have_value(actor.name)

    assert problems == [], "\n".join(problems)
