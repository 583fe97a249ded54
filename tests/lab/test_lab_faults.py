"""The lab under faults: a refused inventory creates nothing, a killed `lab up` is cleaned up
by `lab down`, a crashed daemon shows in `lab status`, and `lab shell` reaches vtysh. On the
module's own lab (tests/labkit.py): any other lab of the machine is never touched."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lab.names import lab_tag
from lab.runner import find_holders
from tests.console import EGOVNET, environment
from tests.labkit import TestLab


def tag_twin(lab: str) -> str:
    """Another lab name with the same tag as `lab` (a few thousand hashes away)."""
    return next(
        name
        for name in (f"egvt-twin-{n}" for n in range(1_000_000))
        if lab_tag(name) == lab_tag(lab)
    )


@pytest.fixture(scope="module")
def kit(test_lab: TestLab) -> TestLab:
    return test_lab


def test_an_inventory_touching_the_nameserver_is_refused_and_nothing_is_created(
    kit: TestLab, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(kit.inventory, inventory)
    network_yaml = inventory / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8")
    public = f"pool: {kit.network.zone('public').pool}"
    assert public in text
    # the public zone's second root block, 10.255.192.0/18, would hold the nameserver
    network_yaml.write_text(text.replace(public, "pool: 10.255.128.0/17"), encoding="utf-8")
    try:
        result = kit.egovnet("lab", "up", cwd=tmp_path, inventory=inventory)
    finally:
        if kit.holders():  # it must not have started; never leave it up if it did
            kit.down(tmp_path)
    assert result.returncode == 2
    assert "lab prefix 10.255.128.0/17 contains the nameserver 10.255.255.53" in result.stderr
    assert kit.leftovers() == []


def test_lab_down_cleans_up_after_a_killed_lab_up(kit: TestLab, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [str(EGOVNET), "lab", "up"],
        cwd=tmp_path,
        env=environment(kit.inventory),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(kit.holders()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert kit.holders(), "lab up never started a node"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    # after a crash, with no inventory at all: the lab's name is all `lab down` needs
    down = kit.egovnet("lab", "down", "--lab", kit.lab, cwd=tmp_path, inventory=tmp_path / "none")
    assert down.returncode == 0, down.stderr
    assert kit.leftovers() == []


def test_a_crashed_daemon_shows_in_status_and_shell_reaches_vtysh(
    kit: TestLab, tmp_path: Path
) -> None:
    try:
        up = kit.egovnet("lab", "up", "--json", cwd=tmp_path)
        assert up.returncode == 0, up.stdout + up.stderr
        shell = kit.egovnet("lab", "shell", "zhengding", "-c", "show bgp summary", cwd=tmp_path)
        assert shell.returncode == 0
        # its uplink peer, shijiazhuang's AS
        assert str(kit.network.node("shijiazhuang").asn) in shell.stdout
        twin = tag_twin(kit.lab)
        clash = tmp_path / "clash"
        shutil.copytree(kit.inventory, clash)
        network_yaml = clash / "network.yaml"
        text = network_yaml.read_text(encoding="utf-8")
        network_yaml.write_text(text.replace(f"name: {kit.lab}", f"name: {twin}"))
        (tmp_path / "clash-work").mkdir()
        refused = kit.egovnet("lab", "up", cwd=tmp_path / "clash-work", inventory=clash)
        assert refused.returncode == 2
        assert f"the running lab {kit.lab} has the same tag {lab_tag(twin)}" in refused.stderr
        assert not find_holders(twin)
        holder = kit.holders()["zhengding"]
        subprocess.run(
            ["nsenter", "-t", str(holder.pid), "-p", "-m", "pkill", "-9", "-x", "bgpd"], check=True
        )
        status = kit.egovnet("lab", "status", "--json", cwd=tmp_path)  # the inventory's lab
        assert status.returncode == 1
        rows = {row["node"]: row for row in json.loads(status.stdout)["status"]}
        assert rows["zhengding"]["healthy"] is False
        assert "bgpd" not in rows["zhengding"]["daemons"]
        assert rows["zhuozhou"]["healthy"] is True
    finally:
        kit.down(tmp_path)
    assert kit.leftovers() == []


def test_bare_lab_boots_routers_with_management_access_only(kit: TestLab, tmp_path: Path) -> None:
    """What a rollout starts from: routers reachable on management, FRR running unconfigured."""
    try:
        up = kit.egovnet("lab", "up", "--bare", "--json", cwd=tmp_path)
        assert up.returncode == 0, up.stdout + up.stderr
        rows = {row["node"]: row for row in json.loads(up.stdout)["status"]}
        assert rows["zhengding"]["sessions"] == 0
        assert rows["zhengding"]["ssh"] is True
        shell = kit.egovnet("lab", "shell", "zhengding", "-c", "show running-config", cwd=tmp_path)
        assert "router bgp" not in shell.stdout
        management = str(kit.network.node("zhengding").management.ip)
        assert subprocess.run(["ping", "-c1", "-W2", management], check=False).returncode == 0
    finally:
        kit.down(tmp_path)
    assert kit.leftovers() == []
