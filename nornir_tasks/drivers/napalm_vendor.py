"""egovnet's Huawei VRP and H3C Comware drivers as NAPALM drivers:
`napalm.get_network_driver("egovnet_huawei_vrp")` and `("egovnet_h3c_comware")`.

Both are `vendor.VendorCliDriver` (netmiko, the words of each platform from the registry,
hierarchical diffs by netutils) behind `napalm.base.NetworkDriver`, the contract the
rollout speaks (`napalm_device.NapalmDevice`). They differ from the community
`napalm-huawei-vrp` and `napalm-h3c-comware` drivers on purpose (docs/napalm.md): a replace
is computed here as the commands from the running config to the candidate (negated lines
under their parents) and typed in system view, instead of uploading a file and asking the
device to load it, so a diff needs no file transfer and reads the same on both platforms.

No such device runs here: the tests drive these classes over recorded sessions
(`RecordedVrpDevice`, `RecordedComwareDevice` in tests/unit/test_napalm_vendor.py).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from napalm.base import NetworkDriver, models

from egovnet import platforms
from nornir_tasks.drivers.napalm_frr import candidate_text, ssh_params
from nornir_tasks.drivers.vendor import VendorCliDriver

GLOBAL = "global"


class EgovnetCliDriver(NetworkDriver):
    """The NAPALM face of `VendorCliDriver`; a subclass names its NAPALM driver name."""

    NAPALM_NAME: ClassVar[str] = ""

    def __init__(
        self,
        hostname: str,
        username: str,
        password: str,
        timeout: int = 60,
        optional_args: dict[str, Any] | None = None,
    ) -> None:
        self.hostname, self.username, self.password = hostname, username, password
        self.timeout = timeout
        extra = dict(optional_args or {})
        self.confirm = bool(extra.get("confirm", False))
        self.record = platforms.napalm_platform(self.NAPALM_NAME)
        self.platform = self.NAPALM_NAME
        self.params = ssh_params(hostname, username, password, timeout, extra)
        self.cli_driver = VendorCliDriver(self.params, self.record)
        self.device: Any = None
        self.pending_commands: tuple[str, ...] = ()
        self._candidate = ""
        self._pending = False

    def open(self) -> None:
        self.cli_driver.open()
        self.device = self.cli_driver.session

    def close(self) -> None:
        self.cli_driver.attach(self.device)
        self.cli_driver.close()
        self.device = None

    def is_alive(self) -> models.AliveDict:
        return {"is_alive": self.device is not None}

    def _driver(self) -> VendorCliDriver:
        self.cli_driver.attach(self.device)
        return self.cli_driver

    def load_replace_candidate(
        self, filename: str | None = None, config: str | None = None
    ) -> None:
        self._candidate = candidate_text(filename, config)
        self._driver().load_replace_candidate(self._candidate)

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self._candidate = candidate_text(filename, config)
        self._driver().load_merge_candidate(self._candidate)

    def compare_config(self) -> str:
        change = self._driver().compare_config()
        self.pending_commands = change.commands
        return change.text

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError(
                f"{self.NAPALM_NAME} keeps no commit timer: open with optional_args "
                "confirm=True, then confirm_commit() or rollback()"
            )
        self._driver().commit_config()
        self._candidate, self.pending_commands, self._pending = "", (), True
        if not self.confirm:
            self.confirm_commit()

    def has_pending_commit(self) -> bool:
        return self._pending

    def confirm_commit(self) -> None:
        """Save the running config as the startup one (the platform's save command)."""
        self._driver().save_config()
        self._pending = False

    def discard_config(self) -> None:
        self._driver().discard_config()
        self._candidate, self.pending_commands = "", ()

    def rollback(self) -> None:
        self._driver().rollback()
        self._pending = False

    def get_facts(self) -> models.FactsDict:
        facts = self._driver().get_facts()
        return {
            "hostname": facts["hostname"],
            "fqdn": facts["hostname"],
            "vendor": facts["vendor"],
            "model": "",
            "os_version": facts["os_version"],
            "serial_number": "",
            "uptime": -1.0,
            "interface_list": [],
        }

    def get_bgp_neighbors(self) -> dict[str, models.BGPStateNeighborsPerVRFDict]:
        """The public-network (global) sessions of the peer table: its columns give the
        address, AS, state and prefixes received; NAPALM's other fields are unknown there."""
        peers: dict[str, models.BGPStateNeighborDict] = {}
        for peer in self._driver().get_bgp_neighbors():
            up = peer["state"] == "Established"
            peers[peer["address"]] = {
                "local_as": 0,
                "remote_as": peer["remote_as"],
                "remote_id": "",
                "is_up": up,
                "is_enabled": True,
                "description": "",
                "uptime": -1,
                "address_family": {
                    "ipv4": {
                        "received_prefixes": peer["prefixes_received"],
                        "accepted_prefixes": peer["prefixes_received"],
                        "sent_prefixes": -1,
                    }
                },
            }
        return {GLOBAL: {"router_id": "", "peers": peers}} if peers else {}

    def get_bgp_neighbors_detail(  # type: ignore[override]  # as EgovnetFrrDriver's
        self, neighbor_address: str = ""
    ) -> dict[str, dict[int, list[models.PeerDetailsDict]]]:
        found: dict[str, dict[int, list[models.PeerDetailsDict]]] = {}
        for peer in self._driver().get_bgp_neighbors():
            if neighbor_address and peer["address"] != neighbor_address:
                continue
            detail = _detail(peer["address"], peer["remote_as"], peer["state"])
            detail["received_prefix_count"] = peer["prefixes_received"]
            found.setdefault(GLOBAL, {}).setdefault(peer["remote_as"], []).append(detail)
        return found

    def get_config(
        self,
        retrieve: str = "all",
        full: bool = False,
        sanitized: bool = False,
        format: str = "text",  # noqa: A002 - NAPALM's parameter name
    ) -> models.ConfigDict:
        if format != "text" or full:
            raise NotImplementedError("the running config as the device prints it only")
        configs: models.ConfigDict = {"running": "", "startup": "", "candidate": ""}
        if retrieve in {"all", "running"}:
            configs["running"] = self._driver().get_config()
        if retrieve in {"all", "candidate"}:
            configs["candidate"] = self._candidate
        if sanitized:
            configs["running"] = sanitize(configs["running"])
            configs["candidate"] = sanitize(configs["candidate"])
        return configs


_SECRET = re.compile(r"^(\s*.*?\b(?:cipher|password|key-string|community)\b ).*$", re.MULTILINE)


def sanitize(text: str) -> str:
    """The config with what follows a secret's keyword removed.

    >>> sanitize(" peer 10.0.0.1 password cipher abc\\n")
    ' peer 10.0.0.1 password <removed>\\n'
    """
    return _SECRET.sub(r"\1<removed>", text)


def _detail(address: str, remote_as: int, state: str) -> models.PeerDetailsDict:
    """A session as NAPALM's detail model, with what a peer table says (the rest unknown)."""
    return {
        "up": state == "Established",
        "local_as": 0,
        "remote_as": remote_as,
        "router_id": "",
        "local_address": "",
        "routing_table": "default",
        "local_address_configured": False,
        "local_port": 0,
        "remote_address": address,
        "remote_port": 0,
        "multihop": False,
        "multipath": False,
        "remove_private_as": False,
        "import_policy": "",
        "export_policy": "",
        "input_messages": -1,
        "output_messages": -1,
        "input_updates": -1,
        "output_updates": -1,
        "messages_queued_out": -1,
        "connection_state": state,
        "previous_connection_state": "",
        "last_event": "",
        "suppress_4byte_as": False,
        "local_as_prepend": False,
        "holdtime": 0,
        "configured_holdtime": 0,
        "keepalive": 0,
        "configured_keepalive": 0,
        "active_prefix_count": 0,
        "received_prefix_count": 0,
        "accepted_prefix_count": 0,
        "suppressed_prefix_count": 0,
        "advertised_prefix_count": 0,
        "flap_count": 0,
    }


class EgovnetHuaweiVrpDriver(EgovnetCliDriver):
    """Huawei VRP over SSH (netmiko `huawei`)."""

    NAPALM_NAME = "egovnet_huawei_vrp"


class EgovnetH3cComwareDriver(EgovnetCliDriver):
    """H3C Comware over SSH (netmiko `hp_comware`)."""

    NAPALM_NAME = "egovnet_h3c_comware"
