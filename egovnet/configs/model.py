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
from ipaddress import (
    AddressValueError,
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    NetmaskValueError,
)

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
    """An interface with its IPv4 addresses (the only ones routing cares about)."""

    name: str
    addresses: list[IPv4Interface] = field(default_factory=list)
    """Primary first, then VRP/Comware `sub` and IOS `secondary` addresses."""
    vrf: str = GLOBAL
    shutdown: bool = False
    inbound_filter: str | None = None
    outbound_filter: str | None = None
    nat: bool = False
    """Outbound source NAT (masquerade, `nat outbound`, `ip nat outside` + overload)."""
    where: Where | None = None

    @property
    def address(self) -> IPv4Interface | None:
        """The primary address (None: the interface has no IPv4 address)."""
        return self.addresses[0] if self.addresses else None

    def set_primary(self, address: IPv4Interface) -> None:
        """A primary `ip address` line: it replaces the primary, secondaries stay."""
        if self.addresses:
            self.addresses[0] = address
        else:
            self.addresses.append(address)

    def add_secondary(self, address: IPv4Interface) -> None:
        """A `sub` / `secondary` address: after the primary, never replacing it."""
        if address not in self.addresses:
            self.addresses.append(address)


NULL_INTERFACES = frozenset({"null0", "blackhole", "reject"})
"""Outgoing interfaces of a discard route, lower-cased (VRP NULL0, IOS Null0, FRR blackhole)."""


@dataclass(frozen=True)
class StaticRoute:
    """A static route. Discard: no next hop and a NULL0/Null0/blackhole interface (or no
    interface at all). `target_vrf`: the next hop is looked up in that instance
    (VRP `vpn-instance X` / `public`, IOS `ip route vrf A ... global`)."""

    vrf: str
    prefix: IPv4Network
    next_hop: IPv4Address | None
    where: Where
    interface: str | None = None
    preference: int | None = None
    """As written (VRP/Comware `preference N`, IOS administrative distance); None: default."""
    target_vrf: str | None = None

    @property
    def discard(self) -> bool:
        return self.next_hop is None and (
            self.interface is None or self.interface.lower() in NULL_INTERFACES
        )


@dataclass(frozen=True)
class NatRule:
    """One NAT construct. `kind`: outbound (VRP/Comware `nat outbound`), inside_source (IOS
    `ip nat inside source list|route-map`), static (one-to-one), server (VRP/Comware
    `nat server`, a port or address mapping inward), policy (USG `nat-policy` rule),
    masquerade (nftables). `acl`: the ACL selecting what it translates (None: everything
    through `interface`; for `policy`, the rule's name); `vrf`: the instance whose packets an
    IOS inside-source rule translates (`... vrf V`; None: the global table)."""

    kind: str
    interface: str | None
    acl: str | None
    pool: str | None
    where: Where | None = None
    vrf: str | None = None


NAT_KINDS = ("outbound", "inside_source", "static", "server", "policy", "masquerade")
SOURCE_NAT = frozenset({"outbound", "inside_source", "masquerade", "policy"})


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


_ALL = 0xFFFFFFFF


@dataclass(frozen=True)
class AddressMatch:
    """An ACL address: `address` with `wildcard` (inverse mask) bits free, contiguous or not,
    evaluated bitwise as the devices do (`10.0.0.0 0.255.0.255` matches 10.x.0.y... in
    every x and y: a set that is no prefix).

    >>> AddressMatch.parse("10.1.0.7", "0.0.255.0").contains(IPv4Address("10.1.9.7"))
    True
    >>> str(AddressMatch.parse("10.1.0.0", "0.0.0.255"))
    '10.1.0.0/24'
    >>> str(AddressMatch.parse("10.0.0.1", "0.255.0.0"))
    '10.0.0.1 0.255.0.0'
    """

    address: int
    wildcard: int

    @classmethod
    def of(cls, network: IPv4Network) -> AddressMatch:
        return cls(int(network.network_address), int(network.hostmask))

    @classmethod
    def parse(cls, address: str, wildcard: str) -> AddressMatch:
        """`A W` as an ACL writes it (`W` `0` is a host); ValueError when not addresses."""
        free = 0 if wildcard == "0" else int(IPv4Address(wildcard))
        return cls(int(IPv4Address(address)) & ~free & _ALL, free)

    @property
    def network(self) -> IPv4Network | None:
        """The prefix this match is, when its wildcard is contiguous."""
        length = 32 - self.wildcard.bit_length()
        if self.wildcard != (1 << (32 - length)) - 1:
            return None
        return IPv4Network((self.address, length))

    def contains(self, address: IPv4Address) -> bool:
        return (int(address) ^ self.address) & ~self.wildcard & _ALL == 0

    def overlaps(self, other: AddressMatch) -> bool:
        return (self.address ^ other.address) & ~self.wildcard & ~other.wildcard & _ALL == 0

    def covers(self, other: AddressMatch) -> bool:
        """Whether every address `other` matches, this matches too."""
        return other.wildcard & ~self.wildcard == 0 and self.overlaps(other)

    def __str__(self) -> str:
        if self.wildcard == _ALL:
            return "any"
        network = self.network
        if network is not None:
            return str(network)
        return f"{IPv4Address(self.address)} {IPv4Address(self.wildcard)}"


