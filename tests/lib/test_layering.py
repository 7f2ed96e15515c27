"""The apps depend one way (docs/architecture.md): customers builds on chain, both on lib.

`chain` imports nothing from `customers`, and `lib` imports neither app. Checked on the
source with `ast`, so that an import inside a function counts as much as one at the top.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_packages(source: str, module: str) -> set[str]:
    """The top-level packages that the code of ``module`` ("chain.views") imports."""
    package = module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.add(str(node.module).split(".")[0])
            else:
                base = package[: len(package) - (node.level - 1)]
                found.add((base or [str(node.module)])[0])
    return found


def modules_of(app: str) -> dict[str, str]:
    """Module name -> source for every module of ``app``, migrations left out."""
    modules = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "migrations" not in parts:
            modules[".".join(parts)] = path.read_text(encoding="utf-8")
    return modules


def offenders(app: str, forbidden: set[str]) -> list[str]:
    return [
        f"{module} imports {', '.join(sorted(found))}"
        for module, source in modules_of(app).items()
        if (found := imported_packages(source, module) & forbidden)
    ]


def test_the_check_sees_every_kind_of_import():
    code = """
import customers
import customers.reading as reading
from customers.templatetags.money import number
from . import services
def later():
    from customers import reading
"""
    assert imported_packages(code, "chain.imports") >= {"customers", "chain"}
    assert imported_packages("from ..x import y", "chain.templatetags.tags") == {"chain"}
    assert imported_packages("from . import services", "chain.views") == {"chain"}
    assert imported_packages("x = 'customers.reading'", "chain.roles") == set()


def test_the_walk_finds_the_modules():
    chain = modules_of("chain")
    assert {"chain.imports", "chain.views_import", "chain.templatetags.chain_urls"} <= set(chain)
    assert not any(".migrations." in module for module in chain)
    assert {"lib.tables", "lib.numbers", "lib.text"} <= set(modules_of("lib"))


def test_chain_imports_nothing_from_customers():
    # Values from customers reach chain pages through the hooks in chain/decorations.py.
    assert offenders("chain", {"customers"}) == []


def test_lib_imports_neither_app():
    assert offenders("lib", {"chain", "customers"}) == []
