"""The parsers' integer address readers give what `ipaddress` gives, errors included.

`egovnet.configs.model` reads addresses, networks and interfaces with integer arithmetic on
the parsers' hot path (`address_text`, `network_text`, `interface_text`) and tests prefix
containment with integers (`subnet_of`). An `Unparsed` record quotes the exception's message,
so a bad address must fail with the very message `ipaddress` gives; these tests hold every
one of them to `ipaddress` on good, odd and bad input."""

from __future__ import annotations

import random
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

import pytest

from egovnet.configs.model import address_text, interface_text, network_text, subnet_of

ADDRESSES = [
    "0.0.0.0", "255.255.255.255", "10.96.0.1", "1.2.3.4", "01.2.3.4", "1.2.3.04", "1.2.3",  # noqa: S104
    "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "a.b.c.d", "100.x.x.80", "", " 1.2.3.4", "1.2.3.4 ",
    "1..3.4", "١.٢.٣.٤", "1.2.3.4/24", "0x1.2.3.4", "+1.2.3.4", "1.2.3.1000", "0.0.0.00",
]  # fmt: skip
LENGTHS = ["0", "8", "16", "24", "31", "32", "33", "024", "00", "-1", "", "x", "255.255.0.0",
           "0.0.255.255", "255.0.255.0", " 24", "２４", "64"]  # fmt: skip


def outcome(read: Callable[[str], Any], text: str) -> Any:
    """The value and its repr, or the exception's type and message."""
    try:
        value = read(text)
    except Exception as exc:  # noqa: BLE001 - the same exception either way is the point
        return ("raised", type(exc).__name__, str(exc))
    return (value, repr(value), str(value))


def texts() -> list[str]:
    chooser = random.Random(15)  # noqa: S311 - addresses to parse, not secrets
    made = [*ADDRESSES, *(f"{a}/{n}" for a in ADDRESSES for n in LENGTHS)]
    for _ in range(3000):
        value = chooser.getrandbits(32)
        length = chooser.randrange(33)
        address = ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))
        made += [address, f"{address}/{length}"]
        network = value & ~((1 << (32 - length)) - 1) & 0xFFFFFFFF
        made.append(f"{'.'.join(str((network >> s) & 255) for s in (24, 16, 8, 0))}/{length}")
    return made


@pytest.mark.parametrize(
    ("fast", "slow"),
    [(address_text, IPv4Address), (network_text, IPv4Network), (interface_text, IPv4Interface)],
    ids=["address", "network", "interface"],
)
def test_reader_is_ipaddress(fast: Callable[[str], Any], slow: Callable[[str], Any]) -> None:
    for text in texts():
        assert outcome(fast, text) == outcome(slow, text), text


def test_subnet_of_is_ipaddress() -> None:
    chooser = random.Random(16)  # noqa: S311 - prefixes to compare, not secrets
    networks = [
        IPv4Network((chooser.getrandbits(32) & ~((1 << (32 - n)) - 1) & 0xFFFFFFFF, n))
        for n in (chooser.choice([0, 1, 8, 16, 20, 24, 30, 31, 32]) for _ in range(300))
    ]
    networks += [IPv4Network("10.0.0.0/8"), IPv4Network("10.1.0.0/16"), IPv4Network("0.0.0.0/0")]
    networks += [n.supernet(prefixlen_diff=min(n.prefixlen, 3)) for n in networks[:100]]
    for inner in networks:
        for outer in networks[::7]:
            assert subnet_of(inner, outer) == inner.subnet_of(outer), (inner, outer)