ANY_ADDRESS = AddressMatch(0, _ALL)

PORT_NAMES = {
    "bgp": 179, "bootpc": 68, "bootps": 67, "cmd": 514, "domain": 53, "dns": 53, "echo": 7,
    "ftp": 21, "ftp-data": 20, "gopher": 70, "http": 80, "https": 443, "www": 80,
    "ntp": 123, "pop3": 110, "smtp": 25, "snmp": 161, "snmptrap": 162, "ssh": 22,
    "syslog": 514, "tacacs": 49, "telnet": 23, "tftp": 69, "isakmp": 500,
}  # fmt: skip
"""Port names IOS, VRP and Comware accept in place of numbers (the usual ones)."""


def port_number(word: str) -> int:
    """A port as an ACL writes it (number or name); ValueError when neither."""
    if word.isdigit():
        return int(word)
    if word.lower() in PORT_NAMES:
        return PORT_NAMES[word.lower()]
    raise ValueError(f"unknown port {word!r}")


@dataclass(frozen=True)
class PortMatch:
    """`eq P`, `neq P`, `gt P`, `lt P`, `range A B`: the ports it matches as ranges, and the
    text as written.

    >>> PortMatch.parse(["range", "1000", "2000"]).contains(1500)
    True
    >>> PortMatch.parse(["neq", "www"]).contains(80)
    False
    """

    text: str
    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, words: list[str]) -> PortMatch:
        """From an operator and its one or two ports; ValueError when malformed."""
        op = words[0]
        first = port_number(words[1])
        if op == "eq":
            ranges: tuple[tuple[int, int], ...] = ((first, first),)
        elif op == "neq":
            ranges = tuple(r for r in ((0, first - 1), (first + 1, 65535)) if r[0] <= r[1])
        elif op == "gt":
            ranges = ((first + 1, 65535),)
        elif op == "lt":
            ranges = ((0, first - 1),)
        elif op == "range":
            ranges = ((first, port_number(words[2])),)
        else:
            raise ValueError(f"unknown port operator {op!r}")
        return cls(" ".join(words[:3] if op == "range" else words[:2]), ranges)

    def contains(self, port: int) -> bool:
        return any(low <= port <= high for low, high in self.ranges)

    def width(self) -> int:
        """How many operator words and ports this takes in a rule."""
        return 3 if self.text.startswith("range ") else 2


PROTOCOL_NUMBERS = {
    "icmp": "1",
    "igmp": "2",
    "ipinip": "4",
    "tcp": "6",
    "udp": "17",
    "gre": "47",
    "esp": "50",
    "ah": "51",
    "eigrp": "88",
    "ospf": "89",
    "pim": "103",
    "vrrp": "112",
    "sctp": "132",
}
NAMED_PROTOCOLS = frozenset({"icmp", "tcp", "udp"})
"""The protocols a rule keeps by name; every other one is kept as its number, so that
`esp` and `50` (the same rule written two ways) compare equal."""


def protocol_name(word: str) -> str:
    """One spelling per protocol: `ip` for any, the name for icmp/tcp/udp (`6` -> tcp), the
    number for the rest (`esp` -> 50); a word with neither stays as written.

    >>> protocol_name("6"), protocol_name("esp"), protocol_name("50"), protocol_name("any")
    ('tcp', '50', '50', 'ip')
    """
    word = word.lower()
    if word in {"ip", "ipv4", "any"}:
        return "ip"
    if word in NAMED_PROTOCOLS:
        return word
    if word in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[word]
    for name in NAMED_PROTOCOLS:
        if PROTOCOL_NUMBERS[name] == word:
            return name
    return word


