"""The contract every platform driver keeps: NAPALM's configuration calls and the getters
the health gates need.

NAPALM (`napalm/base/base.py`) has one interface for many platforms: load a candidate
(replace or merge), compare it with the running config, commit, discard, roll back. egovnet
keeps those names and meanings, so that a reader who knows NAPALM knows these drivers; NAPALM
drivers stand behind the same tasks (`napalm_device.NapalmDevice`, docs/napalm.md). It is a
`Protocol`, not a base class: a driver owes the methods, not an inheritance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypedDict

from napalm.base.exceptions import (
    CommitError,
    ConnectionException,
    MergeConfigException,
    ReplaceConfigException,
)

from egovnet.errors import EgovnetError


class DeviceError(EgovnetError, RuntimeError):
    """A device could not do what was asked; the message names the host."""

    def __init__(self, host: str, message: str) -> None:
        super().__init__(f"{host}: {message}")
        self.host = host


# Each error is also NAPALM's (`napalm.base.exceptions`), so that a NAPALM user of egovnet's
# drivers (nornir_napalm, a script) catches what NAPALM documents, and the rollout catches ours.


class ConnectionFailedError(DeviceError, ConnectionError, ConnectionException):
    """The host could not be reached or refused the credentials."""


class CandidateRejectedError(DeviceError, ValueError, ReplaceConfigException, MergeConfigException):
    """The candidate config has lines the platform does not accept; nothing was applied."""


class CommitFailedError(DeviceError, CommitError):
    """Applying the candidate failed part-way; the driver's `rollback` restores the backup."""


class Facts(TypedDict):
    """What `get_facts` returns (NAPALM's keys that apply here).

    Example: ``{"hostname": "shijiazhuang", "vendor": "FRRouting", "os_version": "8.4.4"}``
    """

    hostname: str
    vendor: str
    os_version: str


class BgpPeer(TypedDict):
    """One BGP session as `get_bgp_neighbors` reports it.

    Example: ``{"vrf": "private", "address": "10.64.16.129", "remote_as": 4200000008,
    "state": "Established", "prefixes_received": 4}``
    """

    vrf: str
    address: str
    remote_as: int
    state: str
    prefixes_received: int


@dataclass(frozen=True)
class Diff:
    """What a commit would change: the commands to send, and a unified diff for people.

    `commands` is empty when the running config already equals the candidate.
    """

    commands: tuple[str, ...]
    text: str

    @property
    def empty(self) -> bool:
        return not self.commands


class ConfigDriver(Protocol):
    """One device session. Calls raise `DeviceError` subclasses naming the host."""

    host: str

    def open(self) -> None:
        """Connect (SSH); raises `ConnectionFailedError`."""

    def close(self) -> None:
        """Disconnect; safe to call twice."""

    def get_config(self) -> str:
        """The running configuration, as the device prints it."""

    def get_facts(self) -> Facts:
        """Hostname, vendor, version, uptime."""

    def get_bgp_neighbors(self) -> list[BgpPeer]:
        """Every BGP session in every VRF, with its state."""

    def load_replace_candidate(self, config: str) -> None:
        """Make `config` the candidate that replaces the whole running config; checks its
        syntax first and raises `CandidateRejectedError` without touching the device."""

    def load_merge_candidate(self, config: str) -> None:
        """Make `config` a candidate merged into the running config."""

    def compare_config(self) -> Diff:
        """What committing the candidate would change."""

    def commit_config(self) -> None:
        """Apply the candidate; the pre-change config stays saved for `rollback`."""

    def discard_config(self) -> None:
        """Forget the candidate."""

    def rollback(self) -> None:
        """Restore the config that was running before the last commit."""

    def save_config(self) -> None:
        """Make the running config the one the device boots with (after the gates pass)."""
