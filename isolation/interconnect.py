"""The reachability matrix the inventory implies, checked live, with loss and latency.

What must reach what:

* every department reaches its node (its gateway), a department of its zone at its city
  and at each province core, and the policy's shared services of its zone (ICMP x3, TCP);
* every router reaches the far end of each of its uplinks, and every province core's
  loopback from its own loopback *over each uplink on its own* (TCP toward a closed port:
  the core's reset proves the way there and back), so redundancy is checked, not assumed.

What must not: a department of a zone without internet to the internet server, a
department to the other zone's department on its own node, the internet to departments.

DNS (`isolation.resolvers`, with a service zone): from one department of every granted zone
at every node, each resolver answers the service names right, an internet name through the
exit for zones with internet, and refuses it at once for zones without (kinds `dns`,
`dns-internet`, `dns-refused`; `reachable` is "answered right").

Results serialise as they are for `--json`, and as Prometheus text (`metrics_text`) for
the monitoring stack: `egov_interconnect_reachable`, `_loss_ratio`, `_rtt_seconds`, and
`egov_isolation_violations` (must-not pairs that answered, by rule), and `egov_dns_up`,
`egov_dns_query_seconds`, `egov_dns_answer_correct` for the DNS probes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from ipaddress import IPv4Address

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from egovnet import platforms
from egovnet.model import GLOBAL, Network, Node
from isolation.access import LabAccess, LabNames
from isolation.probes import (
    Flow,
    Result,
    attacker_routes,
    department_hosts,
    listeners,
    run_flows,
)
from isolation.resolvers import dns_flows, judge

COUNT = 3
"""Probes per pair: enough for a loss ratio, few enough for a province in a minute."""


@dataclass(frozen=True)
class PairResult:
    """One pair of the matrix and what the lab said.

    Example: ``PairResult(src="zhengding-caizhengju", node="zhengding", dst="zhengding",
    kind="node", zone="private", city="石家庄市", expected=True, reachable=True,
    loss=0.0, rtt_ms=0.08)``
    """

    src: str
    node: str
    """The router the source belongs to (the exit, for the internet host)."""
    dst: str
    kind: str
    """node, city, core, shared, uplink, core-via-uplink, or must-not."""
    zone: str
    city: str
    expected: bool
    reachable: bool
    loss: float | None
    rtt_ms: float | None
    qname: str | None = None
    """DNS probes (kinds `dns`, `dns-internet`, `dns-refused`): the name asked of `dst`,
    a resolver; `reachable` then says whether the answer was the right one."""
    answer: str | None = None
    """DNS probes: what came back (`NOERROR 10.112.0.2`, `REFUSED`, `no answer (timeout)`)."""

    @property
    def ok(self) -> bool:
        return self.reachable == self.expected

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"ok": self.ok}


def _city_of(network: Network, node: Node) -> Node | None:
    current: Node | None = node
    while current is not None and current.tier != "city":
        current = network.node(current.parent) if current.parent else None
    return current


def _group(node: Node) -> str:
    return node.city or node.province or node.region


def matrix(network: Network, names: LabNames, port: str | None = None) -> list[Flow]:
    """Every pair of the matrix as a flow (see the module docstring); uplink probes leave by
    the interface `port` names (default: the lab platform's port naming)."""
    port = port or platforms.lab_platform().naming.port
    policy = network.policy.zones
    cores = [n for n in network.nodes if n.parent is None]
    hosts = department_hosts(network, names)
    at: dict[tuple[str, str], list[tuple[str, IPv4Address]]] = {}
    for host, router, zone, address in hosts:
        at.setdefault((router, zone), []).append((host, address))
    shared = [
        (names.department_host(s.host, s.department), network.node(s.host), s.department)
        for s in network.policy.shared_services
    ]
    probes = network.policy.probes
    flows: list[Flow] = []

    def add(
        src: str,
        node: Node,
        zone: str,
        target: tuple[str, IPv4Address, str],
        kind: str,
        protocols: tuple[str, ...],
        *,
        allowed: bool = True,
        source: IPv4Address | None = None,
        device: str | None = None,
    ) -> None:
        name, address, target_zone = target
        flows.append(
            Flow(
                src,
                node.name,
                zone,
                address,
                name,
                target_zone,
                allowed,
                protocols,
                tcp_port=probes.tcp_port,
                udp_port=probes.udp_port,
                count=COUNT,
                source=source,
                device=device,
                kind=kind,
            )
        )

    for host, router, zone, _address in hosts:
        node = network.node(router)
        gateway = next(
            d.gateway.ip for d in node.departments if names.department_host(router, d.name) == host
        )
        add(host, node, zone, (router, gateway, zone), "node", ("icmp",))
        targets: list[tuple[str, str, IPv4Address]] = []
        city = _city_of(network, node)
        if city is not None and city.name != router:
            targets += [("city", h, a) for h, a in at.get((city.name, zone), [])[:1]]
        for core in cores:
            if core.name != router:
                targets += [("core", h, a) for h, a in at.get((core.name, zone), [])[:1]]
        for shared_host, shared_node, dept in shared:
            for d in shared_node.departments:
                if shared_node.name != router and d.name == dept and d.zone == zone:
                    targets.append(("shared", shared_host, d.host.ip))
        for kind, target, address in targets:
            add(host, node, zone, (target, address, zone), kind, ("icmp", "tcp"))
        for other_zone in (z for z in node.zones if z != zone):
            for other, other_address in at.get((router, other_zone), []):
                target_other = (other, other_address, other_zone)
                add(host, node, zone, target_other, "must-not", ("icmp", "tcp"), allowed=False)
        if not policy[zone].internet:
            for exit_host in network.policy.exits:
                internet = (names.internet_host(exit_host), names.internet_server, "internet")
                add(host, node, zone, internet, "must-not", ("icmp", "tcp"), allowed=False)
    for node in network.nodes:
        for link in network.links_of(node.name):
            mine = link.lower if link.lower.host == node.name else link.upper
            if mine is link.upper and link.kind != "peer":
                continue  # checked from the lower end, whose uplink it is
            far = link.other(node.name)
            device = port.format(n=mine.port)
            far_address = link.address(far.host, GLOBAL).ip
            add(
                node.name,
                node,
                GLOBAL,
                (far.host, far_address, GLOBAL),
                "uplink",
                ("reach",),
                device=device,
            )
            direct = {link.other(node.name).host for link in network.links_of(node.name)}
            for core in cores:
                # a core linked to this node directly answers over that link, whichever
                # uplink the probe left by: over another one, the check would test nothing
                if core.name == node.name or (core.name in direct and core.name != far.host):
                    continue
                via = (f"{core.name} via {device}", core.loopback, GLOBAL)
                add(
                    node.name,
                    node,
                    GLOBAL,
                    via,
                    "core-via-uplink",
                    ("reach",),
                    source=node.loopback,
                    device=device,
                )
        for core in cores:
            if core.name != node.name:
                core_target = (core.name, core.loopback, GLOBAL)
                add(node.name, node, GLOBAL, core_target, "core", ("reach",), source=node.loopback)
    for exit_host in network.policy.exits:
        internet_host = names.internet_host(exit_host)
        for host, _router, zone, address in hosts:
            add(
                internet_host,
                network.node(exit_host),
                "internet",
                (host, address, zone),
                "must-not",
                ("icmp", "tcp"),
                allowed=False,
            )
    return flows


def _pair(network: Network, result: Result) -> PairResult:
    flow = result.flow
    if "dns" in flow.protocols:
        judged = judge(result)
        return PairResult(
            flow.src,
            flow.router,
            flow.target,
            flow.kind,
            flow.zone,
            _group(network.node(flow.router)),
            True,
            judged.correct,
            None,
            judged.rtt_ms,
            qname=judged.qname,
            answer=judged.summary(),
        )
    first = next(iter(result.answers.values()), {})
    counted = next((a for a in result.answers.values() if a.get("loss") is not None), first)
    return PairResult(
        flow.src,
        flow.router,
        flow.target,
        flow.kind,
        flow.zone,
        _group(network.node(flow.router)),
        flow.allowed,
        result.ok(),
        counted.get("loss"),
        counted.get("rtt_ms"),
    )


def check(
    network: Network, lab: LabAccess, names: LabNames, timeout: float | None = None
) -> list[PairResult]:
    """Run the matrix in the lab, and the DNS probes (`isolation.resolvers`) beside it; listeners
    and the internet host's routes only meanwhile."""
    flows = matrix(network, names)
    probes = network.policy.probes
    hosts = sorted({(f.target, f.dst) for f in flows if "tcp" in f.protocols})
    exit_host = network.policy.exits[0]
    uplink = network.node(exit_host).internet
    assert uplink is not None  # noqa: S101 - an exit has its uplink (validated)
    reachable_hosts = [h for h in hosts if h[0] in lab.nodes()]
    with (
        listeners(lab, reachable_hosts, probes.tcp_port, probes.udp_port),
        attacker_routes(lab, names.internet_host(exit_host), uplink.address.ip, network),
    ):
        results = run_flows(
            lab, [*flows, *dns_flows(network, names)], timeout or probes.timeout, trace=False
        )
    return [_pair(network, r) for r in results]


def metrics_text(network: Network, pairs: Sequence[PairResult]) -> str:
    """The results in Prometheus' text format, on a registry of their own."""
    registry = CollectorRegistry()
    labels = [
        "host",
        "tier",
        "province",
        "city",
        "county",
        "src",
        "dst",
        "kind",
        "zone",
        "expected",
    ]
    reachable = Gauge(
        "egov_interconnect_reachable", "1 if the pair answered", labels, registry=registry
    )
    loss = Gauge("egov_interconnect_loss_ratio", "Share of probes lost", labels, registry=registry)
    rtt = Gauge(
        "egov_interconnect_rtt_seconds", "Mean round trip of the probes", labels, registry=registry
    )
    violations = Gauge(
        "egov_isolation_violations", "Must-not pairs that answered", ["rule"], registry=registry
    )
    dns_labels = ["server", "zone", "src", "qname", "kind"]
    dns_up = Gauge(
        "egov_dns_up", "1 if the resolver answered the zone's probes", ["server", "zone"],
        registry=registry,
    )  # fmt: skip
    dns_seconds = Gauge(
        "egov_dns_query_seconds", "Time to the resolver's answer", dns_labels, registry=registry
    )
    dns_correct = Gauge(
        "egov_dns_answer_correct",
        "1 if the answer was the right one (the address, or a refusal at once)",
        dns_labels,
        registry=registry,
    )
    answered: dict[tuple[str, str], bool] = {}
    for pair in pairs:
        if pair.qname is not None:
            values = [pair.dst, pair.zone, pair.src, pair.qname, pair.kind]
            dns_correct.labels(*values).set(1 if pair.reachable else 0)
            if pair.rtt_ms is not None:
                dns_seconds.labels(*values).set(pair.rtt_ms / 1000)
            key = (pair.dst, pair.zone)
            answered[key] = answered.get(key, False) or pair.rtt_ms is not None
            continue
        node = network.node(pair.node)
        values = [
            node.name,
            node.tier,
            node.province or "",
            node.city or "",
            node.county or "",
            pair.src,
            pair.dst,
            pair.kind,
            pair.zone,
            "reach" if pair.expected else "must-not",
        ]
        reachable.labels(*values).set(1 if pair.reachable else 0)
        if pair.loss is not None:
            loss.labels(*values).set(pair.loss)
        if pair.rtt_ms is not None:
            rtt.labels(*values).set(pair.rtt_ms / 1000)
    for (server, zone), up in sorted(answered.items()):
        dns_up.labels(server, zone).set(1 if up else 0)
    broken = [p for p in pairs if not p.expected and p.reachable]
    violations.labels("interconnect-must-not").set(len(broken))
    return generate_latest(registry).decode()
