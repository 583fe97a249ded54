"""Huawei VRP and H3C Comware constructs read as the devices mean them (snippets in each
vendor's own syntax, from their configuration guides' forms)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from egovnet.configs.model import AddressMatch, DeviceConfig, Flow
from egovnet.configs.vrp import parse_h3c_comware, parse_huawei_vrp
from isolation.routing import compute


def vrp(text: str) -> DeviceConfig:
    return parse_huawei_vrp(text, "r", "r.cfg")


def comware(text: str) -> DeviceConfig:
    return parse_h3c_comware(text, "r", "r.cfg")


def routes(config: DeviceConfig) -> list[tuple[object, ...]]:
    return [
        (s.vrf, str(s.prefix), str(s.next_hop) if s.next_hop else None, s.interface,
         s.preference, s.target_vrf)
        for s in config.statics
    ]  # fmt: skip


def test_dotted_asn_and_peer_as_number() -> None:
    config = vrp("#\nbgp 100.1\n peer 10.1.1.2 as-number 1.10\n#\n")
    assert config.asn == 6553601
    assert config.bgp["global"].neighbors[IPv4Address("10.1.1.2")].remote_as == 65546
    assert not config.unparsed


def test_placeholder_address_is_unparsed_and_the_rest_still_parses() -> None:
    config = vrp(
        "#\nsysname AR1\n#\nip route-static 100.x.x.80 255.255.255.255 10.1.1.2\n"
        "ip route-static 0.0.0.0 0.0.0.0 202.1.1.2\n#\n"
    )
    assert [(u.where.line, "IPv4" in u.reason) for u in config.unparsed] == [(4, True)]
    assert routes(config) == [("global", "0.0.0.0/0", "202.1.1.2", None, None, None)]
    assert config.hostname == "AR1"


def test_comware_indented_route_static_and_default() -> None:
    """Comware's display current-configuration prints global commands one space in."""
    config = comware(
        "#\n sysname H3C\n#\ninterface GigabitEthernet1/0/1\n"
        " ip address 202.1.1.1 255.255.255.252\n#\n"
        " ip route-static 0.0.0.0 0 202.1.1.2\n"
        " ip route-static vpn-instance a 10.9.0.0 16 10.1.1.2\n#\n"
    )
    assert routes(config) == [
        ("global", "0.0.0.0/0", "202.1.1.2", None, None, None),
        ("a", "10.9.0.0/16", "10.1.1.2", None, None, None),
    ]
    assert config.hostname == "H3C"
    assert config.interfaces["GigabitEthernet1/0/1"].address == IPv4Interface("202.1.1.1/30")


def test_interface_and_next_hop_routes_are_not_discard() -> None:
    config = vrp(
        "#\nip route-static 0.0.0.0 0.0.0.0 GigabitEthernet0/0/1 202.1.1.2\n"
        "ip route-static 10.0.0.0 8 NULL0\n"
        "ip route-static 0.0.0.0 0 Dialer1\n"
    )
    assert routes(config) == [
        ("global", "0.0.0.0/0", "202.1.1.2", "GigabitEthernet0/0/1", None, None),
        ("global", "10.0.0.0/8", None, "NULL0", None, None),
        ("global", "0.0.0.0/0", None, "Dialer1", None, None),
    ]
    assert [s.discard for s in config.statics] == [False, True, False]


def test_routes_into_another_vpn_instance_or_public() -> None:
    config = vrp(
        "#\nip route-static vpn-instance a 0.0.0.0 0.0.0.0 vpn-instance b 10.2.2.2\n"
        "ip route-static vpn-instance a 10.3.0.0 255.255.0.0 202.1.1.2 public\n"
    )
    assert routes(config) == [
        ("a", "0.0.0.0/0", "10.2.2.2", None, None, "b"),
        ("a", "10.3.0.0/16", "202.1.1.2", None, None, "global"),
    ]


def test_floating_static_keeps_its_preference() -> None:
    config = vrp(
        "#\nip route-static 0.0.0.0 0 202.1.1.2\n"
        "ip route-static 0.0.0.0 0 203.1.1.2 preference 100 description backup link\n"
    )
    assert [s.preference for s in config.statics] == [None, 100]
    assert config.static_preference == 60


