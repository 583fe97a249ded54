"""The network model every part of egovnet reads: typed, immutable, addresses allocated.

Built only by `egovnet.loader.load_network`; nothing downstream re-parses YAML or recomputes
an address. Instances are frozen pydantic models so that `--json` can dump them as they are.

Routing instances are named `global` (the underlay: loopbacks and link addresses) and after
each zone (`private`, `public`, ...): on real gear each zone is a VPN instance / VRF.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

from pydantic import BaseModel, ConfigDict

from egovnet.schema import (
    NetworkSpec,
    Platform,
    ProbeSpec,
    RoutingSpec,
    ServicesSpec,
    Tier,
)

GLOBAL = "global"
"""Name of the underlay routing instance."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Department(_Frozen):
    """A department attached to a node, in one zone, with its own subnet and VLAN.

    Example: ``Department(name="finance", zone="private", slot=0,
    prefix=IPv4Network("10.80.8.0/26"), gateway=IPv4Interface("10.80.8.1/26"), vlan=1000)``
    """

    name: str
    zone: str
    slot: int
    prefix: IPv4Network
    gateway: IPv4Interface
    host: IPv4Interface
    """The department's host (in the lab: its namespace): the address after the gateway."""
    vlan: int
    description: str | None = None


class InternetUplink(_Frozen):
    """The exit node's link to the internet (in the lab: to the simulated internet)."""

    port: int
    address: IPv4Interface
    next_hop: IPv4Address
    zone: str
    """The internet zone whose routing instance holds the uplink (its VRF; on an FRR exit in
    the lab, the namespace of its packet filter)."""


class Node(_Frozen):
    """One router of the extranet with everything allocated to it.

    Example (abridged): ``Node(name="sjz-city", tier="city", level=2, parent="hb-core-1",
    uplinks=("hb-core-2",), slot=1, asn=4200000012, loopback=IPv4Address("10.64.0.12"), ...)``
    """

    name: str
    tier: Tier
    level: int
    """Depth in the hierarchy (0 national ... 3 county), not the protection level."""
    protection_level: int
    """Graded protection (等级保护) level: the tier's (`schema.PROTECTION_LEVEL`), or the
    host's `data.protection_level` where that raises it."""
    platform: Platform
    region: str
    parent: str | None
    uplinks: tuple[str, ...]
    slot: int
    pinned: bool
    """True when the slot is written in the inventory; otherwise it came from file order and
    would move if a sibling without a slot were inserted before this node."""
    leaf_index: int
    asn: int
    loopback: IPv4Address
    management: IPv4Interface
    zones: tuple[str, ...]
    departments: tuple[Department, ...]
    blocks: dict[str, IPv4Network]
    province: str | None
    city: str | None
    county: str | None
    internet: InternetUplink | None = None
    username: str | None = None
    port: int | None = None

    @property
    def internet_zone(self) -> str | None:
        """The zone of the node's internet uplink; None on a node without one."""
        return self.internet.zone if self.internet is not None else None


class LinkEnd(_Frozen):
    """One side of a point-to-point link."""

    host: str
    port: int


class Link(_Frozen):
    """A point-to-point link between a node (`lower`) and the node it uplinks to (`upper`).

    `subnets` holds one /31 per routing instance carried on the link: the physical port for
    `global`, one 802.1Q sub-interface per zone. The upper side takes the even address.
    """

    upper: LinkEnd
    lower: LinkEnd
    kind: Literal["parent", "uplink", "peer"]
    uplink_index: int
    subnets: dict[str, IPv4Network]

    def address(self, host: str, instance: str) -> IPv4Interface:
        """The address `host` uses on this link in `instance`."""
        net = self.subnets[instance]
        offset = 0 if host == self.upper.host else 1
        return IPv4Interface((int(net.network_address) + offset, net.prefixlen))

    def other(self, host: str) -> LinkEnd:
        """The far end as seen from `host`."""
        return self.lower if host == self.upper.host else self.upper


class Zone(_Frozen):
    """A security zone (专用网络区 private, 公用网络区 public), one VRF per node."""

    name: str
    description: str
    pool: IPv4Network
    internet: bool
    vlan: int
    department_vlan_base: int
    department_prefixlen: int


class ZonePolicy(_Frozen):
    """One zone's effective isolation policy (what network.yaml says, else the default).

    >>> ZonePolicy(zone="public", internet=True, reaches=("public",))
    ZonePolicy(zone='public', internet=True, reaches=('public',))
    """

    zone: str
    internet: bool
    """Departments reach the internet, through the unified exit and source-NATed."""
    reaches: tuple[str, ...]
    """Zones whose departments this zone's departments reach (its own, or none)."""


class SharedService(_Frozen):
    """A department every department of its zone must reach (`isolation.shared_services`)."""

    host: str
    department: str


