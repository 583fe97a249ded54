"""A real net-snmp agent on this machine's loopback, for the tests that need one.

No lab and no root: snmpd listens on 127.0.0.1 at a free UDP port with the inventory's
SNMPv3 user `noc` (authPriv SHA/AES, fake keys) and a v2c community. Used by the exporter's
tests and the liveness probes' tests alike.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

AUTH, PRIV, COMMUNITY = "fake-auth-key", "fake-priv-key", "fake-community"
SNMPD = shutil.which("snmpd") or "/usr/sbin/snmpd"


def free_udp_port() -> int:
    """A UDP port of loopback that nothing listens on (just now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_snmpd(folder: Path) -> Iterator[int]:
    """snmpd on 127.0.0.1:PORT with its files in `folder`, until the block ends; its port.
    Skips the test where snmpd is not installed."""
    if not Path(SNMPD).exists():
        pytest.skip("snmpd is not installed (Debian package snmpd)")
    port = free_udp_port()
    (folder / "persist").mkdir()
    (folder / "snmpd.conf").write_text(
        f"agentAddress udp:127.0.0.1:{port}\n"
        f'createUser noc SHA "{AUTH}" AES "{PRIV}"\nrouser noc priv\n'
        f"rocommunity {COMMUNITY} 127.0.0.1\n"
    )
    process = subprocess.Popen(
        [SNMPD, "-f", "-C", "-c", str(folder / "snmpd.conf"), "-Lf", str(folder / "log")],
        env={"SNMP_PERSISTENT_DIR": str(folder / "persist"), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while "NET-SNMP version" not in _read(folder / "log"):
            assert process.poll() is None, _read(folder / "log")
            assert time.monotonic() < deadline, "snmpd did not start"
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""
