"""The lab guard's arithmetic: which prefixes it blocks, and what it refuses on this machine."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from egovnet.loader import load_network
from egovnet.model import Network
from lab.guard import (
    SIMULATED_INTERNET,
    HostRoute,
    lab_prefixes,
    management_prefix,
    nft_ruleset,
    parse_routes,
    preflight,
    read_host,
)
from lab.names import bridge, guard_metric, guard_table

ROOT = Path(__file__).resolve().parents[2]

# `ip -j -4 route show table all` on one of our machines, abridged
RECORDED_ROUTES = """[
 {"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},
 {"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"192.0.2.2"},
 {"type":"local","dst":"127.0.0.0/8","dev":"lo","table":"local","scope":"host"},
 {"type":"broadcast","dst":"192.0.2.255","dev":"eth0","table":"local","scope":"link"}
]"""
MACHINE = parse_routes(RECORDED_ROUTES, "egovnet")
NAMESERVERS = [IPv4Address("10.255.255.53")]


@pytest.fixture(scope="module")
def sample() -> Network:
    return load_network(ROOT / "inventory")


def test_recorded_routes_parse() -> None:
    assert MACHINE[0] == HostRoute(IPv4Network("0.0.0.0/0"), "eth0", IPv4Address("192.0.2.1"))
    assert IPv4Network("127.0.0.0/8") in [route.destination for route in MACHINE]


def test_lab_prefixes_cover_every_lab_address_but_management(sample: Network) -> None:
    prefixes = lab_prefixes(sample)
    assert not any(p.overlaps(management_prefix(sample)) for p in prefixes)
    addresses = [node.loopback for node in sample.nodes]
    addresses += [dept.gateway.ip for node in sample.nodes for dept in node.departments]
    addresses += [
        link.address(link.upper.host, inst).ip for link in sample.links for inst in link.subnets
    ]
    addresses += [node.internet.address.ip for node in sample.nodes if node.internet]
    for address in addresses:
        assert any(address in prefix for prefix in prefixes), address


def test_lab_prefixes_are_the_allocated_blocks_not_whole_ranges(sample: Network) -> None:
    """Never an unreachable route over a whole private range: only what the lab allocated."""
    prefixes = lab_prefixes(sample)
    assert IPv4Network("10.80.0.0/17") in prefixes  # the two province cores' private blocks
    assert IPv4Network("198.18.0.0/15") in prefixes  # the simulated internet, whole
    assert all(
        prefix.prefixlen >= 16
        for prefix in prefixes
        if not prefix.subnet_of(IPv4Network("198.18.0.0/15"))
    )
    assert not any(prefix.overlaps(IPv4Network("10.255.0.0/16")) for prefix in prefixes)


def test_sample_passes_preflight_on_a_machine_like_ours(sample: Network) -> None:
    assert preflight(sample, MACHINE, NAMESERVERS) == []


def test_sample_passes_preflight_on_this_machine(sample: Network) -> None:
    routes, nameservers = read_host(sample.lab_name)
    assert preflight(sample, routes, nameservers) == []


def test_preflight_refuses_an_overlapping_host_route(sample: Network) -> None:
    routes = [*MACHINE, HostRoute(IPv4Network("10.80.5.0/24"), "eth7")]
    problems = preflight(sample, routes, NAMESERVERS)
    assert problems == [
        "lab prefix 10.80.0.0/17 overlaps the route 10.80.5.0/24 of this machine (dev eth7)"
    ]


def test_preflight_refuses_a_nameserver_or_gateway_inside_the_lab(sample: Network) -> None:
    gateway = [HostRoute(IPv4Network("0.0.0.0/0"), "eth0", IPv4Address("10.96.1.1"))]
    problems = preflight(sample, gateway, [IPv4Address("10.64.8.53")])
    assert (
        "lab prefix 10.64.8.0/24 contains the nameserver 10.64.8.53 this machine uses" in problems
    )
    assert any("contains this machine's gateway 10.96.1.1" in p for p in problems)


def test_preflight_ignores_the_labs_own_routes(sample: Network) -> None:
    """A second `lab up` sees the first one's management route: that is not a conflict."""
    routes = [*MACHINE, HostRoute(management_prefix(sample), bridge(sample.lab_name))]
    assert preflight(sample, routes, NAMESERVERS) == []


def test_preflight_refuses_another_labs_devices(sample: Network) -> None:
    """Another lab on the same management subnet (its bridge has the route): a conflict, so
    a test lab can never overlap the demo's."""
    routes = [*MACHINE, HostRoute(management_prefix(sample), bridge("egvt-other"))]
    assert preflight(sample, routes, NAMESERVERS) == [
        f"lab prefix {management_prefix(sample)} overlaps the route "
        f"{management_prefix(sample)} of this machine (dev {bridge('egvt-other')})"
    ]


def unreachable(prefix: str, metric: int) -> str:
    return f'{{"type":"unreachable","dst":"{prefix}","metric":{metric},"flags":[]}}'


def test_the_guards_own_routes_are_not_host_routes_but_another_labs_are() -> None:
    """A second `lab up` sees the first one's guard; its routes must not block the lab. The
    guard of another lab does (it would overlap it), but for the simulated internet, which
    every lab guards alike."""
    listing = ",".join(
        [
            unreachable("10.80.0.0/17", guard_metric("egovnet")),
            unreachable("10.81.0.0/17", guard_metric("egvt-other")),
            unreachable("10.82.0.0/17", 7),
            unreachable(str(SIMULATED_INTERNET), guard_metric("egovnet")),
            unreachable(str(SIMULATED_INTERNET), guard_metric("egvt-other")),
        ]
    )
    routes = parse_routes(f"[{listing}]", "egovnet")
    assert [route.destination for route in routes] == [
        IPv4Network("10.81.0.0/17"),
        IPv4Network("10.82.0.0/17"),
    ]


def test_nft_ruleset_drops_forwarding_on_the_labs_own_interfaces() -> None:
    ruleset = nft_ruleset("egovnet")
    assert ruleset.startswith(f"table inet {guard_table('egovnet')} {{")
    assert "hook forward" in ruleset
    assert 'iifname "egv6892*" counter drop' in ruleset
    assert 'oifname "egv6892*" counter drop' in ruleset
    assert guard_table("egvt-other") != guard_table("egovnet")