@dataclass(frozen=True)
class FilterRule:
    """One rule of a packet filter.

    `established` rules match only replies to connections opened from inside (stateful
    firewalls, IOS `established`); the others match new connections too. `order` is the
    rule's number (VRP/Comware `rule N`, IOS sequence number) or its position: the device
    evaluates rules by it, first match wins.

    `vpn_instance`: the routing instance whose packets the rule matches (VRP/Comware
    `vpn-instance X`; Comware's rule without it matches non-VPN packets only, `GLOBAL`);
    None: packets of every instance. `qualifiers`: match conditions the model does not
    evaluate (`time-range T`, `dscp N`, `fragment-type F`, ...): the rule matches only some
    of the packets the rest of it says, so a deny rule with any is never relied on to stop
    a flow, while a permit rule with any still counts as letting it in (docs/parsing.md).
    """

    permit: bool
    destination: AddressMatch = ANY_ADDRESS
    protocol: str = "ip"
    destination_port: PortMatch | None = None
    established: bool = False
    where: Where | None = None
    source: AddressMatch = ANY_ADDRESS
    source_port: PortMatch | None = None
    order: int = 0
    vpn_instance: str | None = None
    qualifiers: tuple[str, ...] = ()

    @property
    def port(self) -> int | None:
        """The single destination port of an `eq` rule (None: any other form)."""
        match = self.destination_port
        if match is None or len(match.ranges) != 1 or match.ranges[0][0] != match.ranges[0][1]:
            return None
        return match.ranges[0][0]

    def _protocol_overlaps(self, query: Flow) -> bool:
        return self.protocol == "ip" or query.protocol in {"ip", self.protocol}

    def _ports_overlap(self, mine: PortMatch | None, port: int | None) -> bool:
        return mine is None or port is None or mine.contains(port)

    def overlaps(self, query: Flow) -> bool:
        """Whether some packet of `query` matches this rule."""
        return (
            (self.vpn_instance is None or query.vrf in {None, self.vpn_instance})
            and self._protocol_overlaps(query)
            and self.source.overlaps(query.source)
            and self.destination.overlaps(query.destination)
            and self._ports_overlap(self.source_port, query.source_port)
            and self._ports_overlap(self.destination_port, query.destination_port)
        )

    def covers(self, query: Flow) -> bool:
        """Whether every packet of `query` matches this rule."""
        return (
            not self.qualifiers
            and (self.vpn_instance is None or query.vrf == self.vpn_instance)
            and self.protocol in {"ip", query.protocol}
            and self.source.covers(query.source)
            and self.destination.covers(query.destination)
            and (self.source_port is None or _port_covered(self.source_port, query.source_port))
            and (
                self.destination_port is None
                or _port_covered(self.destination_port, query.destination_port)
            )
        )


def _port_covered(match: PortMatch, port: int | None) -> bool:
    return port is not None and match.contains(port)


@dataclass(frozen=True)
class Flow:
    """The packets of a question: new connections from `source` to `destination` (address
    sets), of `protocol` (`ip`: any), to `destination_port` (None: any port), in routing
    instance `vrf` (where they enter; None: any)."""

    source: AddressMatch = ANY_ADDRESS
    destination: AddressMatch = ANY_ADDRESS
    protocol: str = "ip"
    destination_port: int | None = None
    source_port: int | None = None
    vrf: str | None = None

    def narrowed(self, rule: FilterRule) -> Flow:
        """The part of this flow that `rule` matches (assuming they overlap), as far as one
        flow can say it: addresses exactly, protocol and ports where the rule pins them."""
        protocol = self.protocol if rule.protocol == "ip" else rule.protocol
        return Flow(
            _intersect(self.source, rule.source),
            _intersect(self.destination, rule.destination),
            protocol,
            self.destination_port
            if self.destination_port is not None
            else _single(rule.destination_port),
            self.source_port if self.source_port is not None else _single(rule.source_port),
            self.vrf if self.vrf is not None else rule.vpn_instance,
        )


