"""The sandbox is the fake of Amazon: it knows Amazon's shapes and nothing of ours, and its
parts stack in one order.

Of the project's own code it imports only itself, Amazon's models (``infra.amazon.models``) and
Amazon's published list of marketplaces (``infra.marketplaces``, shared with the store's checks):
never the domain, the store, the settings or the workers, so it cannot drift into playing
our code instead of Amazon's. Inside, each part imports only the parts before it in ``LAYERS``
(the package docstring's picture).
"""

from __future__ import annotations

import ast
from pathlib import Path

import infra.amazon.sandbox

OURS = ("domain", "infra", "workers", "tests", "bench")
ALLOWED = ("infra.amazon.sandbox", "infra.amazon.models", "infra.marketplaces")
ROOT = Path(infra.amazon.sandbox.__file__).parent
LAYERS = (
    "errors",
    "state",
    "rules",
    "generate",
    "render",
    "render_finances",
    "render_notifications",
    "feeds",
    "reports",
    "delivery",
    "operations",
    "control",
    "app",
    "demo_sellers",
    "keeper",
    "server",
)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "infra.amazon.sandbox":  # from infra.amazon.sandbox import feeds
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _ours(module: str) -> bool:
    return module.split(".")[0] in OURS


def _allowed(module: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in ALLOWED)


def test_the_sandbox_imports_nothing_of_ours_but_itself_and_amazons_models() -> None:
    modules = sorted(ROOT.rglob("*.py"))
    wrong = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in modules
        for module in _imports(path)
        if _ours(module) and not _allowed(module)
    }

    assert len(modules) > 20  # the packages were found
    assert not wrong, sorted(wrong)


def _layer(part: str) -> int:
    return LAYERS.index(part)


def test_each_part_imports_only_the_parts_before_it() -> None:
    prefix = "infra.amazon.sandbox."
    upward = set()
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.name == "__init__.py" and len(relative.parts) == 1:
            continue  # the package's own docstring
        part = relative.parts[0].removesuffix(".py")
        for module in _imports(path):
            if module.startswith(prefix):
                imported = module[len(prefix) :].split(".")[0]
                if _layer(imported) > _layer(part):
                    upward.add(f"{relative}: {module}")

    assert not upward, sorted(upward)
