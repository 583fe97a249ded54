"""NAPALM's contract for Huawei VRP, H3C Comware and Cisco IOS, over netmiko's device types.

These platforms differ in words, not in shape: a command to print the config, one to save
it, the word that negates a line (`undo` / `no`), the one that leaves a context (`quit` /
`exit`). So they are the `commands` of their records in the platform registry
(`egovnet.platforms`), in the manner of scrapli's drivers, not three classes. Diffs are
hierarchical (netutils' config parser the record names); a change is sent as merge commands
and removed lines are negated under their parents.

No such device runs on this machine: the tests replay recorded sessions (tests named
`recorded_...`), and say so.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from netmiko import BaseConnection
from netutils.config.compliance import diff_network_config
from paramiko.ssh_exception import SSHException

from egovnet.platforms import PlatformRecord
from nornir_tasks.drivers.base import (
    BgpPeer,
    CommitFailedError,
    ConnectionFailedError,
    DeviceError,
    Diff,
    Facts,
)
from nornir_tasks.drivers.frr import unified_diff
from nornir_tasks.drivers.ssh import SESSION_LOST, SshParams, connect


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _as_commands(tree_text: str, leave: str, negate: str | None) -> list[str]:
    """Indented config lines (parents, then children) as typed commands: children under
    their parent, a `leave` per level on the way back up; with `negate`, each leaf line (a
    line with no children) is negated instead of added."""
    lines = [line for line in tree_text.splitlines() if line.strip()]
    commands: list[str] = []
    depth_stack: list[int] = []
    for index, line in enumerate(lines):
        level = _indent(line)
        while depth_stack and depth_stack[-1] >= level:
            depth_stack.pop()
            commands.append(leave)
        following = lines[index + 1] if index + 1 < len(lines) else None
        is_parent = following is not None and _indent(following) > level
        text = line.strip()
        if is_parent:
            commands.append(text)
            depth_stack.append(level)
        elif negate is None:
            commands.append(text)
        elif text.startswith(negate):
            commands.append(text[len(negate) :])
        else:
            commands.append(negate + text)
    commands += [leave] * len(depth_stack)
    return commands


class VendorCliDriver:
    """One netmiko session to a Huawei VRP, H3C Comware or Cisco IOS device."""

    def __init__(self, params: SshParams, platform: PlatformRecord, session: Any = None) -> None:
        self.params = params
        self.host = params.host
        if platform.netutils_os is None or platform.commands.bgp_peer_pattern is None:
            raise ValueError(
                f"{platform.name}: the CLI driver needs a netutils parser and a BGP peer pattern"
            )
        self.platform = platform
        self.commands = platform.commands
        self._os: str = platform.netutils_os
        self._peer_pattern: str = platform.commands.bgp_peer_pattern
        self._session: BaseConnection | Any = session
        self._candidate: str | None = None
        self._merge = False
        self._before_commit: str | None = None

    def open(self) -> None:
        if self._session is not None:
            return
        self._session = connect(self.params, self.platform.netmiko_type)

    @property
    def session(self) -> Any:
        """The open netmiko session (None before `open`)."""
        return self._session

    def attach(self, session: Any) -> None:
        """Use a session opened elsewhere (the NAPALM driver's, a recorded stand-in's)."""
        self._session = session

    def close(self) -> None:
        if self._session is not None:
            with contextlib.suppress(OSError, SSHException):
                self._session.disconnect()
            self._session = None

    def _send(self, command: str) -> str:
        if self._session is None:
            raise DeviceError(self.host, "not connected")
        try:
            return str(self._session.send_command(command, read_timeout=60))
        except SESSION_LOST as exc:
            raise ConnectionFailedError(self.host, f"session lost during {command!r}") from exc

    def get_config(self) -> str:
        return self._send(self.commands.show_config)

    def get_facts(self) -> Facts:
        version = self._send(self.commands.show_version)
        match = re.search(self.commands.version_pattern, version)
        prompt = str(self._session.find_prompt()) if self._session is not None else self.host
        return Facts(
            hostname=prompt.strip("<>[]#"),
            vendor=self.platform.vendor,
            os_version=match.group(1) if match else "unknown",
        )

    def get_bgp_neighbors(self) -> list[BgpPeer]:
        output = self._send(self.commands.bgp_peers)
        peers: list[BgpPeer] = []
        for match in re.finditer(self._peer_pattern, output, re.MULTILINE):
            state = match["state"]
            # IOS prints the prefix count in place of the state once Established
            received = match.groupdict().get("received") or (state if state.isdigit() else "0")
            peers.append(
                BgpPeer(
                    vrf="default",
                    address=match["address"],
                    remote_as=int(match["asn"]),
                    state="Established" if state.isdigit() or state == "Established" else state,
                    prefixes_received=int(received),
                )
            )
        return peers

    def load_replace_candidate(self, config: str) -> None:
        self._candidate, self._merge = config, False

    def load_merge_candidate(self, config: str) -> None:
        self._candidate, self._merge = config, True

    def discard_config(self) -> None:
        self._candidate = None

    def _commands(self, target: str, running: str, merge: bool) -> list[str]:
        os_name, p = self._os, self.commands
        add = diff_network_config(target, running, os_name)
        commands = _as_commands(add, p.leave, None)
        if not merge:
            remove = diff_network_config(running, target, os_name)
            commands = _as_commands(remove, p.leave, p.negate) + commands
        return commands

    def compare_config(self) -> Diff:
        if self._candidate is None:
            raise DeviceError(self.host, "no candidate loaded")
        running = self.get_config()
        commands = self._commands(self._candidate, running, self._merge)
        if not commands:
            return Diff((), "")
        return Diff(tuple(commands), unified_diff(self.host, running, self._candidate))

    def _apply(self, commands: list[str]) -> None:
        if self._session is None:
            raise DeviceError(self.host, "not connected")
        try:
            output = str(self._session.send_config_set(commands, read_timeout=120))
        except SESSION_LOST as exc:
            raise CommitFailedError(self.host, f"session lost while applying: {exc}") from exc
        if re.search(self.commands.error_pattern, output, re.MULTILINE):
            raise CommitFailedError(self.host, f"device rejected a line: {output[-300:]!r}")

    def commit_config(self) -> None:
        if self._candidate is None:
            raise DeviceError(self.host, "no candidate loaded")
        running = self.get_config()
        commands = self._commands(self._candidate, running, self._merge)
        if commands:
            self._before_commit = running
            self._apply(commands)

    def rollback(self) -> None:
        if self._before_commit is None:
            raise DeviceError(self.host, "nothing to roll back: no commit in this session")
        commands = self._commands(self._before_commit, self.get_config(), merge=False)
        if commands:
            self._apply(commands)

    def save_config(self) -> None:
        if self._session is None:
            raise DeviceError(self.host, "not connected")
        self._session.save_config(cmd=self.commands.save)
