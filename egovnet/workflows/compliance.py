"""`compliance enforce`: check live, repair the hosts that fail (their Linux-side services
restored where the lab runs them, then the intended config rolled out to them, staged and
gated), check again; clean only when the second check is.

The check and the service repair are the compliance part's and the lab's (joined in
`egovnet.wiring.compliance`); the rollout is the engine every other workflow uses. Services
are restored before the rollout: a node whose sshd was broken may not let the rollout in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from egovnet.workflows.ports import (
    EXIT_FOUND,
    EXIT_OK,
    R,
    RolloutEngine,
    RolloutRequest,
    Say,
    silent,
)
from egovnet.workflows.rollout import RolloutRun, run_engine


class CheckLike(Protocol):
    """What the workflow reads of a compliance report (compliance.engine.ComplianceReport)."""

    @property
    def exit_code(self) -> int: ...

    def as_dict(self) -> dict[str, Any]: ...


C = TypeVar("C", bound=CheckLike)


class ComplianceRepair(Protocol[C]):
    """The compliance side of an enforce, over one network and the selected hosts."""

    def audit(self) -> C:
        """The live check now."""
        ...

    def targets(self, report: C) -> list[str]:
        """The hosts the report finds failing (or could not verify)."""
        ...

    def services_to_restore(self, report: C, targets: list[str]) -> dict[str, list[str]]:
        """Per target, the Linux-side services (sshd, snmpd) whose failing rules a config
        rollout cannot repair; empty where there are none."""
        ...

    def restore_services(self, services: Mapping[str, Sequence[str]]) -> dict[str, str]:
        """Write each host's rendered service configs back and reload the daemons; per host,
        why it could not be done (empty: all done)."""
        ...


@dataclass
class ComplianceEnforceResult(Generic[C, R]):
    """An enforce run. `as_dict()` is its `--json`, e.g. `{"ok": true, "dry_run": false,
    "targets": ["baoding"], "restored": {"baoding": ["sshd"]}, "changed": ["baoding"],
    "before": {…report…}, "after": {…report…}, "report": "runs/…/report.json",
    "seconds": 21.5}`."""

    before: C
    after: C | None
    targets: list[str]
    dry_run: bool
    rollout: RolloutRun[R] | None
    seconds: float
    restored: dict[str, list[str]] = field(default_factory=dict)
    not_restored: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> list[str]:
        if self.rollout is None:
            return []
        return [name for name, host in self.rollout.report.hosts.items() if host.commands]

    @property
    def exit_code(self) -> int:
        """0 when the check after the repair is clean (or a dry run found nothing), the
        rollout's code when it did not complete, else 1."""
        if self.rollout is not None and self.rollout.exit_code != EXIT_OK:
            return self.rollout.exit_code
        last = self.after if self.after is not None else self.before
        if self.not_restored:
            return EXIT_FOUND
        if self.dry_run:
            return self.before.exit_code
        return EXIT_OK if last.exit_code == EXIT_OK else EXIT_FOUND

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == EXIT_OK,
            "dry_run": self.dry_run,
            "targets": self.targets,
            "restored": self.restored,
            "not_restored": self.not_restored,
            "changed": self.changed,
            "before": self.before.as_dict(),
            "after": self.after.as_dict() if self.after is not None else None,
            "report": str(self.rollout.path) if self.rollout else None,
            "seconds": round(self.seconds, 1),
        }


def enforce_compliance(
    repair: ComplianceRepair[C],
    render: Callable[[], dict[str, str]],
    engine: RolloutEngine[R],
    dry_run: bool,
    runs: Path,
    *,
    say: Say = silent,
    on_rollout: Callable[[RolloutRun[R]], None] = lambda _run: None,
    clock: Callable[[], float] = time.perf_counter,
) -> ComplianceEnforceResult[C, R]:
    """Check; restore the services and roll the intended configs out to the failing hosts
    only; check again (not after a dry run, nor after a rollout that did not complete)."""
    started = clock()
    say("checking (live)")
    before = repair.audit()
    targets = repair.targets(before)
    if not targets:
        say("every host passes: nothing to enforce")
        return ComplianceEnforceResult(before, before, [], dry_run, None, clock() - started)
    services = repair.services_to_restore(before, targets)
    say(f"failing: {', '.join(targets)}")
    restored: dict[str, list[str]] = {}
    not_restored: dict[str, str] = {}
    if services:
        shown = "; ".join(f"{h}: {', '.join(s)}" for h, s in services.items())
        if dry_run:
            say(f"would restore the rendered service configs ({shown})")
        else:
            say(f"restoring the rendered service configs ({shown})")
            not_restored = repair.restore_services(services)
            restored = {h: list(s) for h, s in services.items() if h not in not_restored}
    say(f"rolling the intended configs out to {', '.join(targets)}")
    request = RolloutRequest(dry_run, ",".join(targets), "wave")
    run = run_engine(engine, render(), request, runs)
    on_rollout(run)
    if dry_run or run.exit_code != EXIT_OK:
        return ComplianceEnforceResult(
            before, None, targets, dry_run, run, clock() - started, restored, not_restored
        )
    say("checking again (live)")
    after = repair.audit()
    return ComplianceEnforceResult(
        before, after, targets, dry_run, run, clock() - started, restored, not_restored
    )