class Policy(_Frozen):
    """The isolation policy, checked against the hosts and filled with defaults, so that the
    audit, the probes and the interconnect matrix read one answer.

    Example: ``Policy(zones={"private": ZonePolicy(...), "public": ZonePolicy(...)},
    exits=("hebei-exit",), shared_services=(), probes=ProbeSpec())``
    """

    zones: dict[str, ZonePolicy]
    exits: tuple[str, ...]
    """The unified internet exit(s): those the policy names, else every exit-tier host."""
    shared_services: tuple[SharedService, ...]
    probes: ProbeSpec
    """Ports and bounds of the live isolation probes."""


class ServicePort(_Frozen):
    """A port the granted zones may reach on the service hosts (`udp/53`).

    >>> str(ServicePort(protocol="udp", port=53))
    'udp/53'
    """

    protocol: Literal["tcp", "udp"]
    port: int

    def __str__(self) -> str:
        return f"{self.protocol}/{self.port}"


class ServiceHost(_Frozen):
    """A service host at a node: its own subnet of the service pool on a VLAN of the node,
    the node's address on it (`gateway`) and the host's (`address`, the one after).

    Example: ``ServiceHost(name="dns1", node="hebei-core-1", roles=("authoritative",
    "resolver"), slot=0, prefix=IPv4Network("10.112.0.0/29"),
    gateway=IPv4Interface("10.112.0.1/29"), address=IPv4Interface("10.112.0.2/29"),
    vlan=3900)``
    """

    name: str
    node: str
    roles: tuple[str, ...]
    slot: int
    prefix: IPv4Network
    gateway: IPv4Interface
    address: IPv4Interface
    vlan: int
    description: str | None = None


class ServiceZone(_Frozen):
    """The shared service zone (`service_zone:` in network.yaml), a routing instance at the
    nodes of its hosts that every granted zone reaches on the service ports only.

    Hub and spoke: a granted zone imports the service prefixes and nothing else; the
    service zone imports the granted zones' routes so it can answer them, and never passes
    one zone's routes on to another (docs/services.md).
    """

    name: str
    description: str
    domain: str
    pool: IPv4Network
    ports: tuple[ServicePort, ...]
    access: tuple[str, ...]
    """Zones granted, in the order of `zones:` (default: every zone)."""
    hosts: tuple[ServiceHost, ...]
    forwarders: tuple[IPv4Address, ...] = ()
    """Where resolvers send the public zones' internet questions: at each unified exit, the
    host of its first department in its internet zone (its DMZ), which runs the exit's
    forwarder. Private zones never use them."""

    @property
    def nodes(self) -> tuple[str, ...]:
        """Nodes holding at least one service host, in host order, each once."""
        return tuple(dict.fromkeys(host.node for host in self.hosts))

    @property
    def prefixes(self) -> tuple[IPv4Network, ...]:
        """The service hosts' subnets: all that a granted zone may learn of the zone."""
        return tuple(host.prefix for host in self.hosts)

    def hosts_at(self, node: str) -> tuple[ServiceHost, ...]:
        """The service hosts attached to `node`."""
        return tuple(host for host in self.hosts if host.node == node)

    def with_role(self, role: str) -> tuple[ServiceHost, ...]:
        """The service hosts that have `role`."""
        return tuple(host for host in self.hosts if role in host.roles)

    def fqdn(self, host: ServiceHost) -> str:
        """`dns1.hebei.egov`: a service host's name in the extranet's DNS zone."""
        return f"{host.name}.{self.domain}"


@dataclass(frozen=True, slots=True)
class BgpSession:
    """One BGP session a node must have: one per link and routing instance on the link.

    A plain dataclass rather than a pydantic model: a national network has tens of
    thousands, and they are derived from the links on demand (`Network.sessions_of`).

    >>> BgpSession("zhengding", "sjz-city", "global", "uplink", 1, 3,
    ...     IPv4Address("10.64.16.145"), IPv4Address("10.64.16.144"), 4200000012).vrf
    'default'
    """

    host: str
    peer: str
    instance: str
    """`global` (the underlay) or a zone."""
    role: Literal["uplink", "downlink", "peer"]
    """What the peer is to `host`: the node it uplinks to, a child, or a same-level peer."""
    port: int
    """`host`'s port of the link (a zone's session runs on that port's sub-interface)."""
    peer_port: int
    local: IPv4Address
    """`host`'s address on the link's /31 in `instance` (the far end has the other one)."""
    peer_address: IPv4Address
    peer_asn: int

    @property
    def vrf(self) -> str:
        """The routing instance as devices name it (`default` for the underlay)."""
        return "default" if self.instance == GLOBAL else self.instance


