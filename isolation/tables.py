"""Live routing tables (`vtysh -c 'show ip route vrf all json'`) checked against the policy
and against the tables the intended configurations imply.

FRR prints one JSON object per VRF, one after the other; `parse_routes` reads them all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from egovnet.model import GLOBAL, Network
from isolation.access import LabAccess
from isolation.analysis import internal_pools
from isolation.findings import Finding
from isolation.routing import RoutingState

SOURCE = "table"
COMMAND = "show ip route vrf all json"


@dataclass(frozen=True)
class LiveRoute:
    """A selected route of a live table.

    >>> LiveRoute(IPv4Network("0.0.0.0/0"), "static", ("198.18.0.112 eth3",)).text
    '0.0.0.0/0 static via 198.18.0.112 eth3'
    """

    prefix: IPv4Network
    protocol: str
    via: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.prefix} {self.protocol} via {', '.join(self.via) or 'discard'}"


def parse_routes(text: str) -> dict[str, dict[IPv4Network, LiveRoute]]:
    """VRF -> prefix -> selected route, from `show ip route vrf all json` (VRF `default` is
    called `global` here, like the underlay everywhere else in egovnet)."""
    tables: dict[str, dict[IPv4Network, LiveRoute]] = {}
    decoder = json.JSONDecoder()
    at, text = 0, text.strip()
    while at < len(text):
        document, at = decoder.raw_decode(text, at)
        while at < len(text) and text[at].isspace():
            at += 1
        for prefix, routes in document.items():
            for route in routes:
                if not route.get("selected"):
                    continue
                vrf = route.get("vrfName", "default")
                vrf = GLOBAL if vrf == "default" else vrf
                via = tuple(
                    _hop(hop) for hop in route.get("nexthops", []) if not hop.get("blackhole")
                )
                tables.setdefault(vrf, {})[IPv4Network(prefix)] = LiveRoute(
                    IPv4Network(prefix), route.get("protocol", "?"), via
                )
    return tables


def _hop(hop: Mapping[str, Any]) -> str:
    return " ".join(str(hop[k]) for k in ("ip", "interfaceName") if hop.get(k))


def read_tables(
    lab: LabAccess, network: Network
) -> dict[str, dict[str, dict[IPv4Network, LiveRoute]]]:
    """Every router's live tables: host -> VRF -> prefix -> route."""

    def one(host: str) -> dict[str, dict[IPv4Network, LiveRoute]]:
        done = lab.run(host, ["vtysh", "-N", host, "-c", COMMAND])
        return parse_routes(done.stdout) if done.returncode == 0 else {}

    hosts = [n.name for n in network.nodes]
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(hosts, pool.map(one, hosts), strict=True))


def table_findings(
    network: Network,
    live: Mapping[str, Mapping[str, Mapping[IPv4Network, LiveRoute]]],
    expected: RoutingState,
) -> Iterator[Finding]:
    """No internet route in a zone without internet; no private or management prefix in
    the exit's internet-facing table; no internet-facing route outside the exit; and every
    table holding exactly the prefixes the intended configurations imply."""
    pools = internal_pools(network)
    policy = network.policy.zones
    closed = {z for z, p in policy.items() if not p.internet}
    exits = set(network.policy.exits)
    inside = [network.zone(z).pool for z in closed] + [network.management_subnet]

    def internal(prefix: IPv4Network) -> bool:
        return any(prefix.subnet_of(pool) for pool in pools)

    for node in network.nodes:
        tables = live.get(node.name)
        if not tables:
            yield Finding("table-matches-model", node.name, "", "", "no routing table read", SOURCE)
            continue
        vrfs = set(tables) | {vrf for host, vrf in expected.tables if host == node.name}
        for vrf in sorted(vrfs):
            routes = tables.get(vrf, {})
            evidence = f"vtysh -N {node.name} -c '{COMMAND}'"
            for prefix, route in sorted(routes.items()):
                external = not internal(prefix)
                if external and vrf in closed:
                    yield Finding(
                        "private-no-internet-route",
                        node.name,
                        vrf,
                        str(prefix),
                        f"{evidence}: {route.text}",
                        SOURCE,
                    )
                if (
                    external
                    and route.protocol == "connected"
                    and (node.name not in exits or vrf in closed)
                ):
                    yield Finding(
                        "single-exit",
                        node.name,
                        vrf,
                        str(prefix),
                        f"{evidence}: {route.text}: an interface toward the internet",
                        SOURCE,
                    )
                if (
                    node.name in exits
                    and vrf not in closed
                    and vrf != GLOBAL
                    and any(prefix.subnet_of(p) for p in inside)
                ):
                    yield Finding(
                        "no-private-prefix-at-exit",
                        node.name,
                        vrf,
                        str(prefix),
                        f"{evidence}: {route.text}",
                        SOURCE,
                    )
            yield from _compare(node.name, vrf, routes, expected.tables.get((node.name, vrf)))


def _compare(
    host: str, vrf: str, routes: Mapping[IPv4Network, LiveRoute], table: Any
) -> Iterator[Finding]:
    wanted = set(table.routes) if table is not None else set()
    have = set(routes)
    for prefix in sorted(have - wanted):
        yield Finding(
            "table-matches-model",
            host,
            vrf,
            str(prefix),
            f"unexpected: {routes[prefix].text}",
            SOURCE,
        )
    for prefix in sorted(wanted - have):
        route = table.routes[prefix]
        yield Finding(
            "table-matches-model",
            host,
            vrf,
            str(prefix),
            f"missing: the intended configs give {route.kind} from {route.evidence}",
            SOURCE,
        )
