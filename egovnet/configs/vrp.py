"""Huawei VRP and H3C Comware configurations into the vendor-neutral model.

The two share their shape (`#`-separated views, `ip vpn-instance`, `ip route-static`,
`peer ... as-number`, `import-route`, numbered ACL rules with `source`/`destination`
keywords) and differ in a handful of keywords, kept as data in `Dialect`.

Views are found by indentation relative to the line that opened them, not by column 0:
Comware's `display current-configuration` prints global commands one space in (` ip
route-static ...` between two `#`), and nests `#` inside `bgp`. A line that cannot be read is
recorded on the config (`not_understood`) and the rest still parses; a construct that can
change reachability but is not modelled (route policies, tunnels, IPsec, dynamic routing
processes, policy-based routing, USG security zones and policies) is recorded as unmodelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

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
    PrefixRule,
    RoutePolicy,
    StaticRoute,
    TargetLine,
    Where,
    asplain,
    ipv4_address,
    ipv4_interface,
    ipv4_network,
    is_content,
    line_error_reason,
    mask_prefixlen,
    protocol_name,
)
from egovnet.configs.usg import SecurityPolicies
from egovnet.model import GLOBAL

_INTERFACE_FILTER = re.compile(
    r"^(?:traffic-filter (?P<vdir>inbound|outbound) acl (?:name )?(?P<vacl>\S+)"
    r"|(?:firewall )?packet-filter (?:name )?(?P<cacl>\d+|\S+) (?P<cdir>inbound|outbound))$"
)
"""Both dialects' interface filters (VRP `traffic-filter`, Comware `packet-filter` and
Comware 5 `firewall packet-filter`): read in either, so a misdetected file keeps them."""


@dataclass(frozen=True)
class Dialect:
    platform: str
    prefix_list: str
    """`ip ip-prefix` (VRP) or `ip prefix-list` (Comware)."""
    interface_filter: re.Pattern[str]
    """An interface's packet filter; groups vacl/cacl: the ACL, vdir/cdir: the direction."""
    acl_header: re.Pattern[str]
    rule_vpn_default: str | None
    """What an ACL rule without `vpn-instance` matches: None, packets of every instance
    (VRP: "if not specified, the rule applies to all packets"); `GLOBAL`, non-VPN packets
    only (Comware: "the rule applies to only non-VPN packets")."""


VRP = Dialect(
    "huawei_vrp",
    "ip ip-prefix",
    _INTERFACE_FILTER,
    re.compile(r"^acl (?:number |name )?(\S+)"),
    None,
)
COMWARE = Dialect(
    "h3c_comware",
    "ip prefix-list",
    _INTERFACE_FILTER,
    re.compile(r"^acl (?:advanced |basic |number )?(?:name )?(\S+)"),
    GLOBAL,
)
_PREFIX = re.compile(
    r"^ip (?:ip-prefix|prefix-list) (\S+) index (\d+) (permit|deny) (\S+) (\d+)"
    r"(?: greater-equal (\d+))?(?: less-equal (\d+))?"
)
SYSTEM_VIEWS: dict[str, str] = {
    "route-policy": "route-policy",
    "ospf": "ospf process",
    "ospfv3": "ospfv3 process",
    "isis": "is-is process",
    "rip": "rip process",
    "ripng": "ripng process",
    "policy-based-route": "policy-based routing",
    "ipsec": "ipsec",
    "ike": "ike",
    "firewall": "firewall (interzone, defaults, zones without security policies)",
    "policy interzone": "interzone policy",
    "packet-filter default": "packet-filter default action",
    "traffic-policy": "traffic policy (MQC)",
    "traffic": "traffic classifier/behavior (MQC)",
    "qos": "qos policy",
    "l2tp-group": "l2tp",
    "mpls": "mpls",
    "vxlan": "vxlan",
    "evpn": "evpn",
    "bridge-domain": "bridge domain",
    "vsi": "vpls vsi",
    "nqa": "nqa",
    "ip as-path-filter": "as-path filter",
    "ip community-filter": "community filter",
    "ip extcommunity-filter": "extcommunity filter",
    "ip policy-based-route": "policy-based routing",
    "ip ip-prefix": "",
    "ip prefix-list": "",
}
"""First words of system-view commands that open a construct the model does not represent
(-> its name in the unmodelled list); "" for the prefix-list forms _PREFIX did not read."""
INTERFACE_UNMODELLED: dict[str, str] = {
    "tunnel-protocol": "tunnel",
    "ipsec": "ipsec on an interface",
    "ospf": "ospf on an interface",
    "isis": "is-is on an interface",
    "rip": "rip on an interface",
    "ip policy-based-route": "policy-based routing",
    "traffic-policy": "traffic policy (MQC)",
    "traffic-redirect": "traffic redirect",
    "qos": "qos policy",
    "bas": "broadband access (bas)",
    "nat server": "",
    "nat static": "",
    "ip binding vpn-instance": "",
}
"""Interface commands that change reachability but are not modelled ("" -> read elsewhere)."""
_NAT_ACL = re.compile(r"^nat outbound (\d+|\S+)(?: address-group (\S+))?")


