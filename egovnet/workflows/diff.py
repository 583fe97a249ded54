"""`diff`: intended against running, per host, as unified diffs; nothing is changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from egovnet.workflows.ports import EXIT_FOUND, EXIT_OK, Devices, Failed


@dataclass(frozen=True)
class HostDiff:
    """One host: its diff ("" when as intended), or why it could not be read."""

    host: str
    error: str | None
    diff: str

    def as_dict(self) -> dict[str, str | None]:
        return {"host": self.host, "error": self.error, "diff": self.diff}


@dataclass
class DiffResult:
    """A diff run. `as_dict()` is its `--json`, e.g. `{"ok": false, "drift": ["hb-core-1"],
    "failed": [], "hosts": [{"host": "hb-core-1", "error": null, "diff": "--- running…"}]}`."""

    hosts: list[HostDiff]

    @property
    def drift(self) -> list[str]:
        return [row.host for row in self.hosts if row.diff]

    @property
    def failed(self) -> list[str]:
        return [row.host for row in self.hosts if row.error]

    @property
    def exit_code(self) -> int:
        """1 on any drift or unreachable host."""
        return EXIT_FOUND if self.drift or self.failed else EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.drift and not self.failed,
            "drift": self.drift,
            "failed": self.failed,
            "hosts": [row.as_dict() for row in self.hosts],
        }


def diff(devices: Devices, render: Callable[[], dict[str, str]]) -> DiffResult:
    """Render the intended configs, then diff every selected host against its running one;
    diffs and errors come back with every secret masked."""
    results = devices.diffs(render())
    rows = []
    for name in devices.hosts:
        value = results[name]
        if isinstance(value, Failed):
            rows.append(HostDiff(name, value.reason, ""))
        else:
            rows.append(HostDiff(name, None, devices.mask(value)))
    return DiffResult(rows)