def _single(match: PortMatch | None) -> int | None:
    if match is None or len(match.ranges) != 1 or match.ranges[0][0] != match.ranges[0][1]:
        return None
    return match.ranges[0][0]


def _intersect(a: AddressMatch, b: AddressMatch) -> AddressMatch:
    wildcard = a.wildcard & b.wildcard
    fixed = (a.address & ~a.wildcard) | (b.address & ~b.wildcard)
    return AddressMatch(fixed & ~wildcard & _ALL, wildcard)


@dataclass
class PacketFilter:
    """An ordered packet filter; `default_permit` is what happens when no rule matches
    (Huawei/H3C traffic filters and nftables chains permit, IOS ACLs deny)."""

    name: str
    rules: list[FilterRule] = field(default_factory=list)
    default_permit: bool = False

    def ordered(self) -> list[FilterRule]:
        """The rules in the order the device tries them: by number, then as written."""
        return sorted(self.rules, key=lambda rule: rule.order)

    def admits(self, flow: Flow) -> FilterRule | bool | None:
        """Whether some new connection of `flow` gets through, as the device decides: the
        first rule that matches a packet wins, unmatched packets get the default.

        The permit rule that lets (part of) it in, True for the filter's default, None: it is
        stopped. Sound for isolation: a permit counts unless one earlier deny rule alone
        covers everything of the flow it matches, so it may say "admitted" where several
        deny rules together stop a flow, never "stopped" where a packet gets through.
        """
        denies: list[FilterRule] = []
        for rule in self.ordered():
            if rule.established or not rule.overlaps(flow):
                continue
            if not rule.permit:
                if rule.covers(flow):
                    return None
                denies.append(rule)
                continue
            part = flow.narrowed(rule)
            if not any(deny.covers(part) for deny in denies):
                return rule
        if not self.default_permit:
            return None
        return True

    def selects_all(self, flow: Flow) -> FilterRule | None:
        """The rule that selects every packet of `flow`, where this ACL selects traffic (a
        NAT ACL) rather than filters it: unmatched packets are not selected, whatever
        `default_permit` says. None unless one permit rule, the first to match any of the
        flow's packets, matches all of them: a deny, a partial or a time-dependent permit
        first means some packets may go untranslated (sound: never "all" when not all).

        >>> acl = PacketFilter("2000", [FilterRule(True, source=AddressMatch.parse(
        ...     "10.96.0.0", "0.0.255.255"))])
        >>> acl.selects_all(Flow(source=AddressMatch.parse("10.96.4.0", "0.0.0.63"))) is not None
        True
        >>> acl.selects_all(Flow(source=AddressMatch.parse("10.80.0.0", "0.0.255.255")))
        """
        for rule in self.ordered():
            if not rule.overlaps(flow):
                continue
            if rule.permit and not rule.established and rule.covers(flow):
                return rule
            return None
        return None

    def admits_new(self, destination: IPv4Network) -> FilterRule | bool | None:
        """Whether a new connection from anywhere toward (part of) `destination` gets
        through (`admits` for any source, protocol and port)."""
        return self.admits(Flow(destination=AddressMatch.of(destination)))


@dataclass
class VrfTargets:
    """What a routing instance exchanges with the device's other instances by route target
    (VRP/Comware `vpn-target`, IOS `route-target`) and through which route policies."""

    imports: set[str] = field(default_factory=set)
    exports: set[str] = field(default_factory=set)
    import_policy: str | None = None
    export_policy: str | None = None


@dataclass(frozen=True)
class RoutePolicy:
    """A route policy (route-map) of the one form the model represents: a single permit node
    matching one prefix list, or matching everything (`prefix_list` None). Any other form
    is recorded as unmodelled where it is read."""

    name: str
    prefix_list: str | None
    where: Where


LEAK_CARRIERS = ("vpnv4", "vpnv6", "evpn", "l2vpn", "mpls")
"""Words of unmodelled constructs that carry route targets off the device (MP-BGP VPN
families, MPLS): with one of them, a route target is no local leak the model can follow."""


@dataclass
class PolicyLines:
    """Where a parser read a route policy: its node lines, and the clauses inside it that
    the model does not represent. Reported once the whole config shows whether the policy
    is one the model follows (used only by instance import/export)."""

    nodes: list[Where] = field(default_factory=list)
    clauses: list[Where] = field(default_factory=list)


