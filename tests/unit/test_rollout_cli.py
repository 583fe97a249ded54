"""`egovnet rollout`, `diff` and `backup` refuse bad input before they connect to anything."""

from __future__ import annotations

import json
import socket
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


def _unreachable(inventory: Path, host: str) -> None:
    """Put management on loopback and `host`'s SSH on a port nothing listens on: its login
    fails at once, wherever the test runs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    network = inventory / "network.yaml"
    text = network.read_text(encoding="utf-8")
    assert "management: 10.64.8.0/24" in text
    network.write_text(text.replace("management: 10.64.8.0/24", "management: 127.0.8.0/24"))
    hosts = inventory / "hosts.yaml"
    text = hosts.read_text(encoding="utf-8")
    entry = f"{host}:\n"
    assert entry in text
    hosts.write_text(text.replace(entry, f"{entry}  port: {port}\n", 1), "utf-8")


def test_a_backup_names_the_host_it_could_not_read_and_exits_1(
    run_cli: RunCli, inventory_copy: Path, tmp_path: Path
) -> None:
    _unreachable(inventory_copy, "hebei-core-1")
    args = ["-i", str(inventory_copy), "backup", "--limit", "hebei-core-1"]
    args += ["--backup-repo", str(tmp_path / "backups")]
    result = run_cli(args)
    assert result.exit_code == 1, result.stderr
    assert "✗ hebei-core-1" in result.stderr
    assert "0 of 1 host(s) backed up" in result.stdout
    assert "(no commit)" in result.stdout
    document = json.loads(run_cli([*args, "--json"]).stdout)
    assert document["ok"] is False
    assert document["commit"] is None
    assert list(document["failed"]) == ["hebei-core-1"]


def test_diff_and_a_dry_run_report_an_unreadable_host_and_change_nothing(
    run_cli: RunCli, inventory_copy: Path, tmp_path: Path
) -> None:
    _unreachable(inventory_copy, "hebei-core-1")
    base = ["-i", str(inventory_copy)]
    secrets = tmp_path / "secrets.yaml"
    assert run_cli([*base, "secrets", "init", "-o", str(secrets)]).exit_code == 0
    limit = ["--limit", "hebei-core-1", "--platform", "frr", "--secrets", str(secrets), "--json"]
    diff = run_cli([*base, "diff", *limit])
    assert diff.exit_code == 1, diff.stderr
    assert json.loads(diff.stdout)["failed"] == ["hebei-core-1"]
    runs = tmp_path / "runs"
    dry = run_cli([*base, "rollout", "--dry-run", "--runs", str(runs), *limit])
    assert dry.exit_code == 1, dry.stderr
    report = json.loads(dry.stdout)
    assert report["outcome"] == "aborted"
    assert report["hosts"]["hebei-core-1"]["outcome"] == "failed, unchanged"
    assert Path(report["report"]).is_file()
    assert Path(report["report"]).parent.parent == runs.resolve()
