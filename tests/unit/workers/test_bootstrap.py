"""The composition root: one container per process, each part built once, the sandbox's demo
app credentials from settings (production never imports the sandbox), no configuration by
writing the environment."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from infra.amazon.sandbox.state import DEMO_SELLER
from infra.clock import SystemClock
from infra.settings import Region, Settings
from workers import bootstrap

ROOT = Path(__file__).resolve().parents[3]
NOWHERE = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # never connected to here


@pytest.fixture
def fresh() -> Iterator[None]:
    bootstrap.reset_and_close()
    yield
    bootstrap.reset_and_close()


def test_against_the_sandbox_the_demo_apps_credentials_are_the_default() -> None:
    sandbox = Settings(amazon_region=Region.SANDBOX)
    assert sandbox.lwa_app_client_id() == DEMO_SELLER.client_id
    assert sandbox.lwa_app_client_secret().get_secret_value() == DEMO_SELLER.client_secret
    given = Settings(
        amazon_region=Region.SANDBOX, lwa_client_id="mine", lwa_client_secret=SecretStr("s")
    )
    assert given.lwa_app_client_id() == "mine"
    assert given.lwa_app_client_secret().get_secret_value() == "s"
    amazon = Settings(amazon_region=Region.EU)
    assert amazon.lwa_app_client_id() == ""
    assert amazon.lwa_app_client_secret().get_secret_value() == ""


def test_a_worker_waits_briefly_for_amazons_budget_a_command_as_long_as_it_takes(
    fresh: None,
) -> None:
    worker = bootstrap.container()
    assert not worker.patient and worker.max_wait_s == bootstrap.WORKER_MAX_WAIT_S
    command = bootstrap.use(Settings(database_url=NOWHERE))
    assert command.patient and command.max_wait_s is None
    assert not bootstrap.use(Settings(), patient=False).patient


def test_one_container_per_process_each_part_built_once(fresh: None) -> None:
    c = bootstrap.use(Settings(database_url=NOWHERE))
    assert bootstrap.container() is c
    assert isinstance(c.clock, SystemClock) and c.clock is c.clock
    assert c.fulfilment_store is c.fulfilment_store
    assert c.fulfilment_store.engine is c.engine is c.ingestion_store.engine
    assert c.shipments is c.shipments
    bootstrap.reset()  # a new worker child forgets what its parent built
    assert bootstrap.container() is not c


def test_use_closes_the_container_it_replaces(fresh: None) -> None:
    first = bootstrap.use(Settings(database_url=NOWHERE))
    pool = first.engine.pool
    second = bootstrap.use(Settings(database_url=NOWHERE))
    assert second is not first and "engine" not in second.__dict__
    assert first.engine.pool is not pool, "the replaced container's engine was disposed"


def _writes_the_environment(tree: ast.AST) -> list[int]:
    def is_environ(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )

    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Subscript) and is_environ(t.value) for t in targets):
            lines.append(targets[0].lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            writes = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__"}
            if is_environ(func.value) and func.attr in writes:
                lines.append(node.lineno)
            in_os = isinstance(func.value, ast.Name) and func.value.id == "os"
            if in_os and func.attr in ("putenv", "unsetenv"):
                lines.append(node.lineno)
    return lines


def test_no_production_module_configures_anything_by_writing_the_environment() -> None:
    found = {
        str(path.relative_to(ROOT)): lines
        for layer in ("domain", "infra", "workers")
        for path in sorted((ROOT / layer).rglob("*.py"))
        if (lines := _writes_the_environment(ast.parse(path.read_text())))
    }
    assert found == {}


def test_the_environment_check_sees_a_write() -> None:
    assert _writes_the_environment(ast.parse("import os\nos.environ['A'] = '1'\n")) == [2]
    assert _writes_the_environment(ast.parse("import os\nos.environ.update(A='1')\n")) == [2]
