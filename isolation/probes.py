"""Probes on the lab's data plane: what answers, over which path, and through which NAT.

Listeners (`probe_agent serve`) run in every department host and the internet host for the
duration of a run and are stopped after it; each source host runs all its probes in one
agent process, the sources side by side, so a run takes a few probe timeouts whatever the
number of flows. Every successful flow is traced (UDP TTL probes), and the hops must be
data-plane addresses of routers that form a path in the inventory, never the management
network; the source's own route toward the target must leave through its data interface.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

from egovnet.model import Network
from isolation.access import LabAccess, LabNames

AGENT = str(Path(__file__).with_name("probe_agent.py"))
PROTOCOLS = ("icmp", "tcp", "udp")


@dataclass(frozen=True)
class Flow:
    """One source host probing one destination address, and whether the policy allows it."""

    src: str
    router: str
    """The router behind which `src` sits (the exit, for the internet host)."""
    zone: str
    """The source's zone (`internet` for the internet host)."""
    dst: IPv4Address
    target: str
    """What `dst` is: a host node's name, or `management of NODE`."""
    target_zone: str
    allowed: bool
    protocols: tuple[str, ...] = PROTOCOLS
    tcp_port: int | None = None
    udp_port: int | None = None
    count: int = 1
    source: IPv4Address | None = None
    """Source address to probe from (`reach`: a router's loopback)."""
    device: str | None = None
    """Interface to leave through (`reach`: one uplink)."""
    kind: str = ""
    """The pair's kind in the interconnect matrix (node, city, core, ...)."""
    qname: str | None = None
    """`dns`: the name asked of the server at `dst`."""
    expect: tuple[str, ...] = ()
    """`dns`: the addresses the answer must hold."""

    @property
    def label(self) -> str:
        return f"{self.src} -> {self.target} ({self.dst})"


@dataclass
class Result:
    """A flow's outcome per protocol, and (when anything answered) its traced hops."""

    flow: Flow
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    hops: list[str | None] = field(default_factory=list)

    def ok(self, proto: str | None = None) -> bool:
        wanted = [proto] if proto else list(self.answers)
        return any(self.answers.get(p, {}).get("ok") for p in wanted)


def data_plane_addresses(network: Network) -> dict[IPv4Address, str]:
    """Every router address a data-plane hop may come from -> the router's name."""
    owners: dict[IPv4Address, str] = {}
    for link in network.links:
        for instance in link.subnets:
            for end in (link.upper, link.lower):
                owners[link.address(end.host, instance).ip] = end.host
    for node in network.nodes:
        owners[node.loopback] = node.name
        for dept in node.departments:
            owners[dept.gateway.ip] = node.name
        if node.internet is not None:
            owners[node.internet.address.ip] = node.name
    return owners


@contextmanager
def listeners(
    lab: LabAccess, hosts: Sequence[tuple[str, IPv4Address]], tcp_port: int, udp_port: int
) -> Iterator[None]:
    """Probe listeners in `hosts` (node, address) for the duration of the block; all
    stopped after, whatever happens in it."""
    with ExitStack() as stack:
        for host, address in hosts:
            running = lab.start(
                host,
                [sys.executable, AGENT, "serve", host, str(tcp_port), str(udp_port), str(address)],
            )
            stack.callback(running.stop)
            line = running.first_line(5.0)
            if line.strip() != "ready":
                msg = f"probe listener in {host} did not start: {line.strip() or 'no output'}"
                raise RuntimeError(msg)
        yield


def run_flows(lab: LabAccess, flows: Sequence[Flow], timeout: float, trace: bool) -> list[Result]:
    """Every flow's probes, one agent per source host, the sources in parallel."""
    by_source: dict[str, list[Flow]] = {}
    for flow in flows:
        by_source.setdefault(flow.src, []).append(flow)

    def one_source(src: str) -> list[Result]:
        specs = [
            {
                "dst": str(flow.dst),
                "protocols": list(flow.protocols),
                "tcp_port": flow.tcp_port,
                "udp_port": flow.udp_port,
                "count": flow.count,
                "source": str(flow.source) if flow.source else None,
                "device": flow.device,
                "qname": flow.qname,
                "trace": trace and "dns" not in flow.protocols,
            }
            for flow in by_source[src]
        ]
        done = lab.run(
            src,
            [sys.executable, AGENT, "probe", json.dumps(specs), str(timeout)],
            timeout=60 + 10 * timeout * len(specs),
        )
        if done.returncode != 0:
            msg = f"probes from {src} failed: {done.stderr.strip()[:300]}"
            raise RuntimeError(msg)
        return [
            Result(flow, answer["answers"], answer["hops"])
            for flow, answer in zip(by_source[src], json.loads(done.stdout), strict=True)
        ]

    with ThreadPoolExecutor(max_workers=min(32, len(by_source) or 1)) as pool:
        return [r for rs in pool.map(one_source, sorted(by_source)) for r in rs]


def internal_prefixes(network: Network) -> list[IPv4Network]:
    return [
        *(z.pool for z in network.zones),
        network.loopback_pool,
        network.management_subnet,
        network.link_pool,
    ]


@contextmanager
def attacker_routes(
    lab: LabAccess, internet_host: str, via: IPv4Address, network: Network
) -> Iterator[None]:
    """Routes on the internet host toward the extranet through the exit, for the block: the
    worst case, an attacker next to the exit sending to inside addresses. Removed after."""
    added = []
    try:
        for prefix in internal_prefixes(network):
            done = lab.run(internet_host, ["ip", "route", "add", str(prefix), "via", str(via)])
            if done.returncode == 0:
                added.append(prefix)
        yield
    finally:
        for prefix in added:
            lab.run(internet_host, ["ip", "route", "del", str(prefix), "via", str(via)])


def source_routes(
    lab: LabAccess, flows: Sequence[Flow]
) -> dict[tuple[str, IPv4Address], dict[str, Any]]:
    """`ip route get DST` in each source host for each destination: the way out it takes."""
    pairs = sorted({(f.src, f.dst) for f in flows}, key=str)

    def get(pair: tuple[str, IPv4Address]) -> dict[str, Any]:
        done = lab.run(pair[0], ["ip", "-j", "route", "get", str(pair[1])])
        try:
            parsed = json.loads(done.stdout or "[]")
        except ValueError:
            parsed = []
        return parsed[0] if parsed else {"error": done.stderr.strip()}

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(pairs, pool.map(get, pairs), strict=True))


def department_hosts(network: Network, names: LabNames) -> list[tuple[str, str, str, IPv4Address]]:
    """(host node, router, zone, address) of every department host."""
    return [
        (
            names.department_host(node.name, dept.name),
            node.name,
            dept.zone,
            dept.host.ip,
        )
        for node in network.nodes
        for dept in node.departments
    ]


def management_targets(network: Network) -> list[tuple[str, IPv4Address]]:
    return [(node.name, node.management.ip) for node in network.nodes]
