"""What a rollout did, host by host: the audit trail that `--json` prints and `runs/` keeps.

Plain dataclasses, serialised as they are (STYLE.md): the JSON a machine reads and the
summary a person reads come from the same object.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nornir_tasks.gates import GateResult

# Host outcomes, in the words the summary prints.
UNCHANGED = "unchanged"  # no diff: never touched
PLANNED = "planned"  # dry run: would change
PUSHING = "pushing"  # being changed now (or a push that failed after sending lines)
APPLIED = "applied"  # changed, gates passed
FAILED_UNTOUCHED = "failed, unchanged"  # could not be reached or rejected before sending
ROLLED_BACK = "rolled back"  # changed, then restored to its backup
ROLLBACK_FAILED = "rollback failed"  # restore did not complete: needs a person
NOT_REACHED = "not reached"  # the run stopped before this host's turn


@dataclass
class HostReport:
    """One host's part in a run."""

    host: str
    tier: str
    wave: str
    platform: str
    outcome: str = UNCHANGED
    diff: str = ""
    commands: int = 0
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    gates: list[GateResult] = field(default_factory=list)
    rollback: str | None = None


@dataclass
class WaveReport:
    """One wave: which hosts it changed, its canary, how its gates went."""

    name: str
    hosts: list[str]
    canary: list[str]
    outcome: str = "pending"
    push_seconds: float = 0.0
    gate_seconds: float = 0.0
    rollback_seconds: float = 0.0


@dataclass
class RolloutReport:
    """A whole run. `exit_code` is what the CLI exits with."""

    run_id: str
    operator: str
    started: str
    inventory: str
    inventory_commit: str
    dry_run: bool
    options: dict[str, Any]
    finished: str = ""
    outcome: str = "running"
    message: str = ""
    exit_code: int = 0
    backup_commit: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    waves: list[WaveReport] = field(default_factory=list)
    hosts: dict[str, HostReport] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, directory: Path) -> Path:
        """`report.json` and `summary.txt` in `directory` (created); returns the JSON path."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "report.json"
        path.write_text(
            json.dumps(self.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        (directory / "summary.txt").write_text(self.summary(), encoding="utf-8")
        return path

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for host in self.hosts.values():
            counts[host.outcome] = counts.get(host.outcome, 0) + 1
        return counts

    def summary(self) -> str:
        """The human summary: outcome, then waves, then every host that was not unchanged."""
        kind = "dry run" if self.dry_run else "rollout"
        lines = [
            f"egovnet {kind} {self.run_id}: {self.outcome}",
            f"  operator {self.operator}; inventory {self.inventory} @ {self.inventory_commit}",
            f"  started {self.started}, finished {self.finished}",
        ]
        if self.backup_commit:
            lines.append(f"  pre-run backup: commit {self.backup_commit[:12]}")
        if self.message:
            lines.append(f"  {self.message}")
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.counts().items()))
        lines.append(f"  hosts: {counts}")
        stages = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in self.timings.items())
        if stages:
            lines.append(f"  time: {stages}")
        for wave in self.waves:
            canary = f" (canary: {', '.join(wave.canary)})" if wave.canary else ""
            lines.append(
                f"  wave {wave.name}: {wave.outcome}; {len(wave.hosts)} host(s){canary}; "
                f"push {wave.push_seconds:.1f}s, gates {wave.gate_seconds:.1f}s"
            )
        for host in self.hosts.values():
            if host.outcome == UNCHANGED:
                continue
            extra = f": {host.error}" if host.error else ""
            lines.append(f"    {host.host} [{host.wave}] {host.outcome}{extra}")
            if host.outcome == ROLLBACK_FAILED and host.rollback:
                lines.append(f"      {host.rollback}")
            lines += [f"      gate {g.gate}: {g.detail}" for g in host.gates if not g.ok]
        return "\n".join(lines) + "\n"
