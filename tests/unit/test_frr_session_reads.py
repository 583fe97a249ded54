"""How often the FRR driver reads a router's running config: once for a backup and its diff
(a dry run of 157 routers used to fetch every config twice), afresh for any later diff and
for every commit. Against a stand-in for the vtysh session that answers from a golden config
and records what it was sent (the lab runs the real one: tests/lab/test_rollout.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from egovnet.platforms import platform
from nornir_tasks.drivers.frr import FrrDriver
from nornir_tasks.drivers.ssh import SshParams

GOLDEN = Path(__file__).resolve().parent / "golden" / "frr" / "zunhua.cfg"
SHOW = platform("frr").commands.show_config

pytestmark = pytest.mark.frr


class RecordingVtysh:
    """Stand-in for the netmiko session into vtysh: `show running-config` answers the
    golden config; every command is recorded."""

    def __init__(self, running: str) -> None:
        self.running = running
        self.sent: list[str] = []

    def send_command(self, command: str, **_kwargs: Any) -> str:
        self.sent.append(command)
        return self.running if command == SHOW else ""


@pytest.fixture
def driver() -> tuple[FrrDriver, RecordingVtysh]:
    if shutil.which("vtysh") is None:
        pytest.skip("vtysh (Debian package frr) is not installed")
    session = RecordingVtysh(GOLDEN.read_text(encoding="utf-8"))
    device = FrrDriver(SshParams("zunhua", "10.64.8.76", "root"), platform("frr"))
    device.attach(session)
    return device, session


def test_a_diff_right_after_the_backup_reads_no_second_config(
    driver: tuple[FrrDriver, RecordingVtysh],
) -> None:
    device, session = driver
    backup = device.get_config()
    device.load_replace_candidate(backup.replace("timers bgp 3 9", "timers bgp 4 12"))
    change = device.compare_config()
    assert any("timers bgp 4 12" in command for command in change.commands)
    assert session.sent == [SHOW]


def test_every_later_diff_reads_the_router_afresh(
    driver: tuple[FrrDriver, RecordingVtysh],
) -> None:
    device, session = driver
    backup = device.get_config()
    device.load_replace_candidate(backup)
    assert device.compare_config().empty
    session.running = backup.replace("timers bgp 3 9", "timers bgp 5 15")  # changed meanwhile
    assert not device.compare_config().empty
    assert session.sent == [SHOW, SHOW]


def test_a_session_attached_anew_forgets_what_the_old_one_read(
    driver: tuple[FrrDriver, RecordingVtysh],
) -> None:
    device, _session = driver
    backup = device.get_config()
    other = RecordingVtysh(backup.replace("timers bgp 3 9", "timers bgp 5 15"))
    device.attach(other)
    device.load_replace_candidate(backup)
    assert not device.compare_config().empty
    assert other.sent == [SHOW]
