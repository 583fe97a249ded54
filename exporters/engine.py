"""The exporter's pysnmp engine: responses arrive with their varbind list left as bytes.

pysnmp's message processing models decode an incoming message with the ASN.1 spec they
are given (`SNMP_MSG_SPEC`, RFC 3411's pluggable message processing subsystem). Ours is
the standard SNMPv2c and SNMPv3 message except for one alternative of the PDU choice: a
Response-PDU whose `variable-bindings` is `Any`, i.e. the raw bytes of the list, which
`exporters.ber` reads several times faster than pyasn1 builds objects from them. Everything
else is pysnmp's own: engine discovery, time windows, USM authentication and privacy,
request ids, reports (unknownEngineID, notInTimeWindow, wrongDigest...) decoded as usual.

Only the engine made here has these models; nothing global in pysnmp is changed.
"""

from __future__ import annotations

from pyasn1.type import namedtype, univ
from pysnmp.hlapi.v3arch.asyncio import SnmpEngine
from pysnmp.proto import rfc1901, rfc1905
from pysnmp.proto.mpmod import rfc2576, rfc3412


def _replace(
    standard: namedtype.NamedTypes, name: str, replacement: object
) -> namedtype.NamedTypes:
    """pysnmp's components of a type with the one called `name` replaced."""
    return namedtype.NamedTypes(
        *(
            namedtype.NamedType(kind.name, replacement) if kind.name == name else kind
            for kind in standard.namedTypes
        )
    )


class RawResponsePDU(univ.Sequence):  # type: ignore[misc] # pyasn1 is untyped
    """RFC 3416's Response-PDU with the varbind list kept as its BER encoding."""

    tagSet = rfc1905.ResponsePDU.tagSet  # noqa: N815 - pyasn1's name
    componentType = _replace(  # noqa: N815 - pyasn1's name
        rfc1905.ResponsePDU.componentType, "variable-bindings", univ.Any()
    )


class RawPDUs(univ.Choice):  # type: ignore[misc] # pyasn1 is untyped
    """The PDU choice of RFC 3416 with `RawResponsePDU` for responses."""

    componentType = _replace(  # noqa: N815 - pyasn1's name
        rfc1905.PDUs.componentType, "response", RawResponsePDU()
    )


class RawV2cMessage(univ.Sequence):  # type: ignore[misc] # pyasn1 is untyped
    """RFC 1901's community-based SNMPv2c message."""

    componentType = _replace(rfc1901.Message.componentType, "data", RawPDUs())  # noqa: N815


class RawScopedPDU(univ.Sequence):  # type: ignore[misc] # pyasn1 is untyped
    """RFC 3412's scoped PDU."""

    componentType = _replace(rfc3412.ScopedPDU.componentType, "data", RawPDUs())  # noqa: N815


class RawScopedPduData(univ.Choice):  # type: ignore[misc] # pyasn1 is untyped
    """RFC 3412's plaintext or encrypted scoped PDU."""

    componentType = _replace(  # noqa: N815 - pyasn1's name
        rfc3412.ScopedPduData.componentType, "plaintext", RawScopedPDU()
    )


class RawV3Message(univ.Sequence):  # type: ignore[misc] # pyasn1 is untyped
    """RFC 3412's SNMPv3 message."""

    componentType = _replace(  # noqa: N815 - pyasn1's name
        rfc3412.SNMPv3Message.componentType, "msgData", RawScopedPduData()
    )


class RawV2cModel(rfc2576.SnmpV2cMessageProcessingModel):  # type: ignore[misc]
    """SNMPv2c message processing with `RawResponsePDU`."""

    SNMP_MSG_SPEC = RawV2cMessage


class RawV3Model(rfc3412.SnmpV3MessageProcessingModel):  # type: ignore[misc]
    """SNMPv3 message processing with `RawResponsePDU`."""

    SNMP_MSG_SPEC = RawV3Message


def make_engine() -> SnmpEngine:
    """A pysnmp engine whose responses carry their varbind list as bytes (`PDU[3]`)."""
    engine = SnmpEngine()
    for model in (RawV2cModel(), RawV3Model()):
        engine.message_processing_subsystems[model.MESSAGE_PROCESSING_MODEL_ID] = model
    return engine
