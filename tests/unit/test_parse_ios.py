"""Cisco IOS constructs read as the device means them (snippets in IOS syntax)."""

from __future__ import annotations

from ipaddress import IPv4Address

from egovnet.configs.ios import parse_ios
from egovnet.configs.model import DeviceConfig


def ios(text: str) -> DeviceConfig:
    return parse_ios(text, "r", "r.cfg")


def test_dotted_asn_and_ipv6_network_under_address_family_ipv6() -> None:
    config = ios(
        "router bgp 100.1\n neighbor 10.1.1.2 remote-as 1.10\n"
        " neighbor 2001:db8::2 remote-as 200\n !\n address-family ipv4\n"
        "  network 10.0.0.0 mask 255.0.0.0\n  neighbor 10.1.1.2 activate\n"
        " exit-address-family\n !\n address-family ipv6\n  network 2001:DB8::/32\n"
        " exit-address-family\n"
    )
    assert config.asn == 6553601
    assert config.bgp["global"].neighbors[IPv4Address("10.1.1.2")].remote_as == 65546
    assert [str(p) for p, _ in config.bgp["global"].networks] == ["10.0.0.0/8"]
    assert not config.unparsed


def test_l2vpn_evpn_neighbours_are_not_ipv4_ones() -> None:
    config = ios(
        "router bgp 100\n neighbor 1.1.1.1 remote-as 100\n address-family l2vpn evpn\n"
        "  neighbor 1.1.1.1 activate\n  neighbor 2.2.2.2 route-map X in\n"
        " exit-address-family\n"
    )
    assert set(config.bgp["global"].neighbors) == {IPv4Address("1.1.1.1")}
    assert [u.construct for u in config.unmodelled] == ["address-family l2vpn evpn"]


def test_static_routes_with_vrf_interface_next_hop_and_distance() -> None:
    config = ios(
        "ip route 0.0.0.0 0.0.0.0 GigabitEthernet0/0 203.0.113.1\n"
        "ip route 0.0.0.0 0.0.0.0 198.51.100.1 250\n"
        "ip route vrf RED 10.9.0.0 255.255.0.0 10.1.1.2 name to-red tag 7\n"
        "ip route vrf RED 0.0.0.0 0.0.0.0 203.0.113.1 global\n"
        "ip route 10.0.0.0 255.0.0.0 Null0\n"
        "ip route 192.0.2.0 255.255.255.0 100.x.x.80\n"
    )
    assert [
        (s.vrf, str(s.prefix), s.next_hop and str(s.next_hop), s.interface, s.preference,
         s.target_vrf, s.discard)
        for s in config.statics
    ] == [
        ("global", "0.0.0.0/0", "203.0.113.1", "GigabitEthernet0/0", None, None, False),
        ("global", "0.0.0.0/0", "198.51.100.1", None, 250, None, False),
        ("RED", "10.9.0.0/16", "10.1.1.2", None, None, None, False),
        ("RED", "0.0.0.0/0", "203.0.113.1", None, None, "global", False),
        ("global", "10.0.0.0/8", None, "Null0", None, None, True),
    ]  # fmt: skip
    assert [u.where.line for u in config.unparsed] == [6]


def test_secondary_addresses_and_filters_both_ways() -> None:
    config = ios(
        "interface GigabitEthernet0/1\n ip address 10.1.1.1 255.255.255.0\n"
        " ip address 10.1.2.1 255.255.255.0 secondary\n ip access-group EDGE-IN in\n"
        " ip access-group 101 out\n no shutdown\n"
    )
    port = config.interfaces["GigabitEthernet0/1"]
    assert [str(a) for a in port.addresses] == ["10.1.1.1/24", "10.1.2.1/24"]
    assert (port.inbound_filter, port.outbound_filter) == ("EDGE-IN", "101")


def test_acls_keep_sources_ports_remarks_and_standard_lists() -> None:
    config = ios(
        "ip access-list extended EDGE-IN\n remark anti-spoofing\n"
        " 10 deny ip 10.0.0.0 0.255.255.255 any\n"
        " 20 permit tcp any host 203.0.113.10 eq www\n"
        " 30 permit tcp any gt 1023 10.1.0.0 0.0.255.255 established\n"
        " 40 permit udp 10.0.0.1 0.255.0.254 range 1000 2000 any neq 53\n"
        "access-list 10 permit 10.1.1.0 0.0.0.255\naccess-list 10 deny any\n"
        "access-list 10 remark the end\n"
    )
    rules = config.filters["EDGE-IN"].rules
    assert [(r.order, r.permit, r.protocol, str(r.source), str(r.destination)) for r in rules] == [
        (10, False, "ip", "10.0.0.0/8", "any"),
        (20, True, "tcp", "any", "203.0.113.10/32"),
        (30, True, "tcp", "any", "10.1.0.0/16"),
        (40, True, "udp", "10.0.0.1 0.255.0.254", "any"),
    ]
    assert rules[1].port == 80
    assert rules[2].established
    assert rules[2].source_port is not None
    assert rules[2].source_port.text == "gt 1023"
    assert rules[3].destination_port is not None
    assert rules[3].destination_port.text == "neq 53"
    standard = config.filters["10"].rules
    assert [(r.permit, str(r.source), str(r.destination)) for r in standard] == [
        (True, "10.1.1.0/24", "any"),
        (False, "any", "any"),
    ]
    assert not config.filters["10"].default_permit


