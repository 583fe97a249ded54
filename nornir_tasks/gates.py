"""Health gates: what must hold after a wave before the rollout goes on.

What the model expects, checked on the devices: every BGP session that a link of a changed
node implies is Established; the node reaches its parent, its other uplinks and the province
core over the data plane; SSH and SNMP still answer. Probes that need a vantage point inside
the network (a ping from the node, an SNMP query) are passed in, because where they run
from differs: the lab runs them in the node's namespace, production from a jump host.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence, Set
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from nornir.core import Nornir

from egovnet.model import Network, Node
from egovnet.probes import snmp_answers, ssh_answers
from egovnet.secrets import SnmpCredentials
from nornir_tasks.drivers.base import BgpPeer
from nornir_tasks.tasks import bgp_neighbors

PROBE_WORKERS = 16

# (node, source address, target address) -> reached?
PingProbe = Callable[[Node, str, str], bool]
# node -> does its SNMP agent answer?
SnmpProbe = Callable[[Node], bool]


@dataclass(frozen=True)
class GateResult:
    """One gate on one host. Example: ``GateResult("zhengding", "bgp", False,
    "10.64.16.144 (default): Active")``"""

    host: str
    gate: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_peers(network: Network, host: str) -> dict[tuple[str, str], str]:
    """(vrf, peer address) -> peer host, for every BGP session the model says `host` has."""
    return {(s.vrf, str(s.peer_address)): s.peer for s in network.sessions_of(host)}


def bgp_gate(
    network: Network, host: str, peers: Sequence[BgpPeer], pending: Set[str] = frozenset()
) -> GateResult:
    """Every expected session Established, except with `pending` hosts (a later wave has yet
    to configure them); names the sessions that are not."""
    state = {(p["vrf"], p["address"]): p["state"] for p in peers}
    expected = {
        key: peer for key, peer in expected_peers(network, host).items() if peer not in pending
    }
    bad = [
        f"{address} ({vrf}, {peer_host}): {state.get((vrf, address), 'missing')}"
        for (vrf, address), peer_host in sorted(expected.items())
        if state.get((vrf, address)) != "Established"
    ]
    count = len(expected)
    detail = "; ".join(bad) if bad else f"{count} sessions Established"
    return GateResult(host, "bgp", not bad, detail)


def reach_targets(network: Network, node: Node) -> list[Node]:
    """Whom a node must reach: its parent, its other uplinks, the province core."""
    names = [n for n in (node.parent, *node.uplinks) if n]
    names += [n.name for n in network.nodes if n.tier == "province" and n.name != node.name]
    return [network.node(name) for name in dict.fromkeys(names)]


class WaveGate(Protocol):
    """A gate judged against the state before the wave (the compliance gate): it hears the
    wave's hosts before the push, and is asked once after the health gates pass."""

    def baseline(self, wave: str, hosts: list[str]) -> None:
        """Remember the hosts' state before the wave is pushed."""
        ...

    def check(self, hosts: Sequence[str]) -> list[GateResult]:
        """The hosts now against their baseline: a failing result rolls the wave back."""
        ...


