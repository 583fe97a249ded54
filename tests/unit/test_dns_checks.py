"""The DNS leak rules and the service-zone rules, judged on rendered files with one leak
written in (the lab test injects the same leaks live), and the DNS probes' judgement."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

import pytest

from egovnet.configs.frr import parse_nft
from egovnet.configs.model import DeviceConfig
from egovnet.configs.named import NamedConfig, parse_named
from egovnet.configs.parse import parse_for
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.dns import render_dns
from egovnet.render.engine import render_network
from egovnet.render.packet_filter import ruleset_in_place, split
from isolation.access import LabNames
from isolation.probes import Result
from isolation.resolvers import config_findings, dns_flows, judge
from isolation.services import service_findings
from isolation.sources import NO_SECRETS

SAMPLE = Path(__file__).resolve().parents[2] / "inventory"
NAMES = LabNames(
    department_host=lambda router, dept: f"{router}-{dept}",
    internet_host=lambda exit_host: f"internet-{exit_host}",
    internet_server=IPv4Address("198.19.255.254"),
)


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(SAMPLE)


def _named(network: Network, edit: tuple[str, str] | None = None) -> dict[str, NamedConfig | None]:
    rendered = render_dns(network, 1)
    configs: dict[str, NamedConfig | None] = {}
    for host, files in rendered.items():
        text = files["named.conf"]
        if edit and host == "dns1":
            at = text.index('view "private"')
            cut = text.index(edit[0], at)
            text = text[:cut] + edit[1] + text[cut + len(edit[0]) :]
        configs[host] = parse_named(text, f"{host}/named.conf")
    return configs


def test_the_rendered_resolvers_break_no_dns_rule(network: Network) -> None:
    assert config_findings(network, _named(network), "config") == []


@pytest.mark.parametrize(
    ("edit", "subject"),
    [
        (("recursion no;", "recursion yes;"), "view private"),
        (
            ("recursion no;", "recursion no;\n    forwarders { 198.19.255.254; };"),
            "view private forwarders 198.19.255.254",
        ),
        (("recursion no;", 'recursion no;\n    include "/etc/bind/more.conf";'), "view include"),
    ],
)
def test_a_private_view_that_may_ask_the_internet_is_found(
    network: Network, edit: tuple[str, str], subject: str
) -> None:
    found = config_findings(network, _named(network, edit), "config")
    assert {(f.host, f.subject) for f in found} >= {("dns1", subject)}
    assert {f.rule for f in found} <= {"dns-private-no-internet", "unknown"}


def test_a_resolver_without_named_conf_fails_closed(network: Network) -> None:
    found = config_findings(network, {"dns1": None, "dns2": None}, "config")
    assert [(f.rule, f.host) for f in found] == [("unparsed", "dns1"), ("unparsed", "dns2")]


def _frr(network: Network, host: str, old: str, new: str) -> DeviceConfig:
    text = render_network(network, NO_SECRETS, "frr")[host]
    assert old in text
    text = text.replace(old, new, 1)
    config = parse_for(split(text)[0], host, "frr", f"{host}.cfg")
    parse_nft(ruleset_in_place(text), config, f"{host}.cfg")
    return config


def test_service_rules_find_a_route_leaked_into_the_service_zone_and_an_open_filter(
    network: Network,
) -> None:
    service = network.service_zone
    assert service is not None
    dns1 = service.hosts[0]
    loopbacks = network.loopback_pool
    leaked = _frr(
        network, dns1.node, "vrf services\n netns /run/netns/services\n",
        f"vrf services\n netns /run/netns/services\n ip route {loopbacks} 169.254.0.0\n",
    )  # fmt: skip
    found = list(service_findings(network, {dns1.node: leaked}))
    assert [(f.rule, f.subject) for f in found] == [("service-no-transit", str(loopbacks))]
    opened = _frr(
        network, dns1.node, "ct state established,related accept\n",
        f'ct state established,related accept\n!| \t\tiifname "zone300" ip daddr '
        f"{dns1.address.ip} accept\n",
    )  # fmt: skip
    found = list(service_findings(network, {dns1.node: opened}))
    assert [f.rule for f in found] == ["service-ports-only"]
    assert found[0].subject.startswith(f"zone300 -> {dns1.address.ip}")
    clean = _frr(network, dns1.node, "end\n", "end\n")
    assert list(service_findings(network, {dns1.node: clean})) == []


def test_dns_probes_cover_every_granted_zone_and_are_judged_by_answer(network: Network) -> None:
    flows = dns_flows(network, NAMES)
    service = network.service_zone
    assert service is not None
    assert {f.zone for f in flows} == set(service.access)
    refused = next(f for f in flows if f.kind == "dns-refused")
    assert refused.zone in {z.name for z in network.zones if not z.internet}
    ok = judge(Result(refused, {"dns": {"ok": True, "rcode": "REFUSED", "addresses": []}}))
    silent = judge(Result(refused, {"dns": {"ok": False, "error": "Timeout"}}))
    assert ok.correct
    assert not silent.correct  # a timeout is a resolver that tried the internet
    named = next(f for f in flows if f.kind == "dns")
    right = {"ok": True, "rcode": "NOERROR", "addresses": list(named.expect)}
    assert judge(Result(named, {"dns": right})).correct
    wrong = right | {"addresses": ["10.9.9.9"]}
    assert not judge(Result(named, {"dns": wrong})).correct
