"""Cisco IOS configurations into the vendor-neutral model (the sample's exit is an IOS box).

A line that cannot be read is recorded on the config (`not_understood`) and the rest still
parses; constructs that can change reachability but are not modelled (route maps, tunnels,
crypto, dynamic routing processes, policy routing, zone-based firewall, NAT from outside) are
recorded as unmodelled.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from egovnet.configs.lines import unknown_top_level
from egovnet.configs.model import (
    ANY_ADDRESS,
    AddressMatch,
    BgpInstance,
    DeviceConfig,
    FilterRule,
    Interface,
    NatRule,
    PacketFilter,
    PolicyLines,
    PortMatch,
    RoutePolicy,
    StaticRoute,
    TargetLine,
    Where,
    asplain,
    cisco_prefix_list,
    is_content,
    line_error_reason,
    mask_prefixlen,
    protocol_name,
)
from egovnet.model import GLOBAL

SYSTEM_UNMODELLED: dict[str, str] = {
    "route-map": "route-map",
    "router ospf": "ospf process",
    "router ospfv3": "ospfv3 process",
    "router eigrp": "eigrp process",
    "router rip": "rip process",
    "router isis": "is-is process",
    "router odr": "odr",
    "crypto map": "crypto map (ipsec)",
    "crypto ipsec": "ipsec",
    "crypto isakmp": "ike",
    "crypto ikev2": "ike",
    "zone security": "zone-based firewall",
    "zone-pair security": "zone-based firewall",
    "policy-map type inspect": "zone-based firewall",
    "ip nat outside source": "nat of outside sources",
    "ip policy": "policy routing",
    "ip local policy": "policy routing",
    "ip as-path access-list": "as-path filter",
    "ip community-list": "community filter",
    "object-group": "object group",
    "ip access-list": "",
    "ip route": "",
}
"""Global commands that open a construct the model does not represent ("" -> read elsewhere,
listed so that their other forms are not mistaken for one of these)."""
INTERFACE_UNMODELLED: dict[str, str] = {
    "tunnel ": "tunnel",
    "crypto map ": "crypto map (ipsec)",
    "ip policy route-map ": "policy routing",
    "zone-member security ": "zone-based firewall",
    "ip ospf ": "ospf on an interface",
    "ip router isis": "is-is on an interface",
    "service-policy ": "qos / inspection policy",
    "ip inspect ": "stateful inspection (cbac)",
    "ip address negotiated": "address negotiated by ppp",
    "ip address dhcp": "address from dhcp",
    "ip unnumbered ": "unnumbered interface",
    "ipv6 address ": "ipv6",
    "ipv6 enable": "ipv6",
    "ipv6 unnumbered ": "ipv6",
    "ipv6 traffic-filter ": "ipv6 filter",
}
REDISTRIBUTED_SHOWN = frozenset({"connected", "static"})
"""What a `redistribute` may name and the model still follows: routes the config shows.
Anything else (SD-WAN `omp`, `nat-route`, another routing process) brings in routes no
config can show."""
TUNNEL_INTERFACES = ("Tunnel", "Virtual-Template", "Virtual-Access")
"""Interfaces whose traffic leaves encapsulated toward an endpoint the model cannot follow."""
_NAT_INTERFACE = {"interface", "egress-interface"}
"""The words of an inside-source NAT rule that name the interface it translates out of."""
_PORT_OPS = {"eq", "neq", "gt", "lt", "range"}
_STANDARD_NUMBERS = (range(1, 100), range(1300, 2000))


class _Parser:
    def __init__(self, text: str, host: str, file: str) -> None:
        self.text = text
        self.file = file
        self.config = DeviceConfig(host, "cisco_ios", file)
        self.nat_outside: set[str] = set()
        self.standard: set[str] = set()
        self.groups: dict[str, int] = {}
        self.group_policy: dict[tuple[str, str], str] = {}
        """A peer group's route-maps/prefix-lists by (group, in|out)."""
        self.members: list[tuple[BgpInstance, IPv4Address, str]] = []
        self.policies: dict[str, PolicyLines] = {}
        self.target_lines: list[TargetLine] = []

    def parse(self) -> DeviceConfig:
        interface: Interface | None = None
        acl: PacketFilter | None = None
        bgp: BgpInstance | None = None
        in_bgp = False
        vrf: str | None = None
        route_map: str | None = None
        for number, raw in enumerate(self.text.splitlines(), 1):
            line = raw.strip()
            if is_content(line):
                self.config.content_lines += 1
            if not line or line.startswith("!") or line == "end":
                continue
            where = Where(self.file, number, line)
            words = line.split()
            try:
                if not raw.startswith(" "):
                    interface, acl, bgp, in_bgp = None, None, None, False
                    vrf = _vrf_defined(words)
                    route_map = self._route_map(words, where)
                    if route_map is None:
                        interface, acl, bgp, in_bgp = self._top(line, words, where)
                elif interface is not None:
                    self._interface_line(interface, line, words, where)
                elif acl is not None:
                    self._acl_entry(acl, words, where)
                elif route_map is not None:
                    self._route_map_line(route_map, words, where)
                elif vrf is not None and (
                    words[0] == "route-target"
                    or words[:2] in (["import", "map"], ["export", "map"])
                ):
                    self._vrf_line(vrf, words, where)
                elif in_bgp:
                    if words[0] == "address-family":
                        bgp = self._family(words, where)
                    elif words[0] == "exit-address-family":
                        bgp = self.config.bgp_instance(GLOBAL)
                    elif bgp is not None:
                        self._bgp_line(bgp, words, where)
            except Exception as error:  # noqa: BLE001 - any failure of one line is that line's
                self.config.not_understood(where, line_error_reason(error))
        self._finish_nat()
        self._finish_groups()
        self.config.settle_leaks(
            self.policies, self.target_lines, "route-map", "route target / vrf import-export map"
        )
        return self.config

    def _top(
        self, line: str, words: list[str], where: Where
    ) -> tuple[Interface | None, PacketFilter | None, BgpInstance | None, bool]:
        """A top-level line: the interface, ACL or BGP process it opens (what the indented
        lines after it belong to), or a global command."""
        if words[0] == "interface":
            interface = self.config.interface(words[1])
            interface.where = where
            if words[1].startswith(TUNNEL_INTERFACES):
                self.config.not_modelled(where, "tunnel interface")
            return interface, None, None, False
        if line.startswith("router bgp "):
            self.config.asn = asplain(words[2])
            return None, None, self.config.bgp_instance(GLOBAL), True
        if line.startswith("ip access-list "):
            return None, self._acl_header(words), None, False
        self._global(line, words, where)
        return None, None, None, False

    # ------------------------------------------------------------------ route leaking
    def _route_map(self, words: list[str], where: Where) -> str | None:
        """`route-map NAME permit SEQ`: the one entry of a route-map the model represents
        (None for any other line; a second entry or a deny one stays unmodelled)."""
        if words[0] != "route-map" or len(words) != 4 or words[2] != "permit":
            return None
        name = words[1]
        if name in self.config.route_policies:  # a second entry: `_global` reports it
            self.config.route_policies[name] = RoutePolicy(name, "", where)  # read as deny
            return None
        self.policies.setdefault(name, PolicyLines()).nodes.append(where)
        self.config.route_policies[name] = RoutePolicy(name, None, where)
        return name

    def _route_map_line(self, name: str, words: list[str], where: Where) -> None:
        """`match ip address prefix-list X`; any other clause is unmodelled."""
        policy = self.config.route_policies[name]
        matches = words[:4] == ["match", "ip", "address", "prefix-list"] and len(words) == 5
        if matches and policy.prefix_list is None:
            self.config.route_policies[name] = RoutePolicy(name, words[4], policy.where)
            return
        self.policies[name].clauses.append(where)

    def _vrf_line(self, vrf: str, words: list[str], where: Where) -> None:
        """`route-target import|export|both RT`, `import map RM`, `export map RM`."""
        targets = self.config.targets(vrf)
        if words[0] == "route-target" and len(words) == 3:
            if words[1] in {"export", "both"}:
                targets.exports.add(words[2])
                self.target_lines.append(TargetLine(where, vrf, "export", (words[2],)))
            if words[1] in {"import", "both"}:
                targets.imports.add(words[2])
                self.target_lines.append(TargetLine(where, vrf, "import", (words[2],)))
            if words[1] in {"export", "import", "both"}:
                return
        elif words[1:2] == ["map"] and len(words) == 3:
            if words[0] == "import":
                targets.import_policy = words[2]
            else:
                targets.export_policy = words[2]
            return
        self.config.not_modelled(where, "route target / vrf import-export map")

    # ------------------------------------------------------------------ global lines
    def _global(self, line: str, words: list[str], where: Where) -> None:
        config = self.config
        if words[0] == "hostname" and len(words) > 1:
            config.hostname = words[1]
        elif words[:2] == ["vrf", "definition"] or (words[:2] == ["ip", "vrf"] and len(words) == 3):
            config.defined_vrfs.append(words[2])
        elif words[0] == "access-list" and len(words) > 3:
            name = words[1]
            if name.isdigit() and any(int(name) in r for r in _STANDARD_NUMBERS):
                self.standard.add(name)
            numbered = config.filters.setdefault(name, PacketFilter(name))
            self._acl_entry(numbered, words[2:], where)
        elif line.startswith("ip route "):
            self._static(words, where)
        elif line.startswith("ip nat inside source "):
            self._nat(words, where)
        elif line.startswith("ip nat pool "):
            pass  # a pool's addresses: what it translates to, nothing to route
        elif cisco_prefix_list(config, line):
            pass
        else:
            for start, construct in SYSTEM_UNMODELLED.items():
                if construct and (line == start or line.startswith(start + " ")):
                    config.not_modelled(where, construct)
                    return
            unknown_top_level(config, line, where)

    def _acl_header(self, words: list[str]) -> PacketFilter | None:
        """`ip access-list extended|standard NAME` (IPv6 and other kinds: not read)."""
        if words[2] not in {"extended", "standard"}:
            return None
        if words[2] == "standard":
            self.standard.add(words[3])
        return self.config.filters.setdefault(words[3], PacketFilter(words[3]))

    def _interface_line(
        self, interface: Interface, line: str, words: list[str], where: Where
    ) -> None:
        if words[:2] == ["vrf", "forwarding"] or words[:3] == ["ip", "vrf", "forwarding"]:
            interface.vrf = words[-1]
        elif line.startswith("ip address ") and len(words) >= 4:
            address = IPv4Interface(f"{words[2]}/{mask_prefixlen(words[3])}")
            if words[-1] == "secondary":
                interface.add_secondary(address)
            else:
                interface.set_primary(address)
        elif line == "shutdown":
            interface.shutdown = True
        elif line == "no shutdown":
            interface.shutdown = False
        elif line.startswith("ip access-group ") and words[-1] in {"in", "out"}:
            if words[-1] == "in":
                interface.inbound_filter = words[2]
            else:
                interface.outbound_filter = words[2]
        elif line == "ip nat outside":
            self.nat_outside.add(interface.name)
        else:
            for start, construct in INTERFACE_UNMODELLED.items():
                if line.startswith(start):
                    self.config.not_modelled(where, construct)
                    return

    def _static(self, words: list[str], where: Where) -> None:
        """`ip route [vrf V] P MASK [IFACE] [NH] [DISTANCE] [tag T] [name N] [permanent]
        [track N] [global]`."""
        words = words[2:]
        vrf = GLOBAL
        if words[0] == "vrf":
            vrf, words = words[1], words[2:]
        prefix = IPv4Network(f"{words[0]}/{mask_prefixlen(words[1])}", strict=False)
        next_hop: IPv4Address | None = None
        interface: str | None = None
        preference: int | None = None
        target: str | None = None
        rest = words[2:]
        at = 0
        while at < len(rest):
            word = rest[at]
            if word in {"tag", "name", "track", "multicast"}:
                at += 2 if word != "multicast" else 1
                continue
            if word == "global":
                target = GLOBAL
            elif word.isdigit():
                preference = int(word)
            elif word[0].isdigit():
                next_hop = IPv4Address(word)  # ValueError on a placeholder: unparsed
            elif word not in {"permanent", "dhcp"} and interface is None:
                interface = word
            at += 1
        if next_hop is None and interface is None:
            raise ValueError("a static route with neither next hop nor interface")
        self.config.statics.append(
            StaticRoute(vrf, prefix, next_hop, where, interface, preference, target)
        )

    def _nat(self, words: list[str], where: Where) -> None:
        """`ip nat inside source list|route-map X (interface Y | pool P) [vrf V] [overload]`
        and `ip nat inside source static ...`."""
        rest = words[4:]
        if rest[0] == "static":
            # `static [tcp|udp] LOCAL [PORT] (GLOBAL | interface IF) [PORT] ...`
            interface = rest[rest.index("interface") + 1] if "interface" in rest[:-1] else None
            self.config.nat.append(NatRule("static", interface, None, None, where))
            return
        if rest[0] not in {"list", "route-map"}:
            raise ValueError(f"ip nat inside source {rest[0]!r}")
        acl = rest[1]
        interface = next(
            (rest[at + 1] for at, word in enumerate(rest[:-1]) if word in _NAT_INTERFACE),
            None,
        )
        pool = rest[rest.index("pool") + 1] if "pool" in rest else None
        vrf = rest[rest.index("vrf") + 1] if "vrf" in rest else None
        self.config.nat.append(NatRule("inside_source", interface, acl, pool, where, vrf))
        if vrf is not None and interface is None:
            # the model marks every `ip nat outside` interface as translating, for all traffic;
            # a pool rule of one VRF translates that VRF's traffic only
            self.config.not_modelled(where, "nat of one vrf's traffic through a pool")
        if rest[0] == "route-map":
            self.config.not_modelled(where, "route-map selecting NAT")

    def _finish_nat(self) -> None:
        """An inside-source rule translates out of the `ip nat outside` interfaces: the one
        it names, or every one for a pool. Alone it does nothing without `ip nat outside`."""
        for rule in self.config.nat:
            if rule.kind != "inside_source":
                continue
            names = [rule.interface] if rule.interface else sorted(self.nat_outside)
            for name in names:
                if name in self.nat_outside:
                    self.config.interface(name).nat = True

    def _finish_groups(self) -> None:
        """A peer group's remote-as and policies reach its members wherever in the config
        the group's lines stand (IOS applies them to every member, before or after)."""
        for bgp, address, group in self.members:
            neighbor = bgp.neighbor(address)
            neighbor.remote_as = neighbor.remote_as or self.groups.get(group)
            neighbor.import_list = neighbor.import_list or self.group_policy.get((group, "in"))
            neighbor.export_list = neighbor.export_list or self.group_policy.get((group, "out"))

    # ------------------------------------------------------------------ BGP
    def _family(self, words: list[str], where: Where) -> BgpInstance | None:
        """`address-family ipv4 [unicast] [vrf V]`; other families are not IPv4 unicast."""
        if words[1] != "ipv4" or (len(words) > 2 and words[2] not in {"unicast", "vrf"}):
            if words[1] not in {"ipv6", "vpnv6"}:
                self.config.not_modelled(where, " ".join(words))
            return None
        vrf = words[words.index("vrf") + 1] if "vrf" in words else GLOBAL
        return self.config.bgp_instance(vrf)

    def _bgp_line(self, bgp: BgpInstance, words: list[str], where: Where) -> None:
        head = words[0]
        if head == "network" and ":" not in words[1]:
            mask = words[3] if len(words) > 3 and words[2] == "mask" else None
            length = mask_prefixlen(mask) if mask else _classful(words[1])
            bgp.networks.append((IPv4Network(f"{words[1]}/{length}"), where))
            if "route-map" in words:
                self.config.not_modelled(where, "route-map on a network")
        elif head == "aggregate-address":
            prefix = IPv4Network(f"{words[1]}/{mask_prefixlen(words[2])}", strict=False)
            bgp.aggregates.append((prefix, "summary-only" in words, where))
        elif head == "redistribute":
            if words[1] not in REDISTRIBUTED_SHOWN:
                self.config.not_modelled(where, f"redistribution of {words[1]} routes")
                return
            bgp.redistribute.append((words[1], where))
            if "route-map" in words:
                self.config.not_modelled(where, "route-map on redistribute")
        elif head == "default-information" and "originate" in words:
            self.config.not_modelled(where, "default route originated")
        elif head == "neighbor" and len(words) >= 4:
            self._neighbor(bgp, words, where)

    def _neighbor(self, bgp: BgpInstance, words: list[str], where: Where) -> None:
        if ":" in words[1]:
            return  # an IPv6 neighbour
        try:
            address = IPv4Address(words[1])
        except ValueError:
            if words[2] == "remote-as":
                self.groups[words[1]] = asplain(words[3])
            elif words[2] in {"route-map", "prefix-list"} and len(words) >= 5:
                self.group_policy[(words[1], words[4])] = words[3]
                if words[2] == "route-map":
                    self.config.not_modelled(where, "route-map on a peer group")
            elif words[2] in {"distribute-list", "filter-list"}:
                self.config.not_modelled(where, "policy on a peer group")
            return
        kind = words[2]
        if kind == "remote-as":
            bgp.neighbor(address).remote_as = asplain(words[3])
        elif kind == "peer-group":
            neighbor = bgp.neighbor(address)
            neighbor.remote_as = neighbor.remote_as or self.groups.get(words[3])
            self.members.append((bgp, address, words[3]))
        elif kind in {"prefix-list", "route-map"} and len(words) >= 5:
            neighbor = bgp.neighbor(address)
            if words[4] == "in":
                neighbor.import_list = words[3]
            else:
                neighbor.export_list = words[3]
            if kind == "route-map":
                self.config.not_modelled(where, "route-map on a neighbor")
        elif kind in {"distribute-list", "filter-list"}:
            self.config.not_modelled(where, f"{kind} on a neighbor")

    # ------------------------------------------------------------------ ACLs
    def _acl_entry(self, acl: PacketFilter, words: list[str], where: Where) -> None:
        order = (len(acl.rules) + 1) * 10
        if words[0].isdigit():
            order, words = int(words[0]), words[1:]
        if words[0] in {"remark", "description"} or words[0] not in {"permit", "deny"}:
            if words[0] not in {"remark", "description", "statistics"}:
                raise ValueError(f"ACL entry {words[0]!r}")
            return
        if "object-group" in words or "addrgroup" in words or "portgroup" in words:
            self.config.not_modelled(where, "object group in an ACL")
            return
        if acl.name in self.standard:
            source, _ = _address(words, 1)
            acl.rules.append(
                FilterRule(words[0] == "permit", where=where, source=source, order=order)
            )
            return
        acl.rules.append(_extended(words, where, order))


