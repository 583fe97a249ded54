"""Where the configurations of an audit come from: the intended ones (rendered from the
model) or running ones (a directory such as a backup: `<host>.cfg`). An FRR exit's firewall
and NAT are the nftables ruleset in its config's packet-filter section
(`egovnet.render.packet_filter`), or a `<host>.nft` file beside the config."""

from __future__ import annotations

from pathlib import Path

from egovnet import platforms
from egovnet.configs.frr import parse_nft
from egovnet.configs.model import ANY, DeviceConfig, FilterRule, PacketFilter, Where
from egovnet.configs.parse import parse_config, parse_for
from egovnet.model import Network, Node
from egovnet.render.engine import render_network
from egovnet.render.packet_filter import split
from egovnet.secrets import SharedSecrets

NO_SECRETS = SharedSecrets(aaa_key="-", snmp_users=[], local_admin=None)
"""The audit reads routing, never secrets: configs are rendered with none in them."""
POLICY_FILTER = "policy:replies-only"


def internet_port(node: Node, platform: str) -> str | None:
    """The name of an exit's internet interface on `platform` (docs/routing.md, "Ports")."""
    if node.internet is None:
        return None
    return platforms.platform(platform).naming.port_name(node.internet.port)


def add_policy_firewall(network: Network, configs: dict[str, DeviceConfig]) -> None:
    """Give each exit the firewall the policy asks for, where its rendered config has none of
    its own: replies only inward, source NAT outward. FRR exits render theirs (the nftables
    section); the vendor templates do not render the exit's ACL and NAT yet."""
    for host in network.policy.exits:
        config = configs.get(host)
        port = internet_port(network.node(host), config.platform) if config else None
        if config is None or port is None or port not in config.interfaces:
            continue
        interface = config.interfaces[port]
        if interface.inbound_filter is not None or interface.nat:
            continue  # the config's own: audited as it is
        where = Where("network.yaml", 0, "isolation policy: the internet gets replies only")
        config.filters[POLICY_FILTER] = PacketFilter(
            POLICY_FILTER, [FilterRule(True, ANY, established=True, where=where)]
        )
        interface.inbound_filter = POLICY_FILTER
        interface.nat = True


def intended_configs(network: Network, platform: str | None = None) -> dict[str, DeviceConfig]:
    """Every node's rendered configuration, parsed, with the policy's exit firewall."""
    texts = render_network(network, NO_SECRETS, platform)
    configs = {}
    for node in network.nodes:
        on = platform or node.platform
        configs[node.name] = parse_for(texts[node.name], node.name, on, f"{node.name}.cfg")
    add_policy_firewall(network, configs)
    return configs


def running_configs(network: Network, directory: Path) -> dict[str, DeviceConfig]:
    """`<host>.cfg` of every node found in `directory`; a `<host>.nft` beside it is the
    exit's ruleset in place of the config's own packet-filter section."""
    configs = {}
    for node in network.nodes:
        path = directory / f"{node.name}.cfg"
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        nft = directory / f"{node.name}.nft"
        if nft.is_file():
            routing, _section = split(text)
            config = parse_config(routing, node.name, node.platform, str(path))
            parse_nft(nft.read_text(encoding="utf-8"), config, str(nft))
        else:
            config = parse_config(text, node.name, node.platform, str(path))
        configs[node.name] = config
    return configs
