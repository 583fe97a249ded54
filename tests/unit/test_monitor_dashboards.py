"""Dashboards as code: generated from the inventory, every query valid PromQL.

The queries' syntax is checked by promtool (each one wrapped in a recording rule); that
they return series is checked against the real Prometheus in tests/lab/test_monitoring_lab.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from egovnet.loader import load_network
from exporters.dashboards import dashboards, panel_queries
from tests.unit.conftest import SAMPLE


@pytest.fixture(scope="module")
def boards() -> dict[str, dict[str, object]]:
    return dashboards(load_network(SAMPLE))


def test_four_dashboards_with_uids_and_queries(boards: dict[str, dict[str, object]]) -> None:
    assert set(boards) == {"province.json", "device.json", "interface.json", "alerts.json"}
    uids = [board["uid"] for board in boards.values()]
    assert len(set(uids)) == 4
    for name, board in boards.items():
        queries = list(panel_queries(board))
        assert queries, name
        assert all(expr.strip() for _, expr in queries)


def test_generated_from_the_inventory(boards: dict[str, dict[str, object]]) -> None:
    """A row per city, and every host in the device picker: a new node needs no edit."""
    network = load_network(SAMPLE)
    province = boards["province.json"]
    rows = [p["title"] for p in province["panels"] if p["type"] == "row"]  # type: ignore[attr-defined]
    assert rows == [f"{n.city} ({n.name})" for n in network.nodes if n.tier == "city"]
    variables = boards["device.json"]["templating"]["list"]  # type: ignore[index]
    host = next(v for v in variables if v["name"] == "host")
    assert host["query"].split(",") == [n.name for n in network.nodes]


def test_every_query_is_valid_promql(boards: dict[str, dict[str, object]], tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is not installed (Debian package prometheus)")
        pytest.skip("promtool is not installed (Debian package prometheus)")
    rules = [
        {"record": f"panel:{index}", "expr": expr.replace("$host", "x").replace("$ifName", "y")}
        for index, (_, expr) in enumerate(
            query for board in boards.values() for query in panel_queries(board)
        )
    ]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    checked = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules)} rules found" in checked.stdout


def test_monitor_config_writes_the_dashboards(tmp_path: Path) -> None:
    from tests.console import egovnet  # noqa: PLC0415 - only this test runs the CLI

    done = egovnet("monitor", "config", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in (tmp_path / "dashboards").glob("*.json"))
    assert written == ["alerts.json", "device.json", "interface.json", "province.json"]
    board = json.loads((tmp_path / "dashboards" / "device.json").read_text(encoding="utf-8"))
    assert board["title"].endswith(": device")


def test_the_province_overview_shows_the_compliance_failures(
    boards: dict[str, dict[str, object]],
) -> None:
    """The last compliance check's failures are on the overview, hosts counted per rule."""
    queries = dict(panel_queries(boards["province.json"]))
    title = "Graded protection: hosts failing each rule, by tier and level"
    assert "count by (tier, level, rule) (egov_compliance_failures)" in queries[title]
