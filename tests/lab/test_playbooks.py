"""`egovnet playbook` against the real lab: Ansible (ansible-runner, network_cli into FRR's
vtysh) brings a bare lab to its intended configs, a second run changes nothing, the rollout
then finds nothing to do, the backup playbook writes what `egovnet backup` writes, and a
router whose sshd is dead fails its host, stops the run and is named.

One lab for the module, booted bare (FRR with management access only, as `./run demo`
does), so the first deploy is the whole configuration. The tests run in file order: each
starts from where the previous one left the lab.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from egovnet.model import Network
from lab.runner import SSH_DIR
from tests.labkit import TestLab

KIT: list[TestLab] = []


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return KIT[0].egovnet(*args, cwd=cwd, timeout=900)


def in_node(node: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """A command inside one of this lab's nodes (its own namespaces: a `pkill` there sees
    that node's processes only)."""
    holder = KIT[0].holders()[node]
    return subprocess.run(
        ["nsenter", "-t", str(holder.pid), "-m", "-u", "-n", "-p", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def playbook(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = run("playbook", *args, "--platform", "frr", "--json", cwd=cwd)
    return result, json.loads(result.stdout)


@pytest.fixture(scope="module")
def lab(test_lab: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("playbooks")
    KIT[:] = [test_lab]
    try:
        up = test_lab.egovnet("lab", "up", "--bare", "--json", cwd=workdir)
        assert up.returncode == 0, up.stdout + up.stderr
        yield workdir
    finally:
        down = test_lab.down(workdir)
        assert down.returncode == 0, down.stderr


@pytest.fixture(scope="module")
def network(lab: Path) -> Network:
    return KIT[0].network


def test_deploy_brings_every_router_of_a_bare_lab_to_its_intended_config(
    lab: Path, network: Network
) -> None:
    names = {node.name for node in network.nodes}
    result, report = playbook("deploy", cwd=lab)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["ok"] is True
    assert set(report["changed"]) == names
    artifacts = Path(str(report["directory"])) / "artifacts" / "run"
    assert (artifacts / "job_events").is_dir()
    assert (artifacts / "rc").read_text().strip() == "0"
    diff = run("diff", "--platform", "frr", "--json", cwd=lab)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert all(not host["diff"] for host in json.loads(diff.stdout)["hosts"])


def test_a_second_deploy_changes_nothing(lab: Path, network: Network) -> None:
    result, report = playbook("deploy", cwd=lab)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["changed"] == []
    assert set(report["hosts"]) == {node.name for node in network.nodes}


def test_rollout_dry_run_after_the_playbook_finds_nothing_to_change(
    lab: Path, network: Network
) -> None:
    result = run("rollout", "--dry-run", "--platform", "frr", "--json", cwd=lab)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert {h["outcome"] for h in report["hosts"].values()} == {"unchanged"}
    assert len(report["hosts"]) == len(network.nodes)


def test_backup_playbook_writes_the_files_egovnet_backup_writes(
    lab: Path, network: Network
) -> None:
    nornir = run("backup", "--platform", "frr", "--backup-repo", "by-nornir", "--json", cwd=lab)
    assert nornir.returncode == 0, nornir.stdout + nornir.stderr
    result, report = playbook("backup", "--backup-repo", "by-ansible", cwd=lab)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["commit"]
    files = {node.name + ".cfg" for node in network.nodes}
    ours = {p.name for p in (lab / "by-ansible").iterdir() if p.name != ".git"}
    assert ours == files
    for name in sorted(files):
        assert (lab / "by-ansible" / name).read_text() == (lab / "by-nornir" / name).read_text()


def test_a_router_with_its_sshd_dead_fails_stops_the_run_and_is_named(
    lab: Path, network: Network
) -> None:
    city = next(node.name for node in network.nodes if node.tier == "city")
    counties = {node.name for node in network.nodes if node.tier == "county"}
    assert in_node(city, "pkill", "sshd").returncode == 0
    try:
        result = run("playbook", "deploy", "--platform", "frr", cwd=lab)
        assert result.returncode == 1, result.stdout + result.stderr
        assert city in result.stderr  # the ✗ line names it
        assert f"failed: {city}" in result.stdout
        # the same as JSON: that host failed, and the counties' wave never started
        again, report = playbook("deploy", cwd=lab)
        assert again.returncode == 1
        assert set(report["failed"]) == {city}
        assert counties.isdisjoint(report["hosts"])
    finally:
        in_node(city, "/usr/sbin/sshd", "-f", f"{SSH_DIR}/sshd_config")
