"""`egovnet lab up / status / down` on the sample, as a tester runs them, in the real root
namespace of this machine: the guard, the management bridge and the nodes, then nothing.

Module-scoped: one lab for all the checks, and `lab down` in the finaliser whatever happens.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from netmiko import ConnectHandler

from lab.guard import NFT_TABLE
from lab.keys import lab_key
from lab.runner import find_holders
from tests.console import FAKE_SECRETS, ROOT
from tests.console import egovnet as run_egovnet

INVENTORY = ROOT / "inventory"


def egovnet(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_egovnet(*args, cwd=cwd, inventory=INVENTORY)


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)


def in_node(node: str, *argv: str) -> subprocess.CompletedProcess[str]:
    holder = {h.node: h for h in find_holders("egovnet")}[node]
    return run("nsenter", "-t", str(holder.pid), "-m", "-u", "-n", *argv)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    workdir = tmp_path_factory.mktemp("lab")
    assert not find_holders("egovnet"), "a lab is already up on this machine: egovnet lab down"
    try:
        result = egovnet("lab", "up", "--json", cwd=workdir)
        assert result.returncode == 0, result.stdout + result.stderr
        report: dict[str, object] = json.loads(result.stdout)
        report["workdir"] = str(workdir)
        yield report
    finally:
        down = egovnet("lab", "down", "--json", cwd=workdir)
        assert down.returncode == 0, down.stderr


def test_lab_up_converges_with_every_session(lab: dict[str, object]) -> None:
    assert lab["ok"] is True
    assert lab["nodes"] == 35
    routers = [row for row in lab["status"] if row["role"] == "router"]  # type: ignore[attr-defined]
    assert len(routers) == 13
    for row in routers:
        assert set(row["daemons"]) >= {"zebra", "bgpd", "staticd"}, row["node"]
        assert row["sessions"] > 0
        assert row["sessions_up"] == row["sessions"], row["node"]
        assert row["ssh"] is True, row["node"]
        assert row["snmp"] is True, row["node"]


def test_status_is_green_and_up_again_changes_nothing(lab: dict[str, object]) -> None:
    workdir = Path(str(lab["workdir"]))
    status = egovnet(
        "lab", "status", "--topology", "build/lab/egovnet.clab.yml", "--json", cwd=workdir
    )
    assert status.returncode == 0, status.stdout
    assert json.loads(status.stdout)["ok"] is True
    before = {h.node: h.pid for h in find_holders("egovnet")}
    again = egovnet("lab", "up", "--json", cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert {h.node: h.pid for h in find_holders("egovnet")} == before


def test_root_reaches_management_and_nothing_else(lab: dict[str, object]) -> None:
    assert run("ping", "-c1", "-W2", "10.64.8.10").returncode == 0  # shijiazhuang's management
    assert run("ping", "-c1", "-W1", "10.64.0.8").returncode != 0  # its loopback: guarded
    for address in ("10.80.9.1", "198.18.0.1", "198.19.255.254"):
        route = run("ip", "route", "get", address)
        assert route.returncode != 0, f"{address}: {route.stdout}"  # unreachable, never the uplink
    table = run("nft", "list", "table", "inet", NFT_TABLE)
    assert 'iifname "egv*"' in table.stdout


def test_departments_reach_their_zone_across_cities_and_not_the_other_zone(
    lab: dict[str, object],
) -> None:
    # zhengding's private department (10.80.9.2) to tangshan's private gateway, via the cores
    assert in_node("zhengding-caizhengju", "ping", "-c2", "-W3", "10.80.72.1").returncode == 0
    # and to zhuozhou's private department host, two cities away
    assert in_node("zhengding-caizhengju", "ping", "-c2", "-W3", "10.80.17.2").returncode == 0
    # never to the public zone, not even on its own node
    assert in_node("zhengding-caizhengju", "ping", "-c1", "-W1", "10.96.9.2").returncode != 0
    assert in_node("zhengding-caizhengju", "ping", "-c1", "-W1", "10.96.8.2").returncode != 0


def test_private_zone_has_no_default_route_and_public_zone_has_one(lab: dict[str, object]) -> None:
    private = in_node(
        "zhengding", "ip", "netns", "exec", "private", "ip", "route", "show", "default"
    )
    public = in_node("zhengding", "ip", "netns", "exec", "public", "ip", "route", "show", "default")
    assert private.stdout.strip() == ""
    assert public.stdout.startswith("default")


def test_ssh_login_with_netmiko_lands_in_vtysh_with_the_rendered_config(
    lab: dict[str, object],
) -> None:
    """An engineer's path to a router: SSH to its management address, straight into vtysh,
    where the running config holds what egovnet rendered."""
    workdir = Path(str(lab["workdir"]))
    rendered = (workdir / "build" / "lab" / "configs" / "shijiazhuang.cfg").read_text(
        encoding="utf-8"
    )
    connection = ConnectHandler(
        device_type="cisco_ios",  # vtysh speaks close enough to IOS for netmiko's prompt logic
        host="10.64.8.10",
        username="root",
        use_keys=True,
        key_file=str(lab_key()),
        allow_agent=False,
        timeout=20,
    )
    try:
        running = connection.send_command("show running-config", read_timeout=30)
        prompt = connection.find_prompt()
    finally:
        connection.disconnect()
    assert prompt == "shijiazhuang#"
    expected = [
        line.strip()
        for line in rendered.splitlines()
        if line.startswith((" ip address", "router bgp"))
    ]
    assert expected, "the rendered config has addresses and BGP"
    for line in expected:
        assert line in running, line


def snmp(tool: str, address: str, oid: str, key: str) -> subprocess.CompletedProcess[str]:
    """An SNMPv3 authPriv request as user noc from the root namespace: with the lab's keys when
    `key` is empty, else with `key` for both authentication and privacy."""
    auth = key or FAKE_SECRETS["EGOVNET_SECRET_SNMP_NOC_AUTH"]
    priv = key or FAKE_SECRETS["EGOVNET_SECRET_SNMP_NOC_PRIV"]
    return run(
        tool,
        "-v3",
        "-l",
        "authPriv",
        "-u",
        "noc",
        "-a",
        "SHA",
        "-A",
        auth,
        "-x",
        "AES",
        "-X",
        priv,
        "-t",
        "3",
        "-r",
        "2",
        "-On",
        address,
        oid,
    )


def snmpwalk(address: str, oid: str) -> list[str]:
    """A walk with the lab's keys (numeric OIDs: Debian ships no MIB files)."""
    result = snmp("snmpwalk", address, oid, "")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_snmpv3_answers_if_mib_and_bgp4_mib_through_agentx(lab: dict[str, object]) -> None:
    """The NOC's view of a router: SNMPv3 authPriv on its management address; IF-MIB from
    snmpd itself, BGP4-MIB from FRR's bgpd through AgentX."""
    names = snmpwalk("10.64.8.10", "1.3.6.1.2.1.31.1.1.1.1")  # IF-MIB::ifName
    assert any('STRING: "eth1"' in line for line in names)
    # BGP4-MIB::bgpPeerState of every peer: 6 = established
    states = snmpwalk("10.64.8.10", "1.3.6.1.2.1.15.3.1.2")
    assert ".1.3.6.1.2.1.15.3.1.2.10.64.16.128 = INTEGER: 6" in states  # hebei-core-1
    assert len(states) == 15  # 5 links x 3 routing instances, every VRF's peers
    assert all(line.endswith("INTEGER: 6") for line in states)


