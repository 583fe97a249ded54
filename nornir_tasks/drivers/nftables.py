"""An FRR node's packet filter: the nftables ruleset of one namespace, over the same SSH login.

FRR routes; a Linux router's firewall and NAT are nftables, outside FRR. The node's login
offers one command for it besides the CLI (`egovnet-nft NETNS list|apply`, see the lab's
`lab.runner.LOGIN`; on a production box, a sudo rule for the same two commands), run on an
exec channel of the session the driver already holds: no second login, no shell.
"""

from __future__ import annotations

import difflib

from paramiko import SSHClient

from egovnet.render.packet_filter import PacketFilter, normalize
from nornir_tasks.drivers.base import CommitFailedError, DeviceError
from nornir_tasks.drivers.ssh import SESSION_LOST, first_line

COMMAND = "egovnet-nft"


class NftablesOverSsh:
    """List and atomically replace the ruleset of `netns` on `host`."""

    def __init__(self, host: str, netns: str, client: SSHClient, timeout: float = 30.0) -> None:
        self.host = host
        self.netns = netns
        self._client = client
        self._timeout = timeout

    def _run(self, action: str, stdin: str | None = None) -> str:
        command = f"{COMMAND} {self.netns} {action}"
        try:
            channel_in, channel_out, channel_err = self._client.exec_command(
                command, timeout=self._timeout
            )
            if stdin is not None:
                channel_in.write(stdin)
                channel_in.channel.shutdown_write()
            output = channel_out.read().decode()
            errors = channel_err.read().decode().strip()
            status = channel_out.channel.recv_exit_status()
        except SESSION_LOST as exc:
            raise DeviceError(self.host, f"{command}: session lost: {first_line(exc)}") from exc
        if status != 0:
            message = f"{command} failed ({status}): {errors or output.strip()}"
            if action == "apply":
                raise CommitFailedError(self.host, message)
            raise DeviceError(self.host, message)
        return output

    def running(self) -> PacketFilter:
        """The namespace's ruleset as it runs now, counters zeroed."""
        listing = "\n".join(normalize(self._run("list"), keep_layout=True))
        return PacketFilter(self.netns, listing + "\n" if listing else "")

    def apply(self, wanted: PacketFilter) -> None:
        """Make the ruleset `wanted`, in one nft transaction; check that it took."""
        self._run("apply", wanted.script())
        if normalize(self.running().ruleset) != normalize(wanted.ruleset):
            raise CommitFailedError(
                self.host, f"packet filter of {self.netns} differs after nft -f"
            )


def filter_diff(host: str, running: PacketFilter | None, wanted: PacketFilter) -> str:
    """A unified diff of two rulesets, counters and handles left out."""
    before = normalize(running.ruleset) if running else []
    return "".join(
        line + "\n"
        for line in difflib.unified_diff(
            before,
            normalize(wanted.ruleset),
            f"{host} packet filter (netns {wanted.netns}) running",
            f"{host} packet filter (netns {wanted.netns}) intended",
            lineterm="",
        )
    )
