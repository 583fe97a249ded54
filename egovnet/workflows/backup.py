"""`backup`: every selected host's running config into a git repository, one commit per run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egovnet.workflows.ports import EXIT_FOUND, EXIT_OK, Devices, Failed

CommitBackup = Callable[[dict[str, str], str, str], str]
"""(configs, operator, message) -> commit id: the configs written masked and committed."""


@dataclass(frozen=True)
class Provenance:
    """Who runs a workflow and from what inventory: written into commits and reports."""

    operator: str
    inventory: str
    inventory_commit: str


@dataclass
class BackupResult:
    """A backup run. `as_dict()` is its `--json`, e.g.
    `{"ok": false, "repo": "backups", "commit": "3f2a…", "hosts": ["hb-core-1"],
    "failed": {"hb-city-2": "ssh: timed out"}}`."""

    repo: Path
    selected: list[str]
    commit: str | None
    hosts: list[str]
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def exit_code(self) -> int:
        """1 when a host could not be read (the others are still committed)."""
        return EXIT_FOUND if self.failed else EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "repo": str(self.repo),
            "commit": self.commit,
            "hosts": self.hosts,
            "failed": self.failed,
        }


def backup(
    devices: Devices, repo: Path, commit: CommitBackup, provenance: Provenance
) -> BackupResult:
    """Read every selected host's running config and commit those read, all at once; a
    host that cannot be read is named in the result, not a reason to commit nothing."""
    hosts = devices.hosts
    results = devices.running()
    configs = {name: value for name in hosts if isinstance(value := results[name], str)}
    failed = {name: value.reason for name in hosts if isinstance(value := results[name], Failed)}
    sha = None
    if configs:
        sha = commit(
            configs,
            provenance.operator,
            f"backup of {len(configs)} host(s) by {provenance.operator}\n\n"
            f"inventory {provenance.inventory} @ {provenance.inventory_commit}",
        )
    return BackupResult(repo, hosts, sha, sorted(configs), failed)
