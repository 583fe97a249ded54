"""The lab's safety guard: what `lab up` refuses, and what it installs before any link is up.

The lab must never route anything off this machine. Three layers, from DESIGN.md:

1. **Refuse** an inventory whose lab prefixes overlap a route of the root namespace (this
   machine's own network included), contain its gateway or a nameserver it uses (on these
   machines one sits in 10.255.0.0/16: an unreachable route over it would cut package
   installs), or touch 192.0.2.0/24. `preflight` finds every such conflict at once.
2. **Unreachable routes** in the root namespace for exactly the prefixes the lab allocated
   (the roots' blocks of each pool, never a whole private range) and for the simulated
   internet 198.18.0.0/15, except the management subnet, which the root namespace reaches
   on purpose.
3. **An nftables table** that drops everything forwarded from or to lab interfaces, so the
   root namespace can never become a path between lab nodes (the false-pass trap of
   containerlab's management bridge).

Everything is per lab (lab/names.py): its own table, its own metric on its routes, its own
interface prefix. Another lab's routes and devices are conflicts like any route of this
machine (so two labs never overlap), except the simulated internet's unreachable route, the
same guard in every lab (that internet lives inside namespaces only).

The functions here compute; `apply_guard` / `remove_guard` run `ip` and `nft`, in the
namespace they are given (tests give them a throwaway one).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, collapse_addresses
from pathlib import Path

from egovnet.model import Network
from lab.names import guard_metric, guard_table, interface_prefix, is_guard_metric

FORBIDDEN = IPv4Network("192.0.2.0/24")
SIMULATED_INTERNET = IPv4Network("198.18.0.0/15")
"""The lab's internet (RFC 2544 benchmarking space, not a private range): blocked as a whole,
so no probe towards 'the internet' can ever leave through this machine's uplink."""


@dataclass(frozen=True)
class HostRoute:
    """A route of the root namespace, as `ip -j route show table all` reports it."""

    destination: IPv4Network
    device: str
    gateway: IPv4Address | None = None


def lab_prefixes(network: Network) -> list[IPv4Network]:
    """The prefixes the lab uses, management excluded: each pool's root blocks, collapsed.

    Root blocks, not pools: a pool may be far larger than what is allocated from it.
    """
    blocks: list[IPv4Network] = []
    roots = [node for node in network.nodes if node.parent is None]
    for node in roots:
        blocks.extend(
            node.blocks[instance] for instance in network.instances() if instance in node.blocks
        )
    links = [subnet for link in network.links for subnet in link.subnets.values()]
    internet = [
        IPv4Network((int(node.internet.next_hop), 31)) for node in network.nodes if node.internet
    ]
    departments = [dept.prefix for node in network.nodes for dept in node.departments]
    if network.service_zone is not None:  # the service hosts' subnets, like departments'
        departments += list(network.service_zone.prefixes)
    # departments and hand-written addresses may sit outside the roots' blocks: add them
    internet.append(SIMULATED_INTERNET)
    return list(collapse_addresses([*blocks, *links, *internet, *departments]))


def management_prefix(network: Network) -> IPv4Network:
    """The one lab prefix the root namespace reaches: the management subnet."""
    return network.management_subnet


def preflight(
    network: Network,
    routes: Sequence[HostRoute],
    nameservers: Iterable[IPv4Address],
) -> list[str]:
    """Every reason the lab must not start on this machine; empty when it may."""
    problems: list[str] = []
    own_devices = interface_prefix(network.lab_name)
    lab = [*lab_prefixes(network), management_prefix(network)]
    for prefix in lab:
        if prefix.overlaps(FORBIDDEN):
            problems.append(f"lab prefix {prefix} overlaps {FORBIDDEN} (TEST-NET-1, reserved)")
        for route in routes:
            if route.destination.prefixlen == 0:
                if route.gateway is not None and route.gateway in prefix:
                    problems.append(
                        f"lab prefix {prefix} contains this machine's gateway {route.gateway}"
                    )
                continue
            if route.device.startswith(own_devices):
                continue  # this lab's own routes (it is up already): not a conflict
            if prefix.overlaps(route.destination):
                problems.append(
                    f"lab prefix {prefix} overlaps the route {route.destination} "
                    f"of this machine (dev {route.device})"
                )
        for server in nameservers:
            if server in prefix:
                problems.append(
                    f"lab prefix {prefix} contains the nameserver {server} this machine uses"
                )
    return problems