_UNMODELLED_STARTS = tuple(start for start, construct in INTERFACE_UNMODELLED.items() if construct)


def _unicast_family(words: list[str]) -> bool:
    """`ipv4-family [unicast]` / `address-family ipv4 [unicast]`: the IPv4 unicast family.

    >>> _unicast_family(["ipv4-family"]), _unicast_family(["ipv4-family", "mvpn"])
    (True, False)
    """
    if words[0] == "ipv4-family":
        return words[1:] in ([], ["unicast"])
    return words[0] == "address-family" and words[1:] in (["ipv4"], ["ipv4", "unicast"])


def _prefix(address: str, mask: str) -> IPv4Network:
    length = int(mask) if mask.isdigit() else mask_prefixlen(mask)
    return ipv4_network(address, length)


@dataclass
class _View:
    """The view a line belongs to: what opened it and at which indentation."""

    kind: str | None = None
    indent: int = -1
    interface: Interface | None = None
    acl: PacketFilter | None = None
    bgp_vrf: str | None = GLOBAL
    """The BGP instance lines go to; None inside a family the model does not represent."""
    bgp_indent: int = 0
    name: str | None = None
    """The virtual system a `vsys name` view defines; the VPN instance or route policy
    an `ip vpn-instance` / `route-policy` view defines."""
    nat_rule: str | None = None
    nat_pool: str | None = None
    nat_where: Where | None = None
    nat_out: list[str] | None = None
    """A nat-policy rule's destination zones / egress interfaces (where it translates)."""


