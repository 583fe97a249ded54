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

from lab import session
from lab.runner import find_holders
from lab.sandbox import SANDBOX_LOCK
from tests.labkit import TestLab, lab_name, make_test_lab

LAB_DIR = Path(__file__).resolve().parent
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
    """Wait for any other test session (or benchmark) on this machine to finish: their labs
    have this session's names and addresses. A user's lab (the demo) needs no turn: the
    test labs never touch it."""
    with SANDBOX_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def test_lab(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestLab]:
    """The module's own lab: a sandboxed copy of the sample (tests/labkit.py) named after the
    module. After the module, nothing of it may be left on the machine (whatever is, is
    removed by this lab's name only), and every node of any other lab (the demo) must still
    run as the same process: either is reported as the module's error."""
    name = lab_name(request.module.__name__)
    session.down(name)  # what a killed run of this very module left: this lab's name only
    others = {(h.lab, h.node, h.pid) for h in find_holders() if h.lab != name}
    directory = tmp_path_factory.mktemp(name)
    kit = make_test_lab(directory, name)
    yield kit
    left = kit.leftovers()
    if left:
        kit.down(directory)
    gone = others - {(h.lab, h.node, h.pid) for h in find_holders()}
    problems = [f"lab {name} left behind: {', '.join(left)}"] if left else []
    if gone:
        problems.append(f"nodes of other labs gone: {sorted(gone)[:5]}")
    if problems:
        pytest.fail("; ".join(problems))
