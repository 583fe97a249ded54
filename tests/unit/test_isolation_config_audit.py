"""The configuration audit on the sample: clean as rendered on every platform, and each
injected leak caught with a precise finding (host, zone, prefix or flow, the line).

Leaks are written by hand into rendered configs, the way an engineer's edit on a device
would land in its running config: a static default in a county's private VRF, a private
prefix redistributed at the exit, a second internet uplink at a city, an exit filter that
lets the internet in. Every platform's exit renders its own firewall and NAT; the audit adds
none."""

from __future__ import annotations

from pathlib import Path

import pytest

from egovnet.configs.model import DeviceConfig
from egovnet.configs.parse import parse_for
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.platforms import platform_names
from egovnet.render.engine import render_network
from isolation.analysis import audit_configs
from isolation.findings import Finding, hosts_to_repair
from isolation.sources import NO_SECRETS, intended_configs

PLATFORMS = platform_names()


@pytest.fixture(scope="module")
def network(request: pytest.FixtureRequest) -> Network:
    return load_network(Path(__file__).resolve().parents[2] / "inventory")


def texts(network: Network, platform: str) -> dict[str, str]:
    return render_network(network, NO_SECRETS, platform)


def insert(text: str, after: str, lines: str) -> str:
    """`lines` inserted after the one line of `text` that is `after`."""
    rows = text.splitlines()
    assert rows.count(after) == 1, f"{after!r} occurs {rows.count(after)} times"
    at = rows.index(after) + 1
    return "\n".join([*rows[:at], *lines.splitlines(), *rows[at:]]) + "\n"


def audit(network: Network, platform: str, edited: dict[str, str]) -> list[Finding]:
    rendered = texts(network, platform) | edited
    configs: dict[str, DeviceConfig] = {
        host: parse_for(text, host, platform, f"{host}.cfg") for host, text in rendered.items()
    }
    return audit_configs(network, configs)


def rules(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.rule, f.host, f.zone) for f in findings}


@pytest.mark.parametrize("platform", [None, *PLATFORMS])
def test_rendered_configs_are_clean(network: Network, platform: str | None) -> None:
    assert audit_configs(network, intended_configs(network, platform)) == []


