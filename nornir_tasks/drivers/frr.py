"""NAPALM's contract for FRR, over SSH into vtysh (there is no NAPALM driver for FRR).

The node's sshd lands a login in `vtysh` (the lab does this with ForceCommand; an FRR box in
production does it with the user's shell). Diffs are computed on the operator's machine by
frr-reload.py's own logic (`frr_reload.py`); the candidate is checked by `vtysh -C` before
anything is sent. Commit saves the pre-change config as the node's startup config first, so
the device itself keeps what a rollback restores; `save_config` after the health gates makes
the new config the startup one.

On an exit the config also carries the packet filter (`egovnet.render.packet_filter`): the
driver splits it off, diffs it against the node's nftables ruleset and applies it with one
`nft -f` (`nftables.py`), so backup, diff, push and rollback cover the firewall too.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
import secrets
from typing import Any

from netmiko import BaseConnection
from paramiko.ssh_exception import SSHException

from egovnet.platforms import PlatformRecord
from egovnet.render.packet_filter import PacketFilter, embed, normalize, split
from nornir_tasks.drivers.base import (
    BgpPeer,
    CandidateRejectedError,
    CommitFailedError,
    ConnectionFailedError,
    DeviceError,
    Diff,
    Facts,
)
from nornir_tasks.drivers.frr_reload import (
    change_commands,
    change_summary,
    change_text,
    syntax_errors,
)
from nornir_tasks.drivers.nftables import COMMAND, NftablesOverSsh, filter_diff
from nornir_tasks.drivers.ssh import SESSION_LOST, SshParams, connect, first_line

# Commands after which the next command is typed at the top of `configure`.
_BOUNDARIES = frozenset({"exit", "end", "configure terminal"})
# Lines of `show running-config` that describe the session, not the configuration.
_VOLATILE = re.compile(r"^(Building configuration|Current configuration|frr version|end$)")


def config_lines(text: str) -> list[str]:
    """The configuration part of `show running-config` output, for human diffs."""
    return [line for line in text.splitlines() if line.strip() and not _VOLATILE.match(line)]


def unified_diff(host: str, running: str, candidate: str) -> str:
    """A unified diff from the running config to the candidate, session noise left out."""
    return "".join(
        line + "\n"
        for line in difflib.unified_diff(
            config_lines(running),
            config_lines(candidate),
            f"{host} running",
            f"{host} intended",
            lineterm="",
        )
    )


def parse_interface_brief(text: str) -> list[tuple[str, str]]:
    """(name, VRF) rows of `show interface vrf all brief`.

    >>> parse_interface_brief("Interface  Status  VRF  Addresses\\n---------  ------\\n"
    ...                       "eth1  up  default  10.0.0.1/31\\nrogue0  up  public\\n")
    [('eth1', 'default'), ('rogue0', 'public')]
    """
    rows = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] not in {"Interface", "---------"}:
            rows.append((words[0], words[2]))
    return rows


class FrrDriver:
    """One SSH session to an FRR node's vtysh.

    Example::

        driver = FrrDriver(SshParams("zhengding", "10.64.8.14", "root", key_file=KEY),
                           platform("frr"))
        driver.open()
        driver.load_replace_candidate(intended)
        if not driver.compare_config().empty:
            driver.commit_config()
    """

    def __init__(self, params: SshParams, platform: PlatformRecord) -> None:
        self.params = params
        self.host = params.host
        self.platform = platform
        self.commands = platform.commands
        self._error = re.compile(platform.commands.error_pattern, re.MULTILINE)
        self._session: BaseConnection | None = None
        self._candidate: str | None = None
        self._merge = False
        self._before_commit: str | None = None
        self._filter: PacketFilter | None = None
        self._filter_before: PacketFilter | None = None
        self._read: str | None = None
        """The routing config `get_config` read last, until a diff uses it or a change is
        sent (`compare_config`)."""

    # -- session ---------------------------------------------------------------------------

    def open(self) -> None:
        self._read = None
        self._session = connect(
            self.params, self.platform.netmiko_type, self.commands.prompt_pattern
        )

    @property
    def session(self) -> BaseConnection | None:
        """The open netmiko session (None before `open`)."""
        return self._session

    def attach(self, session: Any) -> None:
        """Use a session opened elsewhere (the NAPALM driver's, a recorded stand-in's)."""
        if session is not self._session:
            self._read = None
        self._session = session

    def send(self, command: str, timeout: float = 60.0) -> str:
        """One exec-mode command's output; `ConnectionFailedError` when the session dies."""
        return self._send(command, timeout)

    def close(self) -> None:
        if self._session is not None:
            with contextlib.suppress(OSError, SSHException):  # a dead session is closed
                self._session.disconnect()
            self._session = None

    def _send(self, command: str, timeout: float = 60.0) -> str:
        if self._session is None:
            raise DeviceError(self.host, "not connected")
        try:
            return str(self._session.send_command(command, read_timeout=timeout))
        except SESSION_LOST as exc:
            raise ConnectionFailedError(
                self.host, f"session lost during {command!r}: {first_line(exc)}"
            ) from exc

    def _json(self, command: str) -> Any:
        output = self._send(command)
        try:
            return json.loads(output)
        except json.JSONDecodeError as exc:
            raise DeviceError(
                self.host, f"{command!r} did not return JSON: {output[:200]!r}"
            ) from exc

    # -- getters ---------------------------------------------------------------------------

    def _routing(self) -> str:
        return self._send(self.commands.show_config)

    def _nftables(self, netns: str) -> NftablesOverSsh:
        if self._session is None or self._session.remote_conn_pre is None:
            raise DeviceError(self.host, "not connected")
        return NftablesOverSsh(self.host, netns, self._session.remote_conn_pre)

    def get_config(self) -> str:
        """The FRR config, and on a node with a packet filter its ruleset as a section."""
        routing = self._routing()
        self._read = routing
        netns = self.params.packet_filter_netns
        if netns is None:
            return routing
        running = self._nftables(netns).running()
        return routing.rstrip("\n") + "\n" + embed(netns, running.ruleset)

    def get_facts(self) -> Facts:
        version = self._send(self.commands.show_version)
        match = re.search(self.commands.version_pattern, version)
        hostname = self._session.find_prompt().rstrip("#>") if self._session else self.host
        return Facts(
            hostname=hostname,
            vendor=self.platform.vendor,
            os_version=match.group(1) if match else "unknown",
        )

    def get_bgp_neighbors(self) -> list[BgpPeer]:
        document = self._json(self.commands.bgp_peers)
        peers: list[BgpPeer] = []
        for vrf, families in document.items():
            unicast = families.get("ipv4Unicast", {}) if isinstance(families, dict) else {}
            for address, peer in unicast.get("peers", {}).items():
                peers.append(
                    BgpPeer(
                        vrf=vrf,
                        address=address,
                        remote_as=int(peer.get("remoteAs", 0)),
                        state=str(peer.get("state", "Unknown")),
                        prefixes_received=int(peer.get("pfxRcd", 0)),
                    )
                )
        return peers

    def list_interfaces(self) -> list[tuple[str, str]]:
        """(interface, VRF) of every interface the node has, configured or not: a port
        cabled and addressed outside the config shows here and nowhere in the config."""
        return parse_interface_brief(self._send("show interface vrf all brief"))

    # -- candidate -------------------------------------------------------------------------

    def _check(self, config: str) -> None:
        errors = syntax_errors(config)
        if errors:
            message = "FRR rejects the candidate: " + "; ".join(errors)
            raise CandidateRejectedError(self.host, message)

    def load_replace_candidate(self, config: str) -> None:
        routing, self._filter = split(config)
        self._check(routing)
        self._candidate, self._merge = routing, False

    def load_merge_candidate(self, config: str) -> None:
        routing, self._filter = split(config)
        self._check(routing)
        self._candidate, self._merge = routing, True

    def discard_config(self) -> None:
        self._candidate = None
        self._filter = None

    def _filter_change(self) -> tuple[PacketFilter, PacketFilter] | None:
        """(running, wanted) when the candidate's packet filter differs from the node's."""
        if self._filter is None:
            return None
        running = self._nftables(self._filter.netns).running()
        if normalize(running.ruleset) == normalize(self._filter.ruleset):
            return None
        return running, self._filter

    def _commands(self, running: str) -> list[str]:
        if self._candidate is None:
            raise DeviceError(self.host, "no candidate loaded")
        if self._merge:
            return [
                line.strip()
                for line in self._candidate.splitlines()
                if line.strip() and not line.startswith("!")
            ]
        return change_commands(self._candidate, running, self.params.address)

    def compare_config(self) -> Diff:
        """The change from the running config to the candidate. Right after `get_config`
        on this session (a backup, then its diff: nothing was sent in between) the config
        it read is the running one compared, once: the diff is the one from what was
        backed up, and a second `show running-config` per router is saved (a dry run of 157
        routers fetched every config twice). Any later diff, and every commit, reads the
        device afresh."""
        running, self._read = self._read, None
        if running is None:
            running = self._routing()
        commands = self._commands(running)
        text = ""
        if commands and self._merge:
            text = "".join(f"+ {line}\n" for line in commands)
        elif commands:
            text = change_text(self.host, self._candidate or "", running, self.params.address)
        change = self._filter_change()
        if change is not None:
            commands.append(f"{COMMAND} {change[1].netns} apply")
            text += filter_diff(self.host, *change)
        return Diff(tuple(commands), text)

    def _send_config(self, commands: list[str]) -> list[str]:
        """Send config commands in one write; the device's error lines (empty: all accepted).

        netmiko's `send_config_set` pauses 50 ms after every line and then waits for two
        idle seconds, and even so can return while vtysh is still working. Here a word that
        is no command goes last: vtysh answers it with `% Unknown command: <word>` only once
        it has processed every line before it. (The terminal may echo typed-ahead lines
        early, so an echo proves nothing; this error line is vtysh's own output.)"""
        if self._session is None:
            raise DeviceError(self.host, "not connected")
        self._read = None  # the device is about to change
        marker = f"egovnet-done-{secrets.token_hex(4)}"
        lines = ["configure terminal", *commands, "end", marker]
        try:
            self._session.write_channel("\n".join(lines) + "\n")
            output = str(
                self._session.read_until_pattern(
                    pattern=rf"Unknown command: {marker}[^\n]*\n[^\n]*#",
                    read_timeout=max(60.0, len(lines) / 20),
                )
            )
        except SESSION_LOST as exc:
            raise CommitFailedError(
                self.host, f"session lost while applying: {first_line(exc)}"
            ) from exc
        rejected = [
            line.strip()
            for line in output.splitlines()
            if line.startswith("%") and marker not in line
        ]
        return rejected if rejected and self._error.search("\n".join(rejected)) else []

    def _apply(self, commands: list[str]) -> None:
        """Send the change; retry the deletions FRR refused in their shorter forms."""
        for error in self._send_config(commands):
            refused = error.removeprefix("% Unknown command:").strip()
            if not (error.startswith("% Unknown command:") and refused.startswith("no ")):
                raise CommitFailedError(self.host, f"device rejected: {error}")
            self._delete_shorter(commands, refused)

    def _delete_shorter(self, commands: list[str], refused: str) -> None:
        """Some `no` forms take fewer words than the line they remove (`no description`,
        not `no description TEXT`): drop words from the end until FRR accepts, as
        frr-reload.py does, inside the same context as the refused line."""
        index = commands.index(refused)
        start = index
        while start > 0 and commands[start - 1] not in _BOUNDARIES:
            if commands[start - 1].startswith("no "):
                break
            start -= 1
        context = commands[start:index]
        words = refused.split()
        while len(words) > 2:
            words.pop()
            attempt = [*context, " ".join(words), *["exit"] * len(context)]
            if not self._send_config(attempt):
                return
        raise CommitFailedError(self.host, f"device rejected: {refused}")

    def commit_config(self) -> None:
        running = self._routing()
        commands = self._commands(running)
        change = self._filter_change()
        self._before_commit = running
        self._filter_before = change[0] if change else None
        if commands:
            self._send(self.commands.save)  # the device keeps the pre-change config as startup
            self._apply(commands)
            if not self._merge:
                self._converge(self._candidate or "")
        if change is not None:
            self._nftables(change[1].netns).apply(change[1])

    def _converge(self, target: str) -> None:
        """frr-reload makes a second pass for lines that a deletion took with it; so do we,
        and a last look must find nothing left to change."""
        for _ in range(2):
            remaining = change_commands(target, self._routing(), self.params.address)
            if not remaining:
                return
            self._apply(remaining)
        running = self._routing()
        if change_commands(target, running, self.params.address):
            # Accepted without an error, yet not kept: FRR stores some values otherwise
            # than typed (a keepalive above hold/3 becomes hold/3). Name the lines.
            left = change_summary(target, running, self.params.address)
            raise CommitFailedError(self.host, f"running config still differs after commit: {left}")

    def rollback(self) -> None:
        if self._before_commit is None:
            raise DeviceError(self.host, "nothing to roll back: no commit in this session")
        commands = change_commands(self._before_commit, self._routing(), self.params.address)
        if commands:
            self._apply(commands)
        self._converge(self._before_commit)
        if self._filter_before is not None:
            self._nftables(self._filter_before.netns).apply(self._filter_before)
        self._candidate = None

    def save_config(self) -> None:
        self._send(self.commands.save)
