"""The entry points of config parsing: the parser a platform's registry record names, the
platform a text is written for, and a text parsed for it (with its packet-filter section)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Detection:
    """The platform a config text is written for, and the one it was said to be for."""

    platform: str
    given: str | None
    markers: int
    """How many of the platform's own markers the text carries (0: fell back)."""

    @property
    def disagrees(self) -> bool:
        """Whether the text plainly is another platform's than the one given."""
        return self.given is not None and self.markers > 0 and self.platform != self.given


def detect(text: str, given: str | None = None) -> Detection:
    """The platform of a config text, from its registry signatures.

    A header signature (`head_only`: FRR's `frr version`) settles it at once. Otherwise the
    platform whose own markers the text carries most wins (`Signature.markers`); on a tie
    the platform given keeps it, else registry order. A text with no platform's markers is
    the given platform's (an excerpt too short to tell must not overrule the inventory);
    with none given, the first platform whose signature matches, else the first platform
    (`markers` 0 says the text did not tell).

    >>> detect("#\\nsysname a\\n#\\ninterface G1/0/1\\n packet-filter 3000 inbound\\n"
    ...        "#\\nbgp 1\\n ipv4-family vpn-instance a\\n", "huawei_vrp").platform
    'h3c_comware'
    >>> detect("!\\nhostname r1\\n!\\nip access-list extended X\\n", "frr").disagrees
    True
    >>> detect("!\\nhostname r1\\n!\\n", "frr").platform
    'frr'
    """
    fallback = platforms.platform(given).name if given is not None else None
    records = platforms.platforms()
    for record in records:
        if record.detection.head_only and record.detection.matches(text):
            return Detection(record.name, fallback, max(1, record.detection.score(text)))
    scores = {record.name: record.detection.score(text) for record in records}
    top = max(scores.values(), default=0)
    if top > 0:
        best = next(name for name, found in scores.items() if found == top)
        if fallback is not None and scores.get(fallback) == top:
            best = fallback
        return Detection(best, fallback, top)
    if fallback is not None:
        return Detection(fallback, fallback, 0)
    for record in records:
        if record.detection.matches(text):
            return Detection(record.name, fallback, 0)
    return Detection(records[0].name, fallback, 0)


def detect_platform(text: str, default: str) -> str:
    """The platform a configuration text is written for (a backup of the lab is FRR even where
    the inventory says huawei_vrp); `default` when nothing in the text tells (`detect`).

    >>> detect_platform("frr version 8.4\\nhostname a\\n", "cisco_ios")
    'frr'
    >>> detect_platform("#\\nsysname a\\nip ip-prefix X index 10 permit 10.0.0.0 8\\n", "frr")
    'huawei_vrp'
    """
    return detect(text, default).platform


def parse_config(text: str, host: str, platform: str, file: str) -> DeviceConfig:
    """A config text parsed for the platform it is written for."""
    return parse_for(text, host, detect_platform(text, platform), file)


def parse_for(text: str, host: str, platform: str, file: str) -> DeviceConfig:
    """A config text parsed for `platform`, with its packet-filter section if any."""
    config = parser_for(platform)(text, host, file)
    if HEADER in text:
        parse_nft(ruleset_in_place(text), config, file)
    return config
