"""Reports written where there is no terminal (CI logs, `egovnet ... | tee`, a file) keep
every host name whole: rich once assumed 80 columns there and cut them to `hebei-co…`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.console import EGOVNET, environment
from tests.unit.conftest import RunCli

LONG = "zunhua-county-e-government-extranet-aggregation-router-number-1"  # 63: the most allowed


@pytest.fixture
def long_named(inventory_copy: Path) -> Path:
    """The sample with a county renamed to the longest name a host may have."""
    hosts = inventory_copy / "hosts.yaml"
    text = hosts.read_text(encoding="utf-8")
    assert "\nzunhua:\n" in text
    hosts.write_text(text.replace("\nzunhua:\n", f"\n{LONG}:\n"), encoding="utf-8")
    return inventory_copy


def assert_whole(report: str) -> None:
    """The long-named county's row is there to its last word, nothing cut anywhere."""
    line = next(line for line in report.splitlines() if LONG in line)
    assert len(line) > 80
    assert line.rstrip().endswith(" 1 dept"), line  # zunhua has one department
    assert "…" not in report


def test_a_piped_report_keeps_long_host_names_whole(long_named: Path) -> None:
    """As in CI: no terminal on stdin, stdout or stderr, and no COLUMNS."""
    env = {k: v for k, v in environment(long_named).items() if k not in {"COLUMNS", "LINES"}}
    shown = subprocess.run(
        [str(EGOVNET), "inventory", "show"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert_whole(shown.stdout)


def test_in_process_output_is_not_cut_either(long_named: Path, run_cli: RunCli) -> None:
    result = run_cli(["-i", str(long_named), "inventory", "show"])
    assert result.exit_code == 0, result.stderr
    assert_whole(result.stdout)
