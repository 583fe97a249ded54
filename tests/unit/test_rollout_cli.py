"""`egovnet rollout`, `diff` and `backup` refuse bad input before they connect to anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.conftest import RunCli


@pytest.mark.parametrize(
    "command", [["rollout", "--yes"], ["rollout", "--dry-run"], ["diff"], ["backup"]]
)
def test_an_invalid_inventory_is_refused_before_any_connection(
    run_cli: RunCli, inventory_copy: Path, tmp_path: Path, command: list[str]
) -> None:
    hosts = inventory_copy / "hosts.yaml"
    text = hosts.read_text(encoding="utf-8")
    assert "parent: shijiazhuang\n" in text
    hosts.write_text(text.replace("parent: shijiazhuang\n", "parent: shijiazhuangg\n", 1), "utf-8")
    # an unroutable SSH target would hang or fail later; the run must stop before it
    result = run_cli(["-i", str(inventory_copy), *command, "--json"])
    assert result.exit_code == 2, result.stdout
    problems = json.loads(result.stdout)["problems"]
    assert any(
        p["host"] == "zhengding" and p["field"] == "data.parent" and "shijiazhuangg" in p["message"]
        for p in problems
    ), problems
    assert not (tmp_path / "backups").exists()  # no backup was even started
    assert not (tmp_path / "runs").exists()


def test_a_limit_naming_no_host_is_bad_input(run_cli: RunCli, sample_inventory: Path) -> None:
    result = run_cli(["-i", str(sample_inventory), "rollout", "--dry-run", "--limit", "zunhau"])
    assert result.exit_code == 2
    assert "--limit: 'zunhau' matches no host" in result.stderr
