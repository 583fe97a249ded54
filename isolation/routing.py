"""Routing tables computed from parsed configurations, without any device: a small BGP.

The isolation questions are about forwarding, and forwarding follows the routing tables the
configurations produce. So every routing instance (host, VRF) gets its table: connected
prefixes, static routes, and BGP routes propagated over the sessions the configs set up
(neighbour addresses matched to the far interface), through each side's prefix lists,
with `summary-only` aggregates suppressing their more-specifics and AS-path length deciding
between paths (equal lengths are kept side by side: the design load-balances). One
breadth-first pass per prefix from all its origins at once, so the cost grows with how far
each prefix travels, which aggregation keeps short.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from egovnet.configs.model import DeviceConfig, StaticRoute, Where

Instance = tuple[str, str]
"""(host, routing instance)."""
EXTERNAL: Instance = ("(internet)", "")
"""The next hop of a route out of an interface that no parsed configuration owns the far
side of, in address space outside the extranet: the internet, as far as egovnet can tell."""
DISCARD: Instance = ("(discard)", "")


@dataclass
class Route:
    """One routing-table entry. `origin` is where the route was made (the static route, the
    `network`/`redistribute`/`aggregate` line, the interface); `learned_from` the neighbour
    instances it came in from (empty when local)."""

    prefix: IPv4Network
    kind: str
    next_hops: set[Instance]
    origin: tuple[str, Where | None]
    distance: int = 0

    @property
    def evidence(self) -> str:
        host, where = self.origin
        return f"{host}: {where}" if where else f"{host}: {self.kind}"


@dataclass
class Table:
    """A routing instance's table, with longest-prefix-match lookups.

    The index by prefix length is kept up to date as routes are added (never rebuilt), so
    that adding n routes with lookups in between costs n, not n squared: a static route's
    next hop is looked up while the table still grows.
    """

    routes: dict[IPv4Network, Route] = field(default_factory=dict)
    _by_length: dict[int, dict[int, Route]] = field(default_factory=dict)
    _lengths: list[int] = field(default_factory=list)
    """The prefix lengths present, longest first."""

    def add(self, route: Route) -> None:
        self.routes[route.prefix] = route
        length = route.prefix.prefixlen
        entries = self._by_length.get(length)
        if entries is None:
            entries = self._by_length[length] = {}
            self._lengths.append(length)
            self._lengths.sort(reverse=True)
        entries[int(route.prefix.network_address)] = route

    def lookup(self, address: IPv4Address) -> Route | None:
        """The most specific route containing `address`."""
        value = int(address)
        for length in self._lengths:
            found = self._by_length[length].get(value & (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF)
            if found is not None:
                return found
        return None


@dataclass(frozen=True)
class _Session:
    sender: Instance
    receiver: Instance
    export_list: str | None
    import_list: str | None


@dataclass
class RoutingState:
    """Every instance's table, plus what the analysis needs to know about interfaces."""

    tables: dict[Instance, Table]
    owner: dict[IPv4Address, tuple[Instance, str]]
    """Interface address -> (instance, interface name)."""
    configs: Mapping[str, DeviceConfig]
    origins: dict[IPv4Network, dict[Instance, tuple[str, Where | None]]] = field(
        default_factory=dict
    )
    """Prefix -> the instances that originate it into BGP, with the line that does it."""

    def table(self, instance: Instance) -> Table:
        return self.tables.setdefault(instance, Table())


def compute(configs: Mapping[str, DeviceConfig], internal: Iterable[IPv4Network]) -> RoutingState:
    """The routing tables of every instance of `configs`.

    `internal`: the extranet's own address pools; a static route's next hop outside them,
    on an interface whose far side no configuration owns, leads to `EXTERNAL`.
    """
    pools = list(internal)
    owner: dict[IPv4Address, tuple[Instance, str]] = {}
    state = RoutingState({}, owner, configs)
    for host, config in configs.items():
        for interface in config.interfaces.values():
            if interface.shutdown:
                continue
            instance = (host, interface.vrf)
            for address in interface.addresses:
                owner[address.ip] = (instance, interface.name)
                state.table(instance).add(
                    Route(address.network, "connected", set(), (host, interface.where))
                )
    for host, config in configs.items():
        default = config.static_preference
        for static in config.statics:
            instance = (host, static.vrf)
            table = state.table(instance)
            existing = table.routes.get(static.prefix)
            if existing is not None and existing.kind == "connected":
                continue
            preference = static.preference if static.preference is not None else default
            hop = _resolve(state, instance, static, pools)
            if existing is not None and existing.kind == "static":
                if existing.distance < preference:
                    continue  # a floating route: the primary wins while it is there
                if existing.distance == preference:
                    existing.next_hops.add(hop)  # equal preference: load-balanced
                    continue
            table.add(Route(static.prefix, "static", {hop}, (host, static.where), preference))
    _bgp(state, configs)
    return state


