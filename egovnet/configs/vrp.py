"""Huawei VRP and H3C Comware configurations into the vendor-neutral model.

The two share their shape (`#`-separated blocks, `ip vpn-instance`, `ip route-static`,
`peer ... as-number`, `import-route`, numbered ACL rules with `source`/`destination`
keywords) and differ in a handful of keywords, kept as data in `Dialect`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from egovnet.configs.lines import ROUTE_LEAKS, construct, read_lines, unknown_top_level
from egovnet.configs.model import (
    ANY,
    BgpInstance,
    DeviceConfig,
    FilterRule,
    Interface,
    PacketFilter,
    PrefixRule,
    StaticRoute,
    Where,
    mask_prefixlen,
    wildcard_prefixlen,
)
from egovnet.model import GLOBAL


@dataclass(frozen=True)
class Dialect:
    platform: str
    prefix_list: str
    """`ip ip-prefix` (VRP) or `ip prefix-list` (Comware)."""
    interface_filter: re.Pattern[str]
    """An interface's inbound packet filter; group 1 is the ACL's number or name."""
    acl_header: re.Pattern[str]


VRP = Dialect(
    "huawei_vrp",
    "ip ip-prefix",
    re.compile(r"^traffic-filter inbound acl (?:name )?(\S+)"),
    re.compile(r"^acl (?:number |name )?(\S+)"),
)
COMWARE = Dialect(
    "h3c_comware",
    "ip prefix-list",
    re.compile(r"^packet-filter (?:name )?(\S+) inbound"),
    re.compile(r"^acl (?:advanced |basic |number )?(?:name )?(\S+)"),
)
_PREFIX = re.compile(
    r"^ip (?:ip-prefix|prefix-list) (\S+) index (\d+) (permit|deny) (\S+) (\d+)"
    r"(?: greater-equal (\d+))?(?: less-equal (\d+))?"
)


def _prefix(address: str, mask: str) -> IPv4Network:
    length = int(mask) if mask.isdigit() else mask_prefixlen(mask)
    return IPv4Network(f"{address}/{length}", strict=False)


def parse_vrp(text: str, host: str, file: str, dialect: Dialect = VRP) -> DeviceConfig:
    """Parse a Huawei VRP (default) or H3C Comware (`dialect=COMWARE`) configuration."""
    config = DeviceConfig(host, dialect.platform, file)
    block: str | None = None
    interface: Interface | None = None
    acl: PacketFilter | None = None
    bgp_vrf = GLOBAL

    def step(number: int, raw: str) -> None:
        nonlocal block, interface, acl, bgp_vrf
        line = raw.strip()
        if not line or line == "#":
            return
        where = Where(file, number, line)
        indent = len(raw) - len(raw.lstrip(" "))
        if indent == 0:
            block, interface, acl, bgp_vrf = None, None, None, GLOBAL
            if line.startswith("interface "):
                block = "interface"
                interface = config.interface(line.split()[1])
                interface.where = where
            elif line.startswith("bgp "):
                block = "bgp"
                config.asn = int(line.split()[1])
            elif match := dialect.acl_header.match(line):
                block = "acl"
                acl = config.filters.setdefault(
                    match.group(1), PacketFilter(match.group(1), default_permit=True)
                )
            elif line.startswith("ip route-static "):
                _static(config, line, where)
            elif match := _PREFIX.match(line):
                name, seq, action, address, length, ge, le = match.groups()
                config.add_prefix_rule(
                    name,
                    PrefixRule(
                        int(seq),
                        action == "permit",
                        _prefix(address, length),
                        int(ge) if ge else None,
                        int(le) if le else None,
                    ),
                )
            elif line.startswith("ip vpn-instance "):
                block = "vpn-instance"
            else:
                unknown_top_level(config, line, where)
            return
        if block == "interface" and interface is not None:
            _interface_line(interface, line, dialect)
        elif block == "acl" and acl is not None and line.startswith("rule "):
            rule = _acl_rule(line.split(), where)
            if rule is not None:
                acl.rules.append(rule)
        elif block == "vpn-instance" and line.split()[0] in ROUTE_LEAKS:
            config.not_modelled(where, construct(line, 1))
        elif block == "bgp":
            if indent == 1:
                words = line.split()
                if line.startswith(("ipv4-family vpn-instance ", "ip vpn-instance ")):
                    bgp_vrf = words[-1]
                elif line.startswith(("ipv4-family", "address-family")) or words[0] == "peer":
                    bgp_vrf = GLOBAL
            _bgp_line(config.bgp_instance(bgp_vrf), line.split(), where)

    read_lines(config, text, step)
    return config


def parse_huawei_vrp(text: str, host: str, file: str) -> DeviceConfig:
    """Parse a Huawei VRP configuration (the registry's parser for `huawei_vrp`)."""
    return parse_vrp(text, host, file, VRP)


def parse_h3c_comware(text: str, host: str, file: str) -> DeviceConfig:
    """Parse an H3C Comware configuration (the registry's parser for `h3c_comware`)."""
    return parse_vrp(text, host, file, COMWARE)


def _interface_line(interface: Interface, line: str, dialect: Dialect) -> None:
    words = line.split()
    if line.startswith("ip binding vpn-instance "):
        interface.vrf = words[3]
    elif line.startswith("ip address ") and len(words) >= 4 and words[2] != "dhcp-alloc":
        length = int(words[3]) if words[3].isdigit() else mask_prefixlen(words[3])
        interface.address = IPv4Interface(f"{words[2]}/{length}")
    elif line == "shutdown":
        interface.shutdown = True
    elif line.startswith("nat outbound"):
        interface.nat = True
    elif match := dialect.interface_filter.match(line):
        interface.inbound_filter = match.group(1)


def _static(config: DeviceConfig, line: str, where: Where) -> None:
    words = line.split()[2:]
    vrf = GLOBAL
    if words[0] == "vpn-instance":
        vrf, words = words[1], words[2:]
    prefix = _prefix(words[0], words[1])
    target = words[2] if len(words) > 2 else "NULL0"
    if target == "vpn-instance":  # next hop in another instance: keep the address
        target = words[4] if len(words) > 4 else "NULL0"
    try:
        next_hop: IPv4Address | None = IPv4Address(target)
    except ValueError:
        next_hop = None
    config.statics.append(StaticRoute(vrf, prefix, next_hop, where))


def _bgp_line(bgp: BgpInstance, words: list[str], where: Where) -> None:
    head = words[0]
    if head == "network":
        bgp.networks.append((_prefix(words[1], words[2] if len(words) > 2 else "32"), where))
    elif head == "aggregate":
        bgp.aggregates.append((_prefix(words[1], words[2]), "detail-suppressed" in words, where))
    elif head == "import-route":
        source = {"direct": "connected"}.get(words[1], words[1])
        bgp.redistribute.append((source, where))
    elif head == "peer" and len(words) >= 4:
        try:
            neighbor = bgp.neighbor(IPv4Address(words[1]))
        except ValueError:
            return  # peer groups: not rendered by egovnet, not modelled
        if words[2] == "as-number":
            neighbor.remote_as = int(words[3])
        elif words[2] in {"ip-prefix", "prefix-list"} and len(words) >= 5:
            if words[4] == "import":
                neighbor.import_list = words[3]
            else:
                neighbor.export_list = words[3]


def _acl_rule(words: list[str], where: Where) -> FilterRule | None:
    """`rule N permit|deny PROTO [source A W] [destination A W] [destination-port eq P]`."""
    try:
        action = words[2]
        protocol = words[3] if len(words) > 3 else "ip"
    except IndexError:
        return None
    destination = ANY
    port = None
    if "destination" in words:
        at = words.index("destination")
        target = words[at + 1]
        if target != "any":
            wildcard = words[at + 2] if len(words) > at + 2 else "0"
            destination = IPv4Network(f"{target}/{wildcard_prefixlen(wildcard)}", strict=False)
    if "destination-port" in words:
        at = words.index("destination-port")
        port = int(words[at + 2]) if words[at + 1] == "eq" and words[at + 2].isdigit() else None
    return FilterRule(
        permit=action == "permit",
        destination=destination,
        protocol=protocol,
        port=port,
        established="established" in words,
        where=where,
    )
