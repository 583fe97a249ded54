"""ACL rule qualifiers the audit must not read as "unrestricted": `vpn-instance X` matches
only that instance's packets (and a Comware rule without it only non-VPN packets);
`time-range`, `dscp`, fragments, an ICMP type and the like narrow a rule in ways the model
does not evaluate, so such a deny rule never stops a flow, while such a permit still
counts as letting it in (never a false "isolated")."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from egovnet.configs.model import AddressMatch, Flow, PacketFilter
from egovnet.configs.parse import parse_for
from egovnet.model import GLOBAL

INSIDE = AddressMatch.of(IPv4Network("10.96.0.0/16"))


def acl(platform: str, *rules: str) -> PacketFilter:
    if platform == "cisco_ios":
        text = "ip access-list extended EDGE\n" + "".join(f" {r}\n" for r in rules)
        name = "EDGE"
    else:
        header = "acl number 3999" if platform == "huawei_vrp" else "acl advanced 3999"
        text = header + "\n" + "".join(f" {r}\n" for r in rules) + "#\n"
        name = "3999"
    config = parse_for(text, "r1", platform, "r1.cfg")
    assert not config.unparsed, config.unparsed
    return config.filters[name]


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_a_deny_of_another_vpn_instance_does_not_stop_this_ones_packets(platform: str) -> None:
    rules = acl(platform, "rule 5 deny ip vpn-instance private", "rule 10 permit ip")
    (deny, _permit) = rules.ordered()
    assert deny.vpn_instance == "private"
    assert rules.admits(Flow(destination=INSIDE, vrf="public"))
    assert rules.admits(Flow(destination=INSIDE, vrf="private")) is None


@pytest.mark.parametrize("platform", ["huawei_vrp", "h3c_comware"])
def test_a_deny_of_this_vpn_instance_stops_it(platform: str) -> None:
    rules = acl(platform, "rule 5 deny ip vpn-instance public destination 10.96.0.0 0.0.255.255")
    assert rules.admits(Flow(destination=INSIDE, vrf="public")) is None
    assert rules.admits(Flow(destination=INSIDE)), "an unknown instance may be another one"


def test_a_comware_rule_without_vpn_instance_matches_non_vpn_packets_only() -> None:
    rules = acl("h3c_comware", "rule 5 deny ip")
    assert rules.ordered()[0].vpn_instance == GLOBAL
    assert rules.admits(Flow(destination=INSIDE, vrf=GLOBAL)) is None
    assert rules.admits(Flow(destination=INSIDE, vrf="public")) is True  # the default permit


def test_a_vrp_rule_without_vpn_instance_matches_every_instance() -> None:
    rules = acl("huawei_vrp", "rule 5 deny ip")
    assert rules.ordered()[0].vpn_instance is None
    assert rules.admits(Flow(destination=INSIDE, vrf="public")) is None


@pytest.mark.parametrize(
    ("platform", "deny"),
    [
        ("huawei_vrp", "rule 5 deny ip time-range WORKDAYS"),
        ("h3c_comware", "rule 5 deny ip time-range WORKDAYS"),
        ("huawei_vrp", "rule 5 deny ip dscp 46"),
        ("h3c_comware", "rule 5 deny ip fragment"),
        ("cisco_ios", "10 deny ip any any time-range WORKDAYS"),
        ("cisco_ios", "10 deny ip any any fragments"),
    ],
)
def test_a_time_dependent_or_narrowed_deny_never_stops_a_flow(platform: str, deny: str) -> None:
    """Outside its time range (or for packets without that DSCP, or unfragmented ones) the
    deny does not apply: the audit cannot rely on it."""
    allow = "20 permit ip any any" if platform == "cisco_ios" else "rule 20 permit ip"
    rules = acl(platform, deny, allow)
    assert rules.ordered()[0].qualifiers
    vrf = GLOBAL if platform == "h3c_comware" else None
    assert rules.admits(Flow(destination=INSIDE, vrf=vrf))


@pytest.mark.parametrize(
    ("platform", "permit"),
    [
        ("huawei_vrp", "rule 5 permit ip time-range WORKDAYS"),
        ("cisco_ios", "10 permit ip any any time-range WORKDAYS log"),
    ],
)
def test_a_time_dependent_permit_counts_as_letting_in(platform: str, permit: str) -> None:
    """Inside its time range the permit applies: the audit says "admitted"."""
    deny = "20 deny ip any any" if platform == "cisco_ios" else "rule 20 deny ip"
    rules = acl(platform, permit, deny)
    verdict = rules.admits(Flow(destination=INSIDE))
    assert verdict is rules.ordered()[0]


def test_log_and_established_are_no_qualifiers() -> None:
    rules = acl("cisco_ios", "10 permit tcp any any established log", "20 deny ip any any log")
    assert [r.qualifiers for r in rules.ordered()] == [(), ()]
    assert rules.admits(Flow(destination=INSIDE)) is None
