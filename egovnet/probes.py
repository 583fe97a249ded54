"""Liveness probes of a device's management plane: does its SSH server greet, does its SNMP
agent answer.

Two parts ask this of the same devices: the rollout's health gates (`nornir_tasks.gates`,
after each wave) and the lab's status (`lab.runner`, for each node). Neither may import the
other, and the probes are too small to be a part of their own, so they live in the core,
beside the model they are asked about; they are the only network I/O the core does, and
they are handed to the gates as injected probes rather than reached for.

The SNMP probe speaks SNMPv3 through pysnmp (already the exporter's client), not net-snmp's
`snmpget`: a machine without the `snmp` package must not see every agent as dead.
Without credentials it sends a request as a user no agent knows: an agent that is there
answers with a report PDU (usmStatsUnknownUserNames), which proves it is alive with no
secret entering the check. With credentials it reads sysUpTime as that user (authPriv), which
also proves the agent still accepts the NOC's keys.
"""

from __future__ import annotations

import socket
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from pysnmp.hlapi.v3arch.asyncio import (
    ContextData,
    ObjectIdentity,
    ObjectType,
    UdpTransportTarget,
    UsmUserData,
    get_cmd,
    usmAesCfb128Protocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMACSHAAuthProtocol,
)
from pysnmp.proto import errind

from egovnet.secrets import SnmpCredentials
from egovnet.snmp_loop import SnmpLoop

__all__ = [
    "PROBE_USER",
    "SnmpProber",
    "shared_prober",
    "snmp_answers",
    "ssh_answers",
]

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
PROBE_USER = "egovnet-probe"
"""The user name of the credential-free probe: one no agent should be configured with."""

AUTH_PROTOCOLS = {"sha": usmHMACSHAAuthProtocol, "sha256": usmHMAC192SHA256AuthProtocol}
PRIV_PROTOCOLS = {"aes128": usmAesCfb128Protocol}
"""pysnmp's protocols for the inventory's algorithm names (`SnmpCredentials.auth`, `.priv`)."""
T = TypeVar("T")

ALIVE_REPORTS = (errind.UnknownUserName, errind.UnknownSecurityName)
"""What an agent's report PDU to the unknown probe user becomes in pysnmp."""


def ssh_answers(address: str, port: int = 22, timeout: float = 3.0) -> bool:
    """An SSH server greets on `address` (a TCP connect and the `SSH-` banner, no login)."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            return sock.recv(64).startswith(b"SSH-")
    except OSError:
        return False


class SnmpProber:
    """One pysnmp engine on an event loop in a thread of its own, for probes from any thread.

    Making a pysnmp engine costs about a second (it compiles its MIB modules); a probe on a
    ready engine costs a round trip. So one prober serves every probe of a run: the gates'
    worker threads and the lab's status loop hand their requests to it side by side."""

    def __init__(self) -> None:
        self._snmp = SnmpLoop("snmp-probe")

    def answers(
        self,
        address: str,
        port: int = 161,
        *,
        user: SnmpCredentials | None = None,
        timeout: float = 2.0,
        retries: int = 1,
    ) -> bool:
        """Whether an SNMPv3 agent answers on `address`:`port`.

        Without `user`, any answer counts, the unknown-user report included (no secret is
        needed or sent); with `user`, only a sysUpTime read with its keys."""
        try:
            return self._snmp.run(
                self._answers(address, port, user, timeout, retries),
                (timeout + 1.0) * (retries + 1) + 5.0,
            )
        except (OSError, FutureTimeout):  # no route, or the loop gone: nothing answers
            return False

    async def _answers(
        self, address: str, port: int, user: SnmpCredentials | None, timeout: float, retries: int
    ) -> bool:
        auth = (
            UsmUserData(PROBE_USER)  # noqa: S509 - no secret on purpose: the answer is a report
            if user is None
            else UsmUserData(
                user.name,
                user.auth_key,
                user.priv_key,
                authProtocol=AUTH_PROTOCOLS[user.auth],
                privProtocol=PRIV_PROTOCOLS[user.priv],
            )
        )
        transport = await UdpTransportTarget.create(
            (address, port), timeout=timeout, retries=retries
        )
        indication, status, _index, _varbinds = await get_cmd(
            self._snmp.engine,
            auth,
            transport,
            ContextData(),
            ObjectType(ObjectIdentity(SYS_UPTIME)),
            lookupMib=False,
        )
        if user is None:
            return indication is None or isinstance(indication, ALIVE_REPORTS)
        return indication is None and not status

    def close(self) -> None:
        """Stop the loop (the engine's sockets close with it)."""
        self._snmp.close()

    def __enter__(self) -> SnmpProber:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


_SHARED: list[SnmpProber] = []
_SHARED_LOCK = threading.Lock()


def shared_prober() -> SnmpProber:
    """The process's prober, made on first use (never at import: importing the core must
    not start a thread or load MIBs)."""
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(SnmpProber())
        return _SHARED[0]


def snmp_answers(
    address: str,
    port: int = 161,
    *,
    user: SnmpCredentials | None = None,
    timeout: float = 2.0,
    retries: int = 1,
) -> bool:
    """`SnmpProber.answers` on the process's shared prober."""
    return shared_prober().answers(address, port, user=user, timeout=timeout, retries=retries)
