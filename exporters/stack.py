"""Running the monitoring stack (exporter, Prometheus, Alertmanager) on loopback for a lab.

Everything lives under one run directory: generated config, data, logs and a pid file per
component. `down` stops what the pid files name (only a process whose command line still
points into this run directory: a pid reused by someone else is left alone) and removes
the directory, so nothing of the stack survives it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from egovnet.errors import EgovnetError

PROMETHEUS = "prometheus"
ALERTMANAGER = "prometheus-alertmanager"  # Debian's name for the alertmanager binary
READY_WAIT = 60.0


class StackError(EgovnetError, RuntimeError):
    """A component would not start or stop; the message says which, and where its log is."""


@dataclass(frozen=True)
class Component:
    """One process of the stack: how to start it and how to tell that it is ready."""

    name: str
    argv: tuple[str, ...]
    url: str
    """Where a person (and the readiness check) reaches it."""
    ready_path: str


@dataclass(frozen=True)
class ComponentStatus:
    """One component as `monitor status` reports it.

    Example: ``ComponentStatus(name="prometheus", pid=4242, running=True, ready=True,
    url="http://127.0.0.1:9090")``
    """

    name: str
    pid: int | None
    running: bool
    ready: bool
    url: str


def components(
    run_dir: Path,
    exporter_argv: Sequence[str],
    *,
    exporter: str,
    prometheus: str,
    alertmanager: str,
) -> list[Component]:
    """The three components, listening on the given HOST:PORTs, config from `run_dir`."""
    config = run_dir / "config"
    return [
        Component(
            "exporter", (*exporter_argv, "--listen", exporter), f"http://{exporter}", "/metrics"
        ),
        Component(
            "alertmanager",
            (
                ALERTMANAGER,
                f"--config.file={config / 'alertmanager.yml'}",
                f"--storage.path={run_dir / 'data' / 'alertmanager'}",
                f"--web.listen-address={alertmanager}",
                "--cluster.listen-address=",  # no gossip port: one instance on loopback
            ),
            f"http://{alertmanager}",
            "/-/ready",
        ),
        Component(
            "prometheus",
            (
                PROMETHEUS,
                f"--config.file={config / 'prometheus.yml'}",
                f"--storage.tsdb.path={run_dir / 'data' / 'prometheus'}",
                f"--web.listen-address={prometheus}",
                "--web.enable-lifecycle",
                "--storage.tsdb.retention.time=2d",
            ),
            f"http://{prometheus}",
            "/-/ready",
        ),
    ]


def _pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / "run" / f"{name}.pid"


def _ours(pid: int, run_dir: Path) -> bool:
    """Whether `pid` is alive and started by this stack (its command line names run_dir)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    # a path inside run_dir (or run_dir itself) among the arguments: `/x/run` must not claim
    # a process of `/x/run2`
    directory = str(run_dir.resolve())
    return any(arg == directory or f"{directory}/" in arg for arg in cmdline.split("\0"))


def _pid(run_dir: Path, name: str) -> int | None:
    try:
        pid = int(_pid_file(run_dir, name).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _ours(pid, run_dir) else None


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback http
            return bool(200 <= answer.status < 300)
    except (urllib.error.URLError, OSError):
        return False


def status(run_dir: Path, parts: Sequence[Component]) -> list[ComponentStatus]:
    """Each component: its pid, whether it runs, whether it answers."""
    result = []
    for part in parts:
        pid = _pid(run_dir, part.name)
        result.append(
            ComponentStatus(
                part.name,
                pid,
                pid is not None,
                pid is not None and _ready(part.url + part.ready_path),
                part.url,
            )
        )
    return result


def up(run_dir: Path, parts: Sequence[Component], *, wait: float = READY_WAIT) -> None:
    """Start every component not already running, then wait until all answer.

    Idempotent. On a component that exits or never answers, StackError quoting its log;
    what this call started is stopped again.
    """
    (run_dir / "run").mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    started: list[str] = []
    try:
        for part in parts:
            if _pid(run_dir, part.name) is not None:
                continue
            binary = shutil.which(part.argv[0]) or part.argv[0]
            if not Path(binary).exists():
                raise StackError(f"{part.name}: {part.argv[0]} is not installed")
            log = (run_dir / "logs" / f"{part.name}.log").open("ab")
            with log:
                process = subprocess.Popen(  # noqa: S603 - an argument list built above
                    [binary, *part.argv[1:]],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=run_dir / "config",
                    start_new_session=True,  # outlives `monitor up`, not its terminal's ^C
                )
            _pid_file(run_dir, part.name).write_text(f"{process.pid}\n")
            started.append(part.name)
        deadline = time.monotonic() + wait
        for part in parts:
            while not _ready(part.url + part.ready_path):
                if _pid(run_dir, part.name) is None:
                    raise StackError(f"{part.name} exited: {_tail(run_dir, part.name)}")
                if time.monotonic() > deadline:
                    raise StackError(
                        f"{part.name} did not answer on {part.url} within {wait:.0f}s: "
                        f"{_tail(run_dir, part.name)}"
                    )
                time.sleep(0.2)
    except BaseException:
        for name in started:
            _stop(run_dir, name)
        raise


def _tail(run_dir: Path, name: str, lines: int = 5) -> str:
    log = run_dir / "logs" / f"{name}.log"
    if not log.exists():
        return "(no log)"
    text = log.read_text(errors="replace").strip().splitlines()[-lines:]
    return " | ".join(text) + f" (log: {log})"


def _stop(run_dir: Path, name: str, wait: float = 10.0) -> bool:
    """Stop one component (TERM, then KILL); whether it was running."""
    pid = _pid(run_dir, name)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while _ours(pid, run_dir) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.1)
    if _ours(pid, run_dir):
        os.killpg(pid, signal.SIGKILL)
        while _ours(pid, run_dir):
            _reap(pid)
            time.sleep(0.05)
    return True


def _reap(pid: int) -> None:
    """Collect a child of this process that has exited (a zombie still has a cmdline)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return


def down(
    run_dir: Path, names: Sequence[str] = ("prometheus", "alertmanager", "exporter")
) -> list[str]:
    """Stop every component and remove the run directory; the components that were running."""
    stopped = [name for name in names if _stop(run_dir, name)]
    if run_dir.exists():
        shutil.rmtree(run_dir)
    return stopped
