"""The address plan's arithmetic: hierarchical, slot-numbered blocks that summarise per tier.

Every node owns one block in every pool. A node's block is cut from its parent's block by the
node's *slot* (its number under the parent, 1, 2, ...); slot 0 of every block is the parent's
own part. Because a block depends only on the chain of slots above it, adding a node or a
department never moves anything that exists, and every subtree sits in one aligned prefix, so
each tier can announce its whole subtree as one route (see docs/routing.md).

Positions are computed once per node as a *leaf index*: the node's offset counted in leaf-sized
units, the same in every pool. A pool then only scales it by its own leaf size.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network

TIER_LEVEL: dict[str, int] = {"national": 0, "province": 1, "city": 2, "exit": 2, "county": 3}
"""Depth of each tier in the hierarchy. The internet exit hangs off the province core,
so it sits at the cities' level."""

LEVELS_WITH_CHILDREN = (0, 1, 2)
LEAF_LEVEL = 3


def management_station(management: IPv4Network) -> IPv4Address:
    """The NOC's address on the management subnet: its first host, never a node's.

    >>> management_station(IPv4Network("10.255.0.0/24"))
    IPv4Address('10.255.0.1')
    """
    return management.network_address + 1


def bits_for(children: int) -> int:
    """Bits needed to number `children` children from slot 1 (slot 0 is the parent's own part).

    >>> [bits_for(n) for n in (0, 1, 3, 4, 7, 8, 15)]
    [0, 1, 2, 3, 3, 4, 4]
    """
    if children < 0:
        raise ValueError(f"a node cannot have {children} children")
    return children.bit_length()


def bits_for_count(count: int) -> int:
    """Bits needed to number `count` things from 0.

    >>> [bits_for_count(n) for n in (1, 2, 3, 4, 5, 12)]
    [0, 1, 2, 2, 3, 4]
    """
    if count < 1:
        raise ValueError(f"cannot number {count} things")
    return (count - 1).bit_length()


@dataclass(frozen=True)
class Hierarchy:
    """How many child slots each tier has: `child_bits[level]` for levels 0 (national) to 2.

    >>> h = Hierarchy((0, 3, 2))
    >>> h.capacity(1), h.capacity(2), h.capacity(3)
    (7, 3, 0)
    >>> h.units(3), h.units(2), h.units(1)
    (1, 4, 32)
    """

    child_bits: tuple[int, int, int]

    def capacity(self, level: int) -> int:
        """The highest child slot a node of this level can give out."""
        if level >= LEAF_LEVEL:
            return 0
        return (1 << self.child_bits[level]) - 1

    def units(self, level: int) -> int:
        """Size of a block at this level, counted in leaf-sized units."""
        return 1 << sum(self.child_bits[level:LEAF_LEVEL])

    def child_index(self, parent_index: int, child_level: int, slot: int) -> int:
        """Leaf index of a child from its parent's leaf index and its slot.

        >>> Hierarchy((0, 3, 2)).child_index(32, 2, 3)
        44
        """
        return parent_index + slot * self.units(child_level)

    def root_index(self, level: int, slot: int) -> int:
        """Leaf index of a root node: roots are numbered from slot 0 across the pool."""
        return slot * self.units(level)


@dataclass(frozen=True)
class Pool:
    """One address pool scaled onto the hierarchy.

    >>> p = Pool(IPv4Network("10.64.0.0/16"), leaf_prefixlen=26, hierarchy=Hierarchy((0, 3, 2)))
    >>> p.block(32, 1), p.own(32)  # the province in root slot 1
    (IPv4Network('10.64.8.0/21'), IPv4Network('10.64.8.0/26'))
    >>> p.block(36, 2)  # its city in slot 1: inside the province's block
    IPv4Network('10.64.9.0/24')
    """

    network: IPv4Network
    leaf_prefixlen: int
    hierarchy: Hierarchy

    @property
    def leaf_size(self) -> int:
        return 1 << (32 - self.leaf_prefixlen)

    def block_prefixlen(self, level: int) -> int:
        return self.leaf_prefixlen - sum(self.hierarchy.child_bits[level:LEAF_LEVEL])

    def block(self, leaf_index: int, level: int) -> IPv4Network:
        """The summary block of a node: itself and everything below it."""
        base = int(self.network.network_address) + leaf_index * self.leaf_size
        return IPv4Network((base, self.block_prefixlen(level)))

    def own(self, leaf_index: int) -> IPv4Network:
        """The node's own part of its block (slot 0): its loopback, its departments."""
        base = int(self.network.network_address) + leaf_index * self.leaf_size
        return IPv4Network((base, self.leaf_prefixlen))

    def fits(self, net: IPv4Network) -> bool:
        return net.subnet_of(self.network)


def link_leaf_bits(uplinks_per_node: int, instances: int) -> int:
    """Address bits of a node's own links block: one /31 per uplink and routing instance.

    >>> link_leaf_bits(2, 3)  # 6 /31s, rounded up to 8: a /28
    4
    """
    return bits_for_count(uplinks_per_node * instances) + 1


def department_leaf_prefixlen(department_prefixlen: int, departments_per_node: int) -> int:
    """Prefix length of a node's own block in a zone pool: room for its departments.

    >>> department_leaf_prefixlen(26, 3)  # four /26s
    24
    """
    return department_prefixlen - bits_for_count(departments_per_node)


def nth_subnet(parent: IPv4Network, prefixlen: int, index: int) -> IPv4Network:
    """The `index`-th subnet of length `prefixlen` inside `parent` (no list is built).

    >>> nth_subnet(IPv4Network("10.0.0.0/24"), 27, 3)
    IPv4Network('10.0.0.96/27')
    """
    size = 1 << (32 - prefixlen)
    return IPv4Network((int(parent.network_address) + index * size, prefixlen))


def offset_address(net: IPv4Network, offset: int) -> IPv4Address:
    """The address `offset` places into `net`.

    >>> offset_address(IPv4Network("10.0.0.0/31"), 1)
    IPv4Address('10.0.0.1')
    """
    return IPv4Address(int(net.network_address) + offset)


@lru_cache(maxsize=64)
def dotted_mask(prefixlen: int) -> str:
    """A prefix length as the dotted mask Cisco and Huawei configs want.

    >>> dotted_mask(31), dotted_mask(26)
    ('255.255.255.254', '255.255.255.192')
    """
    return ip_text((0xFFFFFFFF << (32 - prefixlen)) & 0xFFFFFFFF)


def ip_text(value: int) -> str:
    """An IPv4 address held as an int, in dotted form; ~10x faster than `str(IPv4Address(x))`,
    which matters when rendering tens of thousands of interfaces.

    >>> ip_text(0x0A400010)
    '10.64.0.16'
    """
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