@dataclass(frozen=True)
class TargetLine:
    """A route-target line as read: its instance, `import` or `export`, the targets."""

    where: Where
    vrf: str
    kind: str
    targets: tuple[str, ...]


@dataclass
class DeviceConfig:
    """One router's configuration, parsed, with what the parser could not read (`unparsed`)
    and what it read but the model does not represent (`unmodelled`)."""

    host: str
    platform: str
    file: str
    asn: int | None = None
    interfaces: dict[str, Interface] = field(default_factory=dict)
    statics: list[StaticRoute] = field(default_factory=list)
    bgp: dict[str, BgpInstance] = field(default_factory=dict)
    prefix_lists: dict[str, list[PrefixRule]] = field(default_factory=dict)
    filters: dict[str, PacketFilter] = field(default_factory=dict)
    nat: list[NatRule] = field(default_factory=list)
    hostname: str | None = None
    defined_vrfs: list[str] = field(default_factory=list)
    """Instances the config defines (`ip vpn-instance X`, `vrf definition X`), used or not."""
    static_preference: int = 1
    """A static route's preference when its line gives none (VRP and Comware: 60)."""
    vrf_targets: dict[str, VrfTargets] = field(default_factory=dict)
    """Instance -> its route targets and import/export policies (route leaking between the
    device's own instances: the service zone's hub and spoke, docs/services.md)."""
    route_policies: dict[str, RoutePolicy] = field(default_factory=dict)

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

    def targets(self, vrf: str) -> VrfTargets:
        return self.vrf_targets.setdefault(vrf, VrfTargets())

    def policy_list(self, policy: str | None) -> str | None:
        """The prefix list a route policy amounts to (None: no policy, or one that matches
        everything). A policy named but not defined lets nothing through, as the vendors
        treat it: the name of a list that does not exist says the same to `permits`."""
        if policy is None:
            return None
        found = self.route_policies.get(policy)
        if found is None:
            return f"route-policy {policy} (not defined)"
        return found.prefix_list

    def leaks(self) -> list[tuple[str, str, str | None, str | None]]:
        """(from instance, to instance, export list, import list) for every pair of the
        device's instances where one imports a route target the other exports."""
        found = []
        for source, out in sorted(self.vrf_targets.items()):
            for target, into in sorted(self.vrf_targets.items()):
                if source != target and out.exports & into.imports:
                    found.append(
                        (
                            source,
                            target,
                            self.policy_list(out.export_policy),
                            self.policy_list(into.import_policy),
                        )
                    )
        return found

    def settle_leaks(
        self,
        policies: dict[str, PolicyLines],
        target_lines: list[TargetLine],
        policy_construct: str,
        target_construct: str,
    ) -> None:
        """After the parse: keep the route leaking the model can follow, report the rest as
        the parsers did before it was modelled (so nothing that routes is ever silent).

        The model follows a local leak into an instance that filters what it imports with
        a route policy it holds (one permit node matching one prefix list: the service
        zone's hub and spoke, docs/services.md), and only when nothing carries route
        targets off the device (no VPN family, no MPLS). Every other target line is
        reported and not followed; a route policy no followed instance uses (one on a peer,
        for NAT or PBR, or none) is reported at every node line, as before.
        """
        before = len(self.unmodelled)
        carried = any(word in u.construct for u in self.unmodelled for word in LEAK_CARRIERS)
        followed = set() if carried else self._filtered_importers(policies)
        importers: dict[str, set[str]] = {}
        for vrf, targets in self.vrf_targets.items():
            for rt in targets.imports:
                importers.setdefault(rt, set()).add(vrf)
        for line in target_lines:
            if line.kind == "import":
                ok = line.vrf in followed
            else:
                into = set().union(*(importers.get(rt, set()) for rt in line.targets))
                ok = bool(into) and into <= followed
            if not ok:
                self.not_modelled(line.where, target_construct)
        for vrf, targets in self.vrf_targets.items():
            if vrf not in followed:
                targets.imports.clear()  # what flows into it is not followed, only reported
        used = {self.vrf_targets[v].import_policy for v in followed}
        used |= {t.export_policy for t in self.vrf_targets.values() if t.export_policy}
        for name, lines in policies.items():
            if name in used:
                for where in (*lines.nodes[1:], *lines.clauses):
                    self.not_modelled(where, policy_construct)
            else:
                for where in lines.nodes:
                    self.not_modelled(where, policy_construct)
                self.route_policies.pop(name, None)
        if len(self.unmodelled) > before:  # reported late: back in line order
            self.unmodelled.sort(key=lambda u: u.where.line)

    def _filtered_importers(self, policies: dict[str, PolicyLines]) -> set[str]:
        """Instances that import by route target through a policy the model holds whole."""
        found = set()
        for vrf, targets in self.vrf_targets.items():
            lines = policies.get(targets.import_policy or "")
            whole = lines is not None and len(lines.nodes) == 1 and not lines.clauses
            if targets.imports and whole:
                found.add(vrf)
        return found

    def vrfs(self) -> set[str]:
        """Every routing instance the configuration uses."""
        found = {i.vrf for i in self.interfaces.values()} | set(self.bgp)
        return found | {s.vrf for s in self.statics} | set(self.defined_vrfs)


