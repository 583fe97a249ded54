"""The service zone on Huawei VRP, H3C Comware and Cisco IOS, as the isolation audit reads
the rendered configs: hub and spoke by route targets and route policies, and the ACL before
the service hosts. No device runs here: the configs are egovnet's renders, read by egovnet's
parsers, whose routing model follows a leak between a device's own instances."""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path

import pytest

from egovnet.configs.model import AddressMatch, Flow
from egovnet.configs.parse import parse_for
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.engine import render_network
from isolation.analysis import Audit, audit_configs
from isolation.sources import NO_SECRETS, intended_configs

ROOT = Path(__file__).resolve().parents[2]
VENDORS = ("huawei_vrp", "h3c_comware", "cisco_ios")


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(ROOT / "inventory")


@pytest.mark.parametrize("platform", VENDORS)
def test_every_granted_zone_learns_the_service_prefixes_and_no_other_zone(
    network: Network, platform: str
) -> None:
    service = network.service_zone
    assert service is not None
    configs = intended_configs(network, platform)
    assert all(not c.unmodelled and not c.unparsed for c in configs.values())
    state = Audit(network, configs).state
    pools = {zone.name: zone.pool for zone in network.zones}
    for node in network.nodes:
        for zone in node.zones:
            routes = state.tables[(node.name, zone)].routes
            if zone in service.access:
                assert set(service.prefixes) <= set(routes), (node.name, zone)
            for other, pool in pools.items():
                assert other == zone or not any(p.subnet_of(pool) for p in routes)
    for host in service.hosts:
        routes = state.tables[(host.node, service.name)].routes
        assert {pools[zone] for zone in service.access} <= set(routes)
    assert audit_configs(network, configs) == []


@pytest.mark.parametrize("platform", VENDORS)
def test_the_filter_passes_the_service_ports_only(network: Network, platform: str) -> None:
    service = network.service_zone
    assert service is not None
    [dns1] = [h for h in service.hosts if h.name == "dns1"]
    text = render_network(network, NO_SECRETS, platform)[dns1.node]
    config = parse_for(text, dns1.node, platform, "x.cfg")
    [interface] = [i for i in config.interfaces.values() if i.vrf == service.name]
    acl = config.filters[interface.outbound_filter or ""]
    host = AddressMatch.of(IPv4Network(f"{dns1.address.ip}/32"))
    private = AddressMatch.of(network.zone("private").pool)
    vrf = service.name

    def new(protocol: str, port: int) -> bool:
        flow = Flow(private, host, protocol, port, vrf=vrf)
        return acl.admits(flow) is not None

    assert new("udp", 53)
    assert new("tcp", 53)
    assert not new("tcp", 22)
    assert not new("tcp", 80)
    other = AddressMatch.of(IPv4Network(f"{dns1.address.ip + 1}/32"))  # not a service address
    assert acl.admits(Flow(private, other, "udp", 53, vrf=vrf)) is None


INTO_ZONE = {
    "huawei_vrp": (
        "route-policy SERVICES-INTO-ZONE permit node 10\n if-match ip-prefix SERVICES-HOSTS",
        "route-policy SERVICES-INTO-ZONE permit node 10\n if-match ip-prefix SERVICES-ZONES",
    ),
    "h3c_comware": (
        "route-policy SERVICES-INTO-ZONE permit node 10\n"
        " if-match ip address prefix-list SERVICES-HOSTS",
        "route-policy SERVICES-INTO-ZONE permit node 10\n"
        " if-match ip address prefix-list SERVICES-ZONES",
    ),
    "cisco_ios": (
        "route-map SERVICES-INTO-ZONE permit 10\n match ip address prefix-list SERVICES-HOSTS",
        "route-map SERVICES-INTO-ZONE permit 10\n match ip address prefix-list SERVICES-ZONES",
    ),
}


@pytest.mark.parametrize("platform", VENDORS)
def test_a_zone_importing_another_zones_routes_is_a_leak_the_audit_names(
    network: Network, platform: str
) -> None:
    """`private` also importing `public`'s route target, its import policy widened to every
    pool: the zones would meet at the service node (`zones-apart`)."""
    service = network.service_zone
    assert service is not None
    node = network.node(service.hosts[0].node)
    texts = render_network(network, NO_SECRETS, platform)
    good, bad = INTO_ZONE[platform]
    text = texts[node.name].replace(good, bad)
    rt = f"{node.loopback}:{service.hosts[0].vlan}"
    public_rt = f"{node.loopback}:{network.zone('public').vlan}"
    if platform == "cisco_ios":
        own, extra = f"  route-target import {rt}\n", f"  route-target import {public_rt}\n"
    else:
        own = f"  vpn-target {rt} import-extcommunity\n"
        extra = f"  vpn-target {public_rt} import-extcommunity\n"
    assert own in text
    text = text.replace(own, own + extra, 1)  # the first instance is `private`'s
    configs = intended_configs(network, platform)
    configs[node.name] = parse_for(text, node.name, platform, f"{node.name}.cfg")
    assert not configs[node.name].unmodelled
    findings = audit_configs(network, configs)
    assert ("zones-apart", "private") in {(f.rule, f.zone) for f in findings}
    clean = intended_configs(network, platform)
    clean[node.name] = parse_for(texts[node.name].replace(good, bad), node.name, platform, "x")
    assert audit_configs(network, clean) == []  # the service instance's export still holds


@pytest.mark.parametrize("platform", VENDORS)
def test_a_filterless_route_target_import_is_reported_not_followed(
    network: Network, platform: str
) -> None:
    """A leak into a zone without an import policy is not what the model can follow: the
    audit fails closed on it (and on policies that do more than match one prefix list)."""
    service = network.service_zone
    assert service is not None
    node = service.hosts[0].node
    text = render_network(network, NO_SECRETS, platform)[node]
    line = {
        "huawei_vrp": "  import route-policy SERVICES-INTO-ZONE\n",
        "h3c_comware": "  import route-policy SERVICES-INTO-ZONE\n",
        "cisco_ios": "  import map SERVICES-INTO-ZONE\n",
    }[platform]
    assert line in text
    config = parse_for(text.replace(line, "", 1), node, platform, f"{node}.cfg")
    assert any(
        "route target" in u.construct or "vpn-target" in u.construct for u in config.unmodelled
    )
