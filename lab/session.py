"""Bringing one inventory's lab up and down on this machine: guard, nodes, convergence.

The order is the safety: refuse (another lab with the same tag, any conflict of the guard's
preflight), install the guard, only then start nodes and links; wait for BGP; report every
node. `down` needs nothing but the lab's name, so it works after a crash and with an
inventory that no longer loads. Plain functions over the model and the plan: the CLI only
parses options, calls these and prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from egovnet.model import Network
from egovnet.render.host_services import render_host_services
from egovnet.secrets import SnmpCredentials
from lab import guard, runner
from lab.names import lab_tag
from lab.plan import LabPlan
from lab.runner import LabError, NodeStatus

Progress = Callable[[str, int, int], None]
"""(phase, done, total): namespaces, links, daemons, then convergence."""


class LabRefusedError(LabError):
    """`lab up` would touch this machine's network or another lab: nothing was started."""


@dataclass(frozen=True)
class LabUp:
    """What `lab up` did.

    Example: ``LabUp(lab="egovnet", nodes=35, seconds=21.4, converged_after=3.2,
    status=[NodeStatus(node="zhengding", ...), ...])``
    """

    lab: str
    nodes: int
    seconds: float
    converged_after: float
    status: list[NodeStatus]

    @property
    def healthy(self) -> bool:
        return all(row.healthy for row in self.status)


@dataclass(frozen=True)
class LabDown:
    """What `lab down` removed: the nodes, and the guard's routes (its table goes too)."""

    lab: str
    removed: list[str]
    guard_routes_removed: int


def check(network: Network, plan: LabPlan) -> list[str]:
    """Every reason this lab must not start here now (empty: it may). The plan must be the
    inventory's lab; no other running lab may share its tag; the guard's preflight."""
    if plan.name != network.lab_name:
        return [
            f"the topology is lab {plan.name} but the inventory's lab is {network.lab_name} "
            "(network.yaml lab.name): deploy the topology of this inventory"
        ]
    problems = [
        f"the running lab {other} has the same tag {lab_tag(other)} as lab {plan.name}: "
        "give one of them another lab name (network.yaml lab.name)"
        for other in runner.tag_clashes(plan.name)
    ]
    routes, nameservers = guard.read_host(network.lab_name)
    conflicts = guard.preflight(network, routes, nameservers)
    if conflicts:
        problems.append("the lab would touch this machine's network: " + "; ".join(conflicts))
    return problems


def up(
    network: Network,
    plan: LabPlan,
    *,
    ssh_key: str | None,
    snmp_users: Sequence[SnmpCredentials] = (),
    bare: bool = False,
    timeout: float = 60.0,
    progress: Progress = lambda _phase, _done, _total: None,
) -> LabUp:
    """Refuse (LabRefusedError) or install the guard, bring the plan up, wait for BGP unless
    `bare`, and report every node. Idempotent: a lab already up is left as it is."""
    problems = check(network, plan)
    if problems:
        raise LabRefusedError("; ".join(problems))
    started = time.perf_counter()
    guard.apply_guard(network)
    services = render_host_services(network, snmp_users)
    runner.up(
        plan,
        progress=progress,
        ssh_key=ssh_key,
        snmp_users=snmp_users,
        services=services,
        bare=bare,
    )
    converged = 0.0
    if not bare:
        progress("convergence", 0, 1)
        converged = runner.wait_converged(plan, timeout)
        runner.restart_named(plan)  # secondaries transfer their zones now routing is up
        progress("convergence", 1, 1)
    rows = runner.status(plan)
    return LabUp(
        lab=plan.name,
        nodes=len(plan.nodes),
        seconds=round(time.perf_counter() - started, 1),
        converged_after=round(converged, 1),
        status=rows,
    )


def status(plan: LabPlan) -> list[NodeStatus]:
    """Every node of the plan as `lab status` shows it."""
    return runner.status(plan)


def down(lab: str) -> LabDown:
    """Remove the lab's nodes, links and guard, found by the lab's own marks only."""
    removed = runner.down(lab)
    routes = guard.remove_guard(lab)
    return LabDown(lab, removed, routes)
