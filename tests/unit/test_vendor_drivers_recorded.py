"""The Huawei VRP, H3C Comware and Cisco IOS drivers against recorded sessions.

No such device runs here: `RecordedSession` stands in for netmiko's session and replays the
hand-written transcripts in `recorded/` (see its README). What is checked is the driver's
side: the commands it would type for a change (removed lines negated under their parent,
missing lines added), how it reads BGP sessions and versions, and that a refused line is
reported as a failed commit naming the host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from egovnet import platforms
from egovnet.loader import load_network
from egovnet.render.engine import render_network
from egovnet.secrets import SecretStore, SharedSecrets, env_name, secret_names
from nornir_tasks.drivers.base import CommitFailedError
from nornir_tasks.drivers.ssh import SshParams
from nornir_tasks.drivers.vendor import VendorCliDriver

RECORDED = Path(__file__).resolve().parent / "recorded"
PLATFORMS = tuple(r.name for r in platforms.platforms() if r.netutils_os is not None)
"""The platforms whose sessions are this driver (behind egovnet's NAPALM drivers for VRP and
Comware): those with hierarchical CLI diffs."""
ROOT = Path(__file__).resolve().parents[2]

# What each platform calls the changed line, and how it negates it.
CHANGE = {
    "huawei_vrp": ("  route-distinguisher 10.64.0.74:100", " description zone private", "undo "),
    "h3c_comware": (" route-distinguisher 10.64.0.74:100", " description zone private", "undo "),
    "cisco_ios": (" rd 10.64.0.74:100", " description zone private", "no "),
}


@dataclass
class RecordedSession:
    """A netmiko session replaying recorded output; it remembers what it was sent."""

    outputs: dict[str, str]
    prompt: str
    config_reply: str = ""
    sent: list[list[str]] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)

    def send_command(self, command: str, read_timeout: float = 0) -> str:
        return self.outputs[command]

    def send_config_set(self, commands: list[str], read_timeout: float = 0) -> str:
        self.sent.append(list(commands))
        return self.config_reply

    def find_prompt(self) -> str:
        return self.prompt

    def save_config(self, cmd: str = "") -> str:
        self.saved.append(cmd)
        return ""

    def disconnect(self) -> None:
        pass


@pytest.fixture(scope="module")
def intended() -> dict[str, str]:
    network = load_network(ROOT / "inventory")
    store = SecretStore(environ={env_name(n): "fake" for n in secret_names(network)})
    secrets = SharedSecrets.resolve(network, store)
    return {p: render_network(network, secrets, p)["zunhua"] for p in PLATFORMS}


def recorded(platform: str, running: str, config_reply: str = "") -> VendorCliDriver:
    p = platforms.platform(platform).commands
    folder = RECORDED / platform
    session = RecordedSession(
        {
            p.show_config: running,
            p.show_version: (folder / "version.txt").read_text(encoding="utf-8"),
            p.bgp_peers: (folder / "bgp_peers.txt").read_text(encoding="utf-8"),
        },
        prompt="<zunhua>" if platform != "cisco_ios" else "zunhua#",
        config_reply=config_reply,
    )
    return VendorCliDriver(
        SshParams("zunhua", "10.64.8.76", "noc"), platforms.platform(platform), session=session
    )


def session_of(driver: VendorCliDriver) -> RecordedSession:
    return cast(RecordedSession, driver._session)


def drifted(intended: str, platform: str) -> str:
    """The running config a device would print after someone removed the RD line of the
    private VRF and added a line of their own there."""
    rd_line, description, _ = CHANGE[platform]
    assert rd_line in intended.splitlines(), platform
    lines = [line for line in intended.splitlines() if line != rd_line]
    at = lines.index(description)
    return "\n".join([*lines[: at + 1], " description added by hand", *lines[at + 1 :]]) + "\n"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_recorded_no_drift_means_no_change(platform: str, intended: dict[str, str]) -> None:
    driver = recorded(platform, intended[platform])
    driver.load_replace_candidate(intended[platform])
    assert driver.compare_config().empty


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_recorded_drift_is_repaired_under_its_parent(
    platform: str, intended: dict[str, str]
) -> None:
    rd_line, _description, negate = CHANGE[platform]
    driver = recorded(platform, drifted(intended[platform], platform))
    driver.load_replace_candidate(intended[platform])
    change = driver.compare_config()
    commands = list(change.commands)
    leave = platforms.platform(platform).commands.leave
    # the hand-made line goes, under the VRF it sits in
    removal = commands.index(f"{negate}description added by hand")
    assert (
        commands[removal - 1].endswith("vpn-instance private")
        or commands[removal - 1] == "vrf definition private"
    )
    # the missing RD comes back in its context, and every context entered is left again
    assert rd_line.strip() in commands
    assert commands.count(leave) >= 2
    assert "+" in change.text
    assert "description added by hand" in change.text
    driver.commit_config()
    assert session_of(driver).sent == [commands]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_recorded_a_refused_line_fails_the_commit_naming_the_host(
    platform: str, intended: dict[str, str]
) -> None:
    reply = (RECORDED / platform / "rejected.txt").read_text(encoding="utf-8")
    driver = recorded(platform, drifted(intended[platform], platform), config_reply=reply)
    driver.load_replace_candidate(intended[platform])
    with pytest.raises(CommitFailedError, match=r"^zunhua: device rejected"):
        driver.commit_config()


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_recorded_bgp_sessions_and_version_are_read(
    platform: str, intended: dict[str, str]
) -> None:
    driver = recorded(platform, intended[platform])
    peers = driver.get_bgp_neighbors()
    assert [(p["address"], p["remote_as"], p["state"]) for p in peers] == [
        ("10.64.20.160", 4200000072, "Established"),
        ("10.64.20.164", 4200000072, "Idle" if platform == "h3c_comware" else "Active"),
    ]
    assert peers[0]["prefixes_received"] == 4
    facts = driver.get_facts()
    assert facts["hostname"] == "zunhua"
    assert (
        facts["os_version"]
        == {"huawei_vrp": "8.180", "h3c_comware": "7.1.064", "cisco_ios": "15.9(3)M4"}[platform]
    )


def test_recorded_rollback_sends_the_inverse_of_the_commit(intended: dict[str, str]) -> None:
    platform = "huawei_vrp"
    before = drifted(intended[platform], platform)
    driver = recorded(platform, before)
    driver.load_replace_candidate(intended[platform])
    driver.commit_config()
    session = session_of(driver)
    took = platforms.platform(platform).commands.show_config
    session.outputs[took] = intended[platform]  # the device took it
    driver.rollback()
    commit, rollback = session.sent
    assert "undo description added by hand" in commit
    assert "description added by hand" in rollback
    assert "undo route-distinguisher 10.64.0.74:100" in rollback


@pytest.mark.parametrize(
    ("platform", "command"),
    [("huawei_vrp", "save"), ("h3c_comware", "save force"), ("cisco_ios", "write mem")],
)
def test_recorded_save_sends_the_platform_save_command(
    platform: str, command: str, intended: dict[str, str]
) -> None:
    driver = recorded(platform, intended[platform])
    driver.save_config()
    assert session_of(driver).saved == [command]
