"""`egovnet lab up / status / down` on a copy of the sample with its own lab name and
addresses (tests/labkit.py), as a tester runs them, in the real root namespace of this
machine: the guard, the management bridge and the nodes, then nothing of this lab.

Module-scoped: one lab for all the checks, and `lab down` in the finaliser whatever happens.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from netmiko import ConnectHandler

from egovnet.model import Network
from lab.keys import lab_key
from lab.names import guard_table, interface_prefix
from tests.console import FAKE_SECRETS
from tests.labkit import TestLab


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture(scope="module")
def kit(test_lab: TestLab) -> TestLab:
    return test_lab


@pytest.fixture(scope="module")
def network(test_lab: TestLab) -> Network:
    return test_lab.network


def in_node(kit: TestLab, node: str, *argv: str) -> subprocess.CompletedProcess[str]:
    holder = kit.holders()[node]
    return run("nsenter", "-t", str(holder.pid), "-m", "-u", "-n", *argv)


def host_of(network: Network, node: str, department: str) -> str:
    """The address of a department's host (its gateway + 1, as the topology gives it)."""
    [dept] = [d for d in network.node(node).departments if d.name == department]
    return str(dept.gateway.ip + 1)


@pytest.fixture(scope="module")
def lab(kit: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    workdir = tmp_path_factory.mktemp("lab")
    try:
        result = kit.egovnet("lab", "up", "--json", cwd=workdir)
        assert result.returncode == 0, result.stdout + result.stderr
        report: dict[str, object] = json.loads(result.stdout)
        report["workdir"] = str(workdir)
        yield report
    finally:
        down = kit.down(workdir)
        assert down.returncode == 0, down.stderr


def test_lab_up_converges_with_every_session(lab: dict[str, object], kit: TestLab) -> None:
    assert lab["ok"] is True
    assert lab["lab"] == kit.lab
    assert lab["nodes"] == 40  # 13 routers, 24 department hosts, 2 DNS hosts, the internet
    routers = [row for row in lab["status"] if row["role"] == "router"]  # type: ignore[attr-defined]
    assert len(routers) == 13
    for row in routers:
        assert set(row["daemons"]) >= {"zebra", "bgpd", "staticd"}, row["node"]
        assert row["sessions"] > 0
        assert row["sessions_up"] == row["sessions"], row["node"]
        assert row["ssh"] is True, row["node"]
        assert row["snmp"] is True, row["node"]


def test_status_is_green_and_up_again_changes_nothing(lab: dict[str, object], kit: TestLab) -> None:
    workdir = Path(str(lab["workdir"]))
    topology = f"build/lab/{kit.lab}.clab.yml"
    status = kit.egovnet("lab", "status", "--topology", topology, "--json", cwd=workdir)
    assert status.returncode == 0, status.stdout
    assert json.loads(status.stdout)["ok"] is True
    before = {node: h.pid for node, h in kit.holders().items()}
    again = kit.egovnet("lab", "up", "--json", cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert {node: h.pid for node, h in kit.holders().items()} == before


def test_root_reaches_management_and_nothing_else(
    lab: dict[str, object], kit: TestLab, network: Network
) -> None:
    shijiazhuang = network.node("shijiazhuang")
    assert run("ping", "-c1", "-W2", str(shijiazhuang.management.ip)).returncode == 0
    assert run("ping", "-c1", "-W1", str(shijiazhuang.loopback)).returncode != 0  # guarded
    zhengding = network.node("zhengding").departments[0].gateway.ip
    for address in (str(zhengding), "198.18.0.1", "198.19.255.254"):
        route = run("ip", "route", "get", address)
        assert route.returncode != 0, f"{address}: {route.stdout}"  # unreachable, never the uplink
    table = run("nft", "list", "table", "inet", guard_table(kit.lab))
    assert f'iifname "{interface_prefix(kit.lab)}*"' in table.stdout


def test_departments_reach_their_zone_across_cities_and_not_the_other_zone(
    lab: dict[str, object], kit: TestLab, network: Network
) -> None:
    source = "zhengding-caizhengju"  # zhengding's private department
    [tangshan_private] = [d for d in network.node("tangshan").departments if d.zone == "private"]
    # to tangshan's private gateway, via the cores
    tangshan_gateway = str(tangshan_private.gateway.ip)
    assert in_node(kit, source, "ping", "-c2", "-W3", tangshan_gateway).returncode == 0
    # and to zhuozhou's private department host, two cities away
    zhuozhou = host_of(network, "zhuozhou", "caizhengju")
    assert in_node(kit, source, "ping", "-c2", "-W3", zhuozhou).returncode == 0
    # never to the public zone, not even on its own node
    for node in ("zhengding", "shijiazhuang"):
        public = host_of(network, node, "zhengwufuwu")
        assert in_node(kit, source, "ping", "-c1", "-W1", public).returncode != 0


def test_private_zone_has_no_default_route_and_public_zone_has_one(
    lab: dict[str, object], kit: TestLab
) -> None:
    private = in_node(
        kit, "zhengding", "ip", "netns", "exec", "private", "ip", "route", "show", "default"
    )
    public = in_node(
        kit, "zhengding", "ip", "netns", "exec", "public", "ip", "route", "show", "default"
    )
    assert private.stdout.strip() == ""
    assert public.stdout.startswith("default")


def test_ssh_login_with_netmiko_lands_in_vtysh_with_the_rendered_config(
    lab: dict[str, object], network: Network
) -> None:
    """An engineer's path to a router: SSH to its management address, straight into vtysh,
    where the running config holds what egovnet rendered."""
    workdir = Path(str(lab["workdir"]))
    rendered = (workdir / "build" / "lab" / "configs" / "shijiazhuang.cfg").read_text(
        encoding="utf-8"
    )
    connection = ConnectHandler(
        device_type="cisco_ios",  # vtysh speaks close enough to IOS for netmiko's prompt logic
        host=str(network.node("shijiazhuang").management.ip),
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


def test_snmpv3_answers_if_mib_and_bgp4_mib_through_agentx(
    lab: dict[str, object], network: Network
) -> None:
    """The NOC's view of a router: SNMPv3 authPriv on its management address; IF-MIB from
    snmpd itself, BGP4-MIB from FRR's bgpd through AgentX."""
    address = str(network.node("shijiazhuang").management.ip)
    names = snmpwalk(address, "1.3.6.1.2.1.31.1.1.1.1")  # IF-MIB::ifName
    assert any('STRING: "eth1"' in line for line in names)
    # BGP4-MIB::bgpPeerState of every peer: 6 = established
    states = snmpwalk(address, "1.3.6.1.2.1.15.3.1.2")
    [uplink] = [
        link for link in network.links_of("shijiazhuang") if link.upper.host == "hebei-core-1"
    ]
    core_1 = uplink.address("hebei-core-1", "global").ip
    assert f".1.3.6.1.2.1.15.3.1.2.{core_1} = INTEGER: 6" in states
    assert len(states) == 20  # 5 links x 4 routing instances, every VRF's peers
    assert all(line.endswith("INTEGER: 6") for line in states)


def test_snmp_refuses_a_wrong_key(lab: dict[str, object], network: Network) -> None:
    address = str(network.node("shijiazhuang").management.ip)
    assert snmp("snmpget", address, "1.3.6.1.2.1.1.5.0", "not-the-key").returncode != 0


def test_the_exit_lets_public_out_through_nat_and_nothing_in(
    lab: dict[str, object], kit: TestLab, network: Network
) -> None:
    """The unified internet exit: the public zone reaches the internet (source-NATed, so the
    internet needs no route back), the private zone never does, and the internet cannot open
    a connection inward even when it has a route."""
    internet_server = "198.19.255.254"
    public, private = "zhengding-zhengwufuwu", "zhengding-caizhengju"
    assert in_node(kit, public, "ping", "-c2", "-W3", internet_server).returncode == 0
    assert in_node(kit, private, "ping", "-c1", "-W2", internet_server).returncode != 0
    exit_link = network.node("hebei-exit").internet
    assert exit_link is not None
    pool, via = str(network.zone("public").pool), str(exit_link.address.ip)
    routed = in_node(kit, "internet-hebei-exit", "ip", "route", "add", pool, "via", via)
    assert routed.returncode == 0, routed.stderr
    inside = host_of(network, "zhengding", "zhengwufuwu")
    assert in_node(kit, "internet-hebei-exit", "ping", "-c1", "-W2", inside).returncode != 0


def test_lab_down_leaves_nothing(lab: dict[str, object], kit: TestLab, tmp_path: Path) -> None:
    """Last in the module (pytest keeps file order): takes the module's lab down (the lab
    named by the inventory, no --lab), then checks that nothing of it is left on the machine
    (the fixture's own `lab down` is a no-op)."""
    result = kit.egovnet("lab", "down", "--json", cwd=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout)["lab"] == kit.lab
    assert len(json.loads(result.stdout)["removed"]) == 40
    assert kit.leftovers() == []