@dataclass
class HealthGates:
    """The gates of one network, with whichever probes this place can run; `extra` gates
    (`WaveGate`) are asked once, after the health gates pass (a routing change converges
    within the timeout, a regression against the baseline does not go away by waiting)."""

    network: Network
    ping: PingProbe | None = None
    snmp: SnmpProbe | None = None
    timeout: float = 90.0
    interval: float = 2.0
    extra: Sequence[WaveGate] = ()

    def check(
        self, nornir: Nornir, hosts: Iterable[str], pending: Set[str] = frozenset()
    ) -> list[GateResult]:
        """Every gate on every host, once; sessions with and pings to `pending` hosts (not
        yet brought to the inventory by this run) are not expected."""
        names = sorted(hosts)
        if not names:
            return []
        results: list[GateResult] = []
        aggregated = nornir.filter(filter_func=lambda h: h.name in names).run(
            task=bgp_neighbors, on_failed=True
        )
        nodes = [self.network.node(name) for name in names]
        # probes wait on subprocesses and sockets, not the CPU: run them side by side
        with ThreadPoolExecutor(max_workers=PROBE_WORKERS) as pool:
            probes = list(pool.map(lambda node: self._probes(node, pending), nodes))
        for name, probed in zip(names, probes, strict=True):
            outcome = aggregated[name][0]
            if outcome.failed:
                results.append(GateResult(name, "bgp", False, f"no answer: {outcome.exception}"))
            else:
                results.append(bgp_gate(self.network, name, outcome.result, pending))
            results += probed
        return results

    def _probes(self, node: Node, pending: Set[str]) -> list[GateResult]:
        results = []
        address = str(node.management.ip)
        results.append(GateResult(node.name, "ssh", ssh_answers(address, node.port or 22), address))
        if self.snmp is not None:
            results.append(GateResult(node.name, "snmp", self.snmp(node), address))
        if self.ping is not None:
            for target in (t for t in reach_targets(self.network, node) if t.name not in pending):
                source, dest = str(node.loopback), str(target.loopback)
                ok = self.ping(node, source, dest)
                results.append(
                    GateResult(node.name, f"reach {target.name}", ok, f"{source} -> {dest}")
                )
        return results

    def sessions(self, nornir: Nornir, hosts: Iterable[str]) -> dict[str, set[tuple[str, str]]]:
        """(vrf, peer) of every Established session per host, for hosts that answered."""
        names = set(hosts)
        if not names:  # Nornir warns on stdout when a task selects no host
            return {}
        aggregated = nornir.filter(filter_func=lambda h: h.name in names).run(
            task=bgp_neighbors, on_failed=True
        )
        return {
            name: {(p["vrf"], p["address"]) for p in multi[0].result if p["state"] == "Established"}
            for name, multi in aggregated.items()
            if not multi[0].failed
        }

    def wait_restored(
        self, nornir: Nornir, before: dict[str, set[tuple[str, str]]]
    ) -> tuple[bool, list[GateResult], float]:
        """After a rollback: wait until every session that was Established before the run
        is Established again (a rollback that leaves an adjacency down is not done)."""
        started = time.monotonic()
        while True:
            now = self.sessions(nornir, before)
            results = []
            for host, wanted in sorted(before.items()):
                missing = sorted(wanted - now.get(host, set()))
                detail = ", ".join(f"{a} ({v})" for v, a in missing) or f"{len(wanted)} up again"
                results.append(GateResult(host, "bgp restored", not missing, detail))
            waited = time.monotonic() - started
            if all(r.ok for r in results) or waited >= self.timeout:
                return all(r.ok for r in results), results, waited
            time.sleep(self.interval)

    def wait(
        self, nornir: Nornir, hosts: Iterable[str], pending: Set[str] = frozenset()
    ) -> tuple[bool, list[GateResult], float]:
        """Check until every gate passes or `timeout` runs out: (passed, last results,
        seconds waited). Routing needs a few seconds to converge after a change."""
        started = time.monotonic()
        names = list(hosts)
        while True:
            results = self.check(nornir, names, pending)
            waited = time.monotonic() - started
            if all(r.ok for r in results) and self.extra:
                results += [r for gate in self.extra for r in gate.check(names)]
                return all(r.ok for r in results), results, time.monotonic() - started
            if all(r.ok for r in results) or waited >= self.timeout:
                return all(r.ok for r in results), results, waited
            time.sleep(self.interval)


def snmpv3_probe(user: SnmpCredentials, timeout: float = 2.0) -> SnmpProbe:
    """A probe reading sysUpTime from each node's agent (on its management address) as the
    NOC's user: the agent answers, and still takes the NOC's keys after the change. Through
    pysnmp (`egovnet.probes`), so that no net-snmp tool is needed and no key is ever on a
    command line."""

    def answers(node: Node) -> bool:
        return snmp_answers(str(node.management.ip), user=user, timeout=timeout)

    return answers
