"""Where the configurations of an audit come from: the intended ones (rendered from the
model) or running ones (a directory such as a backup: `<host>.cfg`). An FRR exit's firewall
and NAT are the nftables ruleset in its config's packet-filter section
(`egovnet.render.packet_filter`), or a `<host>.nft` file beside the config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from egovnet import platforms
from egovnet.model import Network, Node
from egovnet.render.engine import render_network
from egovnet.render.packet_filter import HEADER, ruleset_in_place, split
from egovnet.secrets import SharedSecrets
from isolation.config import ANY_ADDRESS, DeviceConfig, FilterRule, PacketFilter, Where
from isolation.parse_frr import parse_nft

Parser = Callable[[str, str, str], DeviceConfig]
"""What a platform record's `parser` names: (text, host, file) -> DeviceConfig."""


def parser_for(platform: str) -> Parser:
    """The parser the registry names for `platform` (`UnknownPlatformError` when unknown)."""
    parser: Parser = platforms.load_reference(platforms.platform(platform).parser)
    return parser


NO_SECRETS = SharedSecrets(aaa_key="-", snmp_users=[], local_admin=None)
"""The audit reads routing, never secrets: configs are rendered with none in them."""
POLICY_FILTER = "policy:replies-only"


def detect_platform(text: str, default: str) -> str:
    """The platform a configuration text is written for (a backup of the lab is FRR even where
    the inventory says huawei_vrp): the first platform, in registry order, whose detection
    signature the text carries, else `default` (which must be a known platform).

    >>> detect_platform("frr version 8.4\\nhostname a\\n", "cisco_ios")
    'frr'
    >>> detect_platform("#\\nsysname a\\nip ip-prefix X index 10 permit 10.0.0.0 8\\n", "frr")
    'huawei_vrp'
    """
    fallback = platforms.platform(default).name
    for record in platforms.platforms():
        if record.detection.matches(text):
            return record.name
    return fallback


def parse_config(text: str, host: str, platform: str, file: str) -> DeviceConfig:
    """A config text parsed for the platform it is written for."""
    return parse_for(text, host, detect_platform(text, platform), file)


def parse_for(text: str, host: str, platform: str, file: str) -> DeviceConfig:
    """A config text parsed for `platform`, with its packet-filter section if any."""
    config = parser_for(platform)(text, host, file)
    if HEADER in text:
        parse_nft(ruleset_in_place(text), config, file)
    return config


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
            POLICY_FILTER, [FilterRule(True, ANY_ADDRESS, established=True, where=where)]
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
