"""The I/O a workflow is given: small protocols its callers implement.

The real implementations join the parts (Nornir drivers, the rollout engine, the lab, the
isolation checks) in `egovnet.wiring`; a test hands in a fake of a few lines instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

EXIT_OK, EXIT_FOUND = 0, 1
"""The exit codes a result reports (DESIGN.md): 0 success, 1 the check found problems."""

Say = Callable[[str], None]
"""A progress line for the operator (the CLI prints it on stderr, `--json` drops it)."""


def silent(_line: str) -> None:
    """The `Say` of a caller that wants no progress lines."""


@dataclass(frozen=True)
class Failed:
    """A host the devices could not do a task on; `reason` has every secret masked."""

    reason: str


class Devices(Protocol):
    """The selected hosts of a network, over whatever reaches them (SSH through Nornir)."""

    @property
    def hosts(self) -> list[str]:
        """The hosts the operator selected (`--limit`), in the model's order."""
        ...

    def running(self) -> dict[str, str | Failed]:
        """Every selected host's running config, or why it could not be read."""
        ...

    def diffs(self, intended: Mapping[str, str]) -> dict[str, str | Failed]:
        """Every selected host's unified diff from running to `intended` ("" when none)."""
        ...

    def mask(self, text: str) -> str:
        """`text` with every secret value the inventory names replaced by its name."""
        ...


class HostOutcome(Protocol):
    """What a workflow reads of one host in a rollout report."""

    @property
    def diff(self) -> str: ...

    @property
    def commands(self) -> int: ...


class RolloutReportLike(Protocol):
    """What a workflow reads of the rollout engine's report (nornir_tasks.report)."""

    @property
    def run_id(self) -> str: ...

    @property
    def exit_code(self) -> int: ...

    @property
    def hosts(self) -> Mapping[str, HostOutcome]: ...

    def as_dict(self) -> dict[str, Any]: ...

    def summary(self) -> str: ...

    def write(self, directory: Path) -> Path:
        """The report written into `directory`; the path of its JSON."""
        ...


R = TypeVar("R", bound=RolloutReportLike)
R_co = TypeVar("R_co", bound=RolloutReportLike, covariant=True)


@dataclass(frozen=True)
class RolloutRequest:
    """What one rollout is asked to do; the engine holds the rest (canary, gates, ...)."""

    dry_run: bool = False
    limit: str | None = None
    rollback_scope: str = "wave"  # wave | all


class RolloutEngine(Protocol[R_co]):
    """The staged, gated rollout (nornir_tasks.rollout.Rollout behind the wiring)."""

    def run(self, intended: dict[str, str], request: RolloutRequest) -> R_co:
        """Back up, diff and push `intended` to the request's hosts; the run's report."""
        ...


class FindingLike(Protocol):
    """What a workflow reads of an isolation finding (isolation.findings.Finding)."""

    @property
    def host(self) -> str: ...

    def as_dict(self) -> dict[str, str]: ...


F = TypeVar("F", bound=FindingLike)


class VerdictLike(Protocol):
    """Before and after an enforce, as the isolation part judges them
    (isolation.enforce.Verdict)."""

    @property
    def before(self) -> Sequence[FindingLike]: ...

    @property
    def after(self) -> Sequence[FindingLike]: ...

    @property
    def targets(self) -> list[str]: ...

    @property
    def changed(self) -> list[str]: ...

    @property
    def repaired(self) -> Sequence[FindingLike]: ...

    @property
    def unrepairable(self) -> Sequence[FindingLike]: ...

    @property
    def clean(self) -> bool: ...


V = TypeVar("V", bound=VerdictLike)
