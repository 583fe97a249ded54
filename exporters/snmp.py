"""The SNMP client side of the exporter: one request at a time, on asyncio, through pysnmp.

`Session` is the contract the walker uses (GET and GETBULK of several OIDs); `PysnmpSession`
is the real one. Retries are done here, not inside pysnmp, so that every packet sent and
every retry is counted, and a per-target timeout applies to each attempt. A shared
semaphore caps the requests in flight across all targets: a province's exporter must not
flood its own uplink when Prometheus scrapes 150 devices in the same second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    usmAesCfb128Protocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMACSHAAuthProtocol,
)
from pysnmp.hlapi.v3arch.asyncio.lcd import CommandGeneratorLcdConfigurator
from pysnmp.proto import errind
from pysnmp.proto.api import v2c
from pysnmp.proto.rfc1902 import Null, ObjectName, OctetString

from egovnet.errors import EgovnetError
from egovnet.secrets import SnmpCredentials
from exporters.varbinds import BerError, Missing, Value, VarBind, decode_varbinds

__all__ = [
    "ERROR_KINDS",
    "Counters",
    "ErrorKind",
    "Missing",
    "PysnmpSession",
    "Session",
    "SnmpError",
    "Value",
    "VarBind",
]

ErrorKind = Literal[
    "timeout", "auth", "toobig", "loop", "agent", "protocol", "deadline", "unroutable"
]
ERROR_KINDS: tuple[ErrorKind, ...] = (
    "timeout",
    "auth",
    "toobig",
    "loop",
    "agent",
    "protocol",
    "deadline",
    "unroutable",
)


class SnmpError(EgovnetError, RuntimeError):
    """A request failed; `kind` sorts it for `egov_snmp_errors_total{kind}`."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Counters:
    """Packets of one target, kept across scrapes for the exporter's own `/metrics`."""

    sent: int = 0
    retried: int = 0


class Session(Protocol):
    """What the walker needs from an SNMP client (a real agent, or a recorded walk)."""

    async def get(self, oids: Sequence[tuple[int, ...]]) -> list[VarBind]:
        """GET: one varbind per OID, in order."""
        ...

    async def bulk(self, oids: Sequence[tuple[int, ...]], repetitions: int) -> list[VarBind]:
        """GETBULK with no non-repeaters: up to `repetitions` rows of len(oids) varbinds."""
        ...


LCD = CommandGeneratorLcdConfigurator()
REQUESTS = cmdgen.CommandGenerator()
NULL = Null("")
CONTEXT = OctetString("")

AUTH_ERRORS = (
    errind.WrongDigest,
    errind.UnknownUserName,
    errind.UnknownSecurityName,
    errind.DecryptionError,
    errind.AuthenticationFailure,
    errind.UnsupportedSecurityLevel,
)


class PysnmpSession:
    """One target's requests through a shared pysnmp engine (asyncio)."""

    def __init__(
        self,
        engine: SnmpEngine,
        address: str,
        port: int,
        credentials: SnmpCredentials,
        *,
        timeout: float,
        retries: int,
        counters: Counters,
        limit: asyncio.Semaphore,
    ) -> None:
        self._engine = engine
        self._address = (address, port)
        self._timeout = timeout
        self._retries = retries
        self._counters = counters
        self._limit = limit
        self._transport: UdpTransportTarget | None = None
        self._name = ""
        self._auth: CommunityData | UsmUserData
        if credentials.version == "v2c":
            self._auth = CommunityData(credentials.community, mpModel=1)  # noqa: S508 - only where the inventory says
        else:
            protocol = (
                usmHMACSHAAuthProtocol
                if credentials.auth == "sha"
                else usmHMAC192SHA256AuthProtocol
            )
            self._auth = UsmUserData(
                credentials.name,
                credentials.auth_key,
                credentials.priv_key,
                authProtocol=protocol,
                privProtocol=usmAesCfb128Protocol,
            )

    async def _target(self) -> str:
        """The engine's name for this target, configured on first use."""
        if self._transport is None:
            self._transport = await UdpTransportTarget.create(
                self._address, timeout=self._timeout, retries=0
            )
            self._name, _ = LCD.configure(self._engine, self._auth, self._transport, CONTEXT)
        return self._name

    def _send(self, name: str, pdu: Any) -> asyncio.Future[tuple[Any, Any]]:
        """One request through pysnmp's command generator, PDU in hand: hlapi would resolve
        every OID against the MIBs on the way out and wrap every answer on the way back.
        The answer's varbinds stay bytes (`exporters.engine`) until `decode_varbinds`."""
        future: asyncio.Future[tuple[Any, Any]] = asyncio.get_running_loop().create_future()

        def done(_engine: Any, _handle: Any, indication: Any, answer: Any, _ctx: Any) -> None:
            if not future.done():
                future.set_result((indication, answer))

        REQUESTS.send_pdu(self._engine, name, None, CONTEXT, pdu, done, None)
        return future

    async def get(self, oids: Sequence[tuple[int, ...]]) -> list[VarBind]:
        return await self._request(oids, None)

    async def bulk(self, oids: Sequence[tuple[int, ...]], repetitions: int) -> list[VarBind]:
        return await self._request(oids, repetitions)

    async def _request(
        self, oids: Sequence[tuple[int, ...]], repetitions: int | None
    ) -> list[VarBind]:
        name = await self._target()
        objects = [(ObjectName(oid), NULL) for oid in oids]
        for attempt in range(self._retries + 1):
            self._counters.sent += 1
            if attempt:
                self._counters.retried += 1
            async with self._limit:
                indication, answer = await self._send(name, _pdu(objects, repetitions))
            if isinstance(indication, errind.RequestTimedOut):
                continue
            if indication is not None:
                kind: ErrorKind = "auth" if isinstance(indication, AUTH_ERRORS) else "protocol"
                raise SnmpError(kind, f"{self._address[0]}: {indication}")
            status, index = answer[1], answer[2]
            if status:
                text = str(status.prettyPrint())
                kind = "toobig" if text == "tooBig" else "agent"
                raise SnmpError(kind, f"{self._address[0]}: agent said {text} (index {index})")
            try:
                return decode_varbinds(bytes(answer[3]))
            except BerError as exc:
                raise SnmpError("protocol", f"{self._address[0]}: {exc}") from None
        raise SnmpError(
            "timeout",
            f"{self._address[0]}: no answer in {self._retries + 1} tries of {self._timeout:g}s",
        )


def _pdu(varbinds: list[tuple[ObjectName, Null]], repetitions: int | None) -> Any:
    """A GetRequest-PDU, or a GetBulkRequest-PDU without non-repeaters."""
    if repetitions is None:
        pdu = v2c.GetRequestPDU()
        v2c.apiPDU.set_defaults(pdu)
        v2c.apiPDU.set_varbinds(pdu, varbinds)
        return pdu
    pdu = v2c.GetBulkRequestPDU()
    v2c.apiBulkPDU.set_defaults(pdu)
    v2c.apiBulkPDU.set_non_repeaters(pdu, 0)
    v2c.apiBulkPDU.set_max_repetitions(pdu, repetitions)
    v2c.apiBulkPDU.set_varbinds(pdu, varbinds)
    return pdu
