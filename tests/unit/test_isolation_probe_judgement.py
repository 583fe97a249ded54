"""What the live audit probes and how it judges answers: the policy's flows on the sample,
and findings from probe results as the probe agent reports them (no lab needed)."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.model import Network
from isolation.access import LabNames
from isolation.findings import Finding
from isolation.live import audit_flows, probe_findings
from isolation.probes import Flow, Result

NAMES = LabNames(
    department_host=lambda router, dept: f"{router}-{dept}",
    internet_host=lambda exit_host: f"internet-{exit_host}",
    internet_server=IPv4Address("198.19.255.254"),
)
ROUTE_OUT = {"dev": "eth1", "gateway": "10.96.9.1", "prefsrc": "10.96.9.2"}


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(Path(__file__).resolve().parents[2] / "inventory")


@pytest.fixture(scope="module")
def flows(network: Network) -> list[Flow]:
    return audit_flows(network, NAMES)


def flow(flows: list[Flow], src: str, target: str) -> Flow:
    return next(f for f in flows if f.src == src and f.target == target)


def judge(network: Network, result: Result, route: dict[str, Any] | None = None) -> list[Finding]:
    routes = {(result.flow.src, result.flow.dst): route or ROUTE_OUT}
    return list(probe_findings(network, NAMES, [result], routes))  # type: ignore[arg-type]


def test_the_policy_decides_every_flow(flows: list[Flow]) -> None:
    assert flow(flows, "zhengding-caizhengju", "qianan-caizhengju").allowed
    assert not flow(flows, "zhengding-caizhengju", "zhengding-zhengwufuwu").allowed
    assert not flow(flows, "zhengding-caizhengju", "internet-hebei-exit").allowed
    assert flow(flows, "zhengding-zhengwufuwu", "internet-hebei-exit").allowed
    assert not flow(flows, "zhengding-zhengwufuwu", "management of zhengding").allowed
    inward = [f for f in flows if f.src == "internet-hebei-exit"]
    assert inward
    assert not any(f.allowed for f in inward)


def answered(proto: str, **extra: Any) -> dict[str, dict[str, Any]]:
    return {proto: {"ok": True, **extra}}


def test_the_internet_reaching_a_department_is_the_exits_finding(
    network: Network, flows: list[Flow]
) -> None:
    inward = flow(flows, "internet-hebei-exit", "zhengding-zhengwufuwu")
    result = Result(inward, answered("tcp", answer="zhengding-zhengwufuwu 198.18.0.112"))
    [finding] = judge(network, result)
    assert (finding.rule, finding.host, finding.zone) == (
        "internet-reaches-nothing",
        "hebei-exit",
        "internet",
    )
    assert finding.subject.endswith(" tcp")
    assert "198.18.0.112" in finding.evidence


PATH_TO_INTERNET: list[str | None] = [
    "10.96.9.1",
    "10.64.16.152",
    "10.64.16.136",
    "10.64.19.137",
    "198.19.255.254",
]


def test_a_public_department_out_through_the_exit_natted_is_clean(
    network: Network, flows: list[Flow]
) -> None:
    out = flow(flows, "zhengding-zhengwufuwu", "internet-hebei-exit")
    answers = answered("tcp", answer="internet-hebei-exit 198.18.0.113") | answered("icmp")
    answers |= answered("udp", answer="internet-hebei-exit 198.18.0.113")
    assert judge(network, Result(out, answers, PATH_TO_INTERNET)) == []


def test_no_nat_and_a_path_around_the_exit_are_findings(
    network: Network, flows: list[Flow]
) -> None:
    out = flow(flows, "zhengding-zhengwufuwu", "internet-hebei-exit")
    answers = answered("tcp", answer="internet-hebei-exit 10.96.9.2") | answered("icmp")
    answers |= answered("udp", answer="internet-hebei-exit 10.96.9.2")
    hops: list[str | None] = [
        "10.96.9.1",
        "10.64.16.152",
        "198.19.255.254",
    ]  # out of shijiazhuang directly
    rules = {(f.rule, f.host) for f in judge(network, Result(out, answers, hops))}
    assert rules == {("nat-at-exit", "hebei-exit"), ("unified-exit", "shijiazhuang")}


def test_a_management_hop_or_interface_is_not_the_data_plane(
    network: Network, flows: list[Flow]
) -> None:
    across = flow(flows, "zhengding-caizhengju", "qianan-caizhengju")
    answers = answered("icmp") | answered("tcp", answer="qianan-caizhengju 10.80.9.2")
    answers |= answered("udp", answer="qianan-caizhengju 10.80.9.2")
    route = {"dev": "mgmt0", "prefsrc": "10.64.8.250"}
    found = judge(network, Result(across, answers, ["10.64.8.251", "10.80.73.2"]), route)
    evidence = " | ".join(f.evidence for f in found)
    assert {f.rule for f in found} == {"data-plane-path"}
    assert "dev mgmt0" in evidence
    assert "hop 10.64.8.251 is on the management network" in evidence
    assert "first hop" in evidence


def test_a_province_is_probed_in_linearly_many_flows(tmp_path: Path) -> None:
    write_inventory(generate_inventory(1, 11, 9, 4), tmp_path)
    province = load_network(tmp_path)
    flows = audit_flows(province, NAMES)
    departments = [
        NAMES.department_host(n.name, d.name) for n in province.nodes for d in n.departments
    ]
    assert len(departments) > 400
    sources = {f.src for f in flows}
    assert set(departments) <= sources
    per_source = max(sum(1 for f in flows if f.src == s) for s in departments)
    assert per_source <= 12  # own node's, 2 per zone, internet, management
    targets = {f.target for f in flows}
    assert set(departments) <= targets  # the rotation reaches every department
    zone_of = {
        NAMES.department_host(n.name, d.name): d.zone for n in province.nodes for d in n.departments
    }
    pairs = {(f.zone, f.target_zone) for f in flows if f.target in zone_of and f.src in zone_of}
    assert pairs == {(a, b) for a in ("private", "public") for b in ("private", "public")}
