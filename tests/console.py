"""Running the real `egovnet` console script from tests: a clean environment, fake secrets.

Shared by the CLI tests and the lab tests, so that every test meets the command exactly as a
user does (a subprocess, its exit code, its stdout and stderr) with one set of fake secrets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EGOVNET = Path(sys.executable).parent / "egovnet"
FAKE_SECRETS = {
    "EGOVNET_SECRET_AAA_KEY": "fake-aaa",
    "EGOVNET_SECRET_SNMP_NOC_AUTH": "fake-auth-key",  # SNMPv3 keys need 8 characters or more
    "EGOVNET_SECRET_SNMP_NOC_PRIV": "fake-priv-key",
    "EGOVNET_SECRET_LOCAL_ADMIN": "fake-local-admin",
    "EGOVNET_SECRET_NTP_KEY": "fake-ntp-key",
}


LAB_KEY = "EGOVNET_LAB_KEY"
"""Set by tests/conftest.py to the session's own lab key, and passed on: never the user's."""


def environment(inventory: Path | None = None, *, secrets: bool = True) -> dict[str, str]:
    """This process's environment without any EGOVNET_ variable but the session's lab key
    (tests/conftest.py), then the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EGOVNET_") or k == LAB_KEY}
    if secrets:
        env |= FAKE_SECRETS
    if inventory is not None:
        env["EGOVNET_INVENTORY"] = str(inventory)
    return env


def egovnet(
    *args: str,
    cwd: Path = ROOT,
    inventory: Path | None = None,
    secrets: bool = True,
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    """Run `egovnet ARGS` and return what a user would see."""
    return subprocess.run(
        [str(EGOVNET), *args],
        capture_output=True,
        text=True,
        env=environment(inventory, secrets=secrets),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