def _resolve(
    state: RoutingState, instance: Instance, static: StaticRoute, pools: list[IPv4Network]
) -> Instance:
    """The instance a static route's next hop leads to: the next hop's owner, looked up in
    `target_vrf` when the route names one; an interface route, the far side of the
    interface's subnet; outside the extranet's pools, the internet."""
    if static.discard:
        return DISCARD
    lookup = (instance[0], static.target_vrf) if static.target_vrf else instance
    if static.next_hop is None:
        return _interface_far_side(state, instance[0], static.interface or "", pools)
    found = state.owner.get(static.next_hop)
    if found is not None:
        return found[0]
    connected = state.table(lookup).lookup(static.next_hop)
    if connected is None or connected.kind != "connected":
        return DISCARD  # recursive or unresolvable: not what the designs here use
    first = int(connected.prefix.network_address)
    last = first | (0xFFFFFFFF >> connected.prefix.prefixlen)
    if not any(
        int(pool.network_address) <= first and last <= int(pool.broadcast_address) for pool in pools
    ):
        return EXTERNAL
    return DISCARD


def _interface_far_side(
    state: RoutingState, host: str, name: str, pools: list[IPv4Network]
) -> Instance:
    """Where a route out of interface `name` (no next hop) leads: the other configured owner
    of the interface's subnet; the internet when the subnet is outside the pools or the
    interface has no address (a dialer or tunnel toward the provider); else nowhere."""
    interface = state.configs[host].interfaces.get(name)
    if interface is None or interface.address is None:
        return EXTERNAL
    subnet = interface.address.network
    if not any(subnet.subnet_of(pool) for pool in pools):
        return EXTERNAL
    for address in subnet.hosts() if subnet.prefixlen >= 29 else ():
        found = state.owner.get(address)
        if found is not None and found[0][0] != host:
            return found[0]
    return DISCARD


def _sessions(state: RoutingState, configs: Mapping[str, DeviceConfig]) -> list[_Session]:
    """BGP sessions that both sides configure: A names B's address and B names A's."""
    own: dict[Instance, list[IPv4Address]] = {}
    for address, (instance, _name) in state.owner.items():
        own.setdefault(instance, []).append(address)
    sessions = []
    for host, config in configs.items():
        for vrf, bgp in config.bgp.items():
            for address, neighbor in bgp.neighbors.items():
                far = state.owner.get(address)
                if far is None:
                    continue
                far_instance, _ = far
                local = state.table((host, vrf)).lookup(address)
                if local is None or local.kind != "connected":
                    continue
                mine = _local_address(own.get((host, vrf), ()), address, local.prefix)
                if mine is None:
                    continue
                far_config = configs[far_instance[0]]
                far_bgp = far_config.bgp.get(far_instance[1])
                if far_bgp is None or mine not in far_bgp.neighbors:
                    continue
                sessions.append(
                    _Session(
                        (host, vrf),
                        far_instance,
                        neighbor.export_list,
                        far_bgp.neighbors[mine].import_list,
                    )
                )
    # route leaking between a device's own instances by route target, through the
    # instances' export and import policies (the service zone's hub and spoke): to the
    # propagation, one more hop
    for host, config in configs.items():
        for source, target, export_list, import_list in config.leaks():
            sessions.append(_Session((host, source), (host, target), export_list, import_list))
    return sessions


def _local_address(
    mine: Iterable[IPv4Address], far: IPv4Address, subnet: IPv4Network
) -> IPv4Address | None:
    """This side's address on the subnet it shares with the neighbour `far`."""
    return next((a for a in mine if a in subnet and a != far), None)


