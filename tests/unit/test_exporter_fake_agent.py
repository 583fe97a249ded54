"""Agent misbehaviour net-snmp will not produce on demand, through the real pysnmp path.

`FakeAgent` is a tiny SNMPv2c agent on a loopback UDP port, written for these tests (named a
fake because it is one): it answers GET and GETBULK from a small table, and can be told to
answer tooBig to any GETBULK asking for more than N varbinds, or to loop (answer the same
OID again and again, as broken agents do). The exporter must shrink its requests and still
read every row in the first case, and stop with a `loop` error in the second, quickly and
without taking anything else down.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

from egovnet.loader import load_network
from egovnet.secrets import SecretStore, SnmpCredentials
from exporters.modules import Module
from exporters.server import Exporter
from exporters.targets import Target, build_targets
from exporters.walk import WalkLimits
from tests.unit.conftest import SAMPLE

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
TABLE = (1, 3, 6, 1, 4, 1, 99999, 1, 1)
COLUMNS = 3
ROWS = 40
TOO_BIG = 1  # RFC 3416 error-status tooBig


class FakeAgent:
    """A fake SNMPv2c agent: `most` varbinds per GETBULK answer (else tooBig), or `loop`."""

    def __init__(self, *, most: int = 10_000, loop: bool = False) -> None:
        self.most, self.loop = most, loop
        self.values = {
            (*TABLE, column, row): column * 1000 + row
            for column in range(1, COLUMNS + 1)
            for row in range(1, ROWS + 1)
        }
        self.oids = sorted(self.values)
        self.too_big = 0
        self.requests = 0
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.05)  # so that the serving thread sees `stopped` soon
        self.stopped = threading.Event()
        self.port = int(self.socket.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _next(self, oid: tuple[int, ...]) -> tuple[tuple[int, ...], object]:
        if self.loop:
            return (*oid[: len(TABLE) + 1], 1), V2C.Integer(7)
        for candidate in self.oids:
            if candidate > oid:
                return candidate, V2C.Integer(self.values[candidate])
        return oid, V2C.EndOfMibView()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                data, peer = self.socket.recvfrom(65535)
            except TimeoutError:
                continue
            self.requests += 1
            request, _ = decoder.decode(data, asn1Spec=V2C.Message())
            pdu = V2C.apiMessage.get_pdu(request)
            answer = V2C.apiMessage.get_response(request)
            reply = V2C.apiMessage.get_pdu(answer)
            asked = [tuple(oid) for oid, _ in V2C.apiPDU.get_varbinds(pdu)]
            varbinds: list[tuple[object, object]] = []
            if pdu.isSameTypeWith(V2C.GetBulkRequestPDU()):
                repetitions = int(V2C.apiBulkPDU.get_max_repetitions(pdu))
                if repetitions * len(asked) > self.most:
                    self.too_big += 1
                    V2C.apiPDU.set_error_status(reply, TOO_BIG)
                else:
                    cursors = asked
                    for _ in range(repetitions):
                        row = [self._next(cursor) for cursor in cursors]
                        varbinds += [(V2C.ObjectIdentifier(oid), value) for oid, value in row]
                        cursors = [oid for oid, _ in row]
            else:
                varbinds = [(V2C.ObjectIdentifier(oid), V2C.NoSuchObject()) for oid in asked]
            V2C.apiPDU.set_varbinds(reply, varbinds)
            self.socket.sendto(encoder.encode(answer), peer)

    def __enter__(self) -> FakeAgent:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.socket.close()


MODULE = Module.model_validate(
    {
        "name": "fake",
        "description": "The fake agent's table.",
        "tables": [
            {
                "name": "rows",
                "index": [{"label": "row", "type": "integer"}],
                "metrics": [
                    {
                        "name": f"egov_fake_column{c}",
                        "oid": ".".join(map(str, (*TABLE, c))),
                        "type": "gauge",
                        "help": "A column of the fake agent.",
                    }
                    for c in range(1, COLUMNS + 1)
                ],
            }
        ],
    }
)


MakeExporter = Callable[[FakeAgent, WalkLimits], tuple[Exporter, Target]]


@pytest.fixture
def exporter_for() -> Iterator[MakeExporter]:
    store = SecretStore(
        environ={"EGOVNET_SECRET_SNMP_NOC_AUTH": "x" * 8, "EGOVNET_SECRET_SNMP_NOC_PRIV": "y" * 8}
    )
    targets = build_targets(load_network(SAMPLE), store, timeout=0.5, retries=0)
    made: list[Exporter] = []

    def make(agent: FakeAgent, limits: WalkLimits) -> tuple[Exporter, Target]:
        target = replace(
            targets["zhengding"],
            address="127.0.0.1",
            port=agent.port,
            credentials=SnmpCredentials("v2c", community="fake"),
        )
        exporter = Exporter({"zhengding": target}, {"fake": MODULE}, limits=limits)
        made.append(exporter)
        return exporter, target

    yield make
    for exporter in made:
        exporter.close()


def test_toobig_from_the_agent_shrinks_requests_and_every_row_is_read(
    exporter_for: MakeExporter,
) -> None:
    with FakeAgent(most=12) as agent:
        exporter, target = exporter_for(agent, WalkLimits(pdu_bytes=1400, streams=1))
        result = exporter.scrape(target, [MODULE])
    assert result.up, result.errors
    assert agent.too_big >= 1
    assert [len(f.samples) for f in result.families] == [ROWS] * COLUMNS
    values = {labels["row"]: value for labels, value in result.families[1].samples}
    assert values["17"] == 2017


def test_a_looping_agent_is_stopped_with_a_loop_error(exporter_for: MakeExporter) -> None:
    with FakeAgent(loop=True) as agent:
        exporter, target = exporter_for(agent, WalkLimits(streams=1))
        result = exporter.scrape(target, [MODULE])
    assert [(module, kind) for module, kind, _ in result.errors] == [("fake", "loop")]
    assert agent.requests == 1
    assert exporter.snapshot()["zhengding"].errors["loop"] == 1
