"""Nornir tasks: one job each, on one host, through the host's driver.

A task that fails raises; Nornir turns that into a failed `Result` for that host and goes on
with the others (`nornir/core/task.py::Task.start`): a failure on one host is a result, not
a crash of the run. The rollout engine reads those results and decides what to roll back.
"""

from __future__ import annotations

import time

from nornir.core.task import Result, Task

from nornir_tasks.drivers.base import (
    CommitFailedError,
    ConfigDriver,
    ConnectionFailedError,
    Diff,
)
from nornir_tasks.inventory import CONNECTION


def driver(task: Task) -> ConfigDriver:
    """The host's driver, connected (Nornir opens it once and keeps it for the run)."""
    connection: ConfigDriver = task.host.get_connection(CONNECTION, task.nornir.config)
    return connection


def forget_connection(task: Task) -> None:
    """Drop a connection that failed, so the next task on this host logs in afresh."""
    if CONNECTION in task.host.connections:
        try:
            task.host.close_connection(CONNECTION)
        except Exception:  # noqa: BLE001 - a broken session may fail to close in any way
            task.host.connections.pop(CONNECTION, None)


def _reconnecting(task: Task) -> ConfigDriver:
    try:
        return driver(task)
    except ConnectionFailedError:
        forget_connection(task)
        raise


def fetch_running(task: Task) -> Result:
    """The running config (`result`: text): what backup stores and rollback restores."""
    started = time.perf_counter()
    text = _reconnecting(task).get_config()
    return Result(host=task.host, result=text, elapsed=time.perf_counter() - started)


def diff_intended(task: Task, intended: dict[str, str]) -> Result:
    """Intended vs running (`result`: `Diff`); the candidate's syntax is checked first."""
    device = _reconnecting(task)
    device.load_replace_candidate(intended[task.host.name])
    try:
        change: Diff = device.compare_config()
    finally:
        device.discard_config()
    return Result(host=task.host, result=change, changed=not change.empty)


def push(task: Task, intended: dict[str, str]) -> Result:
    """Replace the running config with the intended one; nothing is sent when equal."""
    started = time.perf_counter()
    device = _reconnecting(task)
    device.load_replace_candidate(intended[task.host.name])
    try:
        change = device.compare_config()
    except ConnectionFailedError:
        # The session kept since the backup may have died meanwhile; one fresh login
        # decides whether the host is really unreachable. Nothing was sent either way.
        forget_connection(task)
        device = driver(task)
        device.load_replace_candidate(intended[task.host.name])
        change = device.compare_config()
    if not change.empty:
        try:
            device.commit_config()
        except Exception as exc:
            # Whatever stopped it, lines may have been sent: the engine must restore.
            forget_connection(task)
            if isinstance(exc, CommitFailedError):
                raise
            raise CommitFailedError(task.host.name, f"commit interrupted: {exc}") from exc
    return Result(
        host=task.host,
        result=change,
        changed=not change.empty,
        elapsed=time.perf_counter() - started,
    )


def restore(task: Task, backups: dict[str, str]) -> Result:
    """Roll back: make the running config equal the pre-run backup again, over a fresh
    session if the old one died, and check that nothing differs afterwards."""
    forget_connection(task)
    device = driver(task)
    device.load_replace_candidate(backups[task.host.name])
    change = device.compare_config()
    if not change.empty:
        device.commit_config()
        device.load_replace_candidate(backups[task.host.name])
        left = device.compare_config()
        if not left.empty:
            raise RuntimeError(f"{task.host.name}: still differs from its backup after rollback")
    return Result(host=task.host, result=change, changed=not change.empty)


def save(task: Task) -> Result:
    """Make the running config the startup config, once a wave's gates have passed."""
    driver(task).save_config()
    return Result(host=task.host, result=True)


def bgp_neighbors(task: Task) -> Result:
    """Every BGP session of the host with its state (`result`: list of `BgpPeer`)."""
    return Result(host=task.host, result=_reconnecting(task).get_bgp_neighbors())


def interfaces(task: Task) -> Result:
    """(interface, VRF) of every interface on the host (`result`), for drivers that can list
    them (FRR); an empty list from the others."""
    device = _reconnecting(task)
    lister = getattr(device, "list_interfaces", None)
    found: list[tuple[str, str]] = lister() if callable(lister) else []
    return Result(host=task.host, result=found)


def elapsed(result: Result) -> float:
    """The seconds a task reported for itself (0 when it did not)."""
    value = getattr(result, "elapsed", 0.0)
    return float(value) if isinstance(value, int | float) else 0.0
