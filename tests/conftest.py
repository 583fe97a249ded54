"""Options and isolation shared by every test directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

KEY_ENV = "EGOVNET_LAB_KEY"
_KEY_DIR = pytest.StashKey[Path]()
_KEY_BEFORE = pytest.StashKey[str | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite golden files from the current output instead of comparing against them.",
    )


def pytest_configure(config: pytest.Config) -> None:
    """The lab SSH key of this session, made in a temporary directory: the user's own key
    (~/.config/egovnet/lab/) is never created, read or changed by a test. In-process code
    and every `egovnet` a test runs (tests/console.py passes it on) use this one."""
    directory = Path(tempfile.mkdtemp(prefix="egovnet-test-key-"))
    config.stash[_KEY_DIR] = directory
    config.stash[_KEY_BEFORE] = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = str(directory / "id_ed25519")


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.stash.get(_KEY_DIR, None)
    if directory is None:
        return
    shutil.rmtree(directory, ignore_errors=True)
    before = config.stash.get(_KEY_BEFORE, None)
    if before is None:
        os.environ.pop(KEY_ENV, None)
    else:
        os.environ[KEY_ENV] = before
