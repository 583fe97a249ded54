"""Huawei USG security zones and `security-policy` rules, as packet filters into each zone's
interfaces (read by `egovnet.configs.vrp`).

A USG forwards between zones only what a security policy permits (the default policy
denies). The model has no zones, so each zone's interfaces get an inbound filter built from
the rules whose source zone is that zone (or any), in order, defaulting to deny. What one
filter cannot say is resolved toward "admitted", never toward "stopped": a permit rule's
destination zone is ignored (it may admit more than the device does); a deny rule limited to
a destination zone, or naming addresses or services this reader does not resolve (address
sets, user-defined services), is left out (it may stop less than the device does). Those
lines are recorded as unmodelled so the audit knows the filter is an over-approximation.

Without any `security-policy` rule (an AR router's `firewall zone` / `firewall interzone`
packet filters) zones stay unmodelled, as the caller records them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network

from egovnet.configs.model import (
    ANY_ADDRESS,
    AddressMatch,
    DeviceConfig,
    FilterRule,
    PacketFilter,
    PortMatch,
    Where,
    mask_prefixlen,
)

SERVICES: dict[str, tuple[str, int | None]] = {
    "http": ("tcp", 80), "https": ("tcp", 443), "ssh": ("tcp", 22), "telnet": ("tcp", 23),
    "ftp": ("tcp", 21), "smtp": ("tcp", 25), "pop3": ("tcp", 110), "dns": ("udp", 53),
    "snmp": ("udp", 161), "ntp": ("udp", 123), "icmp": ("icmp", None), "ping": ("icmp", None),
    "any": ("ip", None), "tcp": ("tcp", None), "udp": ("udp", None),
}  # fmt: skip
"""The USG's predefined services the reader resolves (name -> protocol, destination port)."""


@dataclass
class _Rule:
    name: str
    where: Where
    source_zones: list[str] = field(default_factory=list)
    destination_zones: list[str] = field(default_factory=list)
    sources: list[AddressMatch] = field(default_factory=list)
    destinations: list[AddressMatch] = field(default_factory=list)
    services: list[tuple[str, int | None]] = field(default_factory=list)
    unresolved: list[Where] = field(default_factory=list)
    action: str | None = None


@dataclass
class SecurityPolicies:
    """Zones and security-policy rules gathered while reading a USG configuration."""

    zones: dict[str, list[str]] = field(default_factory=dict)
    """Zone -> its interfaces."""
    zone_lines: list[Where] = field(default_factory=list)
    rules: list[_Rule] = field(default_factory=list)

    def zone(self, words: list[str], where: Where) -> str:
        """`firewall zone [name] Z`: the zone whose lines follow."""
        name = words[-1]
        self.zones.setdefault(name, [])
        self.zone_lines.append(where)
        return name

    def zone_line(self, zone: str, words: list[str]) -> None:
        if words[:2] == ["add", "interface"] and len(words) > 2:
            self.zones.setdefault(zone, []).append(words[2])

    def policy_line(self, words: list[str], where: Where) -> None:
        """A line of the `security-policy` view."""
        if words[:2] == ["rule", "name"]:
            self.rules.append(_Rule(words[2], where))
            return
        if not self.rules or words[0] in {"description", "profile", "policy", "long-link"}:
            return
        rule = self.rules[-1]
        head = words[0]
        if head == "source-zone":
            rule.source_zones += words[1:]
        elif head == "destination-zone":
            rule.destination_zones += words[1:]
        elif head in {"source-address", "destination-address"}:
            match = _address(words[1:])
            if match is None:
                rule.unresolved.append(where)
            else:
                (rule.sources if head == "source-address" else rule.destinations).append(match)
        elif head == "service":
            service = SERVICES.get(words[-1].lower()) if words[1] != "protocol" else None
            if words[1] == "protocol" and len(words) > 2:
                port = None
                if "destination-port" in words and words.index("destination-port") + 1 < len(words):
                    value = words[words.index("destination-port") + 1]
                    port = int(value) if value.isdigit() else None
                service = (words[2], port)
            if service is None:
                rule.unresolved.append(where)
            else:
                rule.services.append(service)
        elif head == "action" and len(words) > 1:
            rule.action = words[1]

    def finish(self, config: DeviceConfig) -> None:
        """The zones' inbound filters (when any rule was read), else zones unmodelled."""
        if not self.rules:
            for where in self.zone_lines:
                config.not_modelled(where, "firewall zone / interzone")
            return
        for zone, interfaces in self.zones.items():
            rules: list[FilterRule] = []
            for rule in self.rules:
                if rule.source_zones and zone not in rule.source_zones:
                    continue
                rules += _filter_rules(rule, config, len(rules))
            name = f"security-policy:{zone}"
            config.filters[name] = PacketFilter(name, rules, default_permit=False)
            for interface in interfaces:
                port = config.interface(interface)
                if port.inbound_filter is None:
                    port.inbound_filter = name


def _filter_rules(rule: _Rule, config: DeviceConfig, start: int) -> list[FilterRule]:
    permit = rule.action == "permit"
    if rule.action not in {"permit", "deny"}:
        return []
    if not permit and (rule.destination_zones or rule.unresolved):
        config.not_modelled(rule.where, "deny security-policy rule limited beyond one filter")
        return []  # left out: it may stop less than the device does, never more
    for where in rule.unresolved:
        config.not_modelled(where, "security-policy address set / service")
    sources = [] if rule.unresolved and permit else rule.sources
    destinations = [] if rule.unresolved and permit else rule.destinations
    services = [] if rule.unresolved and permit else rule.services
    result: list[FilterRule] = []
    for source in sources or [ANY_ADDRESS]:
        for destination in destinations or [ANY_ADDRESS]:
            for protocol, port in services or [("ip", None)]:
                result.append(
                    FilterRule(
                        permit,
                        destination=destination,
                        protocol=protocol,
                        destination_port=PortMatch.parse(["eq", str(port)]) if port else None,
                        where=rule.where,
                        source=source,
                        order=start + len(result) + 1,
                    )
                )
    return result


def _address(words: list[str]) -> AddressMatch | None:
    """`A LEN`, `A mask M`, `A WILDCARD`, `A` (`range`, `address-set`: not resolved -> None)."""
    if not words or words[0] in {"address-set", "range", "domain-set"}:
        return None
    try:
        if len(words) == 1:
            return AddressMatch.parse(words[0], "0")
        if words[1] == "mask" and len(words) > 2:
            length = mask_prefixlen(words[2])
        elif words[1].isdigit():
            length = int(words[1])
        else:
            return AddressMatch.parse(words[0], words[1])
        return AddressMatch.of(IPv4Network(f"{words[0]}/{length}", strict=False))
    except ValueError:
        return None
