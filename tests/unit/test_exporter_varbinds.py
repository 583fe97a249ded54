"""The exporter's own reading of response varbinds, against pysnmp's encoder.

What a NOC relies on: every SMIv2 type an agent sends (counters at their maximum, negative
integers, text and binary strings, OIDs with large sub-identifiers, addresses, the three
exceptions) comes out as the same plain value pysnmp's decoder gave before, through the
engine the exporter really uses; bytes that are not a varbind list are a protocol error,
never a wrong number.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v2c

from exporters.engine import RawV2cMessage
from exporters.snmp import Missing, Value
from exporters.varbinds import BerError, decode_varbinds

BASE = (1, 3, 6, 1, 4, 1, 99999)
CASES: list[tuple[object, Value]] = [
    (v2c.Integer32(-2147483648), -2147483648),
    (v2c.Integer32(0), 0),
    (v2c.Integer32(2147483647), 2147483647),
    (v2c.OctetString(b"GigabitEthernet0/0/1"), "GigabitEthernet0/0/1"),
    (v2c.OctetString("上联-石家庄".encode()), "上联-石家庄"),
    (v2c.OctetString(b""), ""),
    (v2c.OctetString(b"\x00\x1b\xff\x10"), "00:1b:ff:10"),
    (
        v2c.ObjectIdentifier((1, 3, 6, 1, 4, 1, 2011, 2, 23, 94)),
        (1, 3, 6, 1, 4, 1, 2011, 2, 23, 94),
    ),
    (v2c.ObjectIdentifier((2, 999, 4294967295)), (2, 999, 4294967295)),
    (v2c.IpAddress("10.64.8.255"), "10.64.8.255"),
    (v2c.Counter32(4294967295), 4294967295),
    (v2c.Counter32(2147483648), 2147483648),
    (v2c.Gauge32(1000), 1000),
    (v2c.TimeTicks(4294967295), 4294967295),
    (v2c.Counter64(18446744073709551615), 18446744073709551615),
    (v2c.Counter64(0), 0),
    (v2c.Opaque(b"\x9f\x78\x04\x3f\x80\x00\x00"), "9f:78:04:3f:80:00:00"),
    (v2c.NoSuchObject(), Missing.NO_SUCH_OBJECT),
    (v2c.NoSuchInstance(), Missing.NO_SUCH_INSTANCE),
    (v2c.EndOfMibView(), Missing.END_OF_MIB_VIEW),
]


def response(varbinds: Sequence[tuple[tuple[int, ...], object]]) -> bytes:
    """A v2c Response message as an agent sends it, encoded by pysnmp."""
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, 4242)
    v2c.apiPDU.set_varbinds(pdu, varbinds)
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, b"public")
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def raw_list(wire: bytes) -> bytes:
    """The response's varbind list as the exporter's engine hands it over."""
    message, rest = decoder.decode(wire, asn1Spec=RawV2cMessage())
    assert not rest
    pdu = message["data"].getComponent()
    assert int(pdu["request-id"]) == 4242
    return bytes(pdu["variable-bindings"])


def test_every_smi_type_reads_as_pysnmp_decoded_it() -> None:
    varbinds = [((*BASE, i, 7), value) for i, (value, _) in enumerate(CASES, 1)]
    got = decode_varbinds(raw_list(response(varbinds)))
    assert got == [((*BASE, i, 7), expected) for i, (_, expected) in enumerate(CASES, 1)]


def test_pysnmp_agrees_on_the_names_and_numbers() -> None:
    """The same bytes through pysnmp's full decoder: same OIDs, same integers."""
    varbinds = [
        ((*BASE, 31, 1, 1, 1, 6, index), v2c.Counter64(index * 2**40)) for index in (1, 300, 70000)
    ]
    wire = response(varbinds)
    message, _ = decoder.decode(wire, asn1Spec=v2c.Message())
    theirs = [
        (tuple(oid), int(value))
        for oid, value in v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(message))
    ]
    assert decode_varbinds(raw_list(wire)) == theirs


def test_a_long_list_uses_long_form_lengths() -> None:
    varbinds = [((*BASE, 2, row), v2c.Counter64(row)) for row in range(1, 2001)]
    got = decode_varbinds(raw_list(response(varbinds)))
    assert len(got) == 2000
    assert got[-1] == ((*BASE, 2, 2000), 2000)


def test_unsigned_values_without_the_leading_zero_byte_stay_unsigned() -> None:
    """Some agents encode Counter32 4294967295 as ff ff ff ff; it is not -1."""
    oid = bytes([0x06, 0x03, 0x2B, 0x06, 0x01])
    value = bytes([0x41, 0x04, 0xFF, 0xFF, 0xFF, 0xFF])
    varbind = bytes([0x30, len(oid) + len(value)]) + oid + value
    assert decode_varbinds(bytes([0x30, len(varbind)]) + varbind) == [((1, 3, 6, 1), 4294967295)]


@pytest.mark.parametrize(
    ("wire", "why"),
    [
        ("3005300306012b", "truncated"),  # varbind without a value
        ("30803000", "indefinite"),
        ("300a300806012b0201000500", "bytes after"),  # two values in one varbind
        ("3009300706032b06010500", "NULL"),
        ("300a300806032b0601470105", "unknown type"),
        ("300a300806032b060140010a", "IpAddress"),
        ("3009300706032b06810400", "cut inside"),
        ("310706032b06010400", "not one SEQUENCE"),
        ("3003020100", "varbind of tag"),
        ("300000", "not one SEQUENCE"),  # bytes after the list
    ],
)
def test_bytes_that_are_no_varbind_list_are_refused(wire: str, why: str) -> None:
    with pytest.raises(BerError, match=why):
        decode_varbinds(bytes.fromhex(wire))
