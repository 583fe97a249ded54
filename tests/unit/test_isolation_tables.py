"""Live routing-table checks on recorded `vtysh -c 'show ip route vrf all json'` output of
the sample lab (FRR 8.4 prints one JSON object per VRF): clean as recorded, and each leak
the live audit must see in a table, added to the recording as FRR would show it.

The tables were captured from a lab of the sample as it was then (two zones, no gongan VPN,
no service zone); the inventory they were captured from is kept beside them
(`recorded/isolation/inventory/`) and the intended state is computed from it, so that the
recording and the model it is judged against describe one network."""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from egovnet.loader import load_network
from egovnet.model import Network
from isolation.analysis import Audit
from isolation.findings import Finding
from isolation.routing import RoutingState
from isolation.sources import intended_configs
from isolation.tables import LiveRoute, parse_routes, table_findings

RECORDED = Path(__file__).resolve().parent / "recorded" / "isolation"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(RECORDED / "inventory")


@pytest.fixture(scope="module")
def expected(network: Network) -> RoutingState:
    return Audit(network, intended_configs(network, "frr")).state


def recorded(host: str) -> str:
    return (RECORDED / f"{host}.route.json").read_text(encoding="utf-8")


def findings_for(
    network: Network,
    expected: RoutingState,
    tables: dict[str, dict[str, dict[IPv4Network, LiveRoute]]],
) -> list[Finding]:
    """Table findings of the recorded hosts only (the others were not recorded)."""
    return [f for f in table_findings(network, tables, expected) if f.host in tables]


def test_recorded_tables_parse_per_vrf() -> None:
    tables = parse_routes(recorded("zhengding"))
    assert set(tables) == {"global", "private", "public"}
    default = tables["public"][IPv4Network("0.0.0.0/0")]
    assert default.protocol == "bgp"
    assert default.via == ("10.64.16.152 eth1.200",)
    assert IPv4Network("0.0.0.0/0") not in tables["private"]
    aggregate = tables["private"][IPv4Network("10.80.9.0/24")]
    assert aggregate.via == ()  # the aggregate's discard route


def test_recorded_tables_match_the_intended_ones(network: Network, expected: RoutingState) -> None:
    tables = {h: parse_routes(recorded(h)) for h in ("zhengding", "hebei-exit")}
    assert findings_for(network, expected, tables) == []


def add_route(text: str, vrf: str, prefix: str, protocol: str, hop: dict[str, object]) -> str:
    """The recording plus one selected route, as FRR prints it, in its own VRF object."""
    route = {
        "prefix": prefix,
        "protocol": protocol,
        "vrfName": vrf,
        "selected": True,
        "installed": True,
        "nexthops": [hop | {"active": True}],
    }
    return text + "\n" + json.dumps({prefix: [route]})


def test_a_static_default_in_a_private_table(network: Network, expected: RoutingState) -> None:
    text = add_route(
        recorded("zhengding"),
        "private",
        "0.0.0.0/0",
        "static",
        {"ip": "10.64.16.148", "interfaceName": "eth1.100"},
    )
    findings = findings_for(network, expected, {"zhengding": parse_routes(text)})
    assert {(f.rule, f.host, f.zone, f.subject) for f in findings} == {
        ("private-no-internet-route", "zhengding", "private", "0.0.0.0/0"),
        ("table-matches-model", "zhengding", "private", "0.0.0.0/0"),
    }
    assert all("0.0.0.0/0 static via 10.64.16.148 eth1.100" in f.evidence for f in findings)


def test_a_private_prefix_in_the_exits_internet_table(
    network: Network, expected: RoutingState
) -> None:
    text = add_route(
        recorded("hebei-exit"),
        "public",
        "10.80.0.0/16",
        "static",
        {"ip": "10.64.19.136", "interfaceName": "eth1.200"},
    )
    findings = findings_for(network, expected, {"hebei-exit": parse_routes(text)})
    rules = {(f.rule, f.host, f.zone, f.subject) for f in findings}
    assert ("no-private-prefix-at-exit", "hebei-exit", "public", "10.80.0.0/16") in rules


def test_a_second_internet_uplink_shows_as_a_connected_route(
    network: Network, expected: RoutingState
) -> None:
    text = add_route(
        recorded("zhengding"), "public", "198.18.2.0/31", "connected", {"interfaceName": "up0"}
    )
    findings = findings_for(network, expected, {"zhengding": parse_routes(text)})
    assert ("single-exit", "zhengding", "public", "198.18.2.0/31") in {
        (f.rule, f.host, f.zone, f.subject) for f in findings
    }


def test_a_missing_route_is_named_with_the_line_that_should_make_it(
    network: Network, expected: RoutingState
) -> None:
    tables = parse_routes(recorded("zhengding"))
    del tables["public"][IPv4Network("0.0.0.0/0")]
    [finding] = findings_for(network, expected, {"zhengding": tables})
    assert finding.rule == "table-matches-model"
    assert finding.subject == "0.0.0.0/0"
    assert "missing" in finding.evidence
    assert "hebei-exit.cfg" in finding.evidence  # the default is the exit's