def _origins(
    state: RoutingState, configs: Mapping[str, DeviceConfig]
) -> dict[IPv4Network, dict[Instance, tuple[str, Where | None]]]:
    """Prefix -> instances that originate it into BGP, with the line that makes them do so."""
    origins: dict[IPv4Network, dict[Instance, tuple[str, Where | None]]] = {}
    for host, config in configs.items():
        for vrf, bgp in config.bgp.items():
            instance = (host, vrf)
            for prefix, where in bgp.networks:
                origins.setdefault(prefix, {})[instance] = (host, where)
            for prefix, _summary, where in bgp.aggregates:
                origins.setdefault(prefix, {})[instance] = (host, where)
            for source, where in bgp.redistribute:
                kind = "connected" if source in {"connected", "direct"} else source
                for route in list(state.table(instance).routes.values()):
                    if route.kind == kind:
                        origins.setdefault(route.prefix, {})[instance] = (host, where)
    return origins


def _bgp(state: RoutingState, configs: Mapping[str, DeviceConfig]) -> None:
    sessions = _sessions(state, configs)
    out: dict[Instance, list[_Session]] = {}
    for session in sessions:
        out.setdefault(session.sender, []).append(session)
    suppressing: dict[Instance, list[IPv4Network]] = {}
    for host, config in configs.items():
        for vrf, bgp in config.bgp.items():
            summaries = [prefix for prefix, summary, _ in bgp.aggregates if summary]
            if summaries:
                suppressing[(host, vrf)] = summaries
    learned: dict[Instance, dict[IPv4Network, Route]] = {}
    state.origins = _origins(state, configs)
    aggregates = {
        ((host, vrf), prefix): where
        for host, config in configs.items()
        for vrf, bgp in config.bgp.items()
        for prefix, _summary, where in bgp.aggregates
    }
    # more-specifics first: an aggregate is announced (and installs its discard route) only
    # once something inside it is in the instance's BGP or routing table, as on FRR and IOS
    for prefix, candidates in sorted(state.origins.items(), key=lambda item: -item[0].prefixlen):
        sources = {
            instance: origin
            for instance, origin in candidates.items()
            if (instance, prefix) not in aggregates
            or _contributes(state.table(instance), learned.get(instance, {}), prefix)
        }
        for instance in sources:
            where = aggregates.get((instance, prefix))
            table = state.table(instance)
            if where is not None and prefix not in table.routes:
                table.add(Route(prefix, "aggregate", {DISCARD}, (instance[0], where)))
        frontier = list(sources)
        reached: dict[Instance, int] = dict.fromkeys(sources, 0)
        distance = 0
        while frontier:
            distance += 1
            following: list[Instance] = []
            for sender in frontier:
                if _suppressed(suppressing.get(sender), prefix):
                    continue
                sender_config = configs[sender[0]]
                origin = sources.get(sender) or learned[sender][prefix].origin
                for session in out.get(sender, ()):
                    receiver = session.receiver
                    if reached.get(receiver, distance) < distance:
                        continue  # its own, or a shorter AS path got there first
                    if not sender_config.permits(session.export_list, prefix):
                        continue
                    if not configs[receiver[0]].permits(session.import_list, prefix):
                        continue
                    bgp_table = learned.setdefault(receiver, {})
                    existing = bgp_table.get(prefix)
                    if existing is None:
                        bgp_table[prefix] = Route(prefix, "bgp", {sender}, origin, distance)
                        reached[receiver] = distance
                        following.append(receiver)
                    else:
                        existing.next_hops.add(sender)
            frontier = following
    # BGP advertises its best path whether or not the routing table uses it; the table
    # prefers connected, then static, then BGP
    for instance, routes in learned.items():
        rib = state.table(instance)
        for prefix, route in routes.items():
            if prefix not in rib.routes:
                rib.add(route)


def _contributes(
    table: Table, learned: Mapping[IPv4Network, Route], aggregate: IPv4Network
) -> bool:
    """Whether anything strictly inside `aggregate` is in the table or learned by BGP."""
    return any(p != aggregate and p.subnet_of(aggregate) for p in (*table.routes, *learned))


def _suppressed(summaries: list[IPv4Network] | None, prefix: IPv4Network) -> bool:
    """Whether a `summary-only` aggregate of the instance hides `prefix` from its neighbours."""
    if not summaries:
        return False
    return any(prefix != s and prefix.subnet_of(s) for s in summaries)
