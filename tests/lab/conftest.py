"""The lab tests: real daemons in throwaway namespaces, so they need root and FRR installed.

Every test under tests/lab is marked `lab` (`pytest -m "not lab"` leaves them out) and first
checks what it needs. On a developer machine a missing requirement skips; with `CI` set it
fails instead, because a CI job that quietly skips the only test talking to real FRR would
be green while proving nothing.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

LAB_DIR = Path(__file__).resolve().parent
# One root namespace, one management bridge, one guard: two lab sessions on one machine would
# tear down each other's nodes. Every lab test session (and anyone driving the lab by hand
# meanwhile: `flock /run/egovnet-lab.lock egovnet lab up`) holds this lock.
LAB_LOCK = Path("/run/egovnet-lab.lock")
FRR_DAEMONS = Path("/usr/lib/frr")
REQUIRED_DAEMONS = ("zebra", "bgpd", "staticd")
REQUIRED_TOOLS = (
    "vtysh",
    "unshare",
    "nsenter",
    "setpriv",
    "setsid",
    "ip",
    "hostname",
    "install",
    "pgrep",
    "nft",
    "ping",
    "sshd",
    "ssh-keygen",
    "snmpd",
    "snmpwalk",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder `lab`, so no lab test can forget it.

    Hooks in a conftest see every collected item, not only this folder's: hence the check.
    """
    for item in items:
        if item.path.is_relative_to(LAB_DIR):
            item.add_marker(pytest.mark.lab)


def missing_requirements() -> list[str]:
    """What this machine lacks to run the lab, in words a person can act on (empty: nothing)."""
    missing: list[str] = []
    if os.geteuid() != 0:
        missing.append("root (namespaces, veths and FRR's privilege drop need it)")
    missing += [
        f"{FRR_DAEMONS / name} (Debian package frr)"
        for name in REQUIRED_DAEMONS
        if not os.access(FRR_DAEMONS / name, os.X_OK)
    ]
    missing += [f"{tool} on PATH" for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    return missing


@pytest.fixture(scope="session", autouse=True)
def lab_requirements() -> None:
    """Skip the lab tests when the machine cannot run them, or fail them when `CI` is set.

    Session-scoped and autouse (for this folder only), so it runs before any module fixture
    of a lab test starts bringing namespaces or daemons up.
    """
    missing = missing_requirements()
    if not missing:
        return
    reason = "the FRR lab needs " + "; ".join(missing)
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the lab tests must run there, not skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def lab_lock(lab_requirements: None) -> Iterator[None]:
    """Wait for any other lab session on this machine to finish before touching the lab."""
    with LAB_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
