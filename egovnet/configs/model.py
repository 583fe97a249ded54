"""A small vendor-neutral model of what a router's configuration says about isolation.

Batfish cannot read Huawei VRP or H3C Comware, so egovnet parses the few things the isolation
questions need from all four platforms into this one model: interfaces with their addresses
and routing instance, static routes, BGP (originated prefixes, aggregates, redistribution,
neighbours and their prefix lists), packet filters on interfaces, and source NAT. Everything
keeps the line it came from, so that a finding can quote its evidence.

Routing instances are named as in `egovnet.model`: `global` for the underlay, zone names for
VRFs / VPN instances.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from egovnet.model import GLOBAL

ANY = IPv4Network("0.0.0.0/0")


@dataclass(frozen=True)
class Where:
    """A line of a configuration file, for evidence.

    >>> str(Where("zhengding.cfg", 14, "ip route 0.0.0.0/0 10.64.16.148"))
    'zhengding.cfg:14: ip route 0.0.0.0/0 10.64.16.148'
    """

    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text.strip()}"


@dataclass(frozen=True)
class Unparsed:
    """A line that could not be read at all."""

    where: Where
    reason: str


@dataclass(frozen=True)
class Unmodelled:
    """A line that was read but whose construct the model does not represent."""

    where: Where
    construct: str


NOT_CONTENT = frozenset({"#", "!", "return", "end"})
"""Lines that only separate or close sections: not counted as content."""


def is_content(line: str) -> bool:
    """Whether a (stripped) line says anything: not blank, `#`, `!`, `return` or `end`.

    >>> [is_content(x) for x in ("", "#", "!", "return", "end", "sysname a", "! note")]
    [False, False, False, False, False, True, False]
    """
    return bool(line) and line not in NOT_CONTENT and not line.startswith("!")


def count_content_lines(text: str) -> int:
    """How many lines of `text` say something (`is_content`)."""
    return sum(1 for raw in text.splitlines() if is_content(raw.strip().strip("\x00")))


@dataclass
class Interface:
    """An interface with an IPv4 address (the only ones routing cares about)."""

    name: str
    address: IPv4Interface | None = None
    vrf: str = GLOBAL
    shutdown: bool = False
    inbound_filter: str | None = None
    nat: bool = False
    """Outbound source NAT (masquerade, `nat outbound`, `ip nat outside` + overload)."""
    where: Where | None = None


@dataclass(frozen=True)
class StaticRoute:
    vrf: str
    prefix: IPv4Network
    next_hop: IPv4Address | None
    """None: a discard route (Null0, blackhole)."""
    where: Where


@dataclass
class Neighbor:
    address: IPv4Address
    remote_as: int | None = None
    import_list: str | None = None
    export_list: str | None = None


@dataclass
class BgpInstance:
    """BGP in one routing instance: what it originates and whom it talks to."""

    vrf: str
    networks: list[tuple[IPv4Network, Where]] = field(default_factory=list)
    aggregates: list[tuple[IPv4Network, bool, Where]] = field(default_factory=list)
    """(prefix, summary-only, where)."""
    redistribute: list[tuple[str, Where]] = field(default_factory=list)
    """(`connected` | `static`, where)."""
    neighbors: dict[IPv4Address, Neighbor] = field(default_factory=dict)

    def neighbor(self, address: IPv4Address) -> Neighbor:
        return self.neighbors.setdefault(address, Neighbor(address))


@dataclass(frozen=True)
class PrefixRule:
    """One prefix-list entry; `ge`/`le` as the platforms write them (None: exact match)."""

    seq: int
    permit: bool
    prefix: IPv4Network
    ge: int | None = None
    le: int | None = None

    def matches(self, candidate: IPv4Network) -> bool:
        """Whether `candidate` falls under this entry.

        >>> rule = PrefixRule(10, True, IPv4Network("10.80.0.0/16"), le=32)
        >>> rule.matches(IPv4Network("10.80.9.0/26")), rule.matches(IPv4Network("10.0.0.0/8"))
        (True, False)
        """
        if candidate.prefixlen < self.prefix.prefixlen or not candidate.subnet_of(self.prefix):
            return False
        if self.ge is None and self.le is None:
            return candidate.prefixlen == self.prefix.prefixlen
        low = self.ge if self.ge is not None else self.prefix.prefixlen
        high = self.le if self.le is not None else 32
        return low <= candidate.prefixlen <= high


@dataclass(frozen=True)
class FilterRule:
    """One rule of a packet filter applied inbound on an interface.

    `established` rules match only replies to connections opened from inside (stateful
    firewalls, IOS `established`); the others match new connections too.
    """

    permit: bool
    destination: IPv4Network
    protocol: str = "ip"
    port: int | None = None
    established: bool = False
    where: Where | None = None


@dataclass
class PacketFilter:
    """An ordered packet filter; `default_permit` is what happens when no rule matches
    (Huawei/H3C traffic filters and nftables chains permit, IOS ACLs deny)."""

    name: str
    rules: list[FilterRule] = field(default_factory=list)
    default_permit: bool = False

    def admits_new(self, destination: IPv4Network) -> FilterRule | bool | None:
        """Whether a new connection toward (part of) `destination` gets through.

        The rule that lets it in, True for the filter's default, None/False: it is stopped.
        """
        for rule in self.rules:
            if rule.established:
                continue
            if not (destination.overlaps(rule.destination)):
                continue
            if rule.permit:
                return rule
            if destination.subnet_of(rule.destination):
                return None
        return self.default_permit


@dataclass
class DeviceConfig:
    """One router's configuration, parsed."""

    host: str
    platform: str
    file: str
    asn: int | None = None
    interfaces: dict[str, Interface] = field(default_factory=dict)
    statics: list[StaticRoute] = field(default_factory=list)
    bgp: dict[str, BgpInstance] = field(default_factory=dict)
    prefix_lists: dict[str, list[PrefixRule]] = field(default_factory=dict)
    filters: dict[str, PacketFilter] = field(default_factory=dict)
    unparsed: list[Unparsed] = field(default_factory=list)
    unmodelled: list[Unmodelled] = field(default_factory=list)
    content_lines: int = 0
    """Lines that are not blank, `#`, `!`, `return`, `end` (what coverage counts against)."""

    def not_understood(self, where: Where, reason: str) -> None:
        """Record a line that could not be read at all (the rest of the file still is)."""
        self.unparsed.append(Unparsed(where, reason))

    def not_modelled(self, where: Where, construct: str) -> None:
        """Record a line read whose construct the model does not represent."""
        self.unmodelled.append(Unmodelled(where, construct))

    @property
    def coverage(self) -> float:
        """Lines understood / content lines (0.0 for a config with no content).

        >>> config = DeviceConfig("a", "frr", "a.cfg", content_lines=4)
        >>> config.not_understood(Where("a.cfg", 2, "ip route x"), "not an address")
        >>> config.coverage
        0.75
        """
        if self.content_lines <= 0:
            return 0.0
        missed = {u.where.line for u in self.unparsed} | {u.where.line for u in self.unmodelled}
        return max(0, self.content_lines - len(missed)) / self.content_lines

    def interface(self, name: str) -> Interface:
        return self.interfaces.setdefault(name, Interface(name))

    def bgp_instance(self, vrf: str) -> BgpInstance:
        return self.bgp.setdefault(vrf, BgpInstance(vrf))

    def add_prefix_rule(self, name: str, rule: PrefixRule) -> None:
        self.prefix_lists.setdefault(name, []).append(rule)

    def permits(self, list_name: str | None, prefix: IPv4Network) -> bool:
        """Whether a prefix list lets `prefix` through (no list: everything; a list named but
        not defined: nothing, as FRR and the vendors treat an empty list as deny-all)."""
        if list_name is None:
            return True
        for rule in self.prefix_lists.get(list_name, ()):
            if rule.matches(prefix):
                return rule.permit
        return False

    def vrfs(self) -> set[str]:
        """Every routing instance the configuration uses."""
        found = {i.vrf for i in self.interfaces.values()} | set(self.bgp)
        return found | {s.vrf for s in self.statics}


