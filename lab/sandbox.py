"""An inventory made fit to run as one more lab on this machine, beside any lab already up.

A copy of an inventory gets its own lab name (network.yaml `lab.name`) and its address pools
moved to private space that overlaps no route of this machine (another lab's included), none
of its nameservers or its gateway, no reserved range and nothing the caller names. Every
address written in the inventory that sits in a moved pool (the management station, a
hand-pinned loopback) moves with it, so the copy is the same network at other addresses.
Tests and benchmarks run their labs on such copies; a person can too (a second lab beside a
demo). The simulated internet (198.18.0.0/15) stays: it lives inside namespaces only.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import yaml

from egovnet.errors import EgovnetError
from egovnet.generate import pack
from egovnet.loader import load_network
from egovnet.model import Network
from lab import guard

SPACE = IPv4Network("10.0.0.0/8")
RESERVED = (IPv4Network("10.255.0.0/16"), IPv4Network("192.0.2.0/24"))
"""Never used: a nameserver of these machines sits in the first, the uplink in the second."""
SANDBOX_LOCK = Path("/run/egovnet-sandbox.lock")
"""Held (flock) by test sessions and benchmarks for as long as their sandboxed labs run: their
names and addresses repeat from run to run, so two such sessions must take turns. A user's
own lab never needs it."""
ADDRESS = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
LAB_BLOCK = re.compile(r"^lab:.*\n(?:[ \t]+.*\n)*", re.MULTILINE)


class SandboxError(EgovnetError, RuntimeError):
    """The inventory could not be moved clear of this machine's network."""


def pools_of(document: dict[str, Any]) -> dict[str, IPv4Network]:
    """Every pool of network.yaml the lab routes (the internet pool aside), by field."""
    plan = document["address_plan"]
    pools = {key: IPv4Network(plan[key]) for key in ("loopbacks", "links", "management")}
    for name, zone in document["zones"].items():
        pools[f"zones.{name}.pool"] = IPv4Network(zone["pool"])
    if document.get("service_zone"):
        pools["service_zone.pool"] = IPv4Network(document["service_zone"]["pool"])
    return pools


def machine_prefixes(lab: str) -> list[IPv4Network]:
    """What a lab must keep clear of here: every route but the default, the gateway and
    the nameservers (as /32s), as `lab` sees them (its own guard is not in the way)."""
    routes, nameservers = guard.read_host(lab)
    taken = [route.destination for route in routes if route.destination.prefixlen > 0]
    taken += [IPv4Network(route.gateway) for route in routes if route.gateway is not None]
    taken += [IPv4Network(server) for server in nameservers]
    return taken


def place(pools: dict[str, IPv4Network], avoid: Iterable[IPv4Network]) -> dict[str, IPv4Network]:
    """New pools of the same sizes in 10.0.0.0/8, overlapping nothing in `avoid`."""
    blocked = tuple(
        sorted({*RESERVED, *avoid, *pools.values()}, key=lambda n: int(n.network_address))
    )
    placed = pack([(key, pool.prefixlen) for key, pool in pools.items()], SPACE, blocked)
    if placed is None:
        raise SandboxError(f"no room in {SPACE} for pools of {sorted(pools)} clear of {blocked}")
    return placed


def _moved(text: str, moves: dict[IPv4Network, IPv4Network]) -> str:
    def move(match: re.Match[str]) -> str:
        try:
            address = IPv4Address(match.group(1))
        except ValueError:
            return match.group(0)
        for old, new in moves.items():
            if address in old:
                return str(new.network_address + (int(address) - int(old.network_address)))
        return match.group(0)

    return ADDRESS.sub(move, text)


def sandbox_inventory(
    source: Path, target: Path, lab: str, avoid: Iterable[IPv4Network] = ()
) -> Network:
    """Copy the inventory `source` to `target` as lab `lab`, its pools moved clear of this
    machine (see the module docstring) and of `avoid`; the loaded copy.

    Raises SandboxError when the copy would still conflict with this machine's network.
    """
    shutil.copytree(source, target)
    network_yaml = target / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8")
    pools = pools_of(yaml.safe_load(text))
    placed = place(pools, [*avoid, *machine_prefixes(lab)])
    moves = {pools[key]: placed[key] for key in pools}
    for path in sorted(target.glob("*.yaml")):
        body = path.read_text(encoding="utf-8")
        if path == network_yaml:
            body = LAB_BLOCK.sub("", body).rstrip("\n") + f"\nlab:\n  name: {lab}\n"
        path.write_text(_moved(body, moves), encoding="utf-8")
    network = load_network(target)
    routes, nameservers = guard.read_host(lab)
    conflicts = guard.preflight(network, routes, nameservers)
    if conflicts:
        raise SandboxError(f"{target}: still conflicts: {'; '.join(conflicts)}")
    return network
