"""The lab as the other parts see it: commands through `nsenter` into the node holders
that `lab.runner` finds (the isolation part's `LabAccess`, the gates' ping probe), the
exporter's route check over the lab's management bridge, and the topology's names for hosts
around the routers."""

from __future__ import annotations

import select
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from egovnet.errors import EgovnetError
from egovnet.model import Network, Node
from exporters.server import via_device
from isolation.access import Completed, LabNames
from lab import runner as lab_runner
from lab.names import bridge as lab_bridge
from lab.runner import Holder, find_holders
from nornir_tasks.gates import PingProbe
from topology.clab import INTERNET_NODE, INTERNET_SERVER, department_host, dns_hosts
from topology.dns import INTERNET_NAME, NAMED_CONF, NAMED_DIR


class LabNotUpError(EgovnetError, RuntimeError):
    """The live checks need the lab: `egovnet lab up` first."""


@dataclass
class _Process:
    process: subprocess.Popen[str]

    def first_line(self, timeout: float) -> str:
        assert self.process.stdout is not None  # noqa: S101 - started with a pipe
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        return self.process.stdout.readline() if ready else ""

    def stop(self) -> None:
        # closing its input ends the agent wherever it runs (nsenter may have forked it)
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@dataclass
class RunnerAccess:
    """`LabAccess` over `lab.runner`'s holders (all of the node's namespaces) of one lab,
    the inventory's (`Network.lab_name`): never another lab's nodes of the same names."""

    lab: str
    holders: dict[str, Holder] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.holders = {h.node: h for h in find_holders(self.lab)}
        if not self.holders:
            raise LabNotUpError(f"lab {self.lab} is not up: run `egovnet lab up` first")

    def _argv(self, node: str, argv: Sequence[str], zone: str | None) -> list[str]:
        holder = self.holders.get(node)
        if holder is None:
            raise LabNotUpError(f"no node '{node}' in lab {self.lab}")
        inside = ["ip", "netns", "exec", zone, *argv] if zone else list(argv)
        return ["nsenter", "-t", str(holder.pid), "-m", "-u", "-n", "-p", *inside]

    def run(
        self, node: str, argv: Sequence[str], *, zone: str | None = None, timeout: float = 30.0
    ) -> Completed:
        try:
            done = subprocess.run(  # noqa: S603 - an argument list built from the model
                self._argv(node, argv, zone),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Completed(124, "", f"timed out after {timeout:.0f}s")
        return Completed(done.returncode, done.stdout, done.stderr)

    def start(self, node: str, argv: Sequence[str]) -> _Process:
        process = subprocess.Popen(  # noqa: S603 - an argument list built from the model
            self._argv(node, argv, None),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.PIPE,
            text=True,
        )
        return _Process(process)

    def nodes(self) -> set[str]:
        return set(self.holders)


def lab_names(network: Network) -> LabNames:
    """The topology's names for the hosts around the routers (topology/clab.py)."""
    return LabNames(
        department_host=lambda router, dept: department_host(network.node(router), dept),
        internet_host=lambda exit_host: f"{INTERNET_NODE}-{exit_host}",
        internet_server=INTERNET_SERVER.ip,
        internet_name=INTERNET_NAME,
        named_conf=NAMED_CONF,
    )


def lab_ping_probe(lab: str) -> PingProbe | None:
    """Pings from inside the node namespaces of lab `lab` (the inventory's), when it runs
    here; never from another lab's nodes of the same names."""
    try:
        holders = {holder.node: holder for holder in lab_runner.find_holders(lab)}
    except OSError:
        return None
    if not holders:
        return None

    def ping(node: Node, source: str, target: str) -> bool:
        holder = holders.get(node.name)
        if holder is None:
            return False
        output = holder.enter("ping", "-n", "-c", "1", "-W", "2", "-I", source, target, check=False)
        return " 1 received" in output

    return ping


def lab_route_check(lab: str) -> Callable[[str], bool]:
    """The exporter's guard in lab `lab`: True only for an address routed over that lab's
    management bridge, so no SNMP packet leaves for a network outside the lab (nor for
    another lab's routers)."""
    return via_device(lab_bridge(lab))


def service_hosts(network: Network) -> list[str]:
    """The service zone's host names (`dns1`): what DNS findings name as their host."""
    service = network.service_zone
    return [h.name for h in service.hosts] if service else []


def restore_named(network: Network, hosts: Sequence[str]) -> list[str]:
    """Put back the intended named files (`topology.clab.dns_hosts`) of the lab's service
    hosts `hosts` and restart their named when anything differed; the hosts changed.

    A lab DNS host's /etc/bind is the bound folder beside the topology file, so the files
    are written through the node's own view of it (/proc/<holder>/root), as an operator
    would edit them there; named is stopped by its pid file and started as `lab up` does."""
    service = network.service_zone
    if service is None:
        return []
    holders = {h.node: h for h in find_holders(network.lab_name)}
    intended = dns_hosts(network)
    changed = []
    for host in service.hosts:
        node = department_host(network.node(host.node), host.name)
        holder = holders.get(node)
        if host.name not in hosts or holder is None or node not in intended:
            continue
        differs = False
        for name, text in intended[node].items():
            path = holder.path(f"{NAMED_DIR}/{name}")
            try:
                now = path.read_text(encoding="utf-8")
            except OSError:
                now = None
            if now != text:
                path.write_text(text, encoding="utf-8")
                differs = True
        if differs:
            holder.enter("sh", "-c", RESTART_NAMED, check=False)
            changed.append(host.name)
    return changed


RESTART_NAMED = lab_runner.named_restart(f"named -4 -c {NAMED_CONF}")
"""Stop named by its pid file and start it as `lab up` does."""