def line_error_reason(error: Exception) -> str:
    """Why a line could not be read, for its `Unparsed` entry.

    >>> line_error_reason(ValueError("Only decimal digits permitted in 'x' in '100.x.x.80'"))
    "not an IPv4 address or mask: Only decimal digits permitted in 'x' in '100.x.x.80'"
    """
    if isinstance(error, IndexError):
        return "a word is missing"
    if isinstance(error, (AddressValueError, NetmaskValueError)) or "permitted in" in str(error):
        return f"not an IPv4 address or mask: {error}"
    return str(error)


def asplain(text: str) -> int:
    """An AS number as an integer, from asplain (`6553601`) or asdot (`100.1`) notation.

    >>> asplain("100.1"), asplain("65001")
    (6553601, 65001)
    """
    if "." in text:
        high, low = text.split(".", 1)
        if not (high.isdigit() and low.isdigit()) or int(high) > 65535 or int(low) > 65535:
            raise ValueError(f"not an AS number: {text!r}")
        return int(high) * 65536 + int(low)
    if not text.isdigit():
        raise ValueError(f"not an AS number: {text!r}")
    return int(text)


@cache
def ipv4_int(text: str) -> int:
    """A dotted IPv4 address as an integer, as strictly as `ipaddress` reads it (four decimal
    octets 0-255, no leading zeros; `AddressValueError` naming the text otherwise), without building
    an address object: the parsers' hot path on configs of many megabytes.

    >>> ipv4_int("10.96.0.1"), ipv4_int("0.0.0.0")
    (174063617, 0)
    >>> ipv4_int("100.x.x.80")
    Traceback (most recent call last):
    ipaddress.AddressValueError: '100.x.x.80' does not appear to be an IPv4 address
    """
    parts = text.split(".")
    value = 0
    if len(parts) == 4:
        for part in parts:
            if not part.isdigit() or not part.isascii() or (len(part) > 1 and part[0] == "0"):
                break
            octet = int(part)
            if octet > 255:
                break
            value = (value << 8) | octet
        else:
            return value
    raise AddressValueError(f"{text!r} does not appear to be an IPv4 address")


def ipv4_address(text: str) -> IPv4Address:
    """`IPv4Address(text)`, read with integer arithmetic (`ipv4_int`)."""
    return IPv4Address(ipv4_int(text))


def ipv4_network(address: str, length: int) -> IPv4Network:
    """`IPv4Network(f"{address}/{length}", strict=False)`, read with integer arithmetic.

    >>> ipv4_network("10.96.3.7", 16)
    IPv4Network('10.96.0.0/16')
    """
    if not 0 <= length <= 32:
        raise ValueError(f"invalid prefix length {length} for {address}")
    value = ipv4_int(address) & (_ALL ^ (_ALL >> length))
    return IPv4Network((value, length))


def ipv4_interface(address: str, length: int) -> IPv4Interface:
    """`IPv4Interface(f"{address}/{length}")`, read with integer arithmetic.

    >>> ipv4_interface("10.96.3.7", 26)
    IPv4Interface('10.96.3.7/26')
    """
    if not 0 <= length <= 32:
        raise ValueError(f"invalid prefix length {length} for {address}")
    return IPv4Interface((ipv4_int(address), length))


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