class Network(_Frozen):
    """The whole extranet: nodes in inventory order, links, zones and site-wide settings.

    `spec` is network.yaml as written, for the core (loader, allocation, rendering); every
    part reads the typed attributes below instead.
    """

    name: str
    source: str
    spec: NetworkSpec
    zones: tuple[Zone, ...]
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    loopback_pool: IPv4Network
    link_pool: IPv4Network
    management_subnet: IPv4Network
    management_station: IPv4Address
    """The NOC's address on the management subnet (its first address): the lab's management
    bridge and gateway, never a node's."""
    routing: RoutingSpec
    """BGP settings every node shares (ASN base, keepalive and hold timers)."""
    services: ServicesSpec
    """Site-wide services (NTP, syslog, AAA, SNMP users and v2c hosts, SSH, banner); secrets
    only as `SecretRef`s."""
    policy: Policy
    service_zone: ServiceZone | None = None
    """The shared service zone (DNS); None when network.yaml has no `service_zone:`."""

    @cached_property
    def _by_name(self) -> dict[str, Node]:
        return {node.name: node for node in self.nodes}

    @cached_property
    def _links_by_host(self) -> dict[str, list[Link]]:
        index: dict[str, list[Link]] = {node.name: [] for node in self.nodes}
        for link in self.links:
            index[link.upper.host].append(link)
            index[link.lower.host].append(link)
        return index

    @cached_property
    def _children(self) -> dict[str | None, list[Node]]:
        index: dict[str | None, list[Node]] = {}
        for node in self.nodes:
            index.setdefault(node.parent, []).append(node)
        return index

    @property
    def lab_name(self) -> str:
        """The name of this inventory's lab on a machine (network.yaml `lab.name`)."""
        return self.spec.lab.name

    def node(self, name: str) -> Node:
        """The node called `name` (KeyError if there is none)."""
        return self._by_name[name]

    def links_of(self, name: str) -> list[Link]:
        """Every link with `name` at one end."""
        return self._links_by_host[name]

    @cached_property
    def _sessions(self) -> dict[str, tuple[BgpSession, ...]]:
        return {}

    def sessions_of(self, name: str) -> tuple[BgpSession, ...]:
        """Every BGP session node `name` must have, by its port, then instance in the order
        the link carries them (the underlay first): what its config sets up, what the
        rollout's gate expects Established and what the exporter labels."""
        known = self._sessions.get(name)
        if known is None:
            known = self._sessions[name] = tuple(self._derive_sessions(name))
        return known

    def _derive_sessions(self, name: str) -> Iterator[BgpSession]:
        def port(link: Link) -> int:
            return (link.upper if link.upper.host == name else link.lower).port

        for link in sorted(self.links_of(name), key=port):
            upper = link.upper.host == name
            mine, far = (link.upper, link.lower) if upper else (link.lower, link.upper)
            role: Literal["uplink", "downlink", "peer"]
            role = "peer" if link.kind == "peer" else ("downlink" if upper else "uplink")
            peer_asn = self.node(far.host).asn
            for instance, subnet in link.subnets.items():
                base = int(subnet.network_address)
                offset = 0 if upper else 1
                yield BgpSession(
                    name,
                    far.host,
                    instance,
                    role,
                    mine.port,
                    far.port,
                    IPv4Address(base + offset),
                    IPv4Address(base + 1 - offset),
                    peer_asn,
                )

    def upstreams(self, name: str) -> tuple[str, ...]:
        """The distinct nodes `name` reaches upward or sideways (its parent, its redundant
        uplinks, core peers linked either way): two or more is a redundant uplink; for a core
        with no parent, one peer is the redundant pair."""
        seen: dict[str, None] = {}
        for link in self.links_of(name):
            if link.kind == "peer" or link.lower.host == name:
                seen[link.other(name).host] = None
        return tuple(seen)

    def children(self, name: str | None) -> list[Node]:
        """Nodes whose parent is `name` (`None`: the roots), in slot order."""
        return sorted(self._children.get(name, []), key=lambda n: n.slot)

    def zone(self, name: str) -> Zone:
        """The zone called `name`."""
        for zone in self.zones:
            if zone.name == name:
                return zone
        raise KeyError(name)

    def instances(self) -> list[str]:
        """Routing instance names: the underlay first, then every zone in file order."""
        return [GLOBAL, *(zone.name for zone in self.zones)]

    def pool(self, instance: str) -> IPv4Network:
        """The pool that an instance's routes are drawn from (the loopbacks for `global`)."""
        if instance == GLOBAL:
            return self.loopback_pool
        return self.zone(instance).pool

    def walk(self) -> Iterator[tuple[int, Node]]:
        """Depth-first over the parent tree: (depth, node), roots first, children by slot."""
        stack = [(0, node) for node in reversed(self.children(None))]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(self.children(node.name)))

    def tier_counts(self) -> dict[str, int]:
        """How many nodes of each tier, in hierarchy order."""
        counts = dict.fromkeys(("national", "province", "exit", "city", "county"), 0)
        for node in self.nodes:
            counts[node.tier] += 1
        return {tier: n for tier, n in counts.items() if n}
