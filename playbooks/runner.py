"""One playbook run through ansible-runner's Python API: artifacts in the run's folder,
progress as events, the outcome per host.

ansible-runner, not `ansible-playbook` in a subprocess: it keeps every event of the run as a
JSON file under `<private_data_dir>/artifacts/<ident>/` (what an AWX job keeps), gives the
play recap as `stats`, and calls back on each event, so the CLI prints progress without
parsing Ansible's screen output.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner  # type: ignore[import-untyped]  # ships no type information

from egovnet.errors import EgovnetError

PLAYBOOK_DIR = Path(__file__).resolve().parent
PLAYBOOKS = ("backup", "deploy", "facts")

Progress = Callable[[str], None]


class UnknownPlaybookError(EgovnetError, ValueError):
    """A playbook name that is not in `playbooks/`."""


@dataclass(frozen=True)
class HostOutcome:
    """One host's play recap. Example: ``HostOutcome("zhengding", ok=7, changed=1)``"""

    host: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    error: str = ""
    """The first failed task's message, when the host failed."""

    @property
    def good(self) -> bool:
        return not (self.failed or self.unreachable)


@dataclass
class PlaybookRun:
    """A finished run: ansible-runner's status and return code, and each host's recap."""

    playbook: str
    status: str
    rc: int
    artifacts: Path
    hosts: dict[str, HostOutcome] = field(default_factory=dict)

    @property
    def failed_hosts(self) -> list[str]:
        return sorted(name for name, host in self.hosts.items() if not host.good)

    @property
    def changed_hosts(self) -> list[str]:
        return sorted(name for name, host in self.hosts.items() if host.changed)


def playbook_path(name: str) -> Path:
    """The file of playbook `name`; `UnknownPlaybookError` listing the known ones."""
    if name not in PLAYBOOKS:
        raise UnknownPlaybookError(
            f"unknown playbook '{name}': expected one of {', '.join(PLAYBOOKS)}"
        )
    return PLAYBOOK_DIR / f"{name}.yml"


def ansible_environment(forks: int) -> dict[str, str]:
    """Settings of the run: the part's own plugins, no host key store (a lab's host keys
    are new at every `lab up`), no retry files, no collections looked up anywhere else than
    where the `ansible` package put them."""
    return {
        "ANSIBLE_FILTER_PLUGINS": str(PLAYBOOK_DIR / "filter_plugins"),
        "ANSIBLE_LIBRARY": str(PLAYBOOK_DIR / "library"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_PARAMIKO_HOST_KEY_AUTO_ADD": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_FORKS": str(forks),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_PERSISTENT_COMMAND_TIMEOUT": "120",
        "ANSIBLE_PERSISTENT_CONNECT_TIMEOUT": "60",
        "ANSIBLE_NETWORK_CLI_SSH_TYPE": "paramiko",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_NOCOLOR": "True",
    }


def _describe(event: Mapping[str, Any]) -> str | None:
    """A progress line for an event worth one, else None."""
    kind = event.get("event", "")
    data = event.get("event_data", {})
    if kind == "playbook_on_play_start":
        return f"play {data.get('play', '')}"
    host, task = data.get("host", ""), data.get("task", "")
    if kind == "runner_on_failed" and not data.get("ignore_errors"):
        message = str(data.get("res", {}).get("msg", "")).splitlines()
        return f"  ✗ {host}: {task}: {message[0] if message else 'failed'}"
    if kind == "runner_on_unreachable":
        message = str(data.get("res", {}).get("msg", "")).splitlines()
        return f"  ✗ {host}: unreachable: {message[0] if message else ''}"
    if kind == "runner_on_ok" and data.get("res", {}).get("changed"):
        return f"  ~ {host}: {task}: changed"
    return None


def _errors(events: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for event in events:
        data = event.get("event_data", {})
        if event.get("event") in {"runner_on_failed", "runner_on_unreachable"}:
            if data.get("ignore_errors"):
                continue
            message = str(data.get("res", {}).get("msg", "failed")).strip().splitlines()
            found.setdefault(str(data.get("host")), f"{data.get('task')}: {message[0]}")
    return found


def run_playbook(
    name: str,
    run_dir: Path,
    inventory: Path,
    extravars: Mapping[str, Any],
    *,
    limit: Sequence[str] | None = None,
    check: bool = False,
    diff: bool = False,
    forks: int = 20,
    progress: Progress = lambda _line: None,
) -> PlaybookRun:
    """Run playbook `name` with ansible-runner in `run_dir` (its private data directory:
    artifacts land in `run_dir/artifacts/`), on `inventory`, limited to `limit` hosts."""
    playbook = playbook_path(name)
    run_dir.mkdir(parents=True, exist_ok=True)
    options = []
    if check:
        options.append("--check")
    if diff:
        options.append("--diff")

    def on_event(event: Mapping[str, Any]) -> bool:
        line = _describe(event)
        if line is not None:
            progress(line)
        return True  # keep the event in the artifacts

    # ansible-runner starts `ansible-playbook` from PATH: this Python's, wherever egovnet runs
    scripts = str(Path(sys.executable).parent)
    path = os.pathsep.join([scripts, os.environ.get("PATH", "")])
    env = {**os.environ, **ansible_environment(forks), "PATH": path}
    result = ansible_runner.run(
        private_data_dir=str(run_dir),
        ident="run",
        playbook=str(playbook),
        inventory=str(inventory),
        extravars=dict(extravars),
        limit=",".join(limit) if limit else None,
        cmdline=" ".join(options) or None,
        envvars=env,
        event_handler=on_event,
        quiet=True,
        forks=forks,
    )
    stats: Mapping[str, Mapping[str, int]] = result.stats or {}
    errors = _errors(list(result.events))
    names = set(errors)
    for counts in stats.values():
        names |= set(counts)
    hosts = {
        host: HostOutcome(
            host,
            ok=stats.get("ok", {}).get(host, 0),
            changed=stats.get("changed", {}).get(host, 0),
            failed=stats.get("failures", {}).get(host, 0),
            unreachable=stats.get("dark", {}).get(host, 0),
            skipped=stats.get("skipped", {}).get(host, 0),
            error=errors.get(host, ""),
        )
        for host in sorted(names)
    }
    return PlaybookRun(name, str(result.status), int(result.rc), run_dir / "artifacts", hosts)