@cache
def mask_prefixlen(mask: str) -> int:
    """Prefix length of a dotted mask.

    >>> mask_prefixlen("255.255.255.192"), mask_prefixlen("0.0.0.0")
    (26, 0)
    """
    return IPv4Network(f"0.0.0.0/{mask}").prefixlen


@cache
def wildcard_prefixlen(wildcard: str) -> int:
    """Prefix length of an ACL wildcard (inverse mask).

    >>> wildcard_prefixlen("0.0.0.255"), wildcard_prefixlen("0")
    (24, 32)
    """
    if wildcard == "0":
        return 32
    return 32 - bin(int(IPv4Address(wildcard))).count("1")


_CISCO_PREFIX_LIST = re.compile(
    r"^ip prefix-list (\S+) seq (\d+) (permit|deny) (\S+)(?: ge (\d+))?(?: le (\d+))?"
)


def cisco_prefix_list(config: DeviceConfig, line: str) -> bool:
    """Add an `ip prefix-list NAME seq N permit|deny P [ge X] [le Y]` line (FRR and IOS write
    them alike) to `config`; False when `line` is not one.

    >>> config = DeviceConfig("a", "frr", "a.cfg")
    >>> cisco_prefix_list(config, "ip prefix-list UP seq 10 permit 10.80.9.0/24 le 32")
    True
    >>> config.permits("UP", IPv4Network("10.80.9.0/26"))
    True
    """
    match = _CISCO_PREFIX_LIST.match(line)
    if match is None:
        return False
    name, seq, action, prefix, ge, le = match.groups()
    config.add_prefix_rule(
        name,
        PrefixRule(
            int(seq),
            action == "permit",
            ANY if prefix == "any" else IPv4Network(prefix),
            int(ge) if ge else None,
            int(le) if le else None,
        ),
    )
    return True
