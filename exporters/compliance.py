"""The last compliance check as metrics: the check writes a state file, the exporter serves it.

`egovnet compliance check` (and `enforce`, and the rollout's compliance gate) end by writing
what failed to a small JSON file (`write_state`); `egovnet exporter --compliance-state FILE`
reads it on every scrape of `/metrics` (`ComplianceCollector`), so Prometheus sees the
failures of the last check however long ago it ran, and the check's time beside them:

- `egov_compliance_failures{host,tier,rule,level}` 1 for each rule a host fails (an
  `unverified` rule counts: a check that could not look is not a pass);
- `egov_compliance_hosts_checked`, `egov_compliance_last_check_timestamp_seconds`;
- `egov_compliance_state_ok` 0 when the file is missing or unreadable: then no failure
  series is served at all, and the alert on this series says so instead of staying quiet.

The exporter knows nothing of the compliance part (parts import only the core): the file's
shape is defined here, and the wiring converts a compliance report into it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from egovnet.errors import EgovnetError

STATE_VERSION = 1


class ComplianceStateError(EgovnetError, ValueError):
    """The state file is missing, unreadable or not what `write_state` writes."""


@dataclass(frozen=True)
class RuleFailure:
    """One rule one host fails (or that could not be verified on it).

    Example: ``RuleFailure(host="baoding", tier="city", rule="log-remote-syslog", level=3)``
    """

    host: str
    tier: str
    rule: str
    level: int


@dataclass(frozen=True)
class ComplianceState:
    """What the last check found: when, from what source, over how many hosts, what failed.

    Example: ``ComplianceState(checked_at=1796000000.0, source="live", hosts=13,
    failures=(RuleFailure("baoding", "city", "ssh-password-auth-off", 3),))``
    """

    checked_at: float
    source: str
    hosts: int
    failures: tuple[RuleFailure, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "checked_at": self.checked_at,
            "source": self.source,
            "hosts": self.hosts,
            "failures": [asdict(f) for f in self.failures],
        }


def write_state(path: Path, state: ComplianceState) -> Path:
    """Write `state` to `path` atomically (a scrape never reads half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(state.as_dict(), ensure_ascii=False, indent=1) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read_state(path: Path) -> ComplianceState:
    """The state `write_state` wrote; ComplianceStateError naming the file and what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ComplianceStateError(f"{path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ComplianceStateError(f"{path}: not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        raise ComplianceStateError(f"{path}: not a compliance state of version {STATE_VERSION}")
    try:
        failures = tuple(
            RuleFailure(str(f["host"]), str(f["tier"]), str(f["rule"]), int(f["level"]))
            for f in data["failures"]
        )
        return ComplianceState(
            float(data["checked_at"]), str(data["source"]), int(data["hosts"]), failures
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ComplianceStateError(f"{path}: field {exc} missing or of the wrong type") from exc


class ComplianceCollector(Collector):
    """The series of the state file at `path`, read again on every scrape."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            state: ComplianceState | None = read_state(self._path)
        except ComplianceStateError:
            state = None
        yield GaugeMetricFamily(
            "egov_compliance_state_ok",
            "1 when the last compliance check's state file could be read.",
            value=0 if state is None else 1,
        )
        if state is None:
            return
        failures = GaugeMetricFamily(
            "egov_compliance_failures",
            "1 for each graded-protection rule a host failed (or could not be verified) "
            "in the last compliance check.",
            labels=["host", "tier", "rule", "level"],
        )
        for failure in _unique(state.failures):
            failures.add_metric([failure.host, failure.tier, failure.rule, str(failure.level)], 1.0)
        yield failures
        yield GaugeMetricFamily(
            "egov_compliance_hosts_checked",
            "Hosts the last compliance check covered.",
            value=state.hosts,
        )
        yield GaugeMetricFamily(
            "egov_compliance_last_check_timestamp_seconds",
            "When the last compliance check ran (Unix time).",
            value=state.checked_at,
        )


def _unique(failures: Sequence[RuleFailure]) -> list[RuleFailure]:
    """One series per (host, rule): a rule failing on two evidence lines is still one."""
    seen: dict[tuple[str, str], RuleFailure] = {}
    for failure in failures:
        seen.setdefault((failure.host, failure.rule), failure)
    return [seen[key] for key in sorted(seen)]
