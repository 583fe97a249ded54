"""The staged rollout: province, then cities, then counties; canary first; gates after each
step; a failed host or gate rolls the wave (or everything) back to the pre-run backup.

Nothing changes before every target has been backed up and diffed: an unreachable host, a
refused login or a candidate its platform rejects stops the run while the network is still
untouched. Hosts with no diff are never sent anything.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nornir.core import Nornir
from nornir.core.task import AggregatedResult

from egovnet.errors import EgovnetError
from egovnet.model import Network
from nornir_tasks import report as outcomes
from nornir_tasks.backup import Masker, commit_backup
from nornir_tasks.drivers.base import CommitFailedError, Diff
from nornir_tasks.gates import HealthGates
from nornir_tasks.report import HostReport, RolloutReport, WaveReport
from nornir_tasks.tasks import diff_intended, elapsed, fetch_running, push, restore, save

EXIT_OK, EXIT_FOUND, EXIT_INTERRUPTED = 0, 1, 130

# Waves in order, and the tiers each takes; the exit belongs to the province wave.
WAVES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("province", ("national", "province", "exit")),
    ("cities", ("city",)),
    ("counties", ("county",)),
)


class LimitError(EgovnetError, ValueError):
    """A `--limit` term that names nothing."""


def select_hosts(network: Network, expression: str | None) -> list[str]:
    """The hosts a `--limit` expression picks, in inventory order; all when None.

    Terms, comma-separated, united: a host name, a glob over names (`*-core-*`),
    `tier:county`, `under:HOST` (HOST and everything below it).

    >>> from egovnet.loader import load_network
    >>> select_hosts(load_network("inventory"), "tier:city")
    ['shijiazhuang', 'baoding', 'tangshan']
    """
    names = [node.name for node in network.nodes]
    if not expression:
        return names
    chosen: set[str] = set()
    for term in (t.strip() for t in expression.split(",")):
        if not term:
            continue
        if term.startswith("tier:"):
            found = {n.name for n in network.nodes if n.tier == term[5:]}
        elif term.startswith("under:"):
            found = _subtree(network, term[6:])
        else:
            found = set(fnmatch.filter(names, term))
        if not found:
            raise LimitError(f"--limit: {term!r} matches no host of {network.name}")
        chosen |= found
    return [name for name in names if name in chosen]


def _subtree(network: Network, root: str) -> set[str]:
    if root not in {n.name for n in network.nodes}:
        return set()
    found, stack = set(), [root]
    while stack:
        name = stack.pop()
        found.add(name)
        stack += [child.name for child in network.children(name)]
    return found


def plan_waves(network: Network, hosts: Sequence[str]) -> list[tuple[str, list[str]]]:
    """(wave name, hosts) in rollout order, empty waves left out."""
    tier_of = {node.name: node.tier for node in network.nodes}
    waves = []
    for name, tiers in WAVES:
        members = [h for h in hosts if tier_of[h] in tiers]
        if members:
            waves.append((name, members))
    return waves


@dataclass
class RolloutOptions:
    """What the operator asked for."""

    dry_run: bool = False
    limit: str | None = None
    canary: int = 1
    max_parallel: int = 20
    rollback_scope: str = "wave"  # wave | all
    backup_repo: Path = Path("backups")
    platform: str | None = None


@dataclass
class RolloutContext:
    """Who runs it and from what: written into the report and the backup commit."""

    operator: str
    inventory: str
    inventory_commit: str
    run_id: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Rollout:
    """One run of the engine. `say` receives progress lines; `confirm` is asked once, with
    the number of hosts to change, before the first change (return False to stop);
    `before_wave` hears each wave's name and hosts as it starts (the lab tests stop an sshd
    there). Setting `interrupted` (the CLI does on SIGINT) stops the run at the next step."""

    def __init__(
        self,
        network: Network,
        nornir: Nornir,
        intended: dict[str, str],
        gates: HealthGates,
        masker: Masker,
        options: RolloutOptions,
        context: RolloutContext,
        *,
        say: Callable[[str], None] = lambda _line: None,
        confirm: Callable[[int], bool] = lambda _count: True,
        before_wave: Callable[[str, list[str]], None] = lambda _wave, _hosts: None,
    ) -> None:
        self.network = network
        self.nornir = nornir
        self.intended = intended
        self.gates = gates
        self.masker = masker
        self.options = options
        self.say = say
        self.confirm = confirm
        self.before_wave = before_wave
        self.interrupted = threading.Event()
        self.backups: dict[str, str] = {}
        self.sessions_before: dict[str, set[tuple[str, str]]] = {}
        self.report = RolloutReport(
            run_id=context.run_id,
            operator=context.operator,
            started=_now(),
            inventory=context.inventory,
            inventory_commit=context.inventory_commit,
            dry_run=options.dry_run,
            options={
                "limit": options.limit,
                "canary": options.canary,
                "max_parallel": options.max_parallel,
                "rollback_scope": options.rollback_scope,
                "platform": options.platform,
            },
        )

    # -- helpers ---------------------------------------------------------------------------

    def _run(
        self, hosts: Sequence[str], task: Callable[..., object], **kwargs: Any
    ) -> AggregatedResult:
        names = set(hosts)
        return self.nornir.filter(filter_func=lambda h: h.name in names).run(
            task=task, on_failed=True, **kwargs
        )

    def _finish(self, outcome: str, code: int, message: str = "") -> RolloutReport:
        self.report.outcome, self.report.exit_code = outcome, code
        self.report.message = message
        self.report.finished = _now()
        return self.report

    def _timed(self, stage: str, started: float) -> None:
        self.report.timings[stage] = round(time.perf_counter() - started, 3)

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> RolloutReport:
        hosts = select_hosts(self.network, self.options.limit)
        waves = plan_waves(self.network, hosts)
        for wave, members in waves:
            for name in members:
                node = self.network.node(name)
                platform = self.options.platform or node.platform
                self.report.hosts[name] = HostReport(name, node.tier, wave, platform)
        if not self._prepare(hosts):
            return self.report
        changed = [h for h in hosts if self.report.hosts[h].commands]
        if self.interrupted.is_set():
            return self._finish(
                "interrupted", EXIT_INTERRUPTED, "interrupted before any change; nothing changed"
            )
        if self.options.dry_run:
            for name in changed:
                self.report.hosts[name].outcome = outcomes.PLANNED
            verdict = f"{len(changed)} of {len(hosts)} host(s) would change"
            return self._finish("dry run", EXIT_OK, verdict)
        if not changed:
            return self._finish("no change", EXIT_OK, f"all {len(hosts)} host(s) as intended")
        if not self.confirm(len(changed)):
            return self._finish("cancelled", EXIT_FOUND, "the operator declined; nothing changed")
        return self._waves(waves, set(changed))

    def _prepare(self, hosts: list[str]) -> bool:
        """Back up and diff every target; False (report finished) when any host fails."""
        self.say(f"backing up {len(hosts)} host(s)")
        started = time.perf_counter()
        fetched = self._run(hosts, fetch_running)
        self._timed("backup", started)
        failed = self._failures(fetched, "backup")
        for name in hosts:
            if name not in failed:
                self.backups[name] = fetched[name][0].result
                self.report.hosts[name].timings["backup"] = round(elapsed(fetched[name][0]), 3)
        if failed:
            return self._abort(failed, "backup")
        commit = commit_backup(
            self.options.backup_repo,
            self.backups,
            self.masker,
            operator=self.report.operator,
            message=(
                f"backup before {'dry run' if self.options.dry_run else 'rollout'} "
                f"{self.report.run_id} by {self.report.operator}\n\n"
                f"inventory {self.report.inventory} @ {self.report.inventory_commit}\n"
                f"hosts: {len(hosts)}"
            ),
        )
        self.report.backup_commit = commit
        self.say(f"diffing {len(hosts)} host(s) against the intended configs")
        started = time.perf_counter()
        diffs = self._run(hosts, diff_intended, intended=self.intended)
        self._timed("diff", started)
        failed = self._failures(diffs, "diff")
        for name in hosts:
            if name in failed:
                continue
            change: Diff = diffs[name][0].result
            host = self.report.hosts[name]
            host.diff, host.commands = self.masker.mask(change.text), len(change.commands)
        if failed:
            return self._abort(failed, "diff")
        if not self.options.dry_run:
            changing = [h for h in hosts if self.report.hosts[h].commands]
            self.sessions_before = self.gates.sessions(self.nornir, changing)
        return True

    def _failures(self, results: AggregatedResult, stage: str) -> list[str]:
        failed = []
        for name, multi in results.items():
            if multi[0].failed:
                host = self.report.hosts[name]
                host.outcome = outcomes.FAILED_UNTOUCHED
                host.error = self.masker.mask(_reason(multi[0].exception, stage))
                failed.append(name)
        return sorted(failed)

    def _abort(self, failed: list[str], stage: str) -> bool:
        names = ", ".join(failed)
        self._finish(
            "aborted",
            EXIT_FOUND,
            f"{stage} failed on {names}; nothing was changed on any host",
        )
        return False

    def _waves(self, waves: list[tuple[str, list[str]]], changed: set[str]) -> RolloutReport:
        done: list[str] = []
        for index, (name, members) in enumerate(waves):
            targets = [h for h in members if h in changed]
            canary = targets[: self.options.canary] if len(targets) > 1 else []
            wave = WaveReport(name, targets, canary)
            self.report.waves.append(wave)
            if not targets:
                wave.outcome = "no change"
                continue
            self.before_wave(name, targets)
            self.say(
                f"wave {name}: {len(targets)} host(s)" + (f", canary {canary}" if canary else "")
            )
            problem = self._wave(wave, targets, canary)
            if problem is None:
                wave.outcome = "passed"
                done += targets
                continue
            pushed = self._pushed(targets)
            everything = self.options.rollback_scope == "all"
            self._rollback(wave, [*done, *pushed] if everything else pushed)
            if everything:
                for earlier in self.report.waves[:-1]:
                    if earlier.outcome == "passed":
                        earlier.outcome = "rolled back"
            else:
                self._save(done)  # earlier waves passed their gates and stay
            for later in (h for h in changed if self.report.hosts[h].outcome == outcomes.UNCHANGED):
                self.report.hosts[later].outcome = outcomes.NOT_REACHED
            for later_name, later_members in waves[index + 1 :]:
                later_targets = [h for h in later_members if h in changed]
                self.report.waves.append(WaveReport(later_name, later_targets, [], "not started"))
            code = EXIT_INTERRUPTED if self.interrupted.is_set() else EXIT_FOUND
            outcome = "interrupted" if self.interrupted.is_set() else "rolled back"
            return self._finish(outcome, code, problem)
        self._save(done)
        return self._finish("applied", EXIT_OK, f"{len(done)} host(s) changed, every gate passed")

    def _pending(self) -> set[str]:
        """Hosts this run has still to change: their sessions are not expected up yet."""
        return {
            h.host
            for h in self.report.hosts.values()
            if h.commands and h.outcome == outcomes.UNCHANGED
        }

    def _pushed(self, targets: list[str]) -> list[str]:
        """Hosts of `targets` that were sent changes (and so may need restoring)."""
        marks = (outcomes.APPLIED, outcomes.ROLLBACK_FAILED, outcomes.PUSHING)
        return [h for h in targets if self.report.hosts[h].outcome in marks]

    def _wave(self, wave: WaveReport, targets: list[str], canary: list[str]) -> str | None:
        """Push the canary, gate it, then the rest, gate them; the reason it stopped, or None."""
        batches = [b for b in (canary, [h for h in targets if h not in canary]) if b]
        for batch in batches:
            if self.interrupted.is_set():
                return "interrupted (SIGINT) before the batch started"
            started = time.perf_counter()
            for name in batch:
                self.report.hosts[name].outcome = outcomes.PUSHING
            results = self._run(batch, push, intended=self.intended)
            wave.push_seconds += time.perf_counter() - started
            failed = []
            for name in batch:
                result, host = results[name][0], self.report.hosts[name]
                host.timings["push"] = round(elapsed(result), 3)
                if result.failed:
                    touched = isinstance(result.exception, CommitFailedError)
                    host.outcome = outcomes.PUSHING if touched else outcomes.FAILED_UNTOUCHED
                    host.error = self.masker.mask(_reason(result.exception, "push"))
                    failed.append(name)
                else:
                    host.outcome = outcomes.APPLIED
            if failed:
                return f"push failed on {', '.join(failed)}"
            if self.interrupted.is_set():
                return "interrupted (SIGINT) during the wave"
            self.say(f"  gates on {len(batch)} host(s)")
            ok, results_, waited = self.gates.wait(self.nornir, batch, self._pending())
            wave.gate_seconds += waited
            for gate in results_:
                self.report.hosts[gate.host].gates.append(gate)
            if not ok:
                bad = sorted({g.host for g in results_ if not g.ok})
                return f"health gates failed on {', '.join(bad)} after {waited:.0f}s"
        return None

    def _rollback(self, wave: WaveReport, hosts: list[str]) -> None:
        if not hosts:
            wave.outcome = "stopped, nothing sent"
            return
        self.say(f"rolling back {len(hosts)} host(s): {', '.join(hosts)}")
        started = time.perf_counter()
        results = self._run(hosts, restore, backups=self.backups)
        restored = []
        for name in hosts:
            host = self.report.hosts[name]
            if results[name][0].failed:
                host.outcome = outcomes.ROLLBACK_FAILED
                host.rollback = self.masker.mask(_reason(results[name][0].exception, "rollback"))
            else:
                host.outcome = outcomes.ROLLED_BACK
                host.rollback = "restored to the pre-run backup"
                restored.append(name)
        if restored:
            before = {h: self.sessions_before.get(h, set()) for h in restored}
            ok, gate_results, _ = self.gates.wait_restored(self.nornir, before)
            for gate in gate_results:
                self.report.hosts[gate.host].gates.append(gate)
            if not ok:
                for name in sorted({g.host for g in gate_results if not g.ok}):
                    self.report.hosts[name].rollback = "restored, but gates still fail"
        wave.rollback_seconds = time.perf_counter() - started
        wave.outcome = "rolled back"

    def _save(self, hosts: list[str]) -> None:
        if hosts:
            self.say(f"saving the new config on {len(hosts)} host(s)")
            results = self._run(hosts, save)
            for name in hosts:
                if results[name][0].failed:
                    self.report.hosts[name].error = "applied, but saving the startup config failed"


def _reason(exc: BaseException | None, stage: str) -> str:
    if exc is None:
        return f"{stage} failed"
    text = str(exc).strip().splitlines()
    return f"{stage}: {text[0] if text else type(exc).__name__}"
