"""Cisco IOS configurations into the vendor-neutral model (the sample's exit is an IOS box)."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from egovnet.configs.lines import ROUTE_LEAKS, construct, read_lines, unknown_top_level
from egovnet.configs.model import (
    ANY,
    BgpInstance,
    DeviceConfig,
    FilterRule,
    Interface,
    PacketFilter,
    StaticRoute,
    Where,
    cisco_prefix_list,
    mask_prefixlen,
    wildcard_prefixlen,
)
from egovnet.model import GLOBAL

_NAT = re.compile(r"^ip nat inside source (?:list|route-map) \S+ interface (\S+)")


def parse_ios(text: str, host: str, file: str) -> DeviceConfig:  # noqa: PLR0915 - one walk
    """Parse a Cisco IOS configuration."""
    config = DeviceConfig(host, "cisco_ios", file)
    interface: Interface | None = None
    acl: PacketFilter | None = None
    bgp: BgpInstance | None = None
    in_bgp = False
    nat_outside: set[str] = set()
    vrf_definition = False

    def step(number: int, raw: str) -> None:
        nonlocal interface, acl, bgp, in_bgp, vrf_definition
        line = raw.strip()
        if not line or line.startswith("!"):
            return
        where = Where(file, number, line)
        words = line.split()
        if not raw.startswith(" "):
            interface, acl, bgp, in_bgp, vrf_definition = None, None, None, False, False
            if words[0] == "interface":
                interface = config.interface(words[1])
                interface.where = where
            elif line.startswith("router bgp "):
                config.asn = int(words[2])
                in_bgp = True
                bgp = config.bgp_instance(GLOBAL)
            elif line.startswith("ip access-list extended "):
                acl = config.filters.setdefault(words[3], PacketFilter(words[3]))
            elif words[0] == "access-list" and len(words) > 3:
                numbered = config.filters.setdefault(words[1], PacketFilter(words[1]))
                rule = _acl_rule(words[2:], where)
                if rule is not None:
                    numbered.rules.append(rule)
            elif line.startswith("ip route "):
                _static(config, words, where)
            elif match := _NAT.match(line):
                config.interface(match.group(1)).nat = True
            elif words[:2] in (["vrf", "definition"], ["ip", "vrf"]):
                vrf_definition = True
            elif not cisco_prefix_list(config, line):
                unknown_top_level(config, line, where)
            return
        if vrf_definition and words[0] in ROUTE_LEAKS:
            config.not_modelled(where, construct(line, 1))
        elif interface is not None:
            _interface_line(interface, line, words, nat_outside)
        elif acl is not None:
            rule = _acl_rule(words[1:] if words[0].isdigit() else words, where)
            if rule is not None:
                acl.rules.append(rule)
        elif in_bgp:
            if line.startswith("address-family ipv4"):
                vrf = words[3] if len(words) > 3 and words[2] == "vrf" else GLOBAL
                bgp = config.bgp_instance(vrf)
            elif bgp is not None:
                _bgp_line(bgp, words, where)

    read_lines(config, text, step)
    for name, port in config.interfaces.items():
        # `ip nat inside source ... interface X overload` alone does nothing without
        # `ip nat outside` on X: NAT only where both say so
        port.nat = port.nat and name in nat_outside
    return config


def _interface_line(
    interface: Interface, line: str, words: list[str], nat_outside: set[str]
) -> None:
    if words[:2] == ["vrf", "forwarding"] or words[:3] == ["ip", "vrf", "forwarding"]:
        interface.vrf = words[-1]
    elif line.startswith("ip address ") and len(words) >= 4:
        interface.address = IPv4Interface(f"{words[2]}/{mask_prefixlen(words[3])}")
    elif line == "shutdown":
        interface.shutdown = True
    elif line.startswith("ip access-group ") and words[-1] == "in":
        interface.inbound_filter = words[2]
    elif line == "ip nat outside":
        nat_outside.add(interface.name)


def _static(config: DeviceConfig, words: list[str], where: Where) -> None:
    words = words[2:]
    vrf = GLOBAL
    if words[0] == "vrf":
        vrf, words = words[1], words[2:]
    prefix = IPv4Network(f"{words[0]}/{mask_prefixlen(words[1])}", strict=False)
    try:
        next_hop: IPv4Address | None = IPv4Address(words[2])
    except (ValueError, IndexError):
        next_hop = None  # Null0 or an interface
    config.statics.append(StaticRoute(vrf, prefix, next_hop, where))


def _bgp_line(bgp: BgpInstance, words: list[str], where: Where) -> None:
    head = words[0]
    if head == "network":
        mask = words[3] if len(words) > 3 and words[2] == "mask" else "255.255.255.255"
        bgp.networks.append((IPv4Network(f"{words[1]}/{mask_prefixlen(mask)}"), where))
    elif head == "aggregate-address":
        prefix = IPv4Network(f"{words[1]}/{mask_prefixlen(words[2])}", strict=False)
        bgp.aggregates.append((prefix, "summary-only" in words, where))
    elif head == "redistribute":
        bgp.redistribute.append((words[1], where))
    elif head == "neighbor" and len(words) >= 4:
        try:
            neighbor = bgp.neighbor(IPv4Address(words[1]))
        except ValueError:
            return
        if words[2] == "remote-as":
            neighbor.remote_as = int(words[3])
        elif words[2] == "prefix-list" and len(words) >= 5:
            if words[4] == "in":
                neighbor.import_list = words[3]
            else:
                neighbor.export_list = words[3]


def _address(words: list[str], at: int) -> tuple[IPv4Network, int]:
    """An ACL address at `words[at]`: `any`, `host A`, or `A WILDCARD`; and the next index."""
    if words[at] == "any":
        return ANY, at + 1
    if words[at] == "host":
        return IPv4Network(f"{words[at + 1]}/32"), at + 2
    return IPv4Network(f"{words[at]}/{wildcard_prefixlen(words[at + 1])}", strict=False), at + 2


def _acl_rule(words: list[str], where: Where) -> FilterRule | None:
    """`permit|deny PROTO SRC DST [eq PORT] [established]` (words after any sequence number)."""
    if not words or words[0] not in {"permit", "deny"} or len(words) < 4:
        return None
    try:
        _source, at = _address(words, 2)
        if words[at] in {"eq", "gt", "lt", "range"}:
            at += 2  # a source port
        destination, at = _address(words, at)
    except (IndexError, ValueError):
        return None
    port = None
    if len(words) > at + 1 and words[at] == "eq" and words[at + 1].isdigit():
        port = int(words[at + 1])
    return FilterRule(
        permit=words[0] == "permit",
        destination=destination,
        protocol=words[1],
        port=port,
        established="established" in words,
        where=where,
    )