def test_snmp_refuses_a_wrong_key(lab: dict[str, object]) -> None:
    assert snmp("snmpget", "10.64.8.10", "1.3.6.1.2.1.1.5.0", "not-the-key").returncode != 0


def test_the_exit_lets_public_out_through_nat_and_nothing_in(lab: dict[str, object]) -> None:
    """The unified internet exit: the public zone reaches the internet (source-NATed, so the
    internet needs no route back), the private zone never does, and the internet cannot open
    a connection inward even when it has a route."""
    internet_server = "198.19.255.254"
    assert in_node("zhengding-zhengwufuwu", "ping", "-c2", "-W3", internet_server).returncode == 0
    assert in_node("zhengding-caizhengju", "ping", "-c1", "-W2", internet_server).returncode != 0
    routed = in_node(
        "internet-hebei-exit", "ip", "route", "add", "10.96.0.0/16", "via", "198.18.0.113"
    )
    assert routed.returncode == 0, routed.stderr
    assert in_node("internet-hebei-exit", "ping", "-c1", "-W2", "10.96.9.2").returncode != 0


def test_lab_down_leaves_nothing(lab: dict[str, object], tmp_path: Path) -> None:
    """Last in the module (pytest keeps file order): takes the module's lab down, then checks
    that nothing of it is left on the machine (the fixture's own `lab down` is a no-op)."""
    result = egovnet("lab", "down", "--json", cwd=tmp_path)
    assert result.returncode == 0
    assert not find_holders("egovnet")
    assert "egv" not in run("ip", "-o", "link").stdout
    assert run("nft", "list", "table", "inet", NFT_TABLE).returncode != 0
    assert "4242" not in run("ip", "-4", "route", "show", "type", "unreachable").stdout
