"""The operators' files in ``ops/``: the alert rules parse and say what they are about, the
dashboard's panels each query something, and, where Prometheus' ``promtool`` is installed
(Debian's ``prometheus`` package), the rules pass its check and their unit tests
(``alerts_test.yml``: each alert fires on the series it is meant for, and not before).
That every metric they name exists in a real scrape is tested in
``tests/integration/workers/test_worker_metrics.py``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

OPS = Path(__file__).resolve().parents[2] / "ops"
ALERTS = OPS / "prometheus" / "alerts.yml"
ASKED = {
    "AmazonChannelSyncLagging",
    "AmazonChannelThrottled",
    "AmazonChannelOutboxStuck",
    "AmazonChannelShipByMissed",
    "AmazonChannelDeadLetters",
}


def test_the_alert_rules_parse_and_cover_what_the_issue_asks() -> None:
    rules = [
        rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]
    ]
    assert {rule["alert"] for rule in rules} >= ASKED
    for rule in rules:
        assert (
            rule["expr"].strip() and rule["labels"]["severity"] and rule["annotations"]["summary"]
        )


def test_every_dashboard_panel_queries_something() -> None:
    dashboard = json.loads((OPS / "grafana" / "amazon-channel.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) >= 20
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"]), panel["title"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_checks_the_rules_and_runs_their_unit_tests() -> None:
    for args in (["check", "rules", ALERTS.name], ["test", "rules", "alerts_test.yml"]):
        done = subprocess.run(
            ["promtool", *args], cwd=ALERTS.parent, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
