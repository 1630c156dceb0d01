"""The deployment files: docker-compose.yml is a valid Compose file (the Compose Specification's
JSON schema, as check-jsonschema vendors it with its licence), its services run the Procfile's
commands in the one image (the Dockerfile's entrypoint ``amazon-channel`` and the service's
``command``), nothing of ours mounts the source read-only or installs at start, and the one-shot
account service adds the sandbox's own demo seller."""

from __future__ import annotations

import csv
import io
import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infra.amazon.sandbox.state import DEMO_SELLER
from workers.queues import QUEUES
from workers.supervisor import procfile_commands

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
ONE_SHOTS = ("migrate", "demo-account")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def entrypoint() -> list[str]:
    """The Dockerfile's ENTRYPOINT (its exec form)."""
    (line,) = re.findall(r"^ENTRYPOINT (.+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    found: list[str] = json.loads(line)
    return found


def test_the_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_rejects_what_compose_would(compose: dict[str, Any]) -> None:
    """The check can fail: a misspelt key and a command of the wrong type are refused."""
    schema = json.loads(SCHEMA.read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["comand"] = ["web"]
    broken["services"]["beat"]["command"] = {"beat": True}
    paths = {e.json_path for e in jsonschema.Draft202012Validator(schema).iter_errors(broken)}
    assert {"$.services.web", "$.services.beat.command"} <= paths


def test_every_procfile_process_is_a_service_running_its_command(compose: dict[str, Any]) -> None:
    services = compose["services"]
    procfile = procfile_commands((ROOT / "Procfile").read_text())
    assert entrypoint() == ["amazon-channel"]
    for name, command in procfile.items():
        assert name in services, f"{name} of the Procfile has no service"
        service = services[name]
        assert "entrypoint" not in service, name
        assert [*entrypoint(), *service["command"]] == command, name


def test_one_worker_service_per_queue(compose: dict[str, Any]) -> None:
    workers = {
        name: s["command"][1]
        for name, s in compose["services"].items()
        if s.get("command", [None])[0] == "worker"
    }
    assert sorted(workers.values()) == sorted(QUEUES)
    assert all(service == queue for service, queue in workers.items())


def test_ours_run_the_built_image_after_the_migration(compose: dict[str, Any]) -> None:
    ours = {n: s for n, s in compose["services"].items() if "build" in s}
    procfile = procfile_commands((ROOT / "Procfile").read_text())
    assert set(procfile) | {"sandbox", *ONE_SHOTS} == set(ours)
    images = {s["image"] for s in ours.values()}
    assert len(images) == 1, "one image for every process"
    for name, service in ours.items():
        mounts = [str(v) for v in service.get("volumes", [])]
        assert not any(m.startswith((".", "/")) for m in mounts), f"{name} mounts the host"
        if name in procfile:
            assert service["depends_on"]["migrate"] == {
                "condition": "service_completed_successfully"
            }
            assert service["restart"] == "unless-stopped"
    assert ours["migrate"]["command"] == ["db", "upgrade"]
    assert "restart" not in ours["migrate"] and "restart" not in ours["demo-account"]


def test_the_servers_listen_beyond_their_container(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["web"]["environment"]["WEB_HOST"] == "0.0.0.0"
    assert services["flower"]["environment"]["FLOWER_HOST"] == "0.0.0.0"
    assert services["sandbox"]["command"][1:3] == ["--host", "0.0.0.0"]


def test_the_demo_account_is_the_sandboxs_demo_seller(compose: dict[str, Any]) -> None:
    service = compose["services"]["demo-account"]
    ((config,),) = [service["configs"]]
    (command,) = service["command"]
    assert f"accounts import --skip-existing {config['target']}" in command
    assert command.startswith('[ "$${AMAZON_REGION}" != SANDBOX ] ||'), "sandbox only"
    rows = list(csv.DictReader(io.StringIO(compose["configs"][config["source"]]["content"])))
    assert rows == [
        {
            "name": "demo",
            "seller_id": DEMO_SELLER.seller_id,
            "region": "SANDBOX",
            "marketplaces": ";".join(DEMO_SELLER.marketplace_ids),
            "client_id": DEMO_SELLER.client_id,
            "refresh_token": DEMO_SELLER.refresh_token,
        }
    ]


def test_every_service_of_ours_names_its_lines(compose: dict[str, Any]) -> None:
    """The Procfile's commands name their own process; the others are named here."""
    services = compose["services"]
    for name in ("sandbox", *ONE_SHOTS):
        assert services[name]["environment"]["PROCESS_NAME"] == name
    assert all(s["environment"]["LOG_JSON"] == "1" for s in services.values() if "build" in s)