def test_nat_inside_source_overload_pool_and_static() -> None:
    config = ios(
        "interface GigabitEthernet0/0\n ip address 203.0.113.2 255.255.255.252\n"
        " ip nat outside\ninterface GigabitEthernet0/1\n ip nat inside\n"
        "ip nat pool PUB 203.0.113.10 203.0.113.20 netmask 255.255.255.0\n"
        "ip nat inside source list 1 interface GigabitEthernet0/0 overload\n"
        "ip nat inside source list 2 pool PUB\n"
        "ip nat inside source static 10.1.1.5 203.0.113.5\n"
    )
    assert [(n.kind, n.interface, n.acl, n.pool) for n in config.nat] == [
        ("inside_source", "GigabitEthernet0/0", "1", None),
        ("inside_source", None, "2", "PUB"),
        ("static", None, None, None),
    ]
    assert config.interfaces["GigabitEthernet0/0"].nat
    assert not config.interfaces["GigabitEthernet0/1"].nat


def test_nat_without_ip_nat_outside_translates_nothing() -> None:
    config = ios(
        "interface GigabitEthernet0/0\n ip address 203.0.113.2 255.255.255.252\n"
        "ip nat inside source list 1 interface GigabitEthernet0/0 overload\n"
    )
    assert not config.interfaces["GigabitEthernet0/0"].nat


def test_reachability_constructs_are_unmodelled() -> None:
    config = ios(
        "hostname R1\ninterface Tunnel0\n ip address 10.9.9.1 255.255.255.252\n"
        " tunnel source GigabitEthernet0/0\n ip policy route-map PBR\n"
        "router ospf 1\n network 10.0.0.0 0.255.255.255 area 0\n"
        "route-map PBR permit 10\n set ip next-hop 10.1.1.1\n"
        "crypto map VPN 10 ipsec-isakmp\n"
    )
    assert config.hostname == "R1"
    assert [(u.where.line, u.construct) for u in config.unmodelled] == [
        (2, "tunnel interface"),
        (4, "tunnel"),
        (5, "policy routing"),
        (6, "ospf process"),
        (8, "route-map"),
        (10, "crypto map (ipsec)"),
    ]


def test_route_targets_and_vpnv4_are_unmodelled() -> None:
    config = ios(
        "vrf definition RED\n rd 100:1\n route-target export 100:1\n route-target import 200:1\n"
        " address-family ipv4\n exit-address-family\n!\nrouter bgp 100\n"
        " address-family vpnv4\n  neighbor 1.1.1.1 activate\n exit-address-family\n"
    )
    assert [u.where.line for u in config.unmodelled] == [3, 4, 9]
    assert config.defined_vrfs == ["RED"]


def test_peer_group_policies_reach_members_wherever_the_group_lines_stand() -> None:
    config = ios(
        "router bgp 2\n neighbor 10.0.0.3 peer-group as3\n neighbor as3 peer-group\n"
        " neighbor as3 remote-as 3\n neighbor as3 route-map as3_to_as2 in\n"
        " neighbor as3 route-map as2_to_as3 out\n"
    )
    peer = config.bgp["global"].neighbors[IPv4Address("10.0.0.3")]
    assert (peer.remote_as, peer.import_list, peer.export_list) == (3, "as3_to_as2", "as2_to_as3")
    assert {u.construct for u in config.unmodelled} == {"route-map on a peer group"}


def test_nat_names_the_interface_it_translates_out_of_in_every_form() -> None:
    config = ios(
        "ip nat inside source list L pool P overload egress-interface GigabitEthernet1\n"
        "ip nat inside source static tcp 172.16.1.5 22 interface Dialer1 1415\n"
        "ip nat inside source list 12 pool P2 vrf vrf1\n"
    )
    assert [(n.kind, n.interface, n.acl, n.pool) for n in config.nat] == [
        ("inside_source", "GigabitEthernet1", "L", "P"),
        ("static", "Dialer1", None, None),
        ("inside_source", None, "12", "P2"),
    ]
    # a pool rule of one VRF: the model's per-interface NAT would claim it for all traffic
    assert [(u.where.line, u.construct) for u in config.unmodelled] == [
        (3, "nat of one vrf's traffic through a pool")
    ]


def test_dynamic_addresses_ipv6_inspection_and_unseen_redistribution_are_reported() -> None:
    config = ios(
        "interface Dialer1\n ip address negotiated\n ip inspect EXT_OUT out\n"
        " ipv6 address fd01::1/64 eui-64\n ipv6 address autoconfig\n"
        "router bgp 1\n address-family ipv4 unicast vrf A\n  redistribute connected\n"
        "  redistribute omp\n  default-information originate\n"
    )
    assert [(u.where.line, u.construct) for u in config.unmodelled] == [
        (2, "address negotiated by ppp"),
        (3, "stateful inspection (cbac)"),
        (4, "ipv6"),
        (5, "ipv6"),
        (9, "redistribution of omp routes"),
        (10, "default route originated"),
    ]
    assert [source for source, _ in config.bgp["A"].redistribute] == ["connected"]


def test_protocols_keep_one_spelling_so_names_and_numbers_match() -> None:
    config = ios(
        "ip access-list extended X\n permit esp any any\n deny 50 any any\n deny 6 any any\n"
    )
    assert [r.protocol for r in config.filters["X"].rules] == ["50", "50", "tcp"]
