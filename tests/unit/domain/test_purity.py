"""The domain's shape, read from its source: the standard library only (an allow-list), feature
packages independent of each other, siblings imported by full path and without cycles, and every
module short and opening with its role."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[3] / "domain"
# What every feature may lean on besides itself: shared for everyone, orders for the features
# that act on orders. Anything else between features goes through a port.
SHARED = "shared"
ORDERS = "orders"
# Features that send through Amazon's feeds may also use the feeds package.
FEEDS = "feeds"
SENDS_FEEDS = frozenset({"refunds"})
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(DOMAIN.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(DOMAIN.rglob("*.py"))}
FEATURES = sorted(p.name for p in DOMAIN.iterdir() if (p / "__init__.py").is_file())


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Each module an import statement names (anywhere in the file, TYPE_CHECKING blocks too)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield node.lineno, "." * node.level + (node.module or "")
            else:
                assert node.module is not None
                yield node.lineno, node.module
                # ``from domain import orders`` names the module domain.orders.
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in MODULES:
                        yield node.lineno, f"{node.module}.{alias.name}"


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "domain" else None


def test_the_domain_is_read_where_the_tests_expect_it() -> None:
    assert {SHARED, ORDERS, "ingestion", "fulfilments"} <= set(FEATURES)
    assert "domain.fulfilments.model" in MODULES


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_domain_module_imports_the_standard_library_and_the_domain_only(module: str) -> None:
    outside = [
        f"line {line}: {name}"
        for line, name in imports(MODULES[module])
        if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "domain"
    ]
    assert outside == [], f"{module} imports what is neither the standard library nor ours"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_domain_module_imports_by_full_path_never_relatively(module: str) -> None:
    relative = [f"line {line}: {name}" for line, name in imports(MODULES[module]) if name[0] == "."]
    assert relative == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if feature_of(m)))
def test_feature_packages_share_only_through_shared_and_orders_and_feeds_for_senders(
    module: str,
) -> None:
    own = feature_of(module)
    allowed = {own, SHARED} if own in (SHARED, ORDERS, FEEDS) else {own, SHARED, ORDERS}
    if own in SENDS_FEEDS:
        allowed.add(FEEDS)
    crossing = [
        f"line {line}: {name}"
        for line, name in imports(MODULES[module])
        if name.split(".")[0] == "domain" and feature_of(name) not in allowed
    ]
    assert crossing == [], f"{module} reaches into another feature"


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if feature_of(m) and m.count(".") >= 2)
)
def test_a_module_imports_its_siblings_never_its_own_packages_face(module: str) -> None:
    package = module.rsplit(".", 1)[0]
    through_face = [
        f"line {line}: {name}" for line, name in imports(MODULES[module]) if name == package
    ]
    assert through_face == [], f"{module} imports its siblings through {package}'s __init__"


def test_no_two_modules_of_the_domain_import_each_other_in_a_circle() -> None:
    graph = {
        module: {name for _, name in imports(path) if name in MODULES and name != module}
        for module, path in MODULES.items()
    }
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = [*trail[trail.index(module) :], module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if module in done or module not in graph:
            return
        for name in sorted(graph[module]):
            visit(name, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_domain_module_opens_with_its_role_and_stays_short(module: str) -> None:
    source = MODULES[module].read_text()
    assert ast.get_docstring(ast.parse(source)), f"{module} has no docstring"
    assert len(source.splitlines()) <= MAX_LINES
