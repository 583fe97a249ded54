"""What the exit's source NAT translates is what its NAT ACL selects: `nat outbound ACL`
(VRP, Comware) and `ip nat inside source list ACL ... vrf V overload` (IOS). The audit's
`nat-at-exit` asks it of every department prefix of a zone with internet: a NAT ACL that
does not select a prefix, one that is not defined, or an IOS rule of another VRF leaves
departments untranslated, and that is a finding; the rendered exits select the whole pool."""

from __future__ import annotations

from pathlib import Path

import pytest

from egovnet.configs.parse import parse_for
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.engine import render_network
from isolation.analysis import audit_configs
from isolation.findings import Finding
from isolation.sources import NO_SECRETS

EXIT = "hebei-exit"
PLATFORMS = ("frr", "huawei_vrp", "h3c_comware", "cisco_ios")


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(Path(__file__).resolve().parents[2] / "inventory")


def audited(network: Network, platform: str, edit: tuple[str, str] | None = None) -> list[Finding]:
    texts = render_network(network, NO_SECRETS, platform)
    if edit is not None:
        assert edit[0] in texts[EXIT], edit[0]
        texts[EXIT] = texts[EXIT].replace(*edit)
    configs = {h: parse_for(t, h, platform, f"{h}.cfg") for h, t in texts.items()}
    return audit_configs(network, configs)


def nat_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule == "nat-at-exit"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_rendered_exit_translates_every_public_department(
    network: Network, platform: str
) -> None:
    assert audited(network, platform) == []


@pytest.mark.parametrize(
    ("platform", "edit", "why"),
    [
        (
            "huawei_vrp",
            ("source 10.96.0.0 0.0.255.255", "source 10.80.0.0 0.0.255.255"),
            "NAT ACL 2000 does not select all of them",
        ),
        (
            "h3c_comware",
            ("rule 5 permit vpn-instance public", "rule 5 permit vpn-instance private"),
            "NAT ACL 2000 does not select all of them",
        ),
        (
            "huawei_vrp",
            ("nat outbound 2000", "nat outbound 2999"),
            "NAT ACL 2999 is not defined",
        ),
        (
            "cisco_ios",
            (" vrf public overload", " overload"),
            "translates the global table only",
        ),
        (
            "cisco_ios",
            (" permit 10.96.0.0 0.0.255.255", " permit 10.96.0.0 0.0.0.255"),
            "NAT ACL EGOV-NAT does not select all of them",
        ),
    ],
)
def test_a_nat_acl_not_selecting_a_zone_with_internet_is_a_finding(
    network: Network, platform: str, edit: tuple[str, str], why: str
) -> None:
    (finding,) = nat_findings(audited(network, platform, edit))
    assert (finding.host, finding.zone) == (EXIT, "public")
    assert why in finding.evidence
    assert "10.96." in finding.evidence


def test_a_deny_before_the_permit_names_the_departments_left_out(network: Network) -> None:
    """One department's prefix denied first: that one leaves untranslated, the others not."""
    zone = [d for n in network.nodes for d in n.departments if d.zone == "public"]
    left_out = zone[0].prefix
    edit = (
        "rule 5 permit vpn-instance public source",
        f"rule 1 deny vpn-instance public source {left_out.network_address} "
        f"{left_out.hostmask}\n rule 5 permit vpn-instance public source",
    )
    (finding,) = nat_findings(audited(network, "huawei_vrp", edit))
    assert f"does not translate {left_out} (zone public)" in finding.evidence


def test_a_time_dependent_nat_permit_does_not_prove_translation(network: Network) -> None:
    edit = ("source 10.96.0.0 0.0.255.255", "source 10.96.0.0 0.0.255.255 time-range WORK")
    assert nat_findings(audited(network, "huawei_vrp", edit))
