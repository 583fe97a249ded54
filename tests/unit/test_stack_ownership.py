"""`monitor down` stops only the processes its own run directory started.

The stack recognises its processes by the run directory in their command line; a second
stack whose directory merely starts with the same characters (`run` and `run2`) is another
user's monitoring and must never be taken for ours.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporters.stack import _ours as started_by


@pytest.fixture
def process_of_run2(tmp_path: Path) -> Iterator[int]:
    """A process whose command line names a file of `<tmp>/run2`, as Prometheus's does."""
    (tmp_path / "run2").mkdir()
    argv = [sys.executable, "-c", "import time; time.sleep(30)", f"{tmp_path}/run2/prometheus.yml"]
    process = subprocess.Popen(argv)
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    deadline = time.monotonic() + 10
    # until it has exec'd, the child's command line is still pytest's own
    while b"time.sleep" not in cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def test_a_process_is_ours_only_for_its_own_run_directory(
    process_of_run2: int, tmp_path: Path
) -> None:
    assert started_by(process_of_run2, tmp_path / "run2")
    assert not started_by(process_of_run2, tmp_path / "run")
    assert not started_by(process_of_run2, tmp_path / "run2" / "prom")
