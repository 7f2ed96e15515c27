"""A chain's customers, in a real browser: import value data with products, open the chain
about one of the products, see its customers and the value on its diagram, follow an
actor to its customers.
"""

import datetime
import re
from pathlib import Path

import pytest

from customers.management.commands.demo_data import SCOPE
from customers.models import ValueRecord
from customers.selectors import _has_field

from .conftest import CHROMIUM, log_in

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
    pytest.mark.skipif(
        not _has_field(ValueRecord, "product"), reason="value import without products"
    ),
]


def _value_file(folder: Path) -> Path:
    """Two years of months: two buyers of the chain's product, one of another product."""
    lines = ["Kundennummer;Kundenname;Monat;Umsatz;Deckungsbeitrag;Produkt"]
    today = datetime.date.today()
    buyers = [
        ("E2E-1", "Kleber Käufer Nord GmbH", SCOPE, 1.06),
        ("E2E-2", "Kleber Käufer Süd GmbH", SCOPE.replace("Montagekleber", "MONTAGEKLEBER"), 1.0),
        ("E2E-3", "Fugen Käufer GmbH", "Fugenmörtel", 1.0),
    ]
    for number, name, product, rate in buyers:
        for month in range(24):
            # The 24 months up to last month, where the demo's analysis stands.
            back = 24 - month
            year, m = today.year + (today.month - 1 - back) // 12, (today.month - 1 - back) % 12 + 1
            # Large enough to rank among the demo chain's largest customers (the first rows).
            revenue = 1_000_000_000 * rate**month
            margin = revenue * 0.3
            lines.append(f"{number};{name};{m:02d}.{year};{revenue:.2f};{margin:.2f};{product}")
    path = folder / "werte_mit_produkten.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_chain_shows_its_customers_and_their_value(live_server, page, demo_chain, tmp_path):
    base, chain = live_server.url, demo_chain
    log_in(page, base)

    page.goto(f"{base}/customers/import/")
    page.locator("input[type=file]").set_input_files(str(_value_file(tmp_path)))
    page.locator("form[enctype] button[type=submit]").first.click()
    expect(page.locator("#batch-status")).to_contain_text("rows imported", timeout=60_000)

    # The diagram: the linked customers' value under the actors' names, and a legend.
    page.goto(f"{base}/chains/{chain.pk}/?tab=diagram")
    values = page.locator("#diagram a.box-value")
    expect(values.first).to_be_visible()
    expect(values.first).to_contain_text("→")
    expect(page.locator("#diagram svg")).to_contain_text("contribution margin")

    # The customers tab: the chain's product's buyers (in capitals too), not the others.
    page.get_by_role("tab", name="Customers").click()
    table = page.locator("#chain-customer-table")
    expect(table).to_contain_text("Kleber Käufer Nord GmbH")
    expect(table).to_contain_text("Kleber Käufer Süd GmbH")
    expect(table).not_to_contain_text("Fugen Käufer GmbH")
    expect(page.locator("#chain-customers")).to_contain_text("Focus for the chain’s goal")
    # The portfolio chart of the chain's customers, drawn in the region htmx loaded.
    expect(page.locator(f"#chain-portfolio-{chain.pk} .main-svg").first).to_be_visible()

    # One click from an actor's box to its customers.
    page.get_by_role("tab", name="Diagram").click()
    box = values.first
    href = box.get_attribute("href")
    actor = re.search(r"actor=(\d+)", href).group(1)
    box.click()
    expect(page).to_have_url(re.compile(rf"tab=customers&actor={actor}"))
    expect(page.locator("#chain-customers h2")).to_contain_text("Customers linked to")
    expect(page.locator("#chain-customer-table tbody tr").first).to_be_visible()
