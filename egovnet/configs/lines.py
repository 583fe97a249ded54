"""How every parser walks a configuration: line by line, tolerant of the line it cannot read,
and loud about the construct it does not know.

Two rules keep a parse honest (docs/parsing.md, "Failing closed"):

* **Per-line tolerance.** An exception while one line is handled becomes an `Unparsed`
  record (file, line, text, why) and the parse goes on with the next line, so one odd line
  (a placeholder address, a dotted ASN) never loses the whole file.
* **Unknown means reported.** A top-level line or block the parser does not recognise is an
  `Unmodelled` record, unless it is on its platform's list of inert constructs (the registry's
`PlatformRecord.inert`, `egovnet/platforms.py`).

That list is deliberately short and explicit. An entry belongs there only when the construct
cannot change what reaches what: who may log in and how (aaa, local users, vty lines, ssh,
telnet), what the box says about itself (sysname, banners, headers, version, clock, SNMP,
logging, NTP, LLDP/CDP) and switches of housekeeping services. Anything that can route,
filter, translate, tunnel or separate traffic (routes, VPN instances, ACLs, NAT, zones,
virtual systems, tunnels, dynamic routing, policy routing, QoS that drops) is never on it:
the parser either models it or reports it, and the isolation audit treats what is reported
as unknown. An entry is a sequence of leading words; a line matches when its first words
are exactly those.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from egovnet import platforms
from egovnet.configs.model import DeviceConfig, Where, is_content


@cache
def _inert_words(platform: str) -> list[list[str]]:
    return [entry.split() for entry in platforms.platform(platform).inert]


def ignorable(platform: str, line: str) -> bool:
    """Whether a top-level `line` is a construct that cannot change reachability.

    >>> ignorable("huawei_vrp", "sysname AR1"), ignorable("huawei_vrp", "ip route-static x")
    (True, False)
    >>> ignorable("cisco_ios", "no ip http server"), ignorable("cisco_ios", "no ip route x")
    (True, False)
    """
    words = line.split()
    return any(words[: len(entry)] == entry for entry in _inert_words(platform))


def construct(line: str, words: int = 2) -> str:
    """What an unmodelled line is called: its first words (names and numbers dropped after
    the keywords, so that `ospf 1` and `ospf 2` read alike as far as words allow).

    >>> construct("l2vpn-family evpn"), construct("ospf 1 router-id 1.1.1.1")
    ('l2vpn-family evpn', 'ospf 1')
    """
    return " ".join(line.split()[:words])


def unknown_top_level(config: DeviceConfig, line: str, where: Where) -> None:
    """Record a top-level line the parser did not recognise, unless it is ignorable."""
    if not ignorable(config.platform, line):
        config.not_modelled(where, construct(line))


ROUTE_LEAKS = frozenset({"vpn-target", "route-target", "import", "export"})
"""Lines of a VPN-instance / VRF definition that import or export routes between instances:
the model keeps instances apart by name, so these are reported, never assumed away."""


Step = Callable[[int, str], None]
"""A parser's handling of one line: (line number from 1, the raw line)."""


def read_lines(config: DeviceConfig, text: str, step: Step) -> None:
    """Run `step` over every line of `text`, counting content lines into `config`; an
    exception in one line's handling is recorded as unparsed and the next line follows."""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if is_content(line):
            config.content_lines += 1
        try:
            step(number, raw)
        except Exception as exc:  # noqa: BLE001 - any failure of one line is that line's
            reason = str(exc) or type(exc).__name__
            config.not_understood(Where(config.file, number, line), reason)