class _Parser:
    def __init__(self, text: str, host: str, file: str, dialect: Dialect) -> None:
        self.text = text
        self.file = file
        self.dialect = dialect
        self.config = DeviceConfig(host, dialect.platform, file, static_preference=60)
        self.vsys: str | None = None
        """The virtual system (USG `switch vsys NAME`) whose configuration follows."""
        self.groups: dict[str, int] = {}
        """BGP peer group -> its AS number."""
        self.security = SecurityPolicies()
        self.nat_out: list[str] = []
        """Zones and interfaces that some nat-policy rule translates source addresses out of."""
        self.policies: dict[str, PolicyLines] = {}
        self.target_lines: list[TargetLine] = []

    def parse(self) -> DeviceConfig:
        view = _View()
        for number, raw in enumerate(self.text.splitlines(), 1):
            line = raw.strip()
            if is_content(line):
                self.config.content_lines += 1
            if not line or line == "return":
                continue
            indent = len(raw) - len(raw.lstrip(" "))
            where = Where(self.file, number, line)
            if line.startswith("#"):
                if indent <= max(view.indent, 0):
                    view = self._close(view)
                continue
            try:
                if view.kind is None or indent <= view.indent:
                    view = self._close(view)
                    view = self._top(line, indent, where)
                else:
                    self._body(view, line, indent, where)
            except Exception as error:  # noqa: BLE001 - any failure of one line is that line's
                self.config.not_understood(where, line_error_reason(error))
        self._close(view)
        self.config.settle_leaks(
            self.policies,
            self.target_lines,
            "route-policy",
            "vpn-target (routes between instances by route target)",
        )
        self.security.finish(self.config)
        for name in self.nat_out:  # a source-nat rule NATs what leaves by that zone / port
            for interface in self.security.zones.get(name, [name]):
                if interface in self.config.interfaces:
                    self.config.interfaces[interface].nat = True
        return self.config

    @property
    def instance(self) -> str:
        """The routing instance of the root system or of the virtual system being read."""
        return f"vsys:{self.vsys}" if self.vsys else GLOBAL

    def _close(self, view: _View) -> _View:
        self._flush_nat(view)
        return _View()

    def _flush_nat(self, view: _View) -> None:
        """A USG nat-policy rule is one NAT entry once its `action` said it translates."""
        if view.kind == "nat-policy" and view.nat_where is not None:
            self.config.nat.append(
                NatRule("policy", None, view.nat_rule, view.nat_pool, view.nat_where)
            )
            self.nat_out.extend(view.nat_out or ())
        view.nat_rule = view.nat_pool = None
        view.nat_where = None
        view.nat_out = None

    # ------------------------------------------------------------------ system view
    def _top(self, line: str, indent: int, where: Where) -> _View:
        config, words = self.config, line.split()
        view = _View(indent=indent)
        head = words[0]
        if head == "sysname" and len(words) > 1:
            if self.vsys is None:
                config.hostname = line.split(None, 1)[1]
            view.kind = "line"
        elif head == "switch" and words[1:2] == ["vsys"]:
            self.vsys = words[2]
            view.kind = "line"
        elif head == "interface":
            view.kind = "interface"
            view.interface = config.interface(words[1])
            view.interface.where = where
            if self.vsys:
                view.interface.vrf = self.instance
        elif head == "bgp":
            view.kind = "bgp"
            config.asn = asplain(words[1])
            view.bgp_vrf = self.instance
        elif head == "acl":
            self._acl_view(view, line, words)
            if "match-order" in words and "auto" in words:
                config.not_modelled(where, "acl match-order auto (depth-first rule order)")
        elif line.startswith("ip route-static "):
            self._static(words, where)
            view.kind = "line"
        elif self._prefix_rule(line):
            view.kind = "line"
        elif self._route_policy(view, words, where) or self._firewall_view(
            view, line, words, where
        ):
            pass
        elif head == "nat" and words[1:2] in (["server"], ["static"]):
            config.nat.append(NatRule(words[1], None, _acl_of(words), None, where))
            view.kind = "line"
        elif head == "nat" and words[1:2] == ["instance"]:
            config.not_modelled(where, "cgn nat instance")
            view.kind = "nat-instance"  # its `nat outbound` lines translate as it says
        elif head == "nat":
            view.kind = "nat"  # address-group definitions (pools): read, nothing to route
        else:
            construct = _construct(line)
            if construct:
                config.not_modelled(where, construct)
                view.kind = "unmodelled"
            else:
                unknown_top_level(config, line, where)
                view.kind = "other"
        return view

    def _firewall_view(self, view: _View, line: str, words: list[str], where: Where) -> bool:
        """USG views: `vsys name`, `nat-policy`, `firewall zone`, `security-policy`."""
        if words[0] == "vsys" and words[1:2] == ["name"]:
            view.kind = "vsys"
            view.name = words[2]
        elif line == "nat-policy":
            view.kind = "nat-policy"
        elif words[:2] == ["firewall", "zone"] and len(words) > 2:
            view.kind = "zone"
            view.name = self.security.zone(words, where)
        elif line == "security-policy":
            view.kind = "security-policy"
        else:
            return False
        return True

    def _acl_view(self, view: _View, line: str, words: list[str]) -> None:
        """`acl [number|name|advanced|basic] X`: the ACL whose rules follow (IPv6 ones are
        read past: the model is IPv4)."""
        if "ipv6" in words:
            view.kind = "ipv6"
            return
        match = self.dialect.acl_header.match(line)
        if match is None:
            raise ValueError("an acl line of no known form")
        view.kind = "acl"
        view.acl = self.config.filters.setdefault(
            match.group(1), PacketFilter(match.group(1), default_permit=True)
        )

    def _prefix_rule(self, line: str) -> bool:
        """An `ip ip-prefix` / `ip prefix-list` entry; False when `line` is none."""
        match = _PREFIX.match(line)
        if match is None:
            return False
        config = self.config
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
        return True

    # ------------------------------------------------------------------ inside a view
    def _body(self, view: _View, line: str, indent: int, where: Where) -> None:
        config, words = self.config, line.split()
        if line.startswith("ip route-static "):
            self._static(words, where)  # Comware prints global lines indented
        elif view.kind == "interface" and view.interface is not None:
            self._interface_line(view.interface, line, words, where)
        elif view.kind == "acl" and view.acl is not None and words[0] == "rule":
            rule = _acl_rule(words, where, len(view.acl.rules), self.dialect.rule_vpn_default)
            if rule is not None:
                view.acl.rules.append(rule)
        elif view.kind == "bgp":
            self._bgp(view, line, words, indent, where)
        elif view.kind == "nat-instance" and words[:2] == ["nat", "outbound"]:
            config.not_modelled(where, "nat outbound of a cgn nat instance")
        elif view.kind == "vsys" and words[0] == "assign" and words[1:2] == ["interface"]:
            config.interface(words[2]).vrf = f"vsys:{view.name}"
        elif view.kind == "zone" and view.name is not None:
            self.security.zone_line(view.name, words)
        elif view.kind == "security-policy":
            self.security.policy_line(words, where)
        elif view.kind == "nat-policy":
            self._nat_policy(view, words, where)
        elif view.kind == "vpn-instance" and view.name is not None:
            self._vpn_instance_line(view.name, words, where)
        elif view.kind == "route-policy" and view.name is not None:
            self._route_policy_line(view.name, words, where)

    def _route_policy(self, view: _View, words: list[str], where: Where) -> bool:
        """`ip vpn-instance X`, and `route-policy NAME permit node N`: the one node of a
        policy the model represents (a second node, or a deny node, is unmodelled as
        before); False when the line opens neither."""
        if words[:2] == ["ip", "vpn-instance"] and len(words) == 3:
            view.kind = "vpn-instance"
            view.name = words[2]
            self.config.defined_vrfs.append(words[2])
            return True
        if words[0] != "route-policy" or len(words) != 5 or words[2:4] != ["permit", "node"]:
            return False
        name = words[1]
        lines = self.policies.setdefault(name, PolicyLines())
        lines.nodes.append(where)
        if name in self.config.route_policies:  # a second node: read as deny-all
            self.config.route_policies[name] = RoutePolicy(name, "", where)
            view.kind = "unmodelled"
            return True
        self.config.route_policies[name] = RoutePolicy(name, None, where)
        view.kind = "route-policy"
        view.name = name
        return True

    def _route_policy_line(self, name: str, words: list[str], where: Where) -> None:
        """`if-match ip-prefix X` (VRP) / `if-match ip address prefix-list X` (Comware);
        any other clause changes what the policy does in ways the model does not hold."""
        policy = self.config.route_policies[name]
        if words[:2] == ["if-match", "ip-prefix"] and len(words) == 3:
            listed = words[2]
        elif words[:4] == ["if-match", "ip", "address", "prefix-list"] and len(words) == 5:
            listed = words[4]
        else:
            self.policies[name].clauses.append(where)
            return
        if policy.prefix_list is not None:
            self.policies[name].clauses.append(where)  # two matches: both must hold
            return
        self.config.route_policies[name] = RoutePolicy(name, listed, policy.where)

    def _vpn_instance_line(self, vrf: str, words: list[str], where: Where) -> None:
        """`vpn-target RT... export-extcommunity|import-extcommunity|both` and `import|export
        route-policy P` of a VPN instance (inside its `ipv4-family` / `address-family ipv4`)."""
        targets = self.config.targets(vrf)
        if words[0] == "vpn-target" and len(words) >= 2:
            last = words[-1]
            kind = last if last in {"export-extcommunity", "import-extcommunity", "both"} else ""
            values = words[1:-1] if kind else words[1:]
            kind = kind or "both"  # no keyword: both directions
            if kind in {"export-extcommunity", "both"}:
                targets.exports.update(values)
                self.target_lines.append(TargetLine(where, vrf, "export", tuple(values)))
            if kind in {"import-extcommunity", "both"}:
                targets.imports.update(values)
                self.target_lines.append(TargetLine(where, vrf, "import", tuple(values)))
        elif (
            words[0] in {"import", "export"} and words[1:2] == ["route-policy"] and len(words) == 3
        ):
            if words[0] == "import":
                targets.import_policy = words[2]
            else:
                targets.export_policy = words[2]
        elif words[0] in {"import", "export"}:
            self.config.not_modelled(where, "route-policy on a vpn-instance")

    def _interface_line(
        self, interface: Interface, line: str, words: list[str], where: Where
    ) -> None:
        config = self.config
        if line.startswith("ip binding vpn-instance "):
            if self.vsys is None:  # inside a virtual system, its own instance
                interface.vrf = words[3]
        elif line.startswith("ip address ") and len(words) >= 4 and words[2] != "dhcp-alloc":
            length = int(words[3]) if words[3].isdigit() else mask_prefixlen(words[3])
            address = ipv4_interface(words[2], length)
            if words[-1] == "sub":
                interface.add_secondary(address)
            else:
                interface.set_primary(address)
        elif line == "shutdown":
            interface.shutdown = True
        elif line == "undo shutdown":
            interface.shutdown = False
        elif line.startswith("nat outbound"):
            match = _NAT_ACL.match(line)
            acl = match.group(1) if match else None
            pool = match.group(2) if match else None
            interface.nat = True
            config.nat.append(NatRule("outbound", interface.name, acl, pool, where))
        elif words[0] == "nat" and words[1:2] in (["server"], ["static"]):
            config.nat.append(NatRule(words[1], interface.name, _acl_of(words), None, where))
        elif match := self.dialect.interface_filter.match(line):
            name = match.group("vacl") or match.group("cacl")
            direction = match.group("vdir") or match.group("cdir")
            if direction == "inbound":
                interface.inbound_filter = name
            else:
                interface.outbound_filter = name
        elif words[0] == "tunnel-protocol" or interface.name[:6].lower() == "tunnel":
            if words[0] in {"tunnel-protocol", "destination", "source"}:
                config.not_modelled(where, "tunnel")
        elif line.startswith(_UNMODELLED_STARTS):  # one test for the usual line, not many
            for start, construct in INTERFACE_UNMODELLED.items():
                if construct and line.startswith(start):
                    config.not_modelled(where, construct)
                    return

    def _static(self, words: list[str], where: Where) -> None:
        """`ip route-static [vpn-instance A] P MASK [IFACE] [NH | vpn-instance B NH | NH
        public] [preference N] [tag T] [description ...] ...`."""
        words = words[2:]
        vrf = self.instance
        if words[0] == "vpn-instance":
            vrf, words = words[1], words[2:]
        prefix = _prefix(words[0], words[1])
        rest = words[2:]
        if "description" in rest:
            rest = rest[: rest.index("description")]
        next_hop: IPv4Address | None = None
        interface: str | None = None
        preference: int | None = None
        target: str | None = None
        at = 0
        while at < len(rest):
            word = rest[at]
            if word == "vpn-instance":
                target = rest[at + 1]
                at += 2
                continue
            if word == "public":
                target = GLOBAL
            elif word == "preference":
                preference = int(rest[at + 1])
                at += 1
            elif word in {"tag", "track", "bfd", "name", "weight", "cost"}:
                at += 1
                if word == "track" and at < len(rest) and rest[at] in {"bfd-session", "nqa"}:
                    at += 1 + (rest[at] == "nqa")
            elif next_hop is None and _looks_like_address(word):
                next_hop = ipv4_address(word)  # ValueError on `100.x.x.80`: unparsed
            elif (
                next_hop is None
                and interface is None
                and word[0].isalpha()
                and word not in {"permanent", "inherit-cost", "no-advertise", "no-install"}
            ):
                interface = word
            at += 1
        if next_hop is None and interface is None:
            raise ValueError("a static route with neither next hop nor interface")
        self.config.statics.append(
            StaticRoute(vrf, prefix, next_hop, where, interface, preference, target)
        )

    def _bgp(self, view: _View, line: str, words: list[str], indent: int, where: Where) -> None:
        if view.bgp_indent == 0:
            view.bgp_indent = indent
        if indent == view.bgp_indent:
            if line.startswith(("ipv4-family vpn-instance ", "ip vpn-instance ")):
                view.bgp_vrf = words[-1]
                return
            if _unicast_family(words) or words[0] == "peer":
                view.bgp_vrf = self.instance
            elif words[0].endswith("-family") or words[0] == "address-family":
                # vpnv4, l2vpn/evpn, mvpn, flow, multicast, labelled unicast...: not IPv4
                # unicast of one instance; IPv6 ones are outside the (IPv4) model
                view.bgp_vrf = None
                if "ipv6" not in line:
                    self.config.not_modelled(where, line)
                return
        if view.bgp_vrf is None:
            return
        self._bgp_line(self.config.bgp_instance(view.bgp_vrf), words, where)

    def _bgp_line(self, bgp: BgpInstance, words: list[str], where: Where) -> None:
        head = words[0]
        if head == "network":
            mask = words[2] if len(words) > 2 and words[2][0].isdigit() else "32"
            bgp.networks.append((_prefix(words[1], mask), where))
        elif head == "aggregate":
            bgp.aggregates.append(
                (_prefix(words[1], words[2]), "detail-suppressed" in words, where)
            )
        elif head == "import-route":
            source = {"direct": "connected"}.get(words[1], words[1])
            bgp.redistribute.append((source, where))
            if "route-policy" in words:
                self.config.not_modelled(where, "route-policy on import-route")
        elif head == "peer" and len(words) >= 3:
            self._peer(bgp, words, where)

    def _peer(self, bgp: BgpInstance, words: list[str], where: Where) -> None:
        try:
            address = IPv4Address(words[1])
        except ValueError:
            if words[2] == "as-number" and len(words) > 3:
                self.groups[words[1]] = asplain(words[3])
            elif words[2] in {"route-policy", "ip-prefix", "prefix-list", "filter-policy"}:
                self.config.not_modelled(where, "policy on a peer group")
            return
        if ":" in words[1]:
            return
        kind = words[2]
        bgp.neighbor(address)  # any `peer IP ...` line configures that peer
        if kind == "as-number":
            bgp.neighbor(address).remote_as = asplain(words[3])
        elif kind == "group" and len(words) > 3:
            neighbor = bgp.neighbor(address)
            if words[3] in self.groups and neighbor.remote_as is None:
                neighbor.remote_as = self.groups[words[3]]
        elif kind in {"ip-prefix", "prefix-list", "route-policy"} and len(words) >= 5:
            neighbor = bgp.neighbor(address)
            if words[4] == "import":
                neighbor.import_list = words[3]
            else:
                neighbor.export_list = words[3]
            if kind == "route-policy":
                self.config.not_modelled(where, "route-policy on a peer")

    def _nat_policy(self, view: _View, words: list[str], where: Where) -> None:
        """USG `nat-policy` / ` rule name R` / `  action source-nat [address-group G |
        easy-ip]` (and the older `policy N` / `action source-nat` / `address-group G`)."""
        if words[:2] == ["rule", "name"] or words[0] == "policy":
            self._flush_nat(view)  # the previous rule
            view.nat_rule = words[2] if words[0] == "rule" else words[1]
        elif words[0] == "action" and len(words) > 1:
            if words[1] in {"source-nat", "destination-nat", "nat"}:
                view.nat_where = where
                if "address-group" in words:
                    view.nat_pool = words[words.index("address-group") + 1]
            if words[1] == "destination-nat":
                self.config.not_modelled(where, "destination nat-policy")
        elif words[0] == "address-group" and len(words) > 1:
            view.nat_pool = words[1]
        elif words[0] in {"destination-zone", "egress-interface"}:
            view.nat_out = [*(view.nat_out or []), *words[1:]]