def test_usg_vsys_is_kept_apart_from_the_root() -> None:
    config = vrp(
        "#\nsysname FW\n#\nvsys enable\n#\nvsys name vsysa 1\n"
        " assign interface GigabitEthernet1/0/3\n#\n"
        "interface GigabitEthernet1/0/1\n ip address 202.1.1.1 255.255.255.0\n#\n"
        "ip route-static 0.0.0.0 0.0.0.0 202.1.1.254\n#\nreturn\n"
        "#\nswitch vsys vsysa\n#\ninterface GigabitEthernet1/0/3\n"
        " ip binding vpn-instance vsysa\n ip address 10.3.0.1 255.255.255.0\n#\n"
        "ip route-static 0.0.0.0 0.0.0.0 10.3.0.254\n#\nreturn\n"
    )
    assert config.hostname == "FW"
    assert config.interfaces["GigabitEthernet1/0/3"].vrf == "vsys:vsysa"
    assert config.interfaces["GigabitEthernet1/0/1"].vrf == "global"
    assert [(s.vrf, str(s.next_hop)) for s in config.statics] == [
        ("global", "202.1.1.254"),
        ("vsys:vsysa", "10.3.0.254"),
    ]


def test_evpn_peers_are_not_vpn_neighbours() -> None:
    config = vrp(
        "#\nbgp 100\n peer 1.1.1.1 as-number 100\n #\n ipv4-family vpn-instance a\n"
        "  peer 10.1.1.2 as-number 200\n #\n l2vpn-family evpn\n  policy vpn-target\n"
        "  peer 1.1.1.1 enable\n  peer 1.1.1.1 advertise irb\n#\n"
    )
    assert set(config.bgp["a"].neighbors) == {IPv4Address("10.1.1.2")}
    assert set(config.bgp["global"].neighbors) == {IPv4Address("1.1.1.1")}
    assert [u.construct for u in config.unmodelled] == ["l2vpn-family evpn"]


def test_comware7_bgp_vpn_instance_with_nested_families() -> None:
    config = comware(
        "#\nbgp 100\n peer 1.1.1.1 as-number 100\n #\n address-family ipv4 unicast\n"
        "  peer 1.1.1.1 enable\n #\n ip vpn-instance a\n  peer 10.1.1.2 as-number 200\n"
        "  #\n  address-family ipv4 unicast\n   network 10.8.0.0 255.255.0.0\n"
        "   peer 10.1.1.2 enable\n#\n"
    )
    assert config.bgp["a"].neighbors[IPv4Address("10.1.1.2")].remote_as == 200
    assert [str(p) for p, _ in config.bgp["a"].networks] == ["10.8.0.0/16"]


def test_sub_addresses_stay_after_the_primary() -> None:
    config = vrp(
        "#\ninterface Vlanif10\n ip address 10.1.1.1 255.255.255.0\n"
        " ip address 10.1.2.1 255.255.255.0 sub\n#\n"
    )
    assert [str(a) for a in config.interfaces["Vlanif10"].addresses] == [
        "10.1.1.1/24",
        "10.1.2.1/24",
    ]


def test_filters_in_both_directions_and_comware5_firewall_packet_filter() -> None:
    huawei = vrp(
        "#\ninterface GigabitEthernet0/0/1\n traffic-filter inbound acl 3000\n"
        " traffic-filter outbound acl name OUT\n#\n"
    )
    port = huawei.interfaces["GigabitEthernet0/0/1"]
    assert (port.inbound_filter, port.outbound_filter) == ("3000", "OUT")
    h3c = comware(
        "#\ninterface Ethernet0/1\n firewall packet-filter 3001 inbound\n"
        " packet-filter 3002 outbound\n#\n"
    )
    port = h3c.interfaces["Ethernet0/1"]
    assert (port.inbound_filter, port.outbound_filter) == ("3001", "3002")


def test_acl_rules_keep_source_ports_wildcards_and_skip_comments() -> None:
    config = vrp(
        "#\nacl number 3000\n rule 5 deny ip source 10.0.0.0 0.255.255.255\n"
        " rule 5 comment anti-spoofing\n"
        " rule 10 permit tcp source 192.168.0.1 0.0.255.0 destination 10.1.1.1 0"
        " destination-port range 8000 8080\n"
        " rule 15 permit udp source-port eq 53\n rule 20 permit ip\n#\n"
    )
    rules = config.filters["3000"].rules
    assert [(r.permit, r.protocol, str(r.source), str(r.destination)) for r in rules] == [
        (False, "ip", "10.0.0.0/8", "any"),
        (True, "tcp", "192.168.0.1 0.0.255.0", "10.1.1.1/32"),
        (True, "udp", "any", "any"),
        (True, "ip", "any", "any"),
    ]
    assert rules[1].destination_port is not None
    assert rules[1].destination_port.text == "range 8000 8080"
    assert rules[2].source_port is not None
    assert rules[2].source_port.text == "eq 53"
    assert [r.order for r in rules] == [5, 10, 15, 20]
    inside = Flow(source=rules[1].source, destination=rules[1].destination)
    assert config.filters["3000"].admits(inside)


