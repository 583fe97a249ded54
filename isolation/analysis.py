"""The isolation questions, answered on the routing state computed from configurations.

* Can a department of a zone without internet reach the internet? (a path, with networkx, in
  the graph of internet-bound next hops; and any internet route in such a zone's table);
* does any path to the internet avoid the unified exit? (the same graph without the exit);
* can the internet open a connection to anything inside, management included? (forwarding
  from every internet-facing interface toward every inside prefix, then that interface's
  inbound filter);
* does an internet-facing table hold private or management prefixes; is traffic NATed at the
  exit; are management addresses kept out of routing; do zones stay apart?
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

import networkx as nx

from egovnet.configs.model import (
    SOURCE_NAT,
    AddressMatch,
    DeviceConfig,
    Flow,
    Interface,
    NatRule,
    Where,
)
from egovnet.model import GLOBAL, Network
from egovnet.render.services import SERVICE_LINKS
from isolation.findings import Finding
from isolation.routing import DISCARD, EXTERNAL, Instance, Route, RoutingState, compute
from isolation.services import service_findings

SOURCE = "config"
SHOWN = 5
"""How many prefixes or tables a finding quotes before it says `and N more`."""


@dataclass(frozen=True)
class Uplink:
    """An interface toward the internet: addressed outside every extranet pool."""

    host: str
    interface: Interface

    @property
    def instance(self) -> Instance:
        return (self.host, self.interface.vrf)


def internal_pools(network: Network) -> list[IPv4Network]:
    """The extranet's own address space: zone pools, loopbacks, links, management, and the
    service zone's pool and (FRR in the lab) its service links' link-local /31s."""
    service = [network.service_zone.pool, SERVICE_LINKS] if network.service_zone else []
    return [
        *(z.pool for z in network.zones),
        network.loopback_pool,
        network.link_pool,
        network.management_subnet,
        *service,
    ]


def _ranges(pools: list[IPv4Network]) -> list[tuple[int, int]]:
    """Pools as (first address, last address) integers, for quick containment tests."""
    return [(int(p.network_address), int(p.broadcast_address)) for p in pools]


def _inside(prefix: IPv4Network, ranges: list[tuple[int, int]]) -> bool:
    """Whether `prefix` lies within one of `ranges` (`_ranges`).

    >>> _inside(IPv4Network("10.1.2.0/24"), _ranges([IPv4Network("10.0.0.0/8")]))
    True
    """
    first = int(prefix.network_address)  # integers: no address objects on the hot path
    last = first | (0xFFFFFFFF >> prefix.prefixlen)
    return any(low <= first and last <= high for low, high in ranges)


def _overlaps(prefix: IPv4Network, ranges: list[tuple[int, int]]) -> bool:
    """Whether `prefix` shares an address with one of `ranges` (`_ranges`).

    >>> _overlaps(IPv4Network("10.0.0.0/8"), _ranges([IPv4Network("10.1.2.0/24")]))
    True
    """
    first = int(prefix.network_address)
    last = first | (0xFFFFFFFF >> prefix.prefixlen)
    return any(low <= last and first <= high for low, high in ranges)


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


class Audit:
    """One audit of one set of configurations against the network's policy."""

    def __init__(self, network: Network, configs: Mapping[str, DeviceConfig]) -> None:
        self.network = network
        self.configs = configs
        self.pools = internal_pools(network)
        self._pool_ranges = _ranges(self.pools)
        self.state: RoutingState = compute(configs, self.pools)
        self.policy = network.policy.zones
        self.exits = set(network.policy.exits)
        self.closed = {z for z, p in self.policy.items() if not p.internet}
        """Zones whose departments must never reach the internet."""
        self.management = network.management_subnet
        self.uplinks = [
            Uplink(host, interface)
            for host, config in configs.items()
            for interface in config.interfaces.values()
            if interface.address is not None
            and not interface.shutdown
            and not self.internal(interface.address.network)
        ]

    def internal(self, prefix: IPv4Network) -> bool:
        return _inside(prefix, self._pool_ranges)

    def run(self) -> list[Finding]:
        findings = [
            *self.uplinks_outside_exit(),
            *self.internet_routes_in_closed_zones(),
            *self.paths_to_internet(),
            *self.inbound(),
            *self.inside_prefixes_at_uplinks(),
            *self.nat(),
            *self.management_routes(),
            *self.zones_apart(),
            *service_findings(self.network, self.configs),
        ]
        return sorted(set(findings))

    # ------------------------------------------------------------------ the questions
    def uplinks_outside_exit(self) -> Iterator[Finding]:
        for uplink in self.uplinks:
            zone = uplink.interface.vrf
            if uplink.host in self.exits and zone in self.policy and zone not in self.closed:
                continue
            where = uplink.interface.where
            yield Finding(
                "single-exit",
                uplink.host,
                zone,
                str(uplink.interface.address.network if uplink.interface.address else ""),
                f"{where}: interface {uplink.interface.name} faces the internet "
                "(addressed outside every extranet pool)",
                SOURCE,
            )

    def _internet_routes(self, table_routes: Mapping[IPv4Network, Route]) -> list[Route]:
        return [
            r for p, r in table_routes.items() if not self.internal(p) and r.kind != "connected"
        ]

    def internet_routes_in_closed_zones(self) -> Iterator[Finding]:
        """Grouped by where the route was made: one finding per static/redistribute line."""
        by_origin: dict[tuple[str, str, str], list[str]] = {}
        for (host, vrf), table in self.state.tables.items():
            if vrf not in self.closed:
                continue
            for route in self._internet_routes(table.routes):
                key = (route.origin[0], str(route.prefix), route.evidence)
                by_origin.setdefault(key, []).append(f"{host}/{vrf}")
        for (origin, prefix, evidence), tables in sorted(by_origin.items()):
            zone = tables[0].split("/", 1)[1]
            yield Finding(
                "private-no-internet-route",
                origin,
                zone,
                prefix,
                f"{evidence}; in the tables of {_listing(tables)}",
                SOURCE,
            )

    def _outbound_graph(self) -> nx.DiGraph[Instance]:
        """Instance -> next hop of its internet-bound routes; uplinks -> EXTERNAL."""
        graph: nx.DiGraph[Instance] = nx.DiGraph()
        for instance, table in self.state.tables.items():
            for route in self._internet_routes(table.routes):
                for hop in route.next_hops:
                    if hop != DISCARD:
                        graph.add_edge(instance, hop)
        for uplink in self.uplinks:
            graph.add_edge(uplink.instance, EXTERNAL)
        return graph

    def paths_to_internet(self) -> Iterator[Finding]:
        graph = self._outbound_graph()
        if EXTERNAL not in graph:
            return
        bypass = graph.subgraph(n for n in graph if n[0] not in self.exits)
        for node in self.network.nodes:
            for dept in node.departments:
                instance = (node.name, dept.zone)
                if instance not in graph:
                    continue
                if dept.zone in self.closed and nx.has_path(graph, instance, EXTERNAL):
                    path = nx.shortest_path(graph, instance, EXTERNAL)
                    yield Finding(
                        "private-never-internet",
                        node.name,
                        dept.zone,
                        f"{dept.prefix} -> internet",
                        "path " + " > ".join(f"{h}/{v}" for h, v in path[:-1]) + " > internet",
                        SOURCE,
                    )
                elif instance in bypass and nx.has_path(bypass, instance, EXTERNAL):
                    path = nx.shortest_path(bypass, instance, EXTERNAL)
                    yield Finding(
                        "unified-exit",
                        path[-2][0],
                        dept.zone,
                        f"{dept.prefix} -> internet",
                        f"department {node.name}/{dept.name} reaches the internet through "
                        + " > ".join(f"{h}/{v}" for h, v in path[:-1])
                        + ", avoiding the unified exit",
                        SOURCE,
                    )

    def _inside_targets(self) -> Iterator[tuple[str, str, IPv4Network]]:
        """(host, zone, prefix) of everything the internet must not reach."""
        for node in self.network.nodes:
            for dept in node.departments:
                yield node.name, dept.zone, dept.prefix
            yield node.name, GLOBAL, IPv4Network(node.loopback)
            yield node.name, "management", node.management.network

    def delivers(self, start: Instance, address: IPv4Address) -> Instance | None:
        """Where forwarding from `start` toward `address` ends on a connected route."""
        seen: set[Instance] = set()
        stack = [start]
        while stack:
            instance = stack.pop()
            if instance in seen or instance in {DISCARD, EXTERNAL}:
                continue
            seen.add(instance)
            route = self.state.tables.get(instance)
            found = route.lookup(address) if route else None
            if found is None:
                continue
            if found.kind == "connected":
                return instance
            stack.extend(found.next_hops)
        return None

    def inbound(self) -> Iterator[Finding]:
        """Per uplink; what forwarding delivers is worked out once per routing instance and
        what a filter admits once per filter, so many uplinks sharing an instance or a
        filter cost one pass each, not one per uplink."""
        targets = list(self._inside_targets())
        delivered: dict[Instance, list[tuple[str, str, IPv4Network]]] = {}
        verdicts: dict[tuple[str, str | None, Instance], dict[str, list[str]]] = {}
        for uplink in self.uplinks:
            instance = uplink.instance
            if instance not in delivered:
                delivered[instance] = [
                    (host, zone, prefix)
                    for host, zone, prefix in targets
                    if self.delivers(instance, prefix.network_address + 1) is not None
                    or (prefix.prefixlen == 32 and self.delivers(instance, prefix[0]) is not None)
                ]
            name = uplink.interface.inbound_filter
            key = (uplink.host, name, instance)
            if key not in verdicts:
                verdicts[key] = self._admitted(uplink, delivered[instance])
            admitted = verdicts[key]
            inward = [r for r in self.configs[uplink.host].nat if r.kind in {"server", "static"}]
            if inward:  # a copy, so that the verdicts shared by uplinks stay as they were
                admitted = {why: list(reached) for why, reached in admitted.items()}
            for rule in inward:
                where = rule.where or uplink.interface.where
                why = f"{where}: {rule.kind} NAT maps an inside address to the internet"
                admitted.setdefault(why, []).append(f"{uplink.host} inside ({rule.kind} NAT)")
            for reason, reached in admitted.items():
                why = reason or f"no inbound filter on {uplink.interface.name}"
                yield Finding(
                    "internet-reaches-nothing",
                    uplink.host,
                    uplink.interface.vrf,
                    f"internet -> {_listing(reached)}",
                    f"{why}; forwarding from {uplink.interface.name} delivers to them",
                    SOURCE,
                )

    def _admitted(
        self, uplink: Uplink, delivered: list[tuple[str, str, IPv4Network]]
    ) -> dict[str, list[str]]:
        """Why each delivered inside prefix gets in through `uplink`'s inbound filter ("":
        there is none)."""
        config = self.configs[uplink.host]
        name = uplink.interface.inbound_filter
        packet_filter = config.filters.get(name) if name else None
        admitted: dict[str, list[str]] = {}
        for host, zone, prefix in delivered:
            if packet_filter is None:
                why = ""  # the caller names the interface
            else:
                # from any source: the internet sends from every address, spoofed or not;
                # in the uplink's instance (a rule of another VPN instance does not apply)
                flow = Flow(destination=AddressMatch.of(prefix), vrf=uplink.interface.vrf)
                verdict = packet_filter.admits(flow)
                if not verdict:
                    continue
                why = (
                    str(verdict.where)
                    if not isinstance(verdict, bool) and verdict.where
                    else f"filter {packet_filter.name} lets unmatched packets in"
                )
            admitted.setdefault(why, []).append(f"{prefix} ({host} {zone})")
        return admitted

    def inside_prefixes_at_uplinks(self) -> Iterator[Finding]:
        """One pass over each internet-facing table (however many uplinks share it)."""
        closed = _ranges([self.network.zone(z).pool for z in self.closed] + [self.management])
        for instance in dict.fromkeys(uplink.instance for uplink in self.uplinks):
            host, vrf = instance
            table = self.state.tables.get(instance)
            if table is None:
                continue
            for prefix, route in table.routes.items():
                if route.kind == "connected" and vrf == GLOBAL:
                    continue
                if _inside(prefix, closed):
                    yield Finding(
                        "no-private-prefix-at-exit",
                        host,
                        vrf,
                        str(prefix),
                        f"{route.kind} route from {route.evidence}",
                        SOURCE,
                    )

    def nat(self) -> Iterator[Finding]:
        """Every exit uplink of a zone with internet must translate the source of every
        department prefix of that zone: a NAT rule on it whose ACL selects the prefix
        (`_nat_covers`); what is not selected leaves with an inside address."""
        for uplink in self.uplinks:
            zone = uplink.interface.vrf
            if uplink.host not in self.exits or zone in self.closed:
                continue
            interface = uplink.interface
            rules = [r for r in self.configs[uplink.host].nat if self._nat_on(r, interface)]
            if not rules:
                yield Finding(
                    "nat-at-exit",
                    uplink.host,
                    zone,
                    str(interface.address),
                    f"{interface.where}: no source NAT on {interface.name}",
                    SOURCE,
                )
                continue
            if zone not in self.policy:
                continue
            pool = self.network.zone(zone).pool
            if any(self._nat_covers(uplink.host, r, zone, pool) for r in rules):
                continue
            prefixes = [
                d.prefix for n in self.network.nodes for d in n.departments if d.zone == zone
            ]
            missed = [
                str(p)
                for p in prefixes
                if not any(self._nat_covers(uplink.host, r, zone, p) for r in rules)
            ]
            if not missed:
                continue
            why = "; ".join(self._nat_reason(uplink.host, r) for r in rules)
            yield Finding(
                "nat-at-exit",
                uplink.host,
                zone,
                str(interface.address),
                f"{why}: it does not translate {_listing(missed)} (zone {zone}), which would "
                f"leave {interface.name} with inside source addresses",
                SOURCE,
            )

    @staticmethod
    def _nat_on(rule: NatRule, interface: Interface) -> bool:
        """Whether a source-NAT rule translates what leaves by `interface`: the one it names,
        or, for an IOS pool rule or a USG nat-policy rule, every interface it NATs out of."""
        if rule.kind not in SOURCE_NAT:
            return False
        if rule.interface is not None:
            return rule.interface == interface.name
        return rule.kind in {"inside_source", "policy"} and interface.nat

    def _nat_covers(self, host: str, rule: NatRule, zone: str, prefix: IPv4Network) -> bool:
        """Whether `rule` translates every packet from `prefix` in instance `zone`."""
        if rule.kind == "inside_source" and (rule.vrf or GLOBAL) != zone:
            return False  # IOS: an inside-source rule translates its own VRF's packets only
        if rule.kind == "policy":
            return False  # which sources a nat-policy rule selects is not modelled yet
        if rule.acl is None:
            return True  # `nat outbound` without an ACL, masquerade: everything leaving
        acl = self.configs[host].filters.get(rule.acl)
        flow = Flow(source=AddressMatch.of(prefix), vrf=zone)
        return acl is not None and acl.selects_all(flow) is not None

    def _nat_reason(self, host: str, rule: NatRule) -> str:
        where = f"{rule.where}: " if rule.where else ""
        if rule.kind == "policy":
            return f"{where}which sources nat-policy rule {rule.acl} translates is not modelled"
        if rule.kind == "inside_source" and rule.vrf is None:
            return f"{where}translates the global table only"
        if rule.acl is not None and rule.acl not in self.configs[host].filters:
            return f"{where}NAT ACL {rule.acl} is not defined (it selects nothing)"
        return f"{where}NAT ACL {rule.acl} does not select all of them"

    def management_routes(self) -> Iterator[Finding]:
        seen: set[tuple[str, str]] = set()
        management = _ranges([self.management])
        for prefix, sources in self.state.origins.items():
            if not _inside(prefix, management):
                continue
            for (host, vrf), (_, where) in sources.items():
                seen.add((host, f"{host}: {where}"))
                yield Finding(
                    "management-not-routed",
                    host,
                    vrf,
                    str(prefix),
                    f"{host}: {where} announces it into BGP",
                    SOURCE,
                )
        for (host, vrf), table in self.state.tables.items():
            for prefix, route in table.routes.items():
                if route.kind == "connected" or not _overlaps(prefix, management):
                    continue
                if prefix.prefixlen < self.management.prefixlen:
                    continue  # a default or a covering aggregate is judged by other rules
                key = (route.origin[0], route.evidence)
                if key in seen:
                    continue
                seen.add(key)
                yield Finding(
                    "management-not-routed",
                    route.origin[0],
                    vrf,
                    str(prefix),
                    f"{route.kind} route from {route.evidence} (seen first in {host}/{vrf})",
                    SOURCE,
                )

    def zones_apart(self) -> Iterator[Finding]:
        """A zone's table holding another zone's pool (or part of it) is a leak between them."""
        pools = {z.name: _ranges([z.pool]) for z in self.network.zones}
        seen: set[tuple[str, str, str]] = set()
        for (host, vrf), table in self.state.tables.items():
            if vrf not in pools:
                continue
            for prefix, route in table.routes.items():
                for other, pool in pools.items():
                    if other == vrf or not _inside(prefix, pool):
                        continue
                    key = (route.origin[0], str(prefix), vrf)
                    if key in seen:
                        continue
                    seen.add(key)
                    yield Finding(
                        "zones-apart",
                        route.origin[0],
                        vrf,
                        str(prefix),
                        f"zone {other}'s prefix in {host}/{vrf}: {route.kind} route from "
                        f"{route.evidence}",
                        SOURCE,
                    )


