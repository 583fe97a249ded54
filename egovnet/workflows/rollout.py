"""`rollout`: bring the selected hosts to the inventory through the staged, gated engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic

from egovnet.workflows.ports import R, RolloutEngine, RolloutRequest


@dataclass(frozen=True)
class RolloutRun(Generic[R]):
    """A finished run: the engine's report and where it was written (`runs/<id>/`)."""

    report: R
    path: Path

    @property
    def exit_code(self) -> int:
        return self.report.exit_code

    def as_dict(self) -> dict[str, Any]:
        """The report as it is, plus the path of its JSON."""
        return {**self.report.as_dict(), "report": str(self.path)}


def rollout(
    engine: RolloutEngine[R],
    render: Callable[[], dict[str, str]],
    request: RolloutRequest,
    runs: Path,
) -> RolloutRun[R]:
    """Render the intended configs, run the engine on them, and keep its report under
    `runs/<run id>/` (report.json, summary.txt) whatever the outcome."""
    return run_engine(engine, render(), request, runs)


def run_engine(
    engine: RolloutEngine[R], intended: dict[str, str], request: RolloutRequest, runs: Path
) -> RolloutRun[R]:
    """Run the engine on configs already rendered; the report written under `runs`."""
    report = engine.run(intended, request)
    return RolloutRun(report, report.write(runs / report.run_id).resolve())
