"""egovnet's FRR driver as a NAPALM driver: `napalm.get_network_driver("egovnet_frr")`.

NAPALM has no FRR driver, and the rollout's session to FRR (`frr.FrrDriver`: SSH into vtysh,
diffs by frr-reload.py's logic, `vtysh -C` before anything is sent, the exit's packet filter
beside the routing config) already keeps NAPALM's configuration calls. This class puts it
behind `napalm.base.NetworkDriver`, so that NAPALM users (`nornir_napalm`'s `napalm_get` and
`napalm_configure`, scripts, `napalm` on the command line) drive the same code the rollout
does, and adds the getters with NAPALM's typed models (`napalm_frr_parse`).

`optional_args` (NAPALM's place for a driver's own settings; `nornir_napalm` passes its
connection options' `extras["optional_args"]`): `port`, `key_file` (SSH key), `host` (the
inventory name, for messages), `packet_filter_netns` (an exit's internet namespace) and
`confirm`. Where NAPALM's stock drivers save the config at commit, FRR's vtysh keeps what
`write memory` saved: a commit first saves the pre-change config as the startup config, then
applies the change. Without `confirm` it saves the new one at once (a NAPALM user's commit
is done); with `confirm=True` (the rollout) the device keeps booting the old config until
`confirm_commit()`, which the rollout calls after the health gates pass, and `rollback()`
restores it. There is no timer on the device, so `commit_config(revert_in=...)` is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from napalm.base import NetworkDriver, models
from napalm.base.exceptions import CommandErrorException
from napalm.base.helpers import sanitize_configs

from egovnet import platforms
from nornir_tasks.drivers import napalm_frr_parse as parse
from nornir_tasks.drivers.base import DeviceError
from nornir_tasks.drivers.frr import FrrDriver
from nornir_tasks.drivers.ssh import SshParams

NAPALM_NAME = "egovnet_frr"
"""The name NAPALM finds this driver by (and the platform registry's FRR record gives)."""
SHOW_VRFS = "show vrf"
SHOW_NEIGHBORS = "show bgp vrf all neighbors json"


def candidate_text(filename: str | None, config: str | None) -> str:
    """The candidate NAPALM's `load_*_candidate` was given, as a file or as text."""
    if config is not None:
        return config
    if filename is None:
        raise ValueError("load a candidate from a filename or a config string")
    return Path(filename).read_text(encoding="utf-8")


def ssh_params(
    hostname: str, username: str, password: str | None, timeout: int, extra: dict[str, Any]
) -> SshParams:
    """egovnet's session parameters from NAPALM's arguments and `optional_args`."""
    return SshParams(
        host=str(extra.get("host") or hostname),
        address=hostname,
        username=username,
        password=password or None,
        key_file=extra.get("key_file"),
        port=int(extra.get("port") or 22),
        timeout=float(extra.get("conn_timeout", timeout)),
        packet_filter_netns=extra.get("packet_filter_netns"),
    )


class EgovnetFrrDriver(NetworkDriver):
    """NAPALM driver for FRR over SSH into vtysh.

    Example::

        driver = napalm.get_network_driver("egovnet_frr")
        with driver("10.64.8.14", "root", "", optional_args={"key_file": KEY}) as device:
            device.load_replace_candidate(config=intended)
            print(device.compare_config())
    """

    platform = NAPALM_NAME

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
        self.record = platforms.napalm_platform(NAPALM_NAME)
        self.params = ssh_params(hostname, username, password, timeout, extra)
        self.frr = FrrDriver(self.params, self.record)
        self.device: Any = None
        """The open session (netmiko's); NAPALM's test doubles replace it."""
        self.pending_commands: tuple[str, ...] = ()
        """What `commit_config` would type, as the last `compare_config` found it."""
        self._candidate = ""
        self._pending = False

    # -- session ---------------------------------------------------------------------------

    def open(self) -> None:
        self.frr.open()
        self.device = self.frr.session

    def close(self) -> None:
        self.frr.attach(self.device)
        self.frr.close()
        self.device = None

    def is_alive(self) -> models.AliveDict:
        transport = getattr(getattr(self.device, "remote_conn", None), "transport", None)
        alive = self.device is not None and (transport is None or bool(transport.is_active()))
        return {"is_alive": alive}

    def _send(self, command: str) -> str:
        self.frr.attach(self.device)
        return self.frr.send(command)

    def _json(self, command: str) -> Any:
        output = self._send(command)
        try:
            return json.loads(output)
        except json.JSONDecodeError as exc:
            host = self.params.host
            raise DeviceError(host, f"{command!r} did not return JSON: {output[:200]!r}") from exc

    def _interfaces(self) -> dict[str, dict[str, Any]]:
        """Every VRF's interfaces (`napalm_frr_parse.merge_interfaces` says why per VRF)."""
        vrfs = parse.vrf_names(self._send(SHOW_VRFS))
        return parse.merge_interfaces(
            {vrf: self._json(f"show interface vrf {vrf} json") for vrf in vrfs}
        )

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str | dict[str, Any]]:
        if encoding not in {"text", "json"}:
            raise NotImplementedError(f"{encoding} is not a supported encoding")
        found: dict[str, str | dict[str, Any]] = {}
        for command in commands:
            output = self._send(command)
            if output.lstrip().startswith("% Unknown command"):
                raise CommandErrorException(f"{self.params.host}: {output.strip()}")
            found[command] = json.loads(output) if encoding == "json" else output
        return found

    # -- candidate, commit, rollback -------------------------------------------------------

    def load_replace_candidate(
        self, filename: str | None = None, config: str | None = None
    ) -> None:
        self._candidate = candidate_text(filename, config)
        self.frr.load_replace_candidate(self._candidate)

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self._candidate = candidate_text(filename, config)
        self.frr.load_merge_candidate(self._candidate)

    def compare_config(self) -> str:
        self.frr.attach(self.device)
        change = self.frr.compare_config()
        self.pending_commands = change.commands
        return change.text

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError(
                "FRR has no commit timer: open with optional_args confirm=True, then "
                "confirm_commit() or rollback()"
            )
        self.frr.attach(self.device)
        self.frr.commit_config()
        self._candidate, self.pending_commands = "", ()
        self._pending = True
        if not self.confirm:
            self.confirm_commit()

    def has_pending_commit(self) -> bool:
        return self._pending

    def confirm_commit(self) -> None:
        """Make the running config the one FRR boots with (`write memory`). Asked with no
        commit pending it saves all the same (the rollout saves a host whose session was
        opened afresh after its commit)."""
        self.frr.attach(self.device)
        self.frr.save_config()
        self._pending = False

    def discard_config(self) -> None:
        self.frr.discard_config()
        self._candidate, self.pending_commands = "", ()

    def rollback(self) -> None:
        self.frr.attach(self.device)
        self.frr.rollback()
        self._pending = False

    # -- getters ---------------------------------------------------------------------------

    def get_facts(self) -> models.FactsDict:
        return parse.facts(
            self._send(self.record.commands.show_version),
            self._interfaces(),
            self.record.vendor,
        )

    def get_interfaces(self) -> dict[str, models.InterfaceDict]:
        return parse.interfaces(self._interfaces())

    def get_interfaces_ip(self) -> dict[str, models.InterfacesIPDict]:
        return parse.interfaces_ip(self._interfaces())

    def get_bgp_neighbors(self) -> dict[str, models.BGPStateNeighborsPerVRFDict]:
        return parse.bgp_neighbors(self._json(SHOW_NEIGHBORS))

    def get_bgp_neighbors_detail(  # type: ignore[override]  # see below
        self, neighbor_address: str = ""
    ) -> dict[str, dict[int, list[models.PeerDetailsDict]]]:
        """Per VRF, per remote AS, the sessions: the shape NAPALM documents and its drivers
        return (its annotation, `dict[str, PeerDetailsDict]`, says otherwise)."""
        return parse.bgp_neighbors_detail(self._json(SHOW_NEIGHBORS), neighbor_address)

    def get_network_instances(self, name: str = "") -> dict[str, models.NetworkInstanceDict]:
        found = parse.network_instances(self._send(SHOW_VRFS), self._interfaces())
        return {k: v for k, v in found.items() if not name or k == name}

    def get_config(
        self,
        retrieve: str = "all",
        full: bool = False,
        sanitized: bool = False,
        format: str = "text",  # noqa: A002 - NAPALM's parameter name
    ) -> models.ConfigDict:
        """Running (with an exit's packet filter as its own section, as backups keep it),
        startup (`show startup-config`), and the loaded candidate; `full` is not offered
        (FRR's vtysh has no `show running-config all`)."""
        if format != "text":
            raise NotImplementedError("FRR prints its config as text only")
        if full:
            raise NotImplementedError("FRR has no full (defaults included) running config")
        configs: models.ConfigDict = {"running": "", "startup": "", "candidate": ""}
        if retrieve in {"all", "running"}:
            self.frr.attach(self.device)
            configs["running"] = self.frr.get_config()
        if retrieve in {"all", "startup"}:
            configs["startup"] = self._send("show startup-config")
        if retrieve in {"all", "candidate"}:
            configs["candidate"] = self._candidate
        if sanitized:
            return sanitize_configs(configs, parse.SANITIZE_FILTERS)
        return configs
