"""Shared fixtures: the sample inventory, editable copies of it, and the CLI run in-process."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from egovnet.cli.app import app

SAMPLE = Path(__file__).resolve().parents[2] / "inventory"

RunCli = Callable[[Sequence[str]], Result]
"""Run `egovnet ARGS...`; the result has `exit_code`, `stdout` and `stderr` kept apart."""


@pytest.fixture
def sample_inventory() -> Path:
    """The repository's sample inventory (read-only: copy it before editing)."""
    assert (SAMPLE / "hosts.yaml").is_file(), f"sample inventory missing at {SAMPLE}"
    return SAMPLE


@pytest.fixture
def inventory_copy(sample_inventory: Path, tmp_path: Path) -> Path:
    """A private copy of the sample inventory under tmp_path, free to edit."""
    copy = tmp_path / "inventory"
    shutil.copytree(sample_inventory, copy)
    return copy


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> RunCli:
    """Run the CLI in-process with stdout and stderr captured separately.

    This typer's `CliRunner` always keeps `result.stdout` and `result.stderr` apart
    (`result.output` mixes both). Exceptions the CLI does not handle are re-raised, so a
    loader crash fails the test with its own traceback rather than as exit code 1. The
    working directory is tmp_path so default paths (build/, .secrets/) never touch the repo.
    """
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    env = {"EGOVNET_INVENTORY": None, "EGOVNET_SECRETS": None, "NO_COLOR": "1"}

    def run(args: Sequence[str]) -> Result:
        return runner.invoke(app, list(args), env=env, catch_exceptions=False)

    return run
