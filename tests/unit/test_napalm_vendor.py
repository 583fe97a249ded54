"""egovnet's Huawei VRP and H3C Comware NAPALM drivers, over recorded sessions.

No Huawei or H3C device runs on this machine. `RecordedVrpDevice` and `RecordedComwareDevice`
are stand-ins for the netmiko session: they answer each command with the text in
tests/unit/recorded/<platform>/ (hand-written from the vendors' command references; see the
README there) and remember what they were sent. What is checked is the NAPALM contract:
found by name, NAPALM's models, a diff, a commit that waits for `confirm_commit`, a refused
line as NAPALM's `CommitError` naming the host, and the rollout's view through `NapalmDevice`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import napalm
import pytest
from napalm.base import models
from napalm.base.exceptions import CommitError
from napalm.base.test import helpers

from egovnet import platforms
from egovnet.loader import load_network
from egovnet.render.engine import render_network
from egovnet.secrets import SecretStore, SharedSecrets, env_name, secret_names
from nornir_tasks.drivers.napalm_device import NapalmDevice
from nornir_tasks.drivers.napalm_vendor import (
    EgovnetCliDriver,
    EgovnetH3cComwareDriver,
    EgovnetHuaweiVrpDriver,
)

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).resolve().parent / "recorded"
DRIVERS: dict[str, type[EgovnetCliDriver]] = {
    "huawei_vrp": EgovnetHuaweiVrpDriver,
    "h3c_comware": EgovnetH3cComwareDriver,
}


@dataclass
class RecordedCliDevice:
    """Stand-in for a netmiko session to a vendor device: recorded answers, sent lines kept."""

    outputs: dict[str, str]
    prompt: str
    config_reply: str = ""
    sent: list[list[str]] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)

    def send_command(self, command: str, **_kwargs: Any) -> str:
        return self.outputs[command]

    def send_config_set(self, commands: list[str], **_kwargs: Any) -> str:
        self.sent.append(list(commands))
        return self.config_reply

    def find_prompt(self) -> str:
        return self.prompt

    def save_config(self, cmd: str = "") -> str:
        self.saved.append(cmd)
        return ""

    def disconnect(self) -> None:
        """Nothing to close."""


class RecordedVrpDevice(RecordedCliDevice):
    """A stand-in Huawei VRP router (recorded output, no device)."""


class RecordedComwareDevice(RecordedCliDevice):
    """A stand-in H3C Comware router (recorded output, no device)."""


STAND_INS: dict[str, type[RecordedCliDevice]] = {
    "huawei_vrp": RecordedVrpDevice,
    "h3c_comware": RecordedComwareDevice,
}


@pytest.fixture(scope="module")
def intended() -> dict[str, str]:
    network = load_network(ROOT / "inventory")
    store = SecretStore(environ={env_name(n): "fake" for n in secret_names(network)})
    secrets = SharedSecrets.resolve(network, store)
    return {p: render_network(network, secrets, p)["zunhua"] for p in DRIVERS}


def device(platform: str, running: str, reply: str = "", confirm: bool = False) -> Any:
    """The platform's NAPALM driver over its stand-in, opened."""
    words = platforms.platform(platform).commands
    folder = RECORDED / platform
    stand_in = STAND_INS[platform](
        {
            words.show_config: running,
            words.show_version: (folder / "version.txt").read_text(encoding="utf-8"),
            words.bgp_peers: (folder / "bgp_peers.txt").read_text(encoding="utf-8"),
        },
        prompt="<zunhua>",
        config_reply=reply,
    )
    driver = DRIVERS[platform]("10.64.8.76", "noc", "", optional_args={"host": "zunhua"})
    driver.confirm = confirm
    driver.device = stand_in  # NAPALM's test-double convention: the session replaced
    return driver


def drifted(intended: str) -> str:
    """The running config after someone added a line by hand under the first interface."""
    lines = intended.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("interface "))
    return "\n".join([*lines[: at + 1], " description added by hand", *lines[at + 1 :]]) + "\n"


@pytest.mark.parametrize("platform", sorted(DRIVERS))
def test_napalm_finds_the_driver_the_registry_names(platform: str) -> None:
    record = platforms.platform(platform)
    assert record.napalm is not None
    assert napalm.get_network_driver(record.napalm.driver) is DRIVERS[platform]


@pytest.mark.parametrize("platform", sorted(DRIVERS))
def test_recorded_getters_return_napalm_models(platform: str, intended: dict[str, str]) -> None:
    driver = device(platform, intended[platform])
    facts = driver.get_facts()
    assert helpers.test_model(models.FactsDict, facts)
    assert facts["hostname"] == "zunhua"
    neighbors = driver.get_bgp_neighbors()
    peers = neighbors["global"]["peers"]
    for peer in peers.values():
        assert helpers.test_model(models.PeerDict, peer)
    assert [(a, p["is_up"]) for a, p in peers.items()] == [
        ("10.64.20.160", True),
        ("10.64.20.164", False),
    ]
    assert driver.get_config(retrieve="running")["running"] == intended[platform]


@pytest.mark.parametrize("platform", sorted(DRIVERS))
def test_recorded_diff_then_commit_waits_for_confirm(
    platform: str, intended: dict[str, str]
) -> None:
    driver = device(platform, drifted(intended[platform]), confirm=True)
    driver.load_replace_candidate(config=intended[platform])
    diff = driver.compare_config()
    assert "description added by hand" in diff
    assert "undo description added by hand" in driver.pending_commands
    driver.commit_config()
    assert driver.has_pending_commit()
    assert driver.device.saved == []  # the device still boots the old config
    driver.confirm_commit()
    assert driver.device.saved == [platforms.platform(platform).commands.save]
    assert not driver.has_pending_commit()


@pytest.mark.parametrize("platform", sorted(DRIVERS))
def test_recorded_refused_line_is_napalms_commit_error_naming_the_host(
    platform: str, intended: dict[str, str]
) -> None:
    reply = (RECORDED / platform / "rejected.txt").read_text(encoding="utf-8")
    driver = device(platform, drifted(intended[platform]), reply=reply)
    driver.load_replace_candidate(config=intended[platform])
    with pytest.raises(CommitError, match=r"^zunhua: device rejected"):
        driver.commit_config()


@pytest.mark.parametrize("platform", sorted(DRIVERS))
def test_recorded_rollout_view_through_napalm(platform: str, intended: dict[str, str]) -> None:
    """What the rollout reads through `NapalmDevice`: the commands it will type, and the
    BGP sessions with their state and VRF for the gates."""
    session = NapalmDevice("zunhua", device(platform, drifted(intended[platform])))
    session.load_replace_candidate(intended[platform])
    change = session.compare_config()
    assert "undo description added by hand" in change.commands
    state = {(p["vrf"], p["address"]): p["state"] for p in session.get_bgp_neighbors()}
    assert state[("default", "10.64.20.160")] == "Established"
    assert state[("default", "10.64.20.164")] in {"Active", "Idle"}
    assert session.list_interfaces() == []  # these drivers do not list interfaces