def parse_vrp(text: str, host: str, file: str, dialect: Dialect = VRP) -> DeviceConfig:
    """Parse a Huawei VRP (default) or H3C Comware (`dialect=COMWARE`) configuration."""
    return _Parser(text, host, file, dialect).parse()


def parse_huawei_vrp(text: str, host: str, file: str) -> DeviceConfig:
    """Parse a Huawei VRP configuration (the registry's parser for `huawei_vrp`)."""
    return parse_vrp(text, host, file, VRP)


def parse_h3c_comware(text: str, host: str, file: str) -> DeviceConfig:
    """Parse an H3C Comware configuration (the registry's parser for `h3c_comware`)."""
    return parse_vrp(text, host, file, COMWARE)


def _looks_like_address(word: str) -> bool:
    return word.count(".") == 3 and word[0].isdigit()


def _construct(line: str) -> str:
    for start, construct in SYSTEM_VIEWS.items():
        if line == start or line.startswith(start + " "):
            return construct or f"{start} (a form not read)"
    return ""


def _acl_of(words: list[str]) -> str | None:
    for key in ("acl", "acl-number"):
        if key in words and words.index(key) + 1 < len(words):
            return words[words.index(key) + 1]
    return None


_RULE_ADDRESS = {"source", "destination"}
_RULE_PORT = {"source-port", "destination-port"}
_RULE_NARROWING = {
    "time-range", "dscp", "precedence", "tos", "icmp-type", "fragment-type", "ttl",
    "packet-length",
}  # fmt: skip
"""Rule keywords followed by a value that narrows what the rule matches in a way the model
does not evaluate: kept as the rule's `qualifiers` (a deny with one never stops a flow)."""
_RULE_NARROWING_ALONE = {"fragment", "none-first-fragment"}
_RULE_FLAGS_WITH_VALUE = {"counting"}
"""Rule keywords followed by a value that does not change what the rule matches."""


