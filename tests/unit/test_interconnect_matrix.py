"""The interconnect matrix the sample inventory implies (no lab needed), and its Prometheus
text: what must reach what, what must not, and how a result is exported."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from egovnet.loader import load_network
from egovnet.model import Network
from isolation.access import LabNames
from isolation.interconnect import PairResult, matrix, metrics_text
from isolation.probes import Flow

NAMES = LabNames(
    department_host=lambda router, dept: f"{router}-{dept}",
    internet_host=lambda exit_host: f"internet-{exit_host}",
    internet_server=IPv4Address("198.19.255.254"),
)


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(Path(__file__).resolve().parents[2] / "inventory")


@pytest.fixture(scope="module")
def flows(network: Network) -> list[Flow]:
    return matrix(network, NAMES)


def pairs_of(flows: list[Flow], src: str) -> set[tuple[str, str, bool]]:
    return {(f.kind, f.target, f.allowed) for f in flows if f.src == src}


def test_a_county_department_reaches_node_city_and_cores(flows: list[Flow]) -> None:
    assert pairs_of(flows, "zhengding-caizhengju") == {
        ("node", "zhengding", True),
        ("city", "shijiazhuang-caizhengju", True),
        ("core", "hebei-core-1-fagaiwei", True),
        ("core", "hebei-core-2-gonganting", True),
        ("must-not", "zhengding-zhengwufuwu", False),
        ("must-not", "zhengding-gonganju", False),
        ("must-not", "internet-hebei-exit", False),
    }


def test_a_public_department_may_reach_the_internet_so_it_is_not_a_must_not(
    flows: list[Flow],
) -> None:
    # hebei-core-2 has no public department: only core-1's is a target
    assert pairs_of(flows, "zhengding-zhengwufuwu") == {
        ("node", "zhengding", True),
        ("city", "shijiazhuang-zhengwufuwu", True),
        ("core", "hebei-core-1-zhengwufuwu", True),
        ("must-not", "zhengding-caizhengju", False),
        ("must-not", "zhengding-gonganju", False),
    }


def test_a_departmental_vpn_reaches_its_own_zone_only(flows: list[Flow]) -> None:
    # gongan (公安专网, internet: false): the county reaches the province's gongan department
    # and nothing of the other zones at its own node, nor the internet
    assert pairs_of(flows, "zhengding-gonganju") == {
        ("node", "zhengding", True),
        ("core", "hebei-core-1-gongan", True),
        ("must-not", "zhengding-caizhengju", False),
        ("must-not", "zhengding-zhengwufuwu", False),
        ("must-not", "internet-hebei-exit", False),
    }


def test_a_dual_homed_city_is_checked_over_each_uplink(flows: list[Flow]) -> None:
    checks = {(f.kind, f.target, f.device) for f in flows if f.src == "shijiazhuang" and f.device}
    assert checks == {
        ("uplink", "hebei-core-1", "eth1"),
        ("uplink", "hebei-core-2", "eth2"),
        ("core-via-uplink", "hebei-core-1 via eth1", "eth1"),
        ("core-via-uplink", "hebei-core-2 via eth2", "eth2"),
    }
    uplink = next(f for f in flows if f.src == "shijiazhuang" and f.device == "eth1")
    assert uplink.dst == IPv4Address("10.64.16.128")  # core-1's end of the /31


def test_the_internet_must_reach_no_department(network: Network, flows: list[Flow]) -> None:
    inward = [f for f in flows if f.src == "internet-hebei-exit"]
    departments = sum(len(n.departments) for n in network.nodes)
    assert len(inward) == departments
    assert not any(f.allowed for f in inward)


def test_metrics_text_carries_the_monitoring_labels(network: Network) -> None:
    pairs = [
        PairResult(
            "zhengding-caizhengju",
            "zhengding",
            "zhengding",
            "node",
            "private",
            "石家庄市",
            True,
            True,
            0.0,
            0.08,
        ),
        PairResult(
            "zhengding-caizhengju",
            "zhengding",
            "internet-hebei-exit",
            "must-not",
            "private",
            "石家庄市",
            False,
            True,
            0.0,
            0.2,
        ),
    ]
    families = {f.name: f for f in text_string_to_metric_families(metrics_text(network, pairs))}
    [reached, leaked] = families["egov_interconnect_reachable"].samples
    assert reached.labels["host"] == "zhengding"
    assert reached.labels["tier"] == "county"
    assert reached.labels["city"] == "石家庄市"
    assert reached.labels["county"] == "正定县"
    assert reached.labels["expected"] == "reach"
    assert reached.value == 1
    assert leaked.labels["expected"] == "must-not"
    [violations] = families["egov_isolation_violations"].samples
    assert violations.value == 1
    rtt = families["egov_interconnect_rtt_seconds"].samples[0]
    assert rtt.value == pytest.approx(0.00008)


def test_dns_probes_become_the_dns_metrics_per_resolver_and_zone(network: Network) -> None:
    def dns(
        src: str, zone: str, qname: str, kind: str, right: bool, rtt: float | None
    ) -> PairResult:
        return PairResult(src, "zhengding", "hebei-core-1-dns1", kind, zone, "石家庄市", True,
                          right, None, rtt, qname=qname, answer="x")  # fmt: skip

    pairs = [
        dns("zhengding-caizhengju", "private", "www.internet.test", "dns-refused", True, 0.4),
        dns("zhengding-caizhengju", "private", "dns1.hebei.egov", "dns", False, 0.5),
        dns("zhengding-gonganju", "gongan", "dns1.hebei.egov", "dns", False, None),  # silent
    ]
    families = {f.name: f for f in text_string_to_metric_families(metrics_text(network, pairs))}
    up = {s.labels["zone"]: s.value for s in families["egov_dns_up"].samples}
    assert up == {"private": 1.0, "gongan": 0.0}
    correct = {
        (s.labels["zone"], s.labels["qname"]): s.value
        for s in families["egov_dns_answer_correct"].samples
    }
    assert correct[("private", "www.internet.test")] == 1.0
    assert correct[("private", "dns1.hebei.egov")] == 0.0
    seconds = [s.value for s in families["egov_dns_query_seconds"].samples]
    assert sorted(seconds) == [0.0004, 0.0005]
    # DNS probes are not interconnect pairs: no egov_interconnect_reachable of theirs
    assert not families["egov_interconnect_reachable"].samples
