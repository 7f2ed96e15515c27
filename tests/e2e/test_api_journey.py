"""A user creates an API token, reads the chains with it, and opens the API docs, which
work under the Content-Security-Policy with the app's own Swagger UI files."""

import pytest

from tests.factories import make_chain, make_team, make_user

from .conftest import CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.reportViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@pytest.mark.django_db(transaction=True)
def test_a_token_reads_the_chains_and_the_docs_run_under_the_csp(live_server, page):
    team = make_team("Sales adhesives")
    user = make_user("ida", team)
    chain = make_chain(team, user)
    problems: list[str] = []
    page.expose_function("reportViolation", lambda text: problems.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    external: list[str] = []
    page.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    base = live_server.url
    log_in(page, base, "ida", "pw-ida")

    page.goto(f"{base}/api/tokens/")
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#token-secret").input_value()
    assert len(secret) > 30
    expect(page.locator("table.table")).to_contain_text("CRM sync")

    answer = page.request.get(
        f"{base}/api/v1/chains", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.ok
    assert [c["id"] for c in answer.json()["items"]] == [chain.pk]

    page.goto(f"{base}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Chain mapper API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert problems == []
    assert external == []
