"""The reading layer of config parsing: one bad line never loses a file, and a construct the
parser does not know is reported, never silently dropped (docs/parsing.md)."""

from __future__ import annotations

from ipaddress import IPv4Network

from egovnet.configs.parse import parse_for

VRP = """#
sysname AR1
#
ospf 1 router-id 1.1.1.1
 area 0.0.0.0
#
ip route-static 100.x.x.80 255.255.255.255 10.0.0.1
ip route-static 10.9.0.0 255.255.0.0 NULL0
#
ip vpn-instance a
 ipv4-family
  route-distinguisher 1:1
  vpn-target 1:1 export-extcommunity
#
user-interface vty 0 4
 authentication-mode aaa
#
return
"""


def test_a_line_that_cannot_be_read_is_recorded_and_the_rest_still_parses() -> None:
    config = parse_for(VRP, "ar1", "huawei_vrp", "ar1.cfg")
    assert [(u.where.line, u.where.text) for u in config.unparsed] == [
        (7, "ip route-static 100.x.x.80 255.255.255.255 10.0.0.1")
    ]
    assert [s.prefix for s in config.statics] == [IPv4Network("10.9.0.0/16")]


def test_unknown_constructs_are_unmodelled_and_the_harmless_ones_are_not() -> None:
    config = parse_for(VRP, "ar1", "huawei_vrp", "ar1.cfg")
    assert [(u.where.line, u.construct) for u in config.unmodelled] == [
        (4, "ospf process"),
        (13, "vpn-target (routes between instances by route target)"),
    ]
    assert config.content_lines == 11
    assert round(config.coverage, 2) == round(8 / 11, 2)


def test_ios_and_frr_report_what_they_do_not_model() -> None:
    ios = "hostname r1\n!\nrouter ospf 1\n network 10.0.0.0 0.255.255.255 area 0\n!\nend\n"
    config = parse_for(ios, "r1", "cisco_ios", "r1.cfg")
    assert [u.construct for u in config.unmodelled] == ["ospf process"]
    frr = "frr version 8.4\nhostname r1\nrouter ospf\n network 10.0.0.0/8 area 0\nexit\n"
    config = parse_for(frr, "r1", "frr", "r1.cfg")
    assert [u.construct for u in config.unmodelled] == ["router ospf"]


def test_a_dotted_asn_does_not_lose_the_bgp_block() -> None:
    text = "#\nsysname a\n#\nbgp 100.1\n peer 10.0.0.2 as-number 200\n#\nreturn\n"
    config = parse_for(text, "a", "huawei_vrp", "a.cfg")
    assert (config.asn, config.unparsed) == (6553601, [])
    assert [str(n) for n in config.bgp["global"].neighbors] == ["10.0.0.2"]