_RULE_KEYWORDS = frozenset(
    {*_RULE_ADDRESS, *_RULE_PORT, *_RULE_NARROWING, *_RULE_NARROWING_ALONE,
     *_RULE_FLAGS_WITH_VALUE, "logging", "vpn-instance", "tcp-flag"}
)  # fmt: skip
"""Words that may follow a rule's action: no protocol (a basic ACL's rule names none)."""


def _rule_condition(words: list[str], at: int, qualifiers: list[str]) -> int:
    """Read past the rule keyword at `at` (and its value), adding it to `qualifiers` when it
    narrows the match; the next index."""
    word = words[at]
    if word == "tcp-flag":
        if words[at + 1] not in {"established", "ack"}:
            qualifiers.append(f"tcp-flag {words[at + 1]}")
        return at + 2
    if word in _RULE_NARROWING:
        qualifiers.append(f"{word} {words[at + 1]}")
        return at + 2
    if word in _RULE_NARROWING_ALONE:
        qualifiers.append(word)
    return at + 2 if word in _RULE_FLAGS_WITH_VALUE else at + 1


def _acl_rule(
    words: list[str], where: Where, position: int, vpn_default: str | None = None
) -> FilterRule | None:
    """`rule [N] permit|deny [PROTO] [source A W|any] [source-port OP P] [destination A W|any]
    [destination-port OP P] [established] [vpn-instance X] [time-range T] ...`; None for
    `rule N comment ...` and the like. `order`: the rule number, or after the last one for a
    rule without; a rule without `vpn-instance` matches `vpn_default` (the dialect's)."""
    at = 1
    order = (position + 1) * 5
    if words[at].isdigit():
        order = int(words[at])
        at += 1
    action = words[at]
    if action not in {"permit", "deny"}:
        if action in {"comment", "description", "remark"}:
            return None
        raise ValueError(f"rule action {action!r}")
    at += 1
    protocol = "ip"
    if at < len(words) and words[at] not in _RULE_KEYWORDS:
        protocol = protocol_name(words[at])
        at += 1
    fields: dict[str, AddressMatch] = {}
    ports: dict[str, PortMatch] = {}
    vpn = vpn_default
    qualifiers: list[str] = []
    while at < len(words):
        word = words[at]
        if word in _RULE_ADDRESS:
            if words[at + 1] == "any":
                fields[word] = ANY_ADDRESS
                at += 2
                continue
            wildcard = words[at + 2] if at + 2 < len(words) else "0"
            if wildcard.isdigit() and wildcard != "0":
                network = _prefix(words[at + 1], wildcard)
                fields[word] = AddressMatch.of(network)
            elif _looks_like_address(wildcard) or wildcard == "0":
                fields[word] = AddressMatch.parse(words[at + 1], wildcard)
            else:
                fields[word] = AddressMatch.parse(words[at + 1], "0")
                at -= 1
            at += 3
        elif word in _RULE_PORT:
            ports[word] = PortMatch.parse(words[at + 1 :])
            at += 1 + ports[word].width()
        elif word == "vpn-instance":
            vpn = words[at + 1]
            at += 2
        else:
            at = _rule_condition(words, at, qualifiers)
    return FilterRule(
        permit=action == "permit",
        destination=fields.get("destination", ANY_ADDRESS),
        protocol=protocol,
        destination_port=ports.get("destination-port"),
        established="established" in words or ("tcp-flag" in words and "ack" in words),
        where=where,
        source=fields.get("source", ANY_ADDRESS),
        source_port=ports.get("source-port"),
        order=order,
        vpn_instance=vpn,
        qualifiers=tuple(qualifiers),
    )
