"""The entry points of config parsing: the parser a platform's registry record names, the
platform a text is written for, and a text parsed for it (with its packet-filter section)."""

from __future__ import annotations

from collections.abc import Callable

from egovnet import platforms
from egovnet.configs.frr import parse_nft
from egovnet.configs.model import DeviceConfig
from egovnet.render.packet_filter import HEADER, ruleset_in_place

Parser = Callable[[str, str, str], DeviceConfig]
"""What a platform record's `parser` names: (text, host, file) -> DeviceConfig."""


def parser_for(platform: str) -> Parser:
    """The parser the registry names for `platform` (`UnknownPlatformError` when unknown)."""
    parser: Parser = platforms.load_reference(platforms.platform(platform).parser)
    return parser


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
