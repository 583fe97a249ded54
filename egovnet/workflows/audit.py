"""`audit`: the isolation policy checked on intended configs, running configs, or live."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, Protocol

from egovnet.errors import EgovnetError
from egovnet.workflows.ports import EXIT_FOUND, EXIT_OK, F


class AuditSource(StrEnum):
    """What the audit reads: the rendered configs, configs in a directory, or the lab."""

    intended = "intended"
    running = "running"
    live = "live"


class IsolationChecks(Protocol[F]):
    """The isolation part's audits over one network (isolation.analysis, isolation.live)."""

    def intended(self) -> list[F]:
        """Findings in the configs rendered from the inventory."""
        ...

    def running(self, directory: Path) -> list[F]:
        """Findings in the configs in `directory` (`<host>.cfg`, `<host>.nft`), e.g. a backup."""
        ...

    def live(self, stages: dict[str, float]) -> list[F]:
        """Findings in the lab's running configs, routing tables and probes; `stages` gets
        the seconds each stage took."""
        ...

    def hosts_to_repair(self, findings: Sequence[F]) -> list[str]:
        """The hosts a rollout of their intended configs would repair."""
        ...


@dataclass
class AuditResult(Generic[F]):
    """An audit. `as_dict()` is its `--json`, e.g. `{"ok": false, "source": "live",
    "findings": [{"rule": "leak", "host": "hb-city-1", …}], "hosts_to_repair": ["hb-city-1"],
    "seconds": {"configs": 0.41, "total": 2.3}}`."""

    source: AuditSource
    findings: list[F]
    hosts_to_repair: list[str]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """1 on any finding."""
        return EXIT_FOUND if self.findings else EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.findings,
            "source": self.source.value,
            "findings": [f.as_dict() for f in self.findings],
            "hosts_to_repair": self.hosts_to_repair,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def audit(
    checks: IsolationChecks[F],
    source: AuditSource,
    directory: Path | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> AuditResult[F]:
    """Run the audit of `source` (`directory` for `running`); every stage timed, `total`
    last."""
    started = clock()
    stages: dict[str, float] = {}
    if source is AuditSource.live:
        findings = checks.live(stages)
    elif source is AuditSource.running:
        if directory is None:
            raise EgovnetError("an audit of running configs needs their directory")
        findings = checks.running(directory)
    else:
        findings = checks.intended()
    stages["total"] = clock() - started
    return AuditResult(source, findings, checks.hosts_to_repair(findings), stages)
