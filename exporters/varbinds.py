"""Variable bindings as plain data, read straight from a response's BER bytes.

pysnmp decodes every varbind into pyasn1 objects (a sequence, an OID, a choice inside a
choice inside a choice, the value), about 100 microseconds each; a 60-interface table of 14
columns is 840 varbinds, so that decoding was most of a scrape's CPU. The exporter only
needs each varbind as plain data (`exporters.snmp.Value`), so the engine leaves the
response's varbind list undecoded (`exporters.engine`) and this module reads it: the
subset of BER that RFC 3416 allows in a varbind list (definite lengths, primitive
encodings, the SMIv2 types and the three exceptions). Anything else is a protocol error,
as it would be from pyasn1 (`BerError`).
"""

from __future__ import annotations

import enum


class Missing(enum.Enum):
    """The SNMPv2 exceptions a varbind can carry instead of a value."""

    NO_SUCH_OBJECT = "noSuchObject"
    NO_SUCH_INSTANCE = "noSuchInstance"
    END_OF_MIB_VIEW = "endOfMibView"


Value = int | str | tuple[int, ...] | Missing
"""A decoded value: numbers as int, text as str, OIDs as tuples, or an SNMP exception."""
VarBind = tuple[tuple[int, ...], Value]


class BerError(ValueError):
    """Bytes that are not a varbind list RFC 3416 allows."""


SEQUENCE = 0x30
INTEGER, OCTET_STRING, NULL, OBJECT_ID = 0x02, 0x04, 0x05, 0x06
IP_ADDRESS, OPAQUE = 0x40, 0x44
UNSIGNED = frozenset({0x41, 0x42, 0x43, 0x46})
"""Counter32, Gauge32 (Unsigned32), TimeTicks, Counter64: non-negative by definition."""
EXCEPTIONS = {
    0x80: Missing.NO_SUCH_OBJECT,
    0x81: Missing.NO_SUCH_INSTANCE,
    0x82: Missing.END_OF_MIB_VIEW,
}


def _bad(why: str) -> BerError:
    return BerError(f"malformed varbind list: {why}")


def _header(data: bytes, at: int, end: int) -> tuple[int, int, int]:
    """(tag, start of the contents, end of the contents) of the element at `at`."""
    if at + 2 > end:
        raise _bad("truncated element")
    tag, first = data[at], data[at + 1]
    at += 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise _bad("indefinite length")
    else:
        count = first & 0x7F
        if at + count > end:
            raise _bad("truncated length")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + length > end:
        raise _bad("element longer than its container")
    return tag, at, at + length


def decode_oid(raw: bytes) -> tuple[int, ...]:
    """An OBJECT IDENTIFIER's contents as a tuple of sub-identifiers.

    >>> decode_oid(bytes.fromhex("2b06010201010300"))
    (1, 3, 6, 1, 2, 1, 1, 3, 0)
    >>> decode_oid(bytes.fromhex("2b0601040182b76501"))
    (1, 3, 6, 1, 4, 1, 39909, 1)
    """
    if not raw or raw[-1] & 0x80:
        raise _bad("OID empty or cut inside a sub-identifier")
    if max(raw) < 0x80:  # every sub-identifier fits one byte: the common case
        parts = list(raw)
    else:
        parts = []
        value = 0
        for byte in raw:
            if value == 0 and byte == 0x80:
                raise _bad("OID sub-identifier with a leading zero byte")
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                parts.append(value)
                value = 0
    first = parts[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return (*head, *parts[1:])


def _octets(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.hex(":")


def _value(tag: int, raw: bytes) -> Value:
    if tag in UNSIGNED:
        return int.from_bytes(raw, "big")
    if tag == INTEGER:
        return int.from_bytes(raw, "big", signed=True)
    if tag in (OCTET_STRING, OPAQUE):
        return _octets(raw)
    if tag == OBJECT_ID:
        return decode_oid(raw)
    if tag == IP_ADDRESS:
        if len(raw) != 4:
            raise _bad(f"IpAddress of {len(raw)} bytes")
        return ".".join(map(str, raw))
    if tag in EXCEPTIONS:
        return EXCEPTIONS[tag]
    if tag == NULL:
        raise _bad("a varbind without a value (NULL) in a response")
    raise _bad(f"value of unknown type (tag 0x{tag:02x})")


def decode_varbinds(data: bytes) -> list[VarBind]:
    """The varbinds of a VarBindList's full encoding (tag, length and contents).

    Unsigned types are read unsigned even when an agent leaves out the leading zero byte
    of a value with its top bit set; values outside the SMI are otherwise identical to
    what pysnmp's decoder gives.

    >>> decode_varbinds(bytes.fromhex("3010300e06082b060102010103004302007b"))
    [((1, 3, 6, 1, 2, 1, 1, 3, 0), 123)]
    >>> decode_varbinds(bytes.fromhex("300c300a06062b06010201018200"))
    [((1, 3, 6, 1, 2, 1, 1), <Missing.END_OF_MIB_VIEW: 'endOfMibView'>)]
    """
    tag, at, end = _header(data, 0, len(data))
    if tag != SEQUENCE or end != len(data):
        raise _bad("not one SEQUENCE")
    varbinds: list[VarBind] = []
    while at < end:
        tag, start, stop = _header(data, at, end)
        if tag != SEQUENCE:
            raise _bad(f"varbind of tag 0x{tag:02x}")
        tag, oid_start, oid_stop = _header(data, start, stop)
        if tag != OBJECT_ID:
            raise _bad(f"varbind name of tag 0x{tag:02x}")
        tag, value_start, value_stop = _header(data, oid_stop, stop)
        if value_stop != stop:
            raise _bad("bytes after a varbind's value")
        varbinds.append(
            (decode_oid(data[oid_start:oid_stop]), _value(tag, data[value_start:value_stop]))
        )
        at = stop
    return varbinds
