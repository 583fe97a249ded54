"""The rollout's session to a device, spoken through NAPALM's contract.

The rollout engine and its tasks keep egovnet's small `ConfigDriver` (`base.py`: a `Diff` with
the commands to send, BGP sessions with their state for the gates, a save after the gates).
`NapalmDevice` is that contract over any `napalm.base.NetworkDriver` found by the name the
platform registry gives (`PlatformRecord.napalm.driver`, `napalm.get_network_driver`), so
every device call of a rollout is a NAPALM call:

| the rollout asks | NAPALM call |
|---|---|
| running config (backup) | `get_config(retrieve="running")["running"]` |
| candidate, diff | `load_replace_candidate(config=...)`, `compare_config()` |
| commit, discard | `commit_config()`, `discard_config()` |
| save after the gates | `confirm_commit()` (opened with `optional_args` `confirm=True`) |
| BGP sessions, state | `get_bgp_neighbors_detail()` (`connection_state`, `routing_table`) |
| interfaces and their VRF | `get_network_instances()` |
| hostname, vendor, version | `get_facts()` |
"""

from __future__ import annotations

import re
from typing import Any

import napalm
from napalm.base import NetworkDriver

from egovnet.platforms import PlatformRecord
from nornir_tasks.drivers.base import BgpPeer, Diff, Facts
from nornir_tasks.drivers.ssh import SshParams

_CHANGED = re.compile(r"^[-+](?![-+]{2} )")
"""A changed line of a unified diff (not its `---`/`+++` header)."""
DEFAULT_VRF = "default"
"""The model's name of the default VRF (NAPALM's `global`)."""


def changed_lines(text: str) -> tuple[str, ...]:
    """The `-`/`+` lines of a diff, for drivers that do not say what they would type.

    >>> changed_lines("--- a\\n+++ b\\n  router bgp 1\\n- neighbor x\\n+ neighbor y\\n")
    ('- neighbor x', '+ neighbor y')
    """
    return tuple(line for line in text.splitlines() if _CHANGED.match(line))


class NapalmDevice:
    """egovnet's `ConfigDriver` over a NAPALM driver (for one host)."""

    def __init__(self, host: str, driver: NetworkDriver) -> None:
        self.host = host
        self.driver = driver

    def open(self) -> None:
        self.driver.open()

    def close(self) -> None:
        self.driver.close()

    def get_config(self) -> str:
        return str(self.driver.get_config(retrieve="running")["running"])

    def get_facts(self) -> Facts:
        facts = self.driver.get_facts()
        return Facts(
            hostname=facts["hostname"], vendor=facts["vendor"], os_version=facts["os_version"]
        )

    def get_bgp_neighbors(self) -> list[BgpPeer]:
        peers: list[BgpPeer] = []
        # per VRF, per AS, a list (NAPALM's documented shape; its annotation is flatter)
        detail: dict[str, dict[int, list[Any]]] = dict(self.driver.get_bgp_neighbors_detail())  # type: ignore[arg-type]
        for vrf, by_as in detail.items():
            for sessions in by_as.values():
                for peer in sessions:
                    table = str(peer.get("routing_table") or vrf)
                    peers.append(
                        BgpPeer(
                            vrf=DEFAULT_VRF if table == "global" else table,
                            address=str(peer["remote_address"]),
                            remote_as=int(peer["remote_as"]),
                            state=str(peer["connection_state"]),
                            prefixes_received=int(peer["received_prefix_count"]),
                        )
                    )
        return peers

    def list_interfaces(self) -> list[tuple[str, str]]:
        """(interface, VRF) of every interface the device has, configured or not; empty
        from a driver without `get_network_instances`."""
        found: list[tuple[str, str]] = []
        try:
            instances = self.driver.get_network_instances()
        except NotImplementedError:
            return found
        for vrf, instance in instances.items():
            name = DEFAULT_VRF if vrf == "global" else vrf
            for interface in instance["interfaces"]["interface"]:
                found.append((str(interface).split("@")[0], name))
        return found

    def load_replace_candidate(self, config: str) -> None:
        self.driver.load_replace_candidate(config=config)

    def load_merge_candidate(self, config: str) -> None:
        self.driver.load_merge_candidate(config=config)

    def compare_config(self) -> Diff:
        text = self.driver.compare_config()
        commands = getattr(self.driver, "pending_commands", None)
        return Diff(tuple(commands) if commands is not None else changed_lines(text), text)

    def commit_config(self) -> None:
        self.driver.commit_config()

    def discard_config(self) -> None:
        self.driver.discard_config()

    def rollback(self) -> None:
        self.driver.rollback()

    def save_config(self) -> None:
        self.driver.confirm_commit()


def napalm_session(params: SshParams, record: PlatformRecord) -> NapalmDevice:
    """A new, unopened session to one device through the NAPALM driver the registry names
    for its platform; commits wait for `confirm_commit` (the save after the gates)."""
    if record.napalm is None:
        raise ValueError(f"{record.name}: the platform registry names no NAPALM driver")
    driver_class = napalm.get_network_driver(record.napalm.driver)
    driver = driver_class(
        params.address,
        params.username,
        params.password or "",
        timeout=int(params.timeout),
        optional_args={
            "host": params.host,
            "key_file": params.key_file,
            "port": params.port,
            "conn_timeout": params.timeout,
            "packet_filter_netns": params.packet_filter_netns,
            "confirm": True,
        },
    )
    return NapalmDevice(params.host, driver)
