"""The supervisor hands the servers' URLs to its children through their own environment and
leaves its own alone."""

from __future__ import annotations

import os
from pathlib import Path

from infra.settings import Settings, load_settings
from workers.supervisor import child_environment, procfile_processes
from workers.system import services

DATABASE_URL = "postgresql+psycopg://app@db.internal/channel"
REDIS_URL = "redis://cache.internal:6379/1"
BROKER_URL = "redis://cache.internal:6379/0"


def _given(**more: object) -> Settings:
    return load_settings(
        database_url=DATABASE_URL, redis_url=REDIS_URL, broker_url=BROKER_URL, **more
    )


def test_children_get_the_urls_and_extras_in_their_own_environment() -> None:
    before = dict(os.environ)
    env = child_environment(_given(), API_TOKENS="demo-token")
    assert env["DATABASE_URL"] == DATABASE_URL
    assert env["REDIS_URL"] == REDIS_URL
    assert env["BROKER_URL"] == BROKER_URL
    assert env["API_TOKENS"] == "demo-token"
    assert dict(os.environ) == before, "the supervisor's own environment is untouched"


def test_servers_the_environment_names_are_used_as_they_are(tmp_path: Path) -> None:
    before = dict(os.environ)
    with services(_given(data_dir=tmp_path)) as ready:
        assert (ready.database_url, ready.redis_url, ready.broker_url) == (
            DATABASE_URL,
            REDIS_URL,
            BROKER_URL,
        )
    assert dict(os.environ) == before


def test_every_procfile_process_runs_this_interpreters_cli() -> None:
    for spec in procfile_processes():
        assert spec.argv[1:3] == ("-m", "workers.cli"), spec