def test_nat_outbound_server_static_and_address_groups() -> None:
    config = vrp(
        "#\nnat address-group 1 202.1.1.10 202.1.1.20\n#\n"
        "interface GigabitEthernet0/0/1\n ip address 202.1.1.1 255.255.255.0\n"
        " nat outbound 2000 address-group 1\n"
        " nat server protocol tcp global 202.1.1.5 www inside 192.168.1.5 www\n"
        " nat static global 202.1.1.6 inside 192.168.1.6\n#\n"
    )
    assert [(n.kind, n.interface, n.acl, n.pool) for n in config.nat] == [
        ("outbound", "GigabitEthernet0/0/1", "2000", "1"),
        ("server", "GigabitEthernet0/0/1", None, None),
        ("static", "GigabitEthernet0/0/1", None, None),
    ]
    assert config.interfaces["GigabitEthernet0/0/1"].nat
    assert not config.unmodelled
    assert not config.unparsed


def test_usg_nat_policy_and_security_policy() -> None:
    config = vrp(
        "#\ninterface GigabitEthernet1/0/1\n ip address 202.1.1.1 255.255.255.0\n#\n"
        "firewall zone untrust\n add interface GigabitEthernet1/0/1\n#\n"
        "#\nfirewall zone trust\n set priority 85\n add interface GigabitEthernet1/0/2\n#\n"
        "security-policy\n rule name out\n  source-zone trust\n  destination-zone untrust\n"
        "  action permit\n#\nnat-policy\n rule name snat\n  source-zone trust\n"
        "  destination-zone untrust\n  source-address 10.1.1.0 24\n"
        "  action source-nat address-group pool1\n rule name easy\n"
        "  action source-nat easy-ip\n rule name none\n  action no-nat\n#\n"
    )
    assert [(n.kind, n.acl, n.pool) for n in config.nat] == [
        ("policy", "snat", "pool1"),
        ("policy", "easy", None),
    ]
    assert not config.unmodelled
    assert config.interfaces["GigabitEthernet1/0/1"].nat  # snat into untrust
    trust = config.interfaces["GigabitEthernet1/0/2"]
    assert trust.inbound_filter == "security-policy:trust"
    [rule] = config.filters["security-policy:trust"].rules
    assert rule.permit
    assert rule.where is not None
    assert rule.where.line == 14  # rule name out


def test_security_policy_is_a_filter_into_each_zone_defaulting_to_deny() -> None:
    """USG: the internet (untrust) reaches only what a rule from untrust permits; a deny
    rule limited to a destination zone cannot be one filter's rule and is left out (the
    filter may admit more than the device, never less), recorded unmodelled."""
    config = vrp(
        "#\nfirewall zone untrust\n set priority 5\n add interface GigabitEthernet1/0/1\n#\n"
        "security-policy\n rule name web\n  source-zone untrust\n  destination-zone dmz\n"
        "  destination-address 10.2.0.0 mask 255.255.0.0\n  service http\n  action permit\n"
        " rule name local\n  source-zone untrust\n  destination-zone local\n"
        "  action deny\n rule name out\n  source-zone trust\n  action permit\n#\n"
    )
    uplink = config.interfaces["GigabitEthernet1/0/1"]
    untrust = config.filters[uplink.inbound_filter or ""]
    assert not untrust.default_permit
    web = Flow(destination=AddressMatch.of(IPv4Network("10.2.1.0/24")))
    assert untrust.admits(web)
    assert untrust.admits(Flow(destination=web.destination, protocol="udp")) is None
    assert untrust.admits(Flow(destination=AddressMatch.of(IPv4Network("10.1.0.0/16")))) is None
    assert [u.where.line for u in config.unmodelled] == [13]


