"""FRR configurations (rendered, or `show running-config` from a lab router) into the
vendor-neutral model, and the nftables ruleset that stands for an FRR exit's firewall and NAT.

FRR has no packet filter or NAT of its own: in the lab, the exit's firewall is nftables in its
internet zone's namespace, so `parse_nft` reads `nft list ruleset` into the same model.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network

from egovnet.configs.lines import read_lines, unknown_top_level
from egovnet.configs.model import (
    ANY_ADDRESS,
    AddressMatch,
    BgpInstance,
    DeviceConfig,
    FilterRule,
    NatRule,
    PacketFilter,
    PortMatch,
    StaticRoute,
    Where,
    address_text,
    asplain,
    cisco_prefix_list,
    interface_text,
    ipv4_int,
    network_text,
)
from egovnet.model import GLOBAL

_NEIGHBOR = re.compile(r"^neighbor (\S+) (remote-as|prefix-list) (\S+)(?: (in|out))?")


def parse_frr(text: str, host: str, file: str) -> DeviceConfig:
    """Parse an FRR configuration (`frr.conf` layout, as vtysh shows it)."""
    config = DeviceConfig(host, "frr", file)
    for raw in text.splitlines():
        if raw.startswith("hostname "):
            config.hostname = raw.split()[1]
    vrf_block: str | None = None
    interface = None
    bgp = None

    def step(number: int, raw: str) -> None:
        nonlocal vrf_block, interface, bgp
        line = raw.strip()
        if not line or line.startswith("!"):
            return
        # a line's `Where` is made only where it is kept: most lines (descriptions, BGP
        # settings, prefix lists) need none, and half a million of them add up
        top = not raw.startswith(" ")
        if top:
            interface = bgp = None
            if line.startswith("vrf "):
                vrf_block = line.split()[1]
                config.defined_vrfs.append(vrf_block)
                return
            if line == "exit-vrf":
                vrf_block = None
                return
            if line.startswith("interface "):
                words = line.split()
                interface = config.interface(words[1])
                interface.vrf = words[3] if len(words) > 3 and words[2] == "vrf" else GLOBAL
                interface.where = Where(file, number, line)
                bgp = None
                return
            if line.startswith("router bgp "):
                words = line.split()
                config.asn = asplain(words[2])
                bgp = config.bgp_instance(words[4] if len(words) > 4 else GLOBAL)
                return
            if line == "exit":
                bgp = None
                return
        if line.startswith("ip route "):
            _static(config, line, vrf_block or GLOBAL, Where(file, number, line))
        elif interface is not None:
            if line.startswith("ip address "):
                address = interface_text(line.split()[2])
                if line.endswith(" secondary"):
                    interface.add_secondary(address)
                else:
                    interface.set_primary(address)
            elif line == "shutdown":
                interface.shutdown = True
        elif bgp is not None:
            _bgp_line(bgp, line, file, number)
        elif not cisco_prefix_list(config, line) and top:
            unknown_top_level(config, line, Where(file, number, line))

    read_lines(config, text, step)
    return config


def _static(config: DeviceConfig, line: str, vrf: str, where: Where) -> None:
    """`ip route P (NH [IFACE] | IFACE | blackhole | reject | Null0) [DISTANCE] [vrf X]
    [nexthop-vrf Y]` (vtysh's order; tag, label, table and onlink are ignored)."""
    words = line.split()
    prefix = network_text(words[2])
    next_hop: IPv4Address | None = None
    interface: str | None = None
    preference: int | None = None
    target: str | None = None
    rest = words[3:]
    at = 0
    while at < len(rest):
        word = rest[at]
        if word in {"vrf", "nexthop-vrf", "tag", "label", "table"} and at + 1 < len(rest):
            if word == "vrf":
                vrf = rest[at + 1]
            elif word == "nexthop-vrf":  # FRR's `default` is the underlay, `global` here
                target = GLOBAL if rest[at + 1] == "default" else rest[at + 1]
            at += 2
            continue
        if word.isdigit():
            preference = int(word)
        elif at == 0 and _is_address(word):
            next_hop = address_text(word)
        elif at <= 1 and word != "onlink":
            interface = word
        at += 1
    config.statics.append(StaticRoute(vrf, prefix, next_hop, where, interface, preference, target))


def _is_address(word: str) -> bool:
    try:
        ipv4_int(word)
    except ValueError:
        try:
            IPv4Address(word)
        except ValueError:
            return False
    return True


def _bgp_line(bgp: BgpInstance, line: str, file: str, number: int) -> None:
    words = line.split()
    if words[0] == "network":
        bgp.networks.append((network_text(words[1]), Where(file, number, line)))
    elif words[0] == "aggregate-address":
        summary = "summary-only" in words
        bgp.aggregates.append((network_text(words[1]), summary, Where(file, number, line)))
    elif words[0] == "redistribute":
        bgp.redistribute.append((words[1], Where(file, number, line)))
    elif match := _NEIGHBOR.match(line):
        address, kind, value, direction = match.groups()
        try:
            neighbor = bgp.neighbor(address_text(address))
        except ValueError:
            return  # peer groups: not rendered by egovnet, not modelled
        if kind == "remote-as":
            neighbor.remote_as = asplain(value) if value[0].isdigit() else None
        elif direction == "in":
            neighbor.import_list = value
        else:
            neighbor.export_list = value


_NFT_IIF = re.compile(r'iifname "?([^"\s]+)"?')
_NFT_OIF = re.compile(r'oifname "?([^"\s]+)"?')
_NFT_DADDR = re.compile(r"ip daddr (\S+)")
_NFT_DPORT = re.compile(r"(tcp|udp) dport (\d+)")
_NFT_COMMENT = re.compile(r'\s+comment\s+"[^"]*"\s*$')


def parse_nft(text: str, config: DeviceConfig, file: str) -> None:
    """Add the filters and NAT of an nftables ruleset (`nft list ruleset`) to `config`.

    Rules of a `forward` hook chain with `iifname X` become X's inbound filter (rules without
    `iifname` apply to every interface); `oifname X masquerade`/`snat` marks X as NATed.
    Chains default to accept, as nftables does without `policy drop`.
    """
    hook = None
    ordered: list[tuple[str | None, FilterRule]] = []
    default_permit = True
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("type "):
            hook = line.split("hook", 1)[1].split()[0] if "hook" in line else None
            if hook == "forward":
                default_permit = "policy drop" not in line
            continue
        if line.startswith(("chain ", "table ", "}")) or not line:
            if line.startswith("chain "):
                hook = None
            continue
        where = Where(file, number, line)
        if hook == "postrouting" and ("masquerade" in line or "snat" in line):
            out = _NFT_OIF.search(line)
            if out:
                config.interface(out.group(1)).nat = True
                config.nat.append(NatRule("masquerade", out.group(1), None, None, where))
            continue
        if hook != "forward":
            continue
        words = _NFT_COMMENT.sub("", line).split()
        verdict = words[-1] if words else ""
        if verdict not in {"accept", "drop", "reject"}:
            continue
        daddr = _NFT_DADDR.search(line)
        dport = _NFT_DPORT.search(line)
        rule = FilterRule(
            permit=verdict == "accept",
            destination=AddressMatch.of(IPv4Network(daddr.group(1), strict=False))
            if daddr
            else ANY_ADDRESS,
            protocol=dport.group(1) if dport else "ip",
            destination_port=PortMatch.parse(["eq", dport.group(2)]) if dport else None,
            established="ct state established" in line and "new" not in line,
            where=where,
        )
        iif = _NFT_IIF.search(line)
        ordered.append((iif.group(1) if iif else None, rule))
    names = {name for name, _ in ordered if name is not None}
    if any(name is None for name, _ in ordered):
        names |= set(config.interfaces)
    for name in names:
        rules = [rule for iif, rule in ordered if iif in {None, name}]
        config.filters[f"nft:{name}"] = PacketFilter(f"nft:{name}", rules, default_permit)
        config.interface(name).inbound_filter = f"nft:{name}"
