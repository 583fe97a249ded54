"""The live audit fails closed on the real lab: a healthy lab is clean, and a line typed on
the exit that egovnet does not model (a route map) makes `isolation audit --source live`
report `unknown` on the exit and exit 1, never "no findings"; removed, the audit is clean
again. Module-scoped: one lab, `lab down` in the finaliser whatever happens."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.labkit import TestLab


@pytest.fixture(scope="module")
def lab(test_lab: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestLab]:
    directory = tmp_path_factory.mktemp("live-unknown")
    try:
        up = test_lab.egovnet("lab", "up", "--json", cwd=directory)
        assert up.returncode == 0, up.stdout + up.stderr
        yield test_lab
    finally:
        down = test_lab.down(directory)
        assert down.returncode == 0, down.stderr


def audit(lab: TestLab, cwd: Path) -> tuple[int, dict[str, Any]]:
    done = lab.egovnet("isolation", "audit", "--source", "live", "--json", cwd=cwd)
    assert done.returncode in {0, 1}, done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


def vtysh(lab: TestLab, node: str, *commands: str) -> None:
    argv = ["vtysh", "-N", node]
    for command in commands:
        argv += ["-c", command]
    holder = lab.holders()[node]
    done = subprocess.run(
        ["nsenter", "-t", str(holder.pid), "-m", "-u", "-n", *argv],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_unmodelled_line_on_the_exit_is_unknown_live(lab: TestLab, tmp_path: Path) -> None:
    code, report = audit(lab, tmp_path)
    assert (code, report["findings"]) == (0, [])
    exit_host = lab.network.policy.exits[0]
    vtysh(lab, exit_host, "configure terminal", "route-map EGVT-LEAK permit 10")
    try:
        code, report = audit(lab, tmp_path)
        unknown = [f for f in report["findings"] if f["rule"] == "unknown"]
        assert [(f["host"], f["subject"]) for f in unknown] == [(exit_host, "route-map EGVT-LEAK")]
        assert code == 1
    finally:
        vtysh(lab, exit_host, "configure terminal", "no route-map EGVT-LEAK")
    code, report = audit(lab, tmp_path)
    assert (code, report["findings"]) == (0, [])