def test_reachability_constructs_are_recorded_unmodelled() -> None:
    config = vrp(
        "#\ninterface Tunnel0/0/1\n ip address 10.9.9.1 255.255.255.252\n"
        " tunnel-protocol gre\n source 202.1.1.1\n destination 203.1.1.1\n#\n"
        "ospf 1\n area 0.0.0.0\n  network 10.0.0.0 0.255.255.255\n#\n"
        "route-policy RP permit node 10\n if-match ip-prefix P\n#\n"
    )
    assert [u.construct for u in config.unmodelled] == [
        "tunnel", "tunnel", "tunnel", "ospf process", "route-policy",
    ]  # fmt: skip


def test_an_ipv6_network_under_bgp_is_not_an_ipv4_fact() -> None:
    config = vrp(
        "#\nbgp 100\n #\n ipv6-family unicast\n  network 2001:DB8:: 32\n"
        " #\n ipv4-family unicast\n  network 10.0.0.0 255.0.0.0\n#\n"
    )
    assert [str(p) for p, _ in config.bgp["global"].networks] == ["10.0.0.0/8"]
    assert not config.unparsed


def test_plain_prefix_of_a_static_in_either_mask_form() -> None:
    config = comware("#\nip route-static 10.0.0.0 255.0.0.0 10.1.1.2 preference 70 tag 5\n")
    assert config.statics[0].prefix == IPv4Network("10.0.0.0/8")
    assert config.statics[0].preference == 70


def test_the_audit_routes_by_the_lowest_preference() -> None:
    """A floating static (higher preference) does not win over the primary."""
    config = vrp(
        "#\ninterface GigabitEthernet0/0/1\n ip address 202.1.1.1 255.255.255.252\n#\n"
        "interface GigabitEthernet0/0/2\n ip address 10.64.0.1 255.255.255.252\n#\n"
        "ip route-static 10.80.0.0 16 202.1.1.2 preference 100\n"
        "ip route-static 10.80.0.0 16 10.64.0.2\n"
    )
    state = compute({"r": config}, [IPv4Network("10.0.0.0/8")])
    route = state.tables[("r", "global")].routes[IPv4Network("10.80.0.0/16")]
    assert route.origin[1] is not None
    assert route.origin[1].line == 9  # the primary, preference 60


def test_route_targets_and_vpnv4_are_unmodelled() -> None:
    """Route targets move routes between instances (MP-BGP, or leaking on one box): the
    model's per-instance BGP does not represent them."""
    config = vrp(
        "#\nip vpn-instance a\n ipv4-family\n  route-distinguisher 100:1\n"
        "  vpn-target 100:1 export-extcommunity\n  vpn-target 200:1 import-extcommunity\n#\n"
        "bgp 100\n peer 1.1.1.1 as-number 100\n #\n ipv4-family vpnv4\n  policy vpn-target\n"
        "  peer 1.1.1.1 enable\n#\n"
    )
    assert [(u.where.line, u.construct.split()[0]) for u in config.unmodelled] == [
        (5, "vpn-target"),
        (6, "vpn-target"),
        (11, "ipv4-family"),
    ]
    assert config.defined_vrfs == ["a"]


def test_rule_order_and_default_changes_are_unmodelled() -> None:
    config = comware(
        "#\n packet-filter default deny\n#\nacl number 3000 match-order auto\n"
        " rule 0 permit ip\n#\n"
    )
    assert [u.where.line for u in config.unmodelled] == [2, 4]
    assert len(config.filters["3000"].rules) == 1


def test_cgn_nat_instances_bas_and_non_unicast_families_are_reported() -> None:
    config = vrp(
        "#\nsysname BRAS\n#\nnat instance nat1 id 1\n nat outbound any address-group g1\n#\n"
        "interface GigabitEthernet0/2/1\n undo shutdown\n bas\n#\n"
        "bgp 1\n peer 2.2.2.2 as-number 1\n #\n ipv4-family mvpn\n  peer 2.2.2.2 enable\n#\n"
    )
    assert [(u.where.line, u.construct) for u in config.unmodelled] == [
        (4, "cgn nat instance"),
        (5, "nat outbound of a cgn nat instance"),
        (9, "broadband access (bas)"),
        (14, "ipv4-family mvpn"),
    ]
    assert list(config.bgp["global"].neighbors) == [IPv4Address("2.2.2.2")]


def test_a_peer_with_only_a_description_is_still_a_peer() -> None:
    config = comware(
        "#\nbgp 65330\n peer 10.20.240.1 description ***P2P**\n"
        " peer 10.20.240.1 ebgp-max-hop 10\n#\n"
    )
    peer = config.bgp["global"].neighbors[IPv4Address("10.20.240.1")]
    assert peer.remote_as is None
