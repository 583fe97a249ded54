"""The issue's false-clean case, through the CLI: an internet-edge anti-spoofing ACL inbound
on the exit (deny the private ranges by source, then permit everything) lets the internet in,
and `isolation audit --source running` must say so, on egovnet's own rendered configs."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from typer.testing import Result

from egovnet import platforms
from egovnet.loader import load_network
from egovnet.render.engine import render_network
from isolation.sources import NO_SECRETS

RunCli = Callable[[Sequence[str]], Result]
EXIT = "hebei-exit"

VRP_ACL = """acl number 3999
 rule 5 comment anti-spoofing at the internet edge
 rule 5 deny ip source 10.0.0.0 0.255.255.255
 rule 10 deny ip source 172.16.0.0 0.15.255.255
 rule 15 deny ip source 192.168.0.0 0.0.255.255
 rule 20 permit ip
#
"""
IOS_ACL = """ip access-list extended EDGE-IN
 remark anti-spoofing at the internet edge
 10 deny ip 10.0.0.0 0.255.255.255 any
 20 deny ip 172.16.0.0 0.15.255.255 any
 30 deny ip 192.168.0.0 0.0.255.255 any
 40 permit ip any any
!
"""
EDGE = {
    "huawei_vrp": (VRP_ACL, " traffic-filter inbound acl 3999"),
    "h3c_comware": (VRP_ACL, " packet-filter 3999 inbound"),
    "cisco_ios": (IOS_ACL, " ip access-group EDGE-IN in"),
}
INBOUND = ("traffic-filter inbound ", "packet-filter ", "ip access-group ")
PERMIT_LINE = {
    "huawei_vrp": "rule 20 permit ip",
    # a Comware rule without `vpn-instance` matches non-VPN packets only, and the uplink is
    # in VPN instance public: no rule applies, the filter's default lets everything in
    "h3c_comware": "filter 3999 lets unmatched packets in",
}


def with_edge_acl(text: str, platform: str, port: str) -> str:
    """The rendered exit config with the anti-spoofing ACL defined and applied inbound on its
    uplink in place of the rendered filter (the rendered source NAT stays, so the ACL is the
    only question left)."""
    acl, apply = EDGE[platform]
    lines = text.splitlines()
    at = lines.index(f"interface {port}") + 1
    end = at
    while end < len(lines) and lines[end].startswith(" "):
        end += 1
    block = [line for line in lines[at:end] if not line.strip().startswith(INBOUND)]
    lines[at:end] = [apply, *block]
    return acl + "\n".join(lines) + "\n"


@pytest.mark.parametrize("platform", sorted(EDGE))
def test_an_anti_spoofing_acl_on_the_exit_lets_the_internet_in(
    platform: str, run_cli: RunCli, sample_inventory: Path, tmp_path: Path
) -> None:
    network = load_network(sample_inventory)
    texts = render_network(network, NO_SECRETS, platform)
    uplink = network.node(EXIT).internet
    assert uplink is not None
    port = platforms.platform(platform).naming.port_name(uplink.port)
    texts[EXIT] = with_edge_acl(texts[EXIT], platform, port)
    directory = tmp_path / "running"
    directory.mkdir()
    for host, text in texts.items():
        (directory / f"{host}.cfg").write_text(text, encoding="utf-8")
    result = run_cli(
        ["-i", str(sample_inventory), "isolation", "audit", "--source", "running",
         str(directory), "--json"]
    )  # fmt: skip
    assert result.exit_code == 1, result.stdout
    report = json.loads(result.stdout)
    inbound = [f for f in report["findings"] if f["rule"] == "internet-reaches-nothing"]
    assert inbound, report["findings"]
    assert {f["host"] for f in inbound} == {EXIT}
    permit = PERMIT_LINE.get(platform, "40 permit ip any any")
    assert any(permit in f["evidence"] for f in inbound), inbound
    assert not [f for f in report["findings"] if f["rule"] == "nat-at-exit"]