def parse_routes(ip_json: str, lab: str) -> list[HostRoute]:
    """IPv4 routes from `ip -j -4 route show table all`, local and broadcast ones included,
    but for the guard routes of `lab` itself and any lab's route over the simulated internet.
    """
    own = guard_metric(lab)
    routes = []
    for entry in json.loads(ip_json or "[]"):
        destination = entry.get("dst", "")
        if destination == "default":
            destination = "0.0.0.0/0"
        try:
            network = IPv4Network(destination, strict=False)
        except ValueError:
            continue  # IPv6 or a multicast oddity
        if entry.get("type") == "unreachable":
            metric = entry.get("metric")
            if metric == own:
                continue  # the guard of this lab, already up: its own routes, not a conflict
            if network == SIMULATED_INTERNET and is_guard_metric(metric):
                continue  # another lab's guard of the same simulated internet
        gateway = IPv4Address(entry["gateway"]) if "gateway" in entry else None
        routes.append(HostRoute(network, entry.get("dev", ""), gateway))
    return routes


def parse_resolv_conf(text: str) -> list[IPv4Address]:
    """The IPv4 nameservers of a resolv.conf.

    >>> parse_resolv_conf("# x\\nnameserver 10.255.255.53\\nnameserver ::1\\n")
    [IPv4Address('10.255.255.53')]
    """
    servers = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            try:
                servers.append(IPv4Address(parts[1]))
            except ValueError:
                continue
    return servers


def read_host(lab: str, netns: Sequence[str] = ()) -> tuple[list[HostRoute], list[IPv4Address]]:
    """This machine's routes as `lab` must see them (`parse_routes`; in `netns`, the root
    namespace by default) and its nameservers."""
    output = subprocess.run(
        [*netns, "ip", "-j", "-4", "route", "show", "table", "all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    resolv = Path("/etc/resolv.conf")
    servers = parse_resolv_conf(resolv.read_text()) if resolv.exists() else []
    return parse_routes(output, lab), servers


def nft_ruleset(lab: str) -> str:
    """The lab's nftables table: the root namespace forwards nothing from or to its
    interfaces (the bridge and veths named after the lab, lab/names.py)."""
    devices = interface_prefix(lab)
    return (
        f"table inet {guard_table(lab)} {{\n"
        "  chain forward {\n"
        "    type filter hook forward priority -300; policy accept;\n"
        f'    iifname "{devices}*" counter drop\n'
        f'    oifname "{devices}*" counter drop\n'
        "  }\n"
        "}\n"
    )


def guard_commands(network: Network) -> list[list[str]]:
    """The `ip` commands of the unreachable routes, in order (nftables is applied apart)."""
    metric = str(guard_metric(network.lab_name))
    return [
        ["ip", "route", "replace", "unreachable", str(prefix), "metric", metric]
        for prefix in lab_prefixes(network)
    ]


def apply_guard(network: Network, netns: Sequence[str] = ()) -> None:
    """Install the lab's nftables table, then its unreachable routes, in `netns` (a command
    prefix such as `("nsenter", "--net=/run/netns/x")`; empty for the root namespace)."""
    ruleset = nft_ruleset(network.lab_name)
    subprocess.run([*netns, "nft", "-f", "-"], input=ruleset, text=True, check=True)
    for command in guard_commands(network):
        subprocess.run([*netns, *command], check=True)


def remove_guard(lab: str, netns: Sequence[str] = ()) -> int:
    """Remove what `apply_guard` installed for `lab`, found by its marks (idempotent); the
    routes removed. Another lab's guard is left as it is.

    Needs no inventory, only the lab's name: `lab down` must work after the inventory
    changed or broke.
    """
    metric = guard_metric(lab)
    listing = subprocess.run(
        [*netns, "ip", "-j", "-4", "route", "show", "type", "unreachable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    removed = 0
    for entry in json.loads(listing or "[]"):
        if entry.get("metric") == metric:
            subprocess.run(
                [
                    *netns,
                    "ip",
                    "route",
                    "del",
                    "unreachable",
                    entry["dst"],
                    "metric",
                    str(metric),
                ],
                check=False,
                capture_output=True,
            )
            removed += 1
    subprocess.run(
        [*netns, "nft", "delete", "table", "inet", guard_table(lab)],
        check=False,
        capture_output=True,
    )
    return removed