def parse_ios(text: str, host: str, file: str) -> DeviceConfig:
    """Parse a Cisco IOS configuration."""
    return _Parser(text, host, file).parse()


def _classful(address: str) -> int:
    """The prefix length IOS gives a `network` without `mask`: the address's class."""
    first = int(address.split(".", maxsplit=1)[0])
    return 8 if first < 128 else 16 if first < 192 else 24


def _address(words: list[str], at: int) -> tuple[AddressMatch, int]:
    """An ACL address at `words[at]`: `any`, `host A`, `A WILDCARD` (or `A` alone in a
    standard ACL: a host); and the next index."""
    if words[at] == "any":
        return ANY_ADDRESS, at + 1
    if words[at] == "host":
        return AddressMatch.parse(words[at + 1], "0"), at + 2
    if at + 1 < len(words) and words[at + 1][0].isdigit() and "." in words[at + 1]:
        return AddressMatch.parse(words[at], words[at + 1]), at + 2
    return AddressMatch.parse(words[at], "0"), at + 1


def _port(words: list[str], at: int) -> tuple[PortMatch | None, int]:
    if at < len(words) and words[at] in _PORT_OPS:
        match = PortMatch.parse(words[at:])
        return match, at + match.width()
    return None, at


def _extended(words: list[str], where: Where, order: int) -> FilterRule:
    """`permit|deny PROTO SRC [PORT] DST [PORT] [established] [log] ...`."""
    protocol = protocol_name(words[1])
    source, at = _address(words, 2)
    source_port, at = _port(words, at)
    destination, at = _address(words, at)
    destination_port, at = _port(words, at)
    return FilterRule(
        permit=words[0] == "permit",
        destination=destination,
        protocol=protocol,
        destination_port=destination_port,
        established="established" in words[at:],
        where=where,
        source=source,
        source_port=source_port,
        order=order,
        qualifiers=_qualifiers(words[at:]),
    )


