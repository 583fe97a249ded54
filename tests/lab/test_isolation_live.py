"""Isolation proven on the real lab: a clean lab audits clean, and each leak of issue 6,
injected by hand the way an engineer's mistake would land, is caught with a precise finding,
then repaired by `egovnet isolation enforce` (a staged rollout over SSH to the hosts the
audit names), after which the audit is clean again. The one leak no device config causes (a
department host wired around the routers) is named by enforce as not repairable. Plus the
interconnect matrix and the redundancy of the dual-homed city (one uplink down, every
department still reachable). Each test also undoes its injection in a `finally`, so that a
failed enforce leaves no leak for the next test.
Module-scoped: one lab for all, `lab down` in the finaliser whatever happens.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from egovnet.model import Network
from isolation.probes import AGENT
from tests.labkit import TestLab

Findings = set[tuple[str, str, str, str, str]]
"""(rule, host, zone, subject, source) of every finding."""


KIT: list[TestLab] = []
"""The module's own lab (tests/labkit.py), set by the `workdir` fixture for the helpers."""


def kit() -> TestLab:
    return KIT[0]


def network() -> Network:
    return kit().network


def egovnet(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return kit().egovnet(*args, cwd=cwd, timeout=timeout)


def in_node(node: str, *argv: str, zone: str | None = None) -> subprocess.CompletedProcess[str]:
    """A command in a node's namespaces (in a router's zone namespace with `zone`), of this
    module's lab."""
    holder = kit().holders()[node]
    inside = ["ip", "netns", "exec", zone, *argv] if zone else list(argv)
    return subprocess.run(
        ["nsenter", "-t", str(holder.pid), "-m", "-u", "-n", *inside],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def vtysh(node: str, *commands: str, check: bool = True) -> None:
    """Commands in the node's vtysh; with `check=False` a refusal is fine (an undo of what
    enforce already removed)."""
    argv = ["vtysh", "-N", node]
    for command in commands:
        argv += ["-c", command]
    done = in_node(node, *argv)
    assert done.returncode == 0 or not check, done.stdout + done.stderr


def root(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture(scope="module")
def workdir(test_lab: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("isolation")
    KIT[:] = [test_lab]
    try:
        result = egovnet("lab", "up", "--json", cwd=directory)
        assert result.returncode == 0, result.stdout + result.stderr
        yield directory
    finally:
        down = test_lab.down(directory)
        assert down.returncode == 0, down.stderr


def audit(workdir: Path) -> tuple[int, dict[str, Any]]:
    result = egovnet("isolation", "audit", "--source", "live", "--json", cwd=workdir)
    assert result.returncode in {0, 1}, result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def findings(report: dict[str, Any]) -> Findings:
    return {
        (f["rule"], f["host"], f["zone"], f["subject"], f["source"]) for f in report["findings"]
    }


def assert_clean(workdir: Path) -> None:
    code, report = audit(workdir)
    assert report["findings"] == []
    assert code == 0


def enforce(workdir: Path, source: str = "live") -> tuple[int, dict[str, Any]]:
    result = egovnet(
        "isolation", "enforce", "--source", source, "--platform", "frr", "--yes", "--json",
        "--backup-repo", str(workdir / "backups"), "--runs", str(workdir / "runs"),
        cwd=workdir, timeout=600,
    )  # fmt: skip
    assert result.returncode in {0, 1}, result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def assert_enforced(workdir: Path, hosts: list[str], source: str = "live") -> dict[str, Any]:
    """`isolation enforce` repairs the leak: it changes exactly `hosts`, every finding goes,
    exit 0; a separate live audit agrees."""
    code, report = enforce(workdir, source)
    assert report["after"] == [], report["after"]
    assert report["before"]
    assert report["changed"] == hosts
    assert set(hosts) <= set(report["targets"])  # every host a finding names; some as intended
    assert report["repaired"] == len(report["before"])
    assert code == 0
    assert_clean(workdir)
    return report


@contextmanager
def injected(workdir: Path, undo: Callable[[], None]) -> Iterator[None]:
    """Run the block (which injected a leak and had it repaired), then undo the injection
    in case the repair failed, and prove the lab clean."""
    try:
        yield
    finally:
        undo()
    assert_clean(workdir)


def test_a_clean_lab_audits_clean(workdir: Path) -> None:
    code, report = audit(workdir)
    assert report["findings"] == []
    assert code == 0
    assert report["hosts_to_repair"] == []
    assert set(report["seconds"]) >= {"running configs", "routing tables", "probes"}


def uplink_address(node: str, parent: str, instance: str) -> str:
    """The address of `parent`'s end of its link to `node` in `instance`."""
    [link] = [link for link in network().links_of(node) if link.other(node).host == parent]
    return str(link.address(parent, instance).ip)


def test_static_default_in_a_county_private_vrf(workdir: Path) -> None:
    toward = uplink_address("zhengding", "shijiazhuang", "private")  # i.e. toward the exit
    route = f"ip route 0.0.0.0/0 {toward}"
    vtysh("zhengding", "configure terminal", "vrf private", route, "exit-vrf")

    def undo() -> None:  # already gone after a successful enforce: harmless then
        vtysh("zhengding", "configure terminal", "vrf private", f"no {route}", check=False)

    with injected(workdir, undo):
        code, report = audit(workdir)
        assert code == 1
        found = findings(report)
        for source in ("config", "table"):
            assert (
                "private-no-internet-route",
                "zhengding",
                "private",
                "0.0.0.0/0",
                source,
            ) in found
        assert report["hosts_to_repair"] == ["zhengding"]
        evidence = [f["evidence"] for f in report["findings"] if f["source"] == "config"]
        assert any(route in e for e in evidence), evidence
        assert_enforced(workdir, ["zhengding"])


def test_redistribution_leaks_private_prefixes_at_the_exit(workdir: Path) -> None:
    private = str(network().zone("private").pool)
    core_1 = uplink_address("hebei-exit", "hebei-core-1", "public")
    route = f"ip route {private} {core_1}"  # the private pool, into the public VRF
    bgp = f"router bgp {network().node('hebei-exit').asn} vrf public"
    vtysh(
        "hebei-exit",
        "configure terminal",
        "vrf public",
        route,
        "exit-vrf",
        bgp,
        "address-family ipv4 unicast",
        "redistribute static",
    )

    def undo() -> None:  # already gone after a successful enforce: harmless then
        vtysh(
            "hebei-exit",
            "configure terminal",
            bgp,
            "address-family ipv4 unicast",
            "no redistribute static",
            "exit-address-family",
            "exit",
            "vrf public",
            f"no {route}",
            "exit-vrf",
            check=False,
        )

    with injected(workdir, undo):
        code, report = audit(workdir)
        assert code == 1
        found = findings(report)
        for source in ("config", "table"):
            leak = ("no-private-prefix-at-exit", "hebei-exit", "public", private, source)
            assert leak in found, found
        assert report["hosts_to_repair"] == ["hebei-exit"]
        # enforced from the running configs read over SSH, as on a network without a lab
        enforced = assert_enforced(workdir, ["hebei-exit"], source="running")
        assert {f["source"] for f in enforced["before"]} == {"config"}


def _nft_handle(comment: str) -> str | None:
    listing = in_node(
        "hebei-exit", "nft", "-a", "list", "chain", "ip", "egovnet_exit", "forward", zone="public"
    )
    match = re.search(rf"{comment}.*# handle (\d+)", listing.stdout)
    return match.group(1) if match else None


def test_an_exit_firewall_rule_letting_the_internet_in(workdir: Path) -> None:
    rule = ["iifname", "eth3", "tcp", "dport", "18080", "accept", "comment", '"egvtest-open"']
    done = in_node(
        "hebei-exit", "nft", "insert", "rule", "ip", "egovnet_exit", "forward", *rule, zone="public"
    )
    assert done.returncode == 0, done.stderr

    def undo() -> None:
        handle = _nft_handle("egvtest-open")
        if handle is None:
            return  # enforce replaced the ruleset
        in_node(
            "hebei-exit",
            "nft",
            "delete",
            "rule",
            "ip",
            "egovnet_exit",
            "forward",
            "handle",
            handle,
            zone="public",
        )

    with injected(workdir, undo):
        code, report = audit(workdir)
        assert code == 1
        inward = [
            f
            for f in report["findings"]
            if f["rule"] == "internet-reaches-nothing" and f["host"] == "hebei-exit"
        ]
        probes = [f for f in inward if f["source"] == "probe"]
        assert probes, report["findings"]
        # TCP to the listener went in; ICMP and UDP were still stopped by the firewall
        assert all(f["subject"].endswith(" tcp") for f in probes)
        assert any("internet-hebei-exit -> zhengding-zhengwufuwu" in f["subject"] for f in probes)
        config = [f for f in inward if f["source"] == "config"]
        assert config
        assert "tcp dport 18080 accept" in config[0]["evidence"]
        assert {f["host"] for f in report["findings"]} == {"hebei-exit"}
        assert_enforced(workdir, ["hebei-exit"])
        assert _nft_handle("egvtest-open") is None


@contextmanager
def rogue_isp(city: str, zone: str) -> Iterator[None]:
    """A second, unauthorised internet uplink at `city`: a namespace of its own ('the ISP',
    holding the internet server's address too) linked to the city's `zone` VRF, and a
    static default toward it. Everything is removed after, whatever happens."""
    isp = subprocess.Popen(["unshare", "--net", "sleep", "300"])
    holder = kit().holders()[city]
    default = "ip route 0.0.0.0/0 198.18.2.0"
    server: subprocess.Popen[str] | None = None
    try:
        time.sleep(0.2)  # unshare has exec'd sleep in its new namespace
        added = root(
            "ip", "link", "add", "rogue0",
            "netns", f"/proc/{holder.pid}/root/run/netns/{zone}",
            "type", "veth", "peer", "name", "eth1", "netns", f"/proc/{isp.pid}/ns/net",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        for argv in (
            ["ip", "address", "add", "198.18.2.0/31", "dev", "eth1"],
            ["ip", "address", "add", "198.19.255.254/32", "dev", "lo"],
            ["ip", "link", "set", "lo", "up"],
            ["ip", "link", "set", "eth1", "up"],
        ):
            assert root("nsenter", "-t", str(isp.pid), "-n", *argv).returncode == 0
        in_node(city, "ip", "address", "add", "198.18.2.1/31", "dev", "rogue0", zone=zone)
        in_node(city, "ip", "link", "set", "rogue0", "up", zone=zone)
        # the line's provider routes back to whoever sends, and answers probes like a server
        isp_route = ["ip", "route", "add", "default", "via", "198.18.2.1"]
        assert root("nsenter", "-t", str(isp.pid), "-n", *isp_route).returncode == 0
        server = subprocess.Popen(
            ["nsenter", "-t", str(isp.pid), "-n", sys.executable, AGENT, "serve", "rogue-isp",
             "18080", "18081", "198.19.255.254"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        vtysh(city, "configure terminal", f"vrf {zone}", default, "exit-vrf")
        yield
    finally:
        if server is not None and server.stdin is not None:
            server.stdin.close()  # the agent ends when its input does
            server.wait(timeout=10)
        vtysh(city, "configure terminal", f"vrf {zone}", f"no {default}", "exit-vrf", check=False)
        isp.kill()  # its namespace, and the veth pair with it, go with the process
        isp.wait()
        in_node(city, "ip", "link", "del", "rogue0", zone=zone)  # already gone: harmless


def test_a_second_internet_uplink_at_a_city(workdir: Path) -> None:
    """Caught; enforce removes the default toward it and shuts the port the inventory does
    not know, and the lab audits clean with the rogue line still plugged in."""
    try:
        with rogue_isp("shijiazhuang", "public"):
            code, report = audit(workdir)
            enforced = assert_enforced(workdir, ["shijiazhuang"])
            shown = in_node("shijiazhuang", "ip", "-br", "link", "show", "rogue0", zone="public")
            assert " DOWN " in f" {shown.stdout} ", shown.stdout
    finally:  # the port is gone with the ISP; its shutdown stanza goes too
        vtysh("shijiazhuang", "configure terminal", "no interface rogue0 vrf public", check=False)
    assert {f["rule"] for f in enforced["before"]} >= {"single-exit", "unified-exit"}
    assert code == 1
    found = findings(report)
    assert ("single-exit", "shijiazhuang", "public", "198.18.2.0/31", "table") in found
    bypass = [f for f in report["findings"] if f["rule"] == "unified-exit"]
    sources = {f["subject"].split(" ")[0] for f in bypass}
    # the city's own public department and the counties below it that follow its default
    assert {"shijiazhuang-zhengwufuwu", "zhengding-zhengwufuwu"} <= sources
    assert all(f["host"] == "shijiazhuang" for f in bypass)
    assert all("never through the unified exit" in f["evidence"] for f in bypass)
    unnatted = [f for f in report["findings"] if f["rule"] == "nat-at-exit"]
    assert unnatted
    public = network().zone("public").pool
    seen = [re.search(r"saw source ([0-9.]+)", f["evidence"]) for f in unnatted]
    assert all(m is not None and IPv4Address(m.group(1)) in public for m in seen), unnatted
    assert_clean(workdir)


@contextmanager
def management_side_door(pairs: list[tuple[str, str, str]]) -> Iterator[None]:
    """Two department hosts wired to each other on management addresses, with host routes to
    each other's data address over that wire: what containerlab's management network does
    to every node. (This lab's own management bridge cannot carry it: the guard drops bridged
    traffic between lab ports.) The wire goes with the `finally`, whatever happens."""
    (a, a_address, a_peer), (b, b_address, b_peer) = pairs
    holders = kit().holders()
    created = root(
        "ip", "link", "add", "mgmt0", "netns", f"/proc/{holders[a].pid}/ns/net",
        "type", "veth", "peer", "name", "mgmt0", "netns", f"/proc/{holders[b].pid}/ns/net",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    try:
        for host, address, peer in ((a, a_address, a_peer), (b, b_address, b_peer)):
            assert (
                in_node(host, "ip", "address", "add", f"{address}/24", "dev", "mgmt0").returncode
                == 0
            )
            assert in_node(host, "ip", "link", "set", "mgmt0", "up").returncode == 0
            assert in_node(host, "ip", "route", "add", f"{peer}/32", "dev", "mgmt0").returncode == 0
        yield
    finally:
        in_node(a, "ip", "link", "del", "mgmt0")  # both ends: it is one veth pair


def department_host_address(node: str, department: str) -> str:
    [dept] = [d for d in network().node(node).departments if d.name == department]
    return str(dept.gateway.ip + 1)


def test_a_department_probe_that_works_only_over_management(workdir: Path) -> None:
    management = network().management_subnet
    side_door = [
        (  # to tangshan's, over mgmt
            "zhengding-caizhengju",
            str(management.network_address + 250),
            department_host_address("tangshan", "caizhengju"),
        ),
        (
            "tangshan-caizhengju",
            str(management.network_address + 251),
            department_host_address("zhengding", "caizhengju"),
        ),
    ]
    with management_side_door(side_door):
        code, report = audit(workdir)
        enforce_code, enforced = enforce(workdir)
    # no device config causes it: enforce changes nothing and says so, exit 1
    assert enforce_code == 1
    assert enforced["changed"] == []
    assert enforced["after"]
    assert enforced["unrepairable"] == enforced["after"]
    assert {f["rule"] for f in enforced["unrepairable"]} >= {"data-plane-path"}
    assert code == 1
    paths = [
        f
        for f in report["findings"]
        if f["rule"] == "data-plane-path"
        and f["subject"].startswith("zhengding-caizhengju -> tangshan-caizhengju")
    ]
    assert any("dev mgmt0" in f["evidence"] for f in paths), report["findings"]
    assert any("first hop" in f["evidence"] for f in paths)
    assert all(f["host"] == "zhengding" and f["zone"] == "private" for f in paths)
    assert_clean(workdir)


def interconnect(workdir: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = egovnet("interconnect", "check", "--json", *extra, cwd=workdir)
    assert result.returncode in {0, 1}, result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def test_interconnect_matrix_is_green_with_metrics(workdir: Path) -> None:
    metrics = workdir / "interconnect.prom"
    code, report = interconnect(workdir, "--metrics", str(metrics))
    assert code == 0, [p for p in report["pairs"] if not p["ok"]]
    kinds = {p["kind"] for p in report["pairs"]}
    routes = {"node", "city", "core", "uplink", "core-via-uplink", "must-not"}
    assert kinds == routes | {"dns", "dns-internet", "dns-refused"}  # DNS: the service zone
    assert all(p["loss"] == 0 for p in report["pairs"] if p["expected"] and not p["qname"])
    families = {f.name: f for f in text_string_to_metric_families(metrics.read_text())}
    reachable = families["egov_interconnect_reachable"].samples
    routed = [p for p in report["pairs"] if not p["qname"]]
    assert len(reachable) == len(routed)
    # a DNS probe is published as its answer (egov_dns_*), one series per probe
    asked = {
        (p["dst"], p["zone"], p["src"], p["qname"], p["kind"])
        for p in report["pairs"]
        if p["qname"]
    }
    correct = families["egov_dns_answer_correct"].samples
    assert asked
    assert len(correct) == len(asked)
    assert all(sample.value == 1 for sample in correct)
    [violations] = families["egov_isolation_violations"].samples
    assert violations.value == 0


SHIJIAZHUANG_TO_CORE_1 = (("eth1", None), ("eth1.100", "private"), ("eth1.200", "public"))


def _set_uplink(state: str) -> None:
    for name, zone in SHIJIAZHUANG_TO_CORE_1:
        done = in_node("shijiazhuang", "ip", "link", "set", name, state, zone=zone)
        assert done.returncode == 0, done.stderr


def _wait_for(what: str, ready: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


def test_a_dual_homed_city_keeps_every_department_with_one_uplink_down(workdir: Path) -> None:
    """Shijiazhuang loses its uplink to hebei-core-1: every department pair still answers
    (through hebei-core-2); only the checks over that very uplink fail. Then it comes back."""
    _set_uplink("down")
    try:
        reports: list[dict[str, Any]] = []

        def departments_reachable() -> bool:
            _code, report = interconnect(workdir)
            reports.append(report)
            return all(p["ok"] for p in report["pairs"] if p["kind"] in {"node", "city", "core"})

        _wait_for("departments to converge over hebei-core-2", departments_reachable)
        wrong = {(p["src"], p["dst"]) for p in reports[-1]["pairs"] if not p["ok"]}
        assert wrong == {
            ("shijiazhuang", "hebei-core-1"),
            ("shijiazhuang", "hebei-core-1 via eth1"),
        }
    finally:
        _set_uplink("up")

    def all_green() -> bool:
        return interconnect(workdir)[0] == 0

    _wait_for("the uplink's BGP sessions to come back", all_green)