STATIC_DEFAULT = {
    "frr": ("vrf private", " ip route 0.0.0.0/0 10.64.16.148"),
    "huawei_vrp": ("return", "ip route-static vpn-instance private 0.0.0.0 0 10.64.16.148"),
    "h3c_comware": ("return", "ip route-static vpn-instance private 0.0.0.0 0 10.64.16.148"),
    "cisco_ios": ("end", "ip route vrf private 0.0.0.0 0.0.0.0 10.64.16.148"),
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_static_default_in_a_county_private_vrf(network: Network, platform: str) -> None:
    after, line = STATIC_DEFAULT[platform]
    text = texts(network, platform)["zhengding"]
    if after in {"return", "end"}:
        text = text.replace(f"\n{after}\n", f"\n{line}\n{after}\n")
    else:
        text = insert(text, after, line)
    findings = audit(network, platform, {"zhengding": text})
    assert [(f.rule, f.host, f.zone, f.subject) for f in findings] == [
        ("private-no-internet-route", "zhengding", "private", "0.0.0.0/0")
    ]
    assert line.strip() in findings[0].evidence
    assert "zhengding.cfg:" in findings[0].evidence
    assert hosts_to_repair(findings) == ["zhengding"]


def test_redistribution_leaks_private_prefixes_at_the_exit(network: Network) -> None:
    text = texts(network, "cisco_ios")["hebei-exit"]
    text = insert(text, "  network 0.0.0.0 mask 0.0.0.0", "  redistribute static")
    text = insert(
        text,
        "ip route vrf public 0.0.0.0 0.0.0.0 198.18.0.112",
        "ip route vrf public 10.80.0.0 255.255.0.0 10.64.19.136",
    )
    findings = audit(network, "cisco_ios", {"hebei-exit": text})
    leak = [f for f in findings if f.rule == "no-private-prefix-at-exit"]
    assert [(f.host, f.zone, f.subject) for f in leak] == [("hebei-exit", "public", "10.80.0.0/16")]
    assert "ip route vrf public 10.80.0.0 255.255.0.0 10.64.19.136" in leak[0].evidence
    assert rules(findings) <= {
        ("no-private-prefix-at-exit", "hebei-exit", "public"),
        ("zones-apart", "hebei-exit", "public"),
    }


CITY_UPLINK = """interface GigabitEthernet0/0/9
 description unauthorised second internet line
 ip binding vpn-instance public
 ip address 198.18.1.1 255.255.255.254
#
ip route-static vpn-instance public 0.0.0.0 0 198.18.1.0"""


def test_a_second_internet_uplink_at_a_city(network: Network) -> None:
    text = texts(network, "huawei_vrp")["shijiazhuang"]
    text = text.replace("\nreturn\n", f"\n{CITY_UPLINK}\n#\nreturn\n")
    findings = audit(network, "huawei_vrp", {"shijiazhuang": text})
    found = rules(findings)
    assert ("single-exit", "shijiazhuang", "public") in found
    assert ("internet-reaches-nothing", "shijiazhuang", "public") in found
    bypass = [f for f in findings if f.rule == "unified-exit"]
    # its own department, and the counties below it that take their default from it
    assert {f.subject.split(" ")[0] for f in bypass} >= {"10.96.8.0/26", "10.96.9.0/26"}
    assert all(f.host == "shijiazhuang" for f in bypass)
    assert all("avoiding the unified exit" in f.evidence for f in bypass)
    uplink = next(f for f in findings if f.rule == "single-exit")
    assert "GigabitEthernet0/0/9" in uplink.evidence
    assert uplink.subject == "198.18.1.0/31"
    # private departments are still cut off: their zone has no route to the internet
    assert not any(f.zone == "private" for f in findings)


def test_an_exit_filter_rule_letting_the_internet_in(network: Network) -> None:
    rule = " rule 1 permit tcp destination 10.96.0.0 0.0.255.255 destination-port eq 80"
    text = insert(texts(network, "huawei_vrp")["hebei-exit"], "acl number 3000", rule)
    findings = audit(network, "huawei_vrp", {"hebei-exit": text})
    assert rules(findings) == {("internet-reaches-nothing", "hebei-exit", "public")}
    assert "rule 1 permit tcp destination 10.96.0.0" in findings[0].evidence
    # every public department (ten in the sample), none of the private ones
    assert "10.96.0.0/26 (hebei-core-1 public)" in findings[0].subject
    assert findings[0].subject.endswith("and 5 more")


def test_an_exit_without_nat_or_filter(network: Network) -> None:
    text = texts(network, "huawei_vrp")["hebei-exit"]
    text = text.replace(" traffic-filter inbound acl 3000\n", "")
    text = text.replace(" nat outbound 2000\n", "")
    findings = audit(network, "huawei_vrp", {"hebei-exit": text})
    assert rules(findings) == {
        ("nat-at-exit", "hebei-exit", "public"),
        ("internet-reaches-nothing", "hebei-exit", "public"),
    }
    inbound = next(f for f in findings if f.rule == "internet-reaches-nothing")
    assert "no inbound filter on GigabitEthernet0/0/3" in inbound.evidence
    # the exit has no private VRF: the internet reaches the public zone, never private
    assert "private" not in inbound.subject


def test_ios_exit_acl_and_nat_in_another_form_are_read(network: Network) -> None:
    """A hand-written IOS firewall (numbered NAT ACL, `any any established`) in place of
    the rendered one is read and audited as written."""
    text = texts(network, "cisco_ios")["hebei-exit"]
    text = text.replace(
        " ip access-group EGOV-INTERNET-IN in\n", " ip access-group INTERNET-IN in\n"
    )
    text = text.replace(
        "ip nat inside source list EGOV-NAT interface GigabitEthernet0/3 vrf public overload\n",
        "",
    )
    assert ("nat-at-exit", "hebei-exit", "public") in rules(
        audit(network, "cisco_ios", {"hebei-exit": text})
    )
    text = text.replace(
        "\nend",
        "\nip access-list extended INTERNET-IN\n permit tcp any any established\n"
        " deny ip any any\n!\n"
        "ip nat inside source list 10 interface GigabitEthernet0/3 vrf public overload\n"
        "access-list 10 permit 10.96.0.0 0.0.255.255\nend",
    )
    assert audit(network, "cisco_ios", {"hebei-exit": text}) == []


def test_management_redistributed_into_routing(network: Network) -> None:
    text = texts(network, "frr")["zhengding"]
    text = insert(text, "  network 10.64.0.9/32", "  redistribute connected")
    findings = audit(network, "frr", {"zhengding": text})
    management = [f for f in findings if f.rule == "management-not-routed"]
    assert management, findings
    assert {f.host for f in management} == {"zhengding"}
    assert "redistribute connected" in management[0].evidence


def test_a_node_without_a_config_is_a_finding(network: Network) -> None:
    configs = intended_configs(network)
    del configs["qianan"]
    findings = audit_configs(network, configs)
    assert [(f.rule, f.host) for f in findings] == [("unparsed", "qianan")]
