"""The audit's fast paths answer exactly what the plain ones do.

The inbound question asks forwarding about every inside prefix from every uplink; to do it
at a nation's size it looks up all addresses of a table at once (`Table.lookup_sorted`)
and remembers, per address, which instances reach a connected route (`Audit._delivered`).
These tests hold both to the one-address-at-a-time path (`Table.lookup`, `Audit.delivers`)
on a generated inventory, on the plain tables and on tables with leaks written in, where
forwarding goes further than the design lets it."""

from __future__ import annotations

import random
from ipaddress import IPv4Address, IPv4Network

import pytest

from egovnet.configs.model import ANY, DeviceConfig, StaticRoute, Where
from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.model import GLOBAL, Network
from isolation.analysis import Audit
from isolation.routing import Route, Table
from isolation.sources import intended_configs


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Network:
    directory = tmp_path_factory.mktemp("inventory")
    write_inventory(generate_inventory(2, 3, 3, 2), directory)
    return load_network(directory)


def leaky(network: Network) -> dict[str, DeviceConfig]:
    """Intended configs with a default route in every zone of every other node toward the
    node's own loopback in the global table: forwarding from an uplink then crosses from
    zones into the underlay and back, cycles included, which the walk's memory of what
    reaches what must not get wrong."""
    configs = intended_configs(network)
    for node in network.nodes[::2]:
        config = configs[node.name]
        for vrf in sorted(config.vrfs() - {GLOBAL}):
            where = Where(config.file, 0, f"ip route 0.0.0.0/0 {node.loopback} (leak)")
            config.statics.append(StaticRoute(vrf, ANY, node.loopback, where, None, 1, GLOBAL))
    return configs


@pytest.mark.parametrize("variant", ["intended", "leaky"])
def test_batched_delivery_is_the_walk_of_each_address(network: Network, variant: str) -> None:
    configs = intended_configs(network) if variant == "intended" else leaky(network)
    audit = Audit(network, configs)
    targets = list(audit._inside_targets())
    probes = audit._probes(targets)
    known: dict[int, tuple[set[tuple[str, str]], set[tuple[str, str]]]] = {}
    starts = sorted({u.instance for u in audit.uplinks} | set(list(audit.state.tables)[::7]))
    assert audit.uplinks, "the generated inventory has an exit"
    some = 0
    for start in starts:
        fast = audit._delivered(start, probes, known)
        slow = {
            index
            for index, (_host, _zone, prefix) in enumerate(targets)
            if audit.delivers(start, prefix.network_address + 1) is not None
            or (prefix.prefixlen == 32 and audit.delivers(start, prefix[0]) is not None)
        }
        assert fast == slow, start
        some += bool(slow)
    assert some, "forwarding delivers somewhere from some start"
    assert any(prefix.prefixlen == 32 for _h, _z, prefix in targets), "loopbacks are /32"


def test_lookup_sorted_is_lookup_of_each(network: Network) -> None:
    audit = Audit(network, intended_configs(network))
    chooser = random.Random(15)  # noqa: S311 - addresses to look up, not secrets
    tables = list(audit.state.tables.values())
    extra = Table()
    for text in ("0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32"):
        prefix = IPv4Network(text)
        extra.add(Route(prefix, "static", set(), ("x", None)))
    for table in [*chooser.sample(tables, 40), extra, Table()]:
        known = [int(p.network_address) for p in table.routes]
        addresses = sorted(
            {
                *(a + d for a in known for d in (-1, 0, 1, 2, 255, 256)),
                *(chooser.getrandbits(32) for _ in range(200)),
                0,
                0xFFFFFFFF,
            }
        )
        addresses = [a for a in addresses if 0 <= a <= 0xFFFFFFFF]
        assert table.lookup_sorted(addresses) == [table.lookup(IPv4Address(a)) for a in addresses]
