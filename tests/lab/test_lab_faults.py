"""The lab under faults: a refused inventory creates nothing, a killed `lab up` is cleaned up
by `lab down`, a crashed daemon shows in `lab status`, and `lab shell` reaches vtysh."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

from lab.guard import NFT_TABLE
from lab.runner import find_holders
from tests.console import EGOVNET, ROOT, environment
from tests.console import egovnet as run_egovnet


def egovnet(
    *args: str, cwd: Path, inventory: Path = ROOT / "inventory"
) -> subprocess.CompletedProcess[str]:
    return run_egovnet(*args, cwd=cwd, inventory=inventory)


def machine_is_clean() -> list[str]:
    """What a lab left behind on this machine (empty: nothing)."""
    left = [f"node {h.node}" for h in find_holders("egovnet")]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    left += [line.split(":")[1].strip() for line in links.splitlines() if ": egv" in line]
    if (
        subprocess.run(
            ["nft", "list", "table", "inet", NFT_TABLE], capture_output=True, check=False
        ).returncode
        == 0
    ):
        left.append(f"nftables table {NFT_TABLE}")
    routes = subprocess.run(
        ["ip", "-4", "route", "show", "type", "unreachable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    left += [f"route {line}" for line in routes.splitlines() if "metric 4242" in line]
    return left


def test_an_inventory_touching_the_nameserver_is_refused_and_nothing_is_created(
    tmp_path: Path,
) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventory", inventory)
    network_yaml = inventory / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8")
    # the public zone's second root block, 10.255.192.0/18, would hold the nameserver
    network_yaml.write_text(
        text.replace("pool: 10.96.0.0/16", "pool: 10.255.128.0/17"), encoding="utf-8"
    )
    try:
        result = egovnet("lab", "up", cwd=tmp_path, inventory=inventory)
    finally:
        if find_holders("egovnet"):  # it must not have started; never leave it up if it did
            egovnet("lab", "down", cwd=tmp_path)
    assert result.returncode == 2
    assert "lab prefix 10.255.128.0/17 contains the nameserver 10.255.255.53" in result.stderr
    assert machine_is_clean() == []


def test_lab_down_cleans_up_after_a_killed_lab_up(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [str(EGOVNET), "lab", "up"],
        cwd=tmp_path,
        env=environment(ROOT / "inventory"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(find_holders("egovnet")) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert find_holders("egovnet"), "lab up never started a node"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    down = egovnet("lab", "down", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert machine_is_clean() == []


def test_a_crashed_daemon_shows_in_status_and_shell_reaches_vtysh(tmp_path: Path) -> None:
    try:
        up = egovnet("lab", "up", "--json", cwd=tmp_path)
        assert up.returncode == 0, up.stdout + up.stderr
        shell = egovnet("lab", "shell", "zhengding", "-c", "show bgp summary", cwd=tmp_path)
        assert shell.returncode == 0
        assert "4200000008" in shell.stdout  # its uplink peer, shijiazhuang's AS
        holder = {h.node: h for h in find_holders("egovnet")}["zhengding"]
        subprocess.run(
            ["nsenter", "-t", str(holder.pid), "-p", "-m", "pkill", "-9", "-x", "bgpd"], check=True
        )
        status = egovnet(
            "lab", "status", "--topology", "build/lab/egovnet.clab.yml", "--json", cwd=tmp_path
        )
        assert status.returncode == 1
        rows = {row["node"]: row for row in json.loads(status.stdout)["status"]}
        assert rows["zhengding"]["healthy"] is False
        assert "bgpd" not in rows["zhengding"]["daemons"]
        assert rows["zhuozhou"]["healthy"] is True
    finally:
        egovnet("lab", "down", cwd=tmp_path)
    assert machine_is_clean() == []


def test_bare_lab_boots_routers_with_management_access_only(tmp_path: Path) -> None:
    """What a rollout starts from: routers reachable on management, FRR running unconfigured."""
    try:
        up = egovnet("lab", "up", "--bare", "--json", cwd=tmp_path)
        assert up.returncode == 0, up.stdout + up.stderr
        rows = {row["node"]: row for row in json.loads(up.stdout)["status"]}
        assert rows["zhengding"]["sessions"] == 0
        assert rows["zhengding"]["ssh"] is True
        shell = egovnet("lab", "shell", "zhengding", "-c", "show running-config", cwd=tmp_path)
        assert "router bgp" not in shell.stdout
        assert subprocess.run(["ping", "-c1", "-W2", "10.64.8.11"], check=False).returncode == 0
    finally:
        egovnet("lab", "down", cwd=tmp_path)
    assert machine_is_clean() == []