def audit_configs(
    network: Network,
    configs: Mapping[str, DeviceConfig],
    unread: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every finding of the configuration audit, plus the audit failing closed: one per node
    without a configuration (`unread` says why, where the caller knows), one per node whose
    configuration says nothing, and `unknown` for every line the parse could not read or
    whose construct it does not model."""
    why = unread or {}
    missing = [
        Finding(
            "unparsed", n.name, "", "", why.get(n.name, "no configuration for this node"), SOURCE
        )
        for n in network.nodes
        if n.name not in configs
    ]
    unclear = [
        f for n in network.nodes if n.name in configs for f in _not_understood(configs[n.name])
    ]
    return sorted([*missing, *unclear, *Audit(network, configs).run()])


def _not_understood(config: DeviceConfig) -> Iterator[Finding]:
    """The audit's own doubts about one config: empty, unreadable lines, unmodelled
    constructs (one finding per construct, quoting its first line and counting the rest)."""
    if config.content_lines == 0 and not config.interfaces and not config.statics:
        yield Finding(
            "config-empty",
            config.host,
            "",
            config.file,
            f"{config.file}: no configuration in it (only blank, #, !, return or end lines)",
            SOURCE,
        )
    for item in config.unparsed:
        yield Finding(
            "unknown",
            config.host,
            "",
            f"line {item.where.line}",
            f"{item.where}: not read: {item.reason}",
            SOURCE,
        )
    by_construct: dict[str, list[Where]] = {}
    for unmodelled in config.unmodelled:
        by_construct.setdefault(unmodelled.construct, []).append(unmodelled.where)
    for construct, places in by_construct.items():
        more = f" (and {len(places) - 1} more lines)" if len(places) > 1 else ""
        yield Finding(
            "unknown",
            config.host,
            "",
            construct,
            f"{places[0]}: not modelled{more}; it may change what reaches what",
            SOURCE,
        )
