"""The vendor-neutral model's filter evaluation: sources, wildcards, ports and rule order as
the devices evaluate them, and the static route's discard / preference facts."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from egovnet.configs.frr import parse_frr
from egovnet.configs.model import (
    ANY_ADDRESS,
    AddressMatch,
    FilterRule,
    Flow,
    Interface,
    PacketFilter,
    PortMatch,
    StaticRoute,
    Where,
    asplain,
)

HERE = Where("t.cfg", 1, "x")
INSIDE = Flow(destination=AddressMatch.of(IPv4Network("10.80.1.0/24")))


def net(text: str) -> AddressMatch:
    return AddressMatch.of(IPv4Network(text))


def test_a_non_contiguous_wildcard_matches_bitwise() -> None:
    odd = AddressMatch.parse("10.0.0.1", "0.255.0.254")  # 10.<any>.0.<odd>
    assert odd.contains(IPv4Address("10.77.0.9"))
    assert not odd.contains(IPv4Address("10.77.0.8"))
    assert not odd.contains(IPv4Address("10.77.1.9"))
    assert odd.network is None
    assert str(odd) == "10.0.0.1 0.255.0.254"
    assert net("10.0.0.0/8").covers(AddressMatch.parse("10.1.0.0", "0.0.255.255"))
    assert not odd.covers(net("10.0.0.0/24"))


def test_anti_spoofing_acl_lets_every_other_source_in() -> None:
    """Deny the private ranges by source, then permit everything: the internet's public
    sources get through to inside (the issue's false-clean case)."""
    spoof = PacketFilter(
        "3000",
        [
            FilterRule(False, source=net("10.0.0.0/8"), order=5),
            FilterRule(False, source=net("172.16.0.0/12"), order=10),
            FilterRule(False, source=net("192.168.0.0/16"), order=15),
            FilterRule(True, order=20),
        ],
        default_permit=True,
    )
    verdict = spoof.admits(INSIDE)
    assert isinstance(verdict, FilterRule)
    assert verdict.order == 20
    from_private = Flow(source=net("10.9.0.0/16"), destination=INSIDE.destination)
    assert spoof.admits(from_private) is None


def test_first_match_by_rule_number_not_by_line_order() -> None:
    rules = [
        FilterRule(True, destination=net("10.80.0.0/16"), order=20),
        FilterRule(False, destination=ANY_ADDRESS, order=10),
    ]
    assert PacketFilter("f", rules, default_permit=True).admits(INSIDE) is None


def test_a_permit_shadowed_by_an_earlier_deny_admits_nothing() -> None:
    rules = [
        FilterRule(False, destination=net("10.80.0.0/16"), order=5),
        FilterRule(True, destination=net("10.80.1.0/25"), order=10),
    ]
    assert PacketFilter("f", rules).admits(INSIDE) is None


def test_ports_and_protocols_narrow_a_rule() -> None:
    rules = [
        FilterRule(True, protocol="tcp", destination_port=PortMatch.parse(["eq", "www"])),
    ]
    web = PacketFilter("f", rules)
    assert web.admits(Flow(destination=INSIDE.destination, protocol="tcp", destination_port=80))
    assert (
        web.admits(Flow(destination=INSIDE.destination, protocol="tcp", destination_port=22))
        is None
    )
    assert web.admits(Flow(destination=INSIDE.destination, protocol="udp")) is None
    assert web.admits(INSIDE)  # some IP packet (tcp/80) gets through
    assert PortMatch.parse(["range", "1000", "2000"]).contains(1999)
    assert not PortMatch.parse(["gt", "1023"]).contains(1023)


def test_established_rules_and_the_default() -> None:
    replies = PacketFilter("r", [FilterRule(True, established=True)])
    assert replies.admits(INSIDE) is None
    assert PacketFilter("open", [], default_permit=True).admits(INSIDE) is True


def test_secondary_addresses_keep_the_primary() -> None:
    interface = Interface("g0")
    interface.set_primary(IPv4Interface("10.1.1.1/24"))
    interface.add_secondary(IPv4Interface("10.1.2.1/24"))
    interface.set_primary(IPv4Interface("10.1.3.1/24"))
    assert interface.address == IPv4Interface("10.1.3.1/24")
    assert [str(a) for a in interface.addresses] == ["10.1.3.1/24", "10.1.2.1/24"]


def test_a_discard_route_is_one_to_a_null_interface() -> None:
    prefix = IPv4Network("10.0.0.0/8")
    assert StaticRoute("global", prefix, None, HERE, "NULL0").discard
    assert not StaticRoute("global", prefix, None, HERE, "Dialer1").discard
    assert not StaticRoute("global", prefix, IPv4Address("1.1.1.1"), HERE, "Gi0/0").discard


def test_dotted_as_numbers_are_asplain() -> None:
    assert asplain("100.1") == 100 * 65536 + 1
    assert asplain("1.10") == 65546


def test_frr_static_routes_keep_interface_distance_and_nexthop_vrf() -> None:
    config = parse_frr(
        "frr version 8.4\nhostname a\nvrf red\n"
        " ip route 0.0.0.0/0 198.51.100.1 nexthop-vrf default\nexit-vrf\n"
        "ip route 10.0.0.0/8 blackhole\nip route 0.0.0.0/0 203.0.113.1 eth3 200\n",
        "a",
        "a.cfg",
    )
    assert [
        (s.vrf, str(s.next_hop) if s.next_hop else None, s.interface, s.preference, s.target_vrf)
        for s in config.statics
    ] == [
        ("red", "198.51.100.1", None, None, "global"),
        ("global", None, "blackhole", None, None),
        ("global", "203.0.113.1", "eth3", 200, None),
    ]
    assert config.statics[1].discard
    assert config.defined_vrfs == ["red"]
