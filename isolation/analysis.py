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

from egovnet.model import GLOBAL, Network
from isolation.config import AddressMatch, DeviceConfig, Flow, Interface
from isolation.findings import Finding
from isolation.routing import DISCARD, EXTERNAL, Instance, Route, RoutingState, compute

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
    """The extranet's own address space: zone pools, loopbacks, links, management."""
    return [
        *(z.pool for z in network.zones),
        network.loopback_pool,
        network.link_pool,
        network.management_subnet,
    ]


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


class Audit:
    """One audit of one set of configurations against the network's policy."""

    def __init__(self, network: Network, configs: Mapping[str, DeviceConfig]) -> None:
        self.network = network
        self.configs = configs
        self.pools = internal_pools(network)
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
        return any(prefix.subnet_of(pool) for pool in self.pools)

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
        targets = list(self._inside_targets())
        for uplink in self.uplinks:
            config = self.configs[uplink.host]
            name = uplink.interface.inbound_filter
            packet_filter = config.filters.get(name) if name else None
            admitted: dict[str, list[str]] = {}
            for host, zone, prefix in targets:
                if self.delivers(uplink.instance, prefix.network_address + 1) is None and (
                    prefix.prefixlen < 32 or self.delivers(uplink.instance, prefix[0]) is None
                ):
                    continue
                if packet_filter is None:
                    why = f"no inbound filter on {uplink.interface.name}"
                else:
                    # from any source: the internet sends from every address, spoofed or not
                    verdict = packet_filter.admits(Flow(destination=AddressMatch.of(prefix)))
                    if not verdict:
                        continue
                    why = (
                        str(verdict.where)
                        if not isinstance(verdict, bool) and verdict.where
                        else f"filter {packet_filter.name} lets unmatched packets in"
                    )
                admitted.setdefault(why, []).append(f"{prefix} ({host} {zone})")
            for rule in config.nat:
                if rule.kind in {"server", "static"}:
                    where = rule.where or uplink.interface.where
                    why = f"{where}: {rule.kind} NAT maps an inside address to the internet"
                    admitted.setdefault(why, []).append(f"{uplink.host} inside ({rule.kind} NAT)")
            for why, reached in admitted.items():
                yield Finding(
                    "internet-reaches-nothing",
                    uplink.host,
                    uplink.interface.vrf,
                    f"internet -> {_listing(reached)}",
                    f"{why}; forwarding from {uplink.interface.name} delivers to them",
                    SOURCE,
                )

    def inside_prefixes_at_uplinks(self) -> Iterator[Finding]:
        closed_pools = [self.network.zone(z).pool for z in self.closed] + [self.management]
        for uplink in self.uplinks:
            table = self.state.tables.get(uplink.instance)
            if table is None:
                continue
            for prefix, route in table.routes.items():
                if route.kind == "connected" and uplink.interface.vrf == GLOBAL:
                    continue
                if any(prefix.subnet_of(pool) for pool in closed_pools):
                    yield Finding(
                        "no-private-prefix-at-exit",
                        uplink.host,
                        uplink.interface.vrf,
                        str(prefix),
                        f"{route.kind} route from {route.evidence}",
                        SOURCE,
                    )

    def nat(self) -> Iterator[Finding]:
        for uplink in self.uplinks:
            zone = uplink.interface.vrf
            if uplink.host in self.exits and zone not in self.closed and not uplink.interface.nat:
                yield Finding(
                    "nat-at-exit",
                    uplink.host,
                    zone,
                    str(uplink.interface.address),
                    f"{uplink.interface.where}: no source NAT on {uplink.interface.name}",
                    SOURCE,
                )

    def management_routes(self) -> Iterator[Finding]:
        seen: set[tuple[str, str]] = set()
        for prefix, sources in self.state.origins.items():
            if not prefix.subnet_of(self.management):
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
                if route.kind == "connected" or not prefix.overlaps(self.management):
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
        pools = {z.name: z.pool for z in self.network.zones}
        seen: set[tuple[str, str, str]] = set()
        for (host, vrf), table in self.state.tables.items():
            if vrf not in pools:
                continue
            for prefix, route in table.routes.items():
                for other, pool in pools.items():
                    if other == vrf or not prefix.subnet_of(pool):
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


def audit_configs(network: Network, configs: Mapping[str, DeviceConfig]) -> list[Finding]:
    """Every finding of the configuration audit, plus one per node without a configuration."""
    missing = [
        Finding("unparsed", n.name, "", "", "no configuration for this node", SOURCE)
        for n in network.nodes
        if n.name not in configs
    ]
    return sorted([*missing, *Audit(network, configs).run()])