_NOT_NARROWING = frozenset({"established", "log", "log-input"})
"""Trailing words of an ACL entry that do not narrow what it matches (`established` is
modelled); `reflect NAME` adds state, not a condition."""


def _qualifiers(words: list[str]) -> tuple[str, ...]:
    """The trailing conditions of an extended entry the model does not evaluate
    (`time-range T`, `dscp N`, `fragments`, an ICMP type, ...), as written.

    >>> _qualifiers(["log", "time-range", "WORK"]), _qualifiers(["established", "log"])
    (('time-range WORK',), ())
    """
    found: list[str] = []
    at = 0
    while at < len(words):
        word = words[at]
        if word == "reflect" or (
            word in {"log", "log-input"} and at + 1 < len(words) and words[at + 1].startswith("(")
        ):
            at += 2
        elif word in _NOT_NARROWING:
            at += 1
        elif word in {"time-range", "dscp", "precedence", "tos", "ttl", "option"}:
            found.append(" ".join(words[at : at + 2]))
            at += 2
        else:
            found.append(word)
            at += 1
    return tuple(found)


def _vrf_defined(words: list[str]) -> str | None:
    """The VRF a `vrf definition X` / `ip vrf X` line opens; None for any other line.

    >>> _vrf_defined(["vrf", "definition", "services"]), _vrf_defined(["ip", "vrf", "x", "y"])
    ('services', None)
    """
    opens = words[:2] in (["vrf", "definition"], ["ip", "vrf"]) and len(words) == 3
    return words[2] if opens else None
