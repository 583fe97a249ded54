"""The network model every part of egovnet reads: typed, immutable, addresses allocated.

Built only by `egovnet.loader.load_network`; nothing downstream re-parses YAML or recomputes
an address. Instances are frozen pydantic models so that `--json` can dump them as they are.

Routing instances are named `global` (the underlay: loopbacks and link addresses) and after
each zone (`private`, `public`, ...): on real gear each zone is a VPN instance / VRF.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

from pydantic import BaseModel, ConfigDict

from egovnet.schema import NetworkSpec, Platform, Tier

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
    vlan: int
    description: str | None = None


class InternetUplink(_Frozen):
    """The exit node's link to the internet (in the lab: to the simulated internet)."""

    port: int
    address: IPv4Interface
    next_hop: IPv4Address


class Node(_Frozen):
    """One router of the extranet with everything allocated to it.

    Example (abridged): ``Node(name="sjz-city", tier="city", level=2, parent="hb-core-1",
    uplinks=("hb-core-2",), slot=1, asn=4200000012, loopback=IPv4Address("10.64.0.12"), ...)``
    """

    name: str
    tier: Tier
    level: int
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


class Network(_Frozen):
    """The whole extranet: nodes in inventory order, links, zones and site-wide settings."""

    name: str
    source: str
    spec: NetworkSpec
    zones: tuple[Zone, ...]
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]

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
            return self.spec.address_plan.loopbacks
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
