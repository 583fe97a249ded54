"""`enforce`: audit, roll the intended state out to the hosts the audit names (staged, gated,
rolled back on failure), audit again; clean only when the second audit is."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from egovnet.workflows.ports import (
    EXIT_FOUND,
    EXIT_OK,
    F,
    R,
    RolloutEngine,
    RolloutRequest,
    Say,
    VerdictLike,
    silent,
)
from egovnet.workflows.rollout import RolloutRun, run_engine

V = TypeVar("V", bound=VerdictLike)
V_co = TypeVar("V_co", bound=VerdictLike, covariant=True)

Ports = dict[str, list[tuple[str, str]]]
"""(port, VRF) per host."""


class IsolationRepair(Protocol[F, V_co]):
    """The isolation part's side of an enforce, over one network and one audit source."""

    def audit(self) -> list[F]:
        """The audit now (running configs over SSH, or the lab live)."""
        ...

    def targets(self, findings: list[F], all_hosts: bool) -> list[str]:
        """The hosts to roll out to: those with findings, or every selected host."""
        ...

    def service_targets(self, findings: list[F]) -> list[str]:
        """Hosts outside the rollout's reach with findings (the service hosts' DNS servers,
        whose named.conf is restored rather than rolled out); none where there are none."""
        ...

    def restore_services(self, hosts: list[str]) -> list[str]:
        """Bring `hosts` (from `service_targets`) back to their intended state; the ones
        that changed."""
        ...

    def shut_unknown_ports(self, intended: dict[str, str], targets: list[str]) -> Ports:
        """Add a shutdown to `intended` (in place) for each port a target has and its config
        does not know; the ports shut, per host."""
        ...

    def verdict(
        self, before: list[F], after: list[F], targets: list[str], changed: list[str]
    ) -> V_co:
        """Before and after, judged (repaired, unrepairable, clean)."""
        ...


@dataclass(frozen=True)
class EnforceRequest:
    """What the operator asked for: `source` names the audit in progress lines."""

    source: str
    all_hosts: bool = False
    dry_run: bool = False


@dataclass
class EnforceResult(Generic[V, R]):
    """An enforce run: the verdict, the rollout (None when there was nothing to do), the
    ports shut. `as_dict()` is its `--json`, e.g. `{"ok": true, "dry_run": false,
    "targets": ["hb-city-1"], "changed": ["hb-city-1"], "before": [{…}], "after": [],
    "repaired": 1, "unrepairable": [], "report": "runs/2026…/report.json", "seconds": 41.2}`."""

    verdict: V
    dry_run: bool
    rollout: RolloutRun[R] | None
    seconds: float
    shut: Ports = field(default_factory=dict)

    @property
    def rollout_failed(self) -> bool:
        """The rollout ran and did not complete (failed, declined, interrupted)."""
        return self.rollout is not None and self.rollout.exit_code != EXIT_OK

    @property
    def exit_code(self) -> int:
        """0 when clean, the rollout's code when it failed, else 1."""
        if self.rollout is not None and self.rollout_failed:
            return self.rollout.exit_code
        clean = self.verdict.clean or (self.dry_run and not self.verdict.before)
        return EXIT_OK if clean else EXIT_FOUND

    def as_dict(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "ok": self.exit_code == EXIT_OK,
            "dry_run": self.dry_run,
            "targets": verdict.targets,
            "changed": verdict.changed,
            "before": [f.as_dict() for f in verdict.before],
            "after": [f.as_dict() for f in verdict.after],
            "repaired": len(verdict.repaired),
            "unrepairable": [f.as_dict() for f in verdict.unrepairable],
            "report": str(self.rollout.path) if self.rollout else None,
            "seconds": round(self.seconds, 1),
        }


def enforce(
    repair: IsolationRepair[F, V],
    render: Callable[[], dict[str, str]],
    engine: RolloutEngine[R],
    request: EnforceRequest,
    runs: Path,
    *,
    say: Say = silent,
    on_rollout: Callable[[RolloutRun[R]], None] = lambda _run: None,
    clock: Callable[[], float] = time.perf_counter,
) -> EnforceResult[V, R]:
    """Audit; roll the intended configs (ports not in the inventory shut) out to the targets
    through the engine; audit again unless it was a dry run or the rollout failed.
    `on_rollout` hears the rollout's outcome before the second audit starts."""
    started = clock()
    say(f"auditing ({request.source})")
    before = repair.audit()
    targets = repair.targets(before, request.all_hosts)
    services = repair.service_targets(before)
    if not targets and not services:
        say("no findings: nothing to enforce")
        verdict = repair.verdict(before, before, [], [])
        return EnforceResult(verdict, request.dry_run, None, clock() - started)
    if not targets:  # only service hosts: their intended state restored, no rollout
        say(f"{len(before)} finding(s); restoring the intended state of {', '.join(services)}")
        if request.dry_run:
            verdict = repair.verdict(before, before, services, [])
            return EnforceResult(verdict, request.dry_run, None, clock() - started)
        changed = repair.restore_services(services)
        say(f"auditing again ({request.source})")
        verdict = repair.verdict(before, repair.audit(), services, changed)
        return EnforceResult(verdict, request.dry_run, None, clock() - started)
    say(f"{len(before)} finding(s); rolling the intended state out to {', '.join(targets)}")
    intended = render()
    shut = repair.shut_unknown_ports(intended, targets)
    for host, ports in shut.items():
        names = ", ".join(f"{n} (vrf {v})" for n, v in ports)
        say(f"{host}: ports not in the inventory will be shut: {names}")
    rollout_request = RolloutRequest(request.dry_run, ",".join(targets), "wave")
    run = run_engine(engine, intended, rollout_request, runs)
    on_rollout(run)
    changed = [name for name, host in run.report.hosts.items() if host.commands]
    if request.dry_run or run.exit_code != EXIT_OK:
        verdict = repair.verdict(before, before, targets, changed)
        return EnforceResult(verdict, request.dry_run, run, clock() - started, shut)
    if services:
        say(f"restoring the intended state of {', '.join(services)}")
        changed += repair.restore_services(services)
    say(f"auditing again ({request.source})")
    after = repair.audit()
    verdict = repair.verdict(before, after, [*targets, *services], changed)
    return EnforceResult(verdict, request.dry_run, run, clock() - started, shut)
