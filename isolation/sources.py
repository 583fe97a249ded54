"""Where the configurations of an audit come from: the intended ones (rendered from the
model) or running ones (a directory such as a backup: `<host>.cfg`). Both are audited as
written: a vendor exit's firewall and NAT are ACL and NAT lines of its config; an FRR exit's
are the nftables ruleset in its config's packet-filter section
(`egovnet.render.packet_filter`), or a `<host>.nft` file beside the config."""

from __future__ import annotations

from pathlib import Path

from egovnet import platforms
from egovnet.configs.frr import parse_nft
from egovnet.configs.model import DeviceConfig
from egovnet.configs.named import NamedConfig, parse_named
from egovnet.configs.parse import detect, parse_for
from egovnet.configs.text import read_config_text
from egovnet.model import Network, Node
from egovnet.render.dns import render_dns
from egovnet.render.engine import render_network
from egovnet.render.packet_filter import split
from egovnet.secrets import SharedSecrets
from isolation.findings import Finding

NO_SECRETS = SharedSecrets(aaa_key="-", snmp_users=[], local_admin=None)
"""The audit reads routing, never secrets: configs are rendered with none in them."""


def intended_configs(network: Network, platform: str | None = None) -> dict[str, DeviceConfig]:
    """Every node's rendered configuration, parsed: audited exactly as rendered, the exit's
    firewall and NAT included (each platform's template renders its own)."""
    texts = render_network(network, NO_SECRETS, platform)
    configs = {}
    for node in network.nodes:
        on = platform or node.platform
        configs[node.name] = parse_for(texts[node.name], node.name, on, f"{node.name}.cfg")
    return configs


def parse_running(text: str, node: Node, file: str) -> tuple[DeviceConfig, Finding | None]:
    """A running config parsed as the platform its text is written for, and a
    `platform-mismatch` finding when that plainly is not the inventory's platform. A text
    of the lab's platform is no mismatch: the lab runs it in place of every vendor's
    (`platforms.LAB`), so a backup of the lab is FRR whatever the inventory says."""
    detection = detect(text, node.platform)
    config = parse_for(text, node.name, detection.platform, file)
    if not detection.disagrees or detection.platform == platforms.lab_platform().name:
        return config, None
    return config, Finding(
        "platform-mismatch",
        node.name,
        "",
        f"{node.platform} -> {detection.platform}",
        f"{file}: the inventory says {node.platform}, the text is "
        f"{platforms.platform(detection.platform).display}'s (parsed as {detection.platform})",
        "config",
    )


def read_running(
    network: Network, directory: Path
) -> tuple[dict[str, DeviceConfig], list[Finding]]:
    """`<host>.cfg` of every node found in `directory`, read as it comes off the gear
    (`read_config_text`: UTF-8 or GBK, pager junk and prompts removed; `DecodeError` naming
    the file when it is not text), with the findings of reading them (`platform-mismatch`).
    A `<host>.nft` beside it is the exit's ruleset in place of the config's own
    packet-filter section."""
    configs = {}
    findings = []
    for node in network.nodes:
        path = directory / f"{node.name}.cfg"
        if not path.is_file():
            continue
        text = read_config_text(path).text
        nft = directory / f"{node.name}.nft"
        if nft.is_file():
            routing, _section = split(text)
            config, mismatch = parse_running(routing, node, str(path))
            parse_nft(read_config_text(nft).text, config, str(nft))
        else:
            config, mismatch = parse_running(text, node, str(path))
        configs[node.name] = config
        if mismatch is not None:
            findings.append(mismatch)
    return configs, findings


def running_configs(network: Network, directory: Path) -> dict[str, DeviceConfig]:
    """The configs of `read_running`, without the findings of reading them."""
    return read_running(network, directory)[0]


def intended_named(network: Network) -> dict[str, NamedConfig | None]:
    """Every service host's rendered named.conf (`egovnet dns render`), parsed, by host."""
    if network.service_zone is None:
        return {}
    rendered = render_dns(network, 1)
    return {
        host.name: parse_named(rendered[host.name]["named.conf"], f"{host.name}/named.conf")
        if host.name in rendered
        else None
        for host in network.service_zone.hosts
    }
