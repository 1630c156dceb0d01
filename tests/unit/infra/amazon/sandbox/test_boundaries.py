"""The sandbox is the fake of Amazon: it knows Amazon's shapes and nothing of ours.

Of the project's own code it imports only itself and Amazon's models (``infra.amazon.models``):
never the domain, the store, the settings or the workers, so it cannot drift into playing
our code instead of Amazon's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import infra.amazon.sandbox

OURS = ("domain", "infra", "workers", "tests", "bench")
ALLOWED = ("infra.amazon.sandbox", "infra.amazon.models")
ROOT = Path(infra.amazon.sandbox.__file__).parent


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
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
