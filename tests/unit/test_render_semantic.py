"""Rendered configs, parsed back and checked against the model, for every platform.

The golden files catch any change; these tests say whether a config is *right*: each config
is parsed with ciscoconfparse2 (Huawei and H3C with `#` as the comment delimiter) into
interfaces, BGP instances, prefix lists and statics, and compared with what the model says:
link addresses, VLANs and VRFs, department gateways, AS numbers, neighbours and their filters,
originated prefixes, and the management plane (SSH only, SNMPv3 authPriv, AAA, NTP, syslog).
The secret values are fixed fakes so the tests can check where they land.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any

import pytest
from ciscoconfparse2 import CiscoConfParse

from egovnet import platforms
from egovnet.loader import load_network
from egovnet.model import GLOBAL, Network, Node
from egovnet.render.engine import render_network
from egovnet.secrets import SecretStore, SharedSecrets, env_name, secret_names

INVENTORY = Path(__file__).parents[2] / "inventory"
VENDORS = ("huawei_vrp", "h3c_comware", "cisco_ios")

Obj = Any
"""A ciscoconfparse2 config line object (the library ships no type information)."""


def fake_value(name: str) -> str:
    """A value no config could contain by accident, so finding it means a secret leaked."""
    return f"Zq8-{name}-X7v"


# --- how each platform spells what the tests look for ------------------------------------


@dataclass(frozen=True)
class Dialect:
    """Regular expressions (matched against stripped lines unless noted) for one platform."""

    hostname: str
    comments: tuple[str, ...]
    address: str
    vrf_binding: str | None  # None: the VRF is in the `interface NAME vrf X` header (FRR)
    vlan: str | None  # None: the VLAN is the `.N` suffix of the name (FRR: a Linux VLAN device)
    bgp: str  # top-level line, groups asn and (FRR) vrf
    bgp_vrf: str | None  # child of the BGP block opening one VRF's part, group vrf
    router_id: str
    timers: str
    peer: str  # groups ip, asn
    peer_description: str  # groups ip, text
    enable: str | None  # format with ip; None: peers need no activation
    enable_in_vrf: bool
    filter: str  # groups ip, name, dir
    import_word: str
    network: str  # groups net, len
    aggregate: str  # groups net, len, summary
    prefix_rule: str  # top-level line, groups name, seq, net, len, le
    static: str  # groups vrf (optional), net, len, nh
    static_parent: str | None  # FRR: statics of a VRF sit inside `vrf X`


IP = r"\d+\.\d+\.\d+\.\d+"
MASK = rf"(?:{IP}|\d+)"

FRR = Dialect(
    hostname=r"hostname (\S+)",
    comments=("!",),
    address=rf"ip address (?P<ip>{IP})/(?P<len>\d+)",
    vrf_binding=None,
    vlan=None,
    bgp=r"router bgp (?P<asn>\d+)(?: vrf (?P<vrf>\S+))?",
    bgp_vrf=None,
    router_id=rf"bgp router-id ({IP})",
    timers=r"timers bgp (\d+) (\d+)",
    peer=rf"neighbor (?P<ip>{IP}) remote-as (?P<asn>\d+)",
    peer_description=rf"neighbor (?P<ip>{IP}) description (?P<text>.+)",
    enable=None,
    enable_in_vrf=False,
    filter=rf"neighbor (?P<ip>{IP}) prefix-list (?P<name>\S+) (?P<dir>in|out)",
    import_word="in",
    network=rf"network (?P<net>{IP})/(?P<len>\d+)",
    aggregate=rf"aggregate-address (?P<net>{IP})/(?P<len>\d+)(?P<summary> summary-only)?",
    prefix_rule=rf"ip prefix-list (?P<name>\S+) seq (?P<seq>\d+) permit (?P<net>{IP})/(?P<len>\d+)"
    r"(?: le (?P<le>\d+))?",
    static=rf"ip route (?P<net>{IP})/(?P<len>\d+) (?P<nh>{IP})",
    static_parent=r"vrf (\S+)",
)

HUAWEI = Dialect(
    hostname=r"sysname (\S+)",
    comments=("#",),
    address=rf"ip address (?P<ip>{IP}) (?P<len>{IP})",
    vrf_binding=r"ip binding vpn-instance (\S+)",
    vlan=r"dot1q termination vid (\d+)",
    bgp=r"bgp (?P<asn>\d+)",
    bgp_vrf=r"ipv4-family vpn-instance (?P<vrf>\S+)",
    router_id=rf"router-id ({IP})",
    timers=r"timer keepalive (\d+) hold (\d+)",
    peer=rf"peer (?P<ip>{IP}) as-number (?P<asn>\d+)",
    peer_description=rf"peer (?P<ip>{IP}) description (?P<text>.+)",
    enable="peer {ip} enable",
    enable_in_vrf=False,  # peers of a VPN instance are enabled in its family by default
    filter=rf"peer (?P<ip>{IP}) ip-prefix (?P<name>\S+) (?P<dir>import|export)",
    import_word="import",
    network=rf"network (?P<net>{IP}) (?P<len>{MASK})",
    aggregate=rf"aggregate (?P<net>{IP}) (?P<len>{MASK})(?P<summary> detail-suppressed)?",
    prefix_rule=rf"ip ip-prefix (?P<name>\S+) index (?P<seq>\d+) permit (?P<net>{IP}) (?P<len>\d+)"
    r"(?: less-equal (?P<le>\d+))?",
    static=rf"ip route-static (?:vpn-instance (?P<vrf>\S+) )?(?P<net>{IP}) (?P<len>{MASK})"
    rf" (?P<nh>{IP})",
    static_parent=None,
)

H3C = Dialect(
    hostname=r"sysname (\S+)",
    comments=("#",),
    address=HUAWEI.address,
    vrf_binding=HUAWEI.vrf_binding,
    vlan=r"vlan-type dot1q vid (\d+)",
    bgp=HUAWEI.bgp,
    bgp_vrf=r"ip vpn-instance (?P<vrf>\S+)",
    router_id=HUAWEI.router_id,
    timers=HUAWEI.timers,
    peer=HUAWEI.peer,
    peer_description=HUAWEI.peer_description,
    enable="peer {ip} enable",
    enable_in_vrf=True,
    filter=rf"peer (?P<ip>{IP}) prefix-list (?P<name>\S+) (?P<dir>import|export)",
    import_word="import",
    network=HUAWEI.network,
    aggregate=HUAWEI.aggregate,
    prefix_rule=HUAWEI.prefix_rule.replace("ip ip-prefix", "ip prefix-list"),
    static=HUAWEI.static,
    static_parent=None,
)

CISCO = Dialect(
    hostname=r"hostname (\S+)",
    comments=("!",),
    address=rf"ip address (?P<ip>{IP}) (?P<len>{IP})",
    vrf_binding=r"vrf forwarding (\S+)",
    vlan=r"encapsulation dot1Q (\d+)",
    bgp=r"router bgp (?P<asn>\d+)",
    bgp_vrf=r"address-family ipv4 vrf (?P<vrf>\S+)",
    router_id=FRR.router_id,
    timers=FRR.timers,
    peer=FRR.peer,
    peer_description=FRR.peer_description,
    enable="neighbor {ip} activate",
    enable_in_vrf=True,
    filter=FRR.filter,
    import_word="in",
    network=rf"network (?P<net>{IP}) mask (?P<len>{IP})",
    aggregate=rf"aggregate-address (?P<net>{IP}) (?P<len>{IP})(?P<summary> summary-only)?",
    prefix_rule=FRR.prefix_rule,
    static=rf"ip route (?:vrf (?P<vrf>\S+) )?(?P<net>{IP}) (?P<len>{IP}) (?P<nh>{IP})",
    static_parent=None,
)

DIALECTS = {"frr": FRR, "huawei_vrp": HUAWEI, "h3c_comware": H3C, "cisco_ios": CISCO}


def match(pattern: str, obj: Obj) -> re.Match[str] | None:
    return re.fullmatch(pattern, obj.text.strip())


def net(m: re.Match[str]) -> IPv4Network:
    """`net` and `len` (a prefix length or a dotted mask) as a network."""
    return IPv4Network(f"{m['net']}/{m['len']}")


# --- parsing a config into what the tests compare ------------------------------------------


@dataclass
class Iface:
    name: str
    address: IPv4Interface | None
    vrf: str | None
    vlan: int | None
    description: str | None
    vrf_before_address: bool


@dataclass
class Instance:
    """One BGP routing instance: the underlay (vrf None) or one VRF's part."""

    peers: dict[str, int] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    filters: dict[tuple[str, str], str] = field(default_factory=dict)  # (ip, dir) -> list name
    enabled: set[str] = field(default_factory=set)
    networks: set[IPv4Network] = field(default_factory=set)
    aggregates: dict[IPv4Network, bool] = field(default_factory=dict)


@dataclass
class Parsed:
    platform: str
    text: str
    conf: Obj
    hostname: str | None
    interfaces: dict[str, Iface]
    asns: set[int]
    router_ids: set[str]
    timers: set[tuple[int, int]]
    bgp: dict[str | None, Instance]
    prefix_lists: dict[str, list[tuple[IPv4Network, int | None]]]
    statics: set[tuple[str | None, IPv4Network, str]]

    def top(self) -> list[str]:
        """Top-level lines, stripped, comments excluded."""
        return [o.text.strip() for o in self.conf.objs if o.indent == 0 and not o.is_comment]

    def block(self, header: str) -> list[str]:
        """Children of the top-level line `header`, stripped; AssertionError if it is missing."""
        found = [o for o in self.conf.objs if o.indent == 0 and o.text == header]
        assert found, f"{self.platform}: no '{header}' block"
        return [c.text.strip() for c in found[0].all_children if not c.is_comment]


def descendants(obj: Obj, skip: str | None) -> Iterator[Obj]:
    """Every line under `obj`, not descending into children that match `skip`."""
    for child in obj.children:
        if child.is_comment:
            continue
        if skip and match(skip, child):
            continue
        yield child
        yield from descendants(child, skip)


def read_instance(d: Dialect, block: Obj, skip: str | None) -> Instance:
    inst = Instance()
    for child in block.children:
        if m := match(d.peer, child):
            assert m["ip"] not in inst.peers, f"neighbour {m['ip']} configured twice"
            inst.peers[m["ip"]] = int(m["asn"])
    for line in descendants(block, skip):
        if m := match(d.peer_description, line):
            inst.descriptions[m["ip"]] = m["text"]
        elif m := match(d.filter, line):
            direction = "in" if m["dir"] == d.import_word else "out"
            inst.filters[(m["ip"], direction)] = m["name"]
        elif m := match(d.network, line):
            inst.networks.add(net(m))
        elif m := match(d.aggregate, line):
            inst.aggregates[net(m)] = bool(m["summary"])
        elif d.enable and (
            m := re.fullmatch(d.enable.format(ip=f"(?P<ip>{IP})"), line.text.strip())
        ):
            inst.enabled.add(m["ip"])
    return inst


def parse(platform: str, text: str) -> Parsed:
    d = DIALECTS[platform]
    conf = CiscoConfParse(text.splitlines(), syntax="ios", comment_delimiters=list(d.comments))
    top = [o for o in conf.objs if o.indent == 0 and not o.is_comment]

    hostnames = [m[1] for o in top if (m := match(d.hostname, o))]
    interfaces: dict[str, Iface] = {}
    for o in top:
        if not (head := re.fullmatch(r"interface (\S+)(?: vrf (\S+))?", o.text)):
            continue
        name = head[1]
        lines = [c.text.strip() for c in o.children if not c.is_comment]
        addresses = [m for line in lines if (m := re.fullmatch(d.address, line))]
        assert len(addresses) <= 1, f"{platform}: {name} has {len(addresses)} addresses"
        vrf, vlan, vrf_at = head[2], None, -1
        if d.vrf_binding:
            bound = [
                (i, m[1])
                for i, line in enumerate(lines)
                if (m := re.fullmatch(d.vrf_binding, line))
            ]
            if bound:
                vrf_at, vrf = bound[0]
        if d.vlan:
            vlans = [int(m[1]) for line in lines if (m := re.fullmatch(d.vlan, line))]
            vlan = vlans[0] if vlans else None
        elif suffix := re.fullmatch(r".+\.(\d+)", name):
            vlan = int(suffix[1])
        address_at = next((i for i, line in enumerate(lines) if re.fullmatch(d.address, line)), -1)
        descriptions = [
            line.removeprefix("description ") for line in lines if line.startswith("description ")
        ]
        assert name not in interfaces, f"{platform}: interface {name} configured twice"
        interfaces[name] = Iface(
            name=name,
            address=IPv4Interface(f"{addresses[0]['ip']}/{addresses[0]['len']}")
            if addresses
            else None,
            vrf=vrf,
            vlan=vlan,
            description=descriptions[0] if descriptions else None,
            vrf_before_address=vrf_at < address_at,
        )

    asns: set[int] = set()
    router_ids: set[str] = set()
    timers: set[tuple[int, int]] = set()
    bgp: dict[str | None, Instance] = {}
    for o in top:
        if not (head := match(d.bgp, o)):
            continue
        asns.add(int(head["asn"]))
        router_ids |= {m[1] for c in o.children if (m := match(d.router_id, c))}
        timers |= {(int(m[1]), int(m[2])) for c in o.all_children if (m := match(d.timers, c))}
        own = head.groupdict().get("vrf")
        assert own not in bgp, f"{platform}: BGP instance {own} configured twice"
        bgp[own] = read_instance(d, o, d.bgp_vrf)
        if d.bgp_vrf:
            for child in o.children:
                if m := match(d.bgp_vrf, child):
                    assert m["vrf"] not in bgp, f"{platform}: BGP VRF {m['vrf']} configured twice"
                    bgp[m["vrf"]] = read_instance(d, child, None)

    prefix_lists: dict[str, list[tuple[IPv4Network, int | None]]] = {}
    for o in top:
        if m := match(d.prefix_rule, o):
            prefix_lists.setdefault(m["name"], []).append(
                (net(m), int(m["le"]) if m["le"] else None)
            )

    statics: set[tuple[str | None, IPv4Network, str]] = set()
    for o in conf.objs:
        if o.is_comment or not (m := match(d.static, o)):
            continue
        vrf = m.groupdict().get("vrf")
        if d.static_parent and o.indent and (p := match(d.static_parent, o.parent)):
            vrf = p[1]
        statics.add((vrf, net(m), m["nh"]))

    return Parsed(
        platform=platform,
        text=text,
        conf=conf,
        hostname=hostnames[0] if len(hostnames) == 1 else None,
        interfaces=interfaces,
        asns=asns,
        router_ids=router_ids,
        timers=timers,
        bgp=bgp,
        prefix_lists=prefix_lists,
        statics=statics,
    )


# --- the sample, rendered and parsed once -------------------------------------------------


@cache
def sample() -> Network:
    return load_network(INVENTORY)


def secrets_for(network: Network) -> SharedSecrets:
    environ = {env_name(name): fake_value(name) for name in secret_names(network)}
    return SharedSecrets.resolve(network, SecretStore(environ=environ))


@cache
def rendered(platform: str) -> dict[str, str]:
    network = sample()
    return render_network(network, secrets_for(network), platform)


@cache
def parsed(platform: str) -> dict[str, Parsed]:
    return {host: parse(platform, text) for host, text in rendered(platform).items()}


def secret_values(network: Network) -> set[str]:
    return {fake_value(name) for name in secret_names(network)}


LAB = platforms.lab_platform().name
"""The lab's platform: the only one with service links (egovnet/render/services.py)."""


# --- checks, shared by the platforms -------------------------------------------------------


def check_interfaces(network: Network, node: Node, platform: str, cfg: Parsed) -> None:
    """Loopback, link ends (port per `global`, sub-interface per zone), departments, exit."""
    naming = platforms.platform(platform).naming
    ifaces = cfg.interfaces
    where = f"{platform}/{node.name}"

    loop = ifaces.get(naming.loopback)
    assert loop is not None, f"{where}: no {naming.loopback}"
    assert loop.address == IPv4Interface(f"{node.loopback}/32"), f"{where}: loopback address"
    assert loop.vrf is None

    mgmt = ifaces.get(naming.management)
    assert mgmt is not None, f"{where}: no {naming.management}"
    assert mgmt.address == node.management, f"{where}: management address"
    assert mgmt.vrf is None

    expected = {naming.loopback, naming.management}
    for link in network.links_of(node.name):
        mine = link.upper if link.upper.host == node.name else link.lower
        port = naming.port.format(n=mine.port)
        for inst in link.subnets:
            name = (
                port
                if inst == GLOBAL
                else naming.subinterface.format(port=port, vlan=network.zone(inst).vlan)
            )
            expected.add(name)
            iface = ifaces.get(name)
            assert iface is not None, (
                f"{where}: no {name} for the link to {link.other(node.name).host}"
            )
            assert iface.address == link.address(node.name, inst), f"{where}: {name} address"
            assert link.other(node.name).host in (iface.description or ""), f"{where}: {name}"
            if inst == GLOBAL:
                assert (iface.vrf, iface.vlan) == (None, None), (
                    f"{where}: {name} must be untagged, global"
                )
            else:
                assert iface.vlan == network.zone(inst).vlan, f"{where}: {name} VLAN"
                assert iface.vrf == inst, f"{where}: {name} VRF"
                assert iface.vrf_before_address, f"{where}: {name} binds its VRF after its address"

    trunk = None
    if node.departments and naming.department_trunk is not None:
        trunk = naming.port.format(n=naming.department_trunk)
        expected.add(trunk)
        assert trunk in ifaces, f"{where}: no department trunk {trunk}"
        assert ifaces[trunk].address is None, f"{where}: the trunk itself carries no address"
    for dept in node.departments:
        name = naming.department.format(trunk=trunk, vlan=dept.vlan)
        expected.add(name)
        iface = ifaces.get(name)
        assert iface is not None, f"{where}: no gateway for department {dept.name}"
        if trunk is not None:
            assert iface.vlan == dept.vlan, f"{where}: {name} must be tagged {dept.vlan}"
        assert iface.address == dept.gateway, f"{where}: {name} address"
        assert iface.vrf == dept.zone, f"{where}: {name} VRF"
        assert iface.vrf_before_address, f"{where}: {name} binds its VRF after its address"
        assert dept.name in (iface.description or ""), f"{where}: {name} description"

    if node.internet is not None:
        name = naming.port.format(n=node.internet.port)
        expected.add(name)
        iface = ifaces.get(name)
        assert iface is not None, f"{where}: no internet uplink {name}"
        assert iface.address == node.internet.address
        assert iface.vrf == node.internet_zone
        assert iface.vrf_before_address

    service = network.service_zone
    if service is not None and node.name in service.nodes and platform == LAB:
        # FRR in the lab: each service host's gateway in the service VRF, and per granted
        # zone a service link, one end in the zone's VRF and one in the service VRF
        for host in service.hosts_at(node.name):
            name = naming.department.format(trunk=trunk, vlan=host.vlan)
            expected.add(name)
            assert ifaces[name].address == host.gateway, f"{where}: {name} address"
            assert ifaces[name].vrf == service.name, f"{where}: {name} VRF"
        for zone in (z for z in service.access if z in node.zones):
            vlan = network.zone(zone).vlan
            expected |= {f"svc{vlan}", f"zone{vlan}"}
            assert ifaces[f"svc{vlan}"].vrf == zone, f"{where}: svc{vlan} VRF"
            assert ifaces[f"zone{vlan}"].vrf == service.name, f"{where}: zone{vlan} VRF"

    if service is not None and node.name in service.nodes and platform != LAB:
        # vendors: each service host's gateway, in the service VPN instance, on the trunk
        for host in service.hosts_at(node.name):
            name = naming.department.format(trunk=trunk, vlan=host.vlan)
            expected.add(name)
            assert ifaces[name].address == host.gateway, f"{where}: {name} address"
            assert ifaces[name].vrf == service.name, f"{where}: {name} VRF"
            assert ifaces[name].vrf_before_address, f"{where}: {name} binds its VRF late"

    assert set(ifaces) == expected, f"{where}: unexpected interfaces {set(ifaces) - expected}"


def expected_peers(network: Network, node: Node) -> dict[str, dict[str, int]]:
    """Per routing instance: far-end address -> far node's AS, from the links."""
    peers: dict[str, dict[str, int]] = {inst: {} for inst in (GLOBAL, *node.zones)}
    for link in network.links_of(node.name):
        far = link.other(node.name).host
        for inst in link.subnets:
            peers[inst][str(link.address(far, inst).ip)] = network.node(far).asn
    return peers


def instance_key(inst: str) -> str | None:
    """How parsed BGP sections are keyed: None for the global table, else the VRF name."""
    return None if inst == GLOBAL else inst


def check_bgp(network: Network, node: Node, platform: str, cfg: Parsed) -> None:
    """AS, router id, timers, every neighbour with the far node's AS, activated and filtered."""
    d = DIALECTS[platform]
    where = f"{platform}/{node.name}"
    assert cfg.asns == {node.asn}, f"{where}: local AS"
    assert cfg.router_ids == {str(node.loopback)}, f"{where}: router id"
    routing = network.routing
    assert cfg.timers == {(routing.keepalive, routing.hold)}, f"{where}: timers"
    peers = expected_peers(network, node)
    keys = {instance_key(inst) for inst in peers}
    service = network.service_zone
    if service is not None and node.name in service.nodes and platform != LAB:
        # vendors: the service instance originates its hosts' subnets, with no neighbour
        # (route targets take them to the granted zones: docs/services.md)
        keys.add(instance_key(service.name))
        local = {host.prefix for host in service.hosts_at(node.name)}
        assert cfg.bgp[instance_key(service.name)].networks == local, f"{where}: service networks"
    assert set(cfg.bgp) == keys, f"{where}: BGP instances {set(cfg.bgp)} != {keys}"
    for inst, want in peers.items():
        got = cfg.bgp[instance_key(inst)]
        assert got.peers == want, f"{where}: {inst} neighbours"
        for ip in want:
            far = next(n for n in network.nodes if n.asn == want[ip])
            assert far.name in got.descriptions.get(ip, ""), f"{where}: {inst} {ip} description"
            for direction in ("in", "out"):
                name = got.filters.get((ip, direction))
                assert name, f"{where}: {inst} {ip} has no {direction} filter"
                assert name in cfg.prefix_lists, f"{where}: {inst} {ip} uses undefined list {name}"
            if d.enable and (inst == GLOBAL or d.enable_in_vrf):
                assert ip in got.enabled, f"{where}: {inst} {ip} is not enabled"
        assert {ip for ip, _ in got.filters} == set(want), (
            f"{where}: {inst} filters on non-neighbours"
        )


def check_filters(network: Network, node: Node, platform: str, cfg: Parsed) -> None:
    """Filter contents on the tree: a node sends its block up, a parent takes the child's block."""
    for link in network.links_of(node.name):
        if link.kind == "peer":
            continue
        for inst in link.subnets:
            got = cfg.bgp[instance_key(inst)]
            far = link.other(node.name).host
            ip = str(link.address(far, inst).ip)
            if link.lower.host == node.name:  # towards the node above: export own block
                block, direction = node.blocks[inst], "out"
            else:  # from the child: import its block
                block, direction = network.node(far).blocks[inst], "in"
            rule = (block, 32 if block.prefixlen < 32 else None)
            rules = cfg.prefix_lists[got.filters[(ip, direction)]]
            assert rule in rules, f"{platform}/{node.name}: {inst} {direction} {ip} lacks {rule}"


def check_origination(network: Network, node: Node, platform: str, cfg: Parsed) -> None:
    """Networks (loopback, department prefixes, default at the exit), aggregates, statics."""
    where = f"{platform}/{node.name}"
    default = IPv4Network("0.0.0.0/0")
    service = network.service_zone
    served = (
        service is not None and node.name in service.nodes and platform == LAB
    )  # FRR in the lab: service links, static routes over them (egovnet/render/services.py)
    statics: set[tuple[str | None, IPv4Network, str]] = set()
    local: set[IPv4Network] = set()
    if served and service is not None:
        local = {host.prefix for host in service.hosts_at(node.name)}
        first = None
        for index, granted in enumerate(service.access):
            if granted not in node.zones:
                continue
            zone_end = IPv4Address("169.254.0.0") + 2 * index
            first = first or zone_end
            statics |= {(granted, prefix, str(zone_end + 1)) for prefix in local}
            statics.add((service.name, network.pool(granted), str(zone_end)))
        statics |= {
            (service.name, host.prefix, str(first))
            for host in service.hosts
            if host.prefix not in local
        }
    for inst in (GLOBAL, *node.zones):
        got = cfg.bgp[instance_key(inst)]
        networks = {d.prefix for d in node.departments if d.zone == inst}
        if served and service is not None and inst in service.access:
            networks |= local
        if inst == GLOBAL:
            networks.add(IPv4Network(f"{node.loopback}/32"))
        elif node.internet is not None and network.zone(inst).internet:
            networks.add(default)
        assert got.networks == networks, f"{where}: {inst} networks"
        aggregates: dict[IPv4Network, bool] = {}
        if node.blocks[inst].prefixlen < 32:
            aggregates[node.blocks[inst]] = True
        if node.parent is None:
            aggregates[network.pool(inst)] = False
        assert got.aggregates == aggregates, f"{where}: {inst} aggregates (summary flags)"
    if node.internet is not None:
        for zone in network.zones:
            if zone.internet and zone.name in node.zones:
                vrf = zone.name
                statics.add((vrf, default, str(node.internet.next_hop)))
    assert cfg.statics == statics, f"{where}: static routes"


# --- services the vendors configure (FRR leaves them to the host) --------------------------


@dataclass(frozen=True)
class Services:
    top: list[str]
    blocks: dict[str, list[str]]
    secret_lines: list[str]  # regexes: the only lines where a secret value may appear


def services(platform: str, network: Network) -> Services:
    s = network.services
    users = s.snmp.users
    aaa_key = fake_value(s.aaa.key.secret)
    idle = s.ssh.idle_timeout_minutes
    key = {u.name: (fake_value(u.auth_key.secret), fake_value(u.priv_key.secret)) for u in users}
    tacacs = s.aaa.protocol == "tacacs"
    assert s.local_admin is not None, "the sample keeps a break-glass account"
    admin, admin_pw = s.local_admin.name, fake_value(s.local_admin.password.secret)
    assert s.ntp_auth is not None, "the sample authenticates NTP"
    ntp_id, ntp_key = s.ntp_auth.key_id, fake_value(s.ntp_auth.key.secret)
    if platform == "frr":
        return Services(top=[], blocks={"line vty": [f"exec-timeout {idle} 0"]}, secret_lines=[])
    if platform == "huawei_vrp":
        top = [
            "stelnet server enable",
            "undo telnet server enable",
            "snmp-agent",
            "snmp-agent sys-info version v3",
            f"snmp-agent sys-info location {s.snmp.location}",
            f'header login information "{s.banner}"',
        ]
        for u in users:
            top += [
                f"snmp-agent group v3 {u.group} privacy",
                f"snmp-agent usm-user v3 {u.name} group {u.group}",
                f"snmp-agent usm-user v3 {u.name} authentication-mode {u.auth} "
                f"cipher {key[u.name][0]}",
                f"snmp-agent usm-user v3 {u.name} privacy-mode {u.priv} cipher {key[u.name][1]}",
            ]
        top += [
            "ntp-service authentication enable",
            f"ntp-service authentication-keyid {ntp_id} authentication-mode hmac-sha256 "
            f"cipher {ntp_key}",
            f"ntp-service reliable authentication-keyid {ntp_id}",
        ]
        top += [f"ntp-service unicast-server {a} authentication-keyid {ntp_id}" for a in s.ntp]
        top += [f"info-center loghost {a}" for a in s.syslog]
        kind = "hwtacacs" if tacacs else "radius"
        first = str(s.aaa.servers[0])
        server = f"{kind}-server authentication {first}" + ("" if tacacs else " 1812")
        return Services(
            top=top,
            blocks={
                "user-interface vty 0 4": [
                    "authentication-mode aaa",
                    "protocol inbound ssh",
                    f"idle-timeout {idle} 0",
                ],
                f"{kind}-server template egov": [
                    server,
                    f"{kind}-server shared-key cipher {aaa_key}",
                ],
                "aaa": [
                    "authentication-scheme egov",
                    f"authentication-mode {kind} local",
                    "domain default_admin",
                    f"{kind}-server egov",
                    f"local-user {admin} password irreversible-cipher {admin_pw}",
                    f"local-user {admin} privilege level 15",
                    f"local-user {admin} service-type ssh",
                ],
            },
            secret_lines=[
                r"snmp-agent usm-user v3 \S+ (authentication|privacy)-mode \S+ cipher \S+",
                r" (hwtacacs|radius)-server shared-key cipher \S+",
                r" local-user \S+ password irreversible-cipher \S+",
                r"ntp-service authentication-keyid \d+ authentication-mode \S+ cipher \S+",
            ],
        )
    if platform == "h3c_comware":
        top = [
            "ssh server enable",
            "undo telnet server enable",
            "snmp-agent",
            "snmp-agent sys-info version v3",
            f"snmp-agent sys-info location {s.snmp.location}",
            f"header motd %{s.banner}%",
            "ntp-service enable",
        ]
        for u in users:
            top += [
                f"snmp-agent group v3 {u.group} privacy",
                f"snmp-agent usm-user v3 {u.name} {u.group} simple authentication-mode {u.auth} "
                f"{key[u.name][0]} privacy-mode {u.priv} {key[u.name][1]}",
            ]
        top += [
            "ntp-service authentication enable",
            f"ntp-service authentication-keyid {ntp_id} authentication-mode hmac-sha-256 "
            f"simple {ntp_key}",
            f"ntp-service reliable authentication-keyid {ntp_id}",
        ]
        top += [f"ntp-service unicast-server {a} authentication-keyid {ntp_id}" for a in s.ntp]
        top += [f"info-center loghost {a}" for a in s.syslog]
        kind = "hwtacacs" if tacacs else "radius"
        return Services(
            top=top,
            blocks={
                "line vty 0 63": [
                    "authentication-mode scheme",
                    "protocol inbound ssh",
                    f"idle-timeout {idle} 0",
                ],
                f"{kind} scheme egov": [
                    f"primary authentication {s.aaa.servers[0]}",
                    f"key authentication simple {aaa_key}",
                ],
                "domain system": [f"authentication login {kind}-scheme egov local"],
                f"local-user {admin} class manage": [
                    f"password simple {admin_pw}",
                    "service-type ssh",
                    "authorization-attribute user-role network-admin",
                ],
            },
            secret_lines=[
                r"snmp-agent usm-user v3 \S+ \S+ simple authentication-mode .+",
                r" key (authentication|authorization|accounting) simple \S+",
                r" password simple \S+",
                r"ntp-service authentication-keyid \d+ authentication-mode \S+ simple \S+",
            ],
        )
    assert platform == "cisco_ios"
    top = [
        "ip ssh version 2",
        "aaa new-model",
        "aaa authentication login default group EGOV local",
        f"username {admin} privilege 15 secret {admin_pw}",
        f"snmp-server location {s.snmp.location}",
        f"banner motd ^{s.banner}^",
    ]
    for u in users:
        top += [
            f"snmp-server group {u.group} v3 priv",
            f"snmp-server user {u.name} {u.group} v3 auth {u.auth} {key[u.name][0]} "
            f"priv aes 128 {key[u.name][1]}",
        ]
    top += [
        "ntp authenticate",
        f"ntp authentication-key {ntp_id} hmac-sha2-256 {ntp_key}",
        f"ntp trusted-key {ntp_id}",
    ]
    top += [f"ntp server {a} key {ntp_id}" for a in s.ntp]
    top += [f"logging host {a}" for a in s.syslog]
    vty = ["transport input ssh", f"exec-timeout {idle} 0", "login authentication default"]
    kind = "tacacs" if tacacs else "radius"
    return Services(
        top=top,
        blocks={
            "line vty 0 4": vty,
            "line vty 5 15": vty,
            f"{kind} server egov1": [
                f"address ipv4 {s.aaa.servers[0]}"
                + ("" if tacacs else " auth-port 1812 acct-port 1813"),
                f"key {aaa_key}",
            ],
            f"aaa group server {'tacacs+' if tacacs else 'radius'} EGOV": ["server name egov1"],
        },
        secret_lines=[
            r"snmp-server user \S+ \S+ v3 auth .+",
            r" key \S+",
            r"username \S+ privilege 15 secret \S+",
            r"ntp authentication-key \d+ \S+ \S+",
        ],
    )


FORBIDDEN = re.compile(
    r"^\s*(telnet server enable|transport input (all|telnet).*|protocol inbound (all|telnet)"
    r"|snmp-(agent|server) community.*|snmp-agent sys-info version (v1|v2c|all).*"
    r"|snmp-server group \S+ v3 (auth|noauth)|snmp-agent group v3 \S+( authentication)?)$"
)
"""Lines that would allow telnet, SNMPv1/v2c or SNMPv3 without privacy."""


def check_services(network: Network, node: Node, platform: str, cfg: Parsed) -> None:
    where = f"{platform}/{node.name}"
    want = services(platform, network)
    top = cfg.top()
    for line in want.top:
        assert line in top, f"{where}: missing '{line}'"
    for header, children in want.blocks.items():
        lines = cfg.block(header)
        for line in children:
            assert line in lines, f"{where}: '{header}' lacks '{line}'"
    bad = [line for line in cfg.text.splitlines() if FORBIDDEN.match(line)]
    assert not bad, f"{where}: insecure lines {bad}"
    assert cfg.hostname == node.name, f"{where}: hostname"


def check_secrets(network: Network, node: Node, platform: str, cfg: Parsed) -> None:
    """Secret values appear exactly where a device needs them (FRR: nowhere)."""
    where = f"{platform}/{node.name}"
    allowed = [re.compile(p) for p in services(platform, network).secret_lines]
    values = secret_values(network)
    holding = [line for line in cfg.text.splitlines() if any(v in line for v in values)]
    stray = [line for line in holding if not any(p.fullmatch(line) for p in allowed)]
    assert not stray, f"{where}: secret values outside SNMP/AAA lines: {len(stray)} lines"
    if platform == "frr":
        assert not holding, f"{where}: FRR config holds secret values"
    else:
        for value in values:
            assert any(value in line for line in holding), f"{where}: a secret is never configured"


CHECKS: list[Callable[[Network, Node, str, Parsed], None]] = [
    check_interfaces,
    check_bgp,
    check_filters,
    check_origination,
    check_services,
    check_secrets,
]


# --- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", platforms.platform_names())
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_every_node(platform: str, check: Callable[[Network, Node, str, Parsed], None]) -> None:
    network = sample()
    configs = parsed(platform)
    assert list(configs) == [node.name for node in network.nodes]
    for node in network.nodes:
        check(network, node, platform, configs[node.name])


@pytest.mark.parametrize("platform", platforms.platform_names())
def test_output_is_deterministic_and_tidy(platform: str) -> None:
    network = sample()
    again = render_network(network, secrets_for(network), platform)
    assert again == rendered(platform)
    for host, text in again.items():
        assert text.endswith("\n"), f"{platform}/{host}: no final newline"
        assert not [line for line in text.splitlines() if line != line.rstrip()], (
            f"{host}: trailing blanks"
        )
        assert "\n\n" not in text, f"{platform}/{host}: blank lines"


@pytest.mark.parametrize("platform", VENDORS)
def test_radius_instead_of_tacacs(platform: str) -> None:
    network = sample()
    aaa = network.services.aaa.model_copy(update={"protocol": "radius"})
    radius = network.model_copy(
        update={"services": network.services.model_copy(update={"aaa": aaa})}
    )
    node = radius.nodes[0]
    text = render_network(radius, secrets_for(radius), platform)[node.name]
    cfg = parse(platform, text)
    check_services(radius, node, platform, cfg)
    check_secrets(radius, node, platform, cfg)
    assert "tacacs" not in text.lower(), f"{platform}: TACACS+ left in a RADIUS config"


# --- the checks themselves catch mistakes ---------------------------------------------------


def mutated(platform: str, host: str, old: str, new: str) -> Parsed:
    text = rendered(platform)[host]
    assert old in text, f"mutation target '{old}' not in {platform}/{host}"
    return parse(platform, text.replace(old, new, 1))


def first_link_address(network: Network, node: Node) -> tuple[IPv4Address, IPv4Address]:
    link = network.links_of(node.name)[0]
    ip = link.address(node.name, GLOBAL).ip
    return ip, ip + 100


@pytest.mark.parametrize("platform", platforms.platform_names())
def test_checks_catch_a_wrong_address(platform: str) -> None:
    network = sample()
    node = network.nodes[0]
    ip, wrong = first_link_address(network, node)
    cfg = mutated(platform, node.name, f"ip address {ip}", f"ip address {wrong}")
    with pytest.raises(AssertionError, match="address"):
        check_interfaces(network, node, platform, cfg)


@pytest.mark.parametrize("platform", platforms.platform_names())
@pytest.mark.parametrize("mistake", ["missing", "wrong-as"])
def test_checks_catch_a_bad_neighbour(platform: str, mistake: str) -> None:
    network = sample()
    node = network.nodes[0]
    link = network.links_of(node.name)[0]
    far = link.other(node.name).host
    ip = link.address(far, GLOBAL).ip
    asn = network.node(far).asn
    peer = (
        "peer {} as-number {}"
        if platform in ("huawei_vrp", "h3c_comware")
        else "neighbor {} remote-as {}"
    )
    line = peer.format(ip, asn)
    cfg = mutated(
        platform, node.name, line, "" if mistake == "missing" else peer.format(ip, asn + 1)
    )
    with pytest.raises(AssertionError, match="neighbours"):
        check_bgp(network, node, platform, cfg)


@pytest.mark.parametrize("platform", VENDORS)
def test_checks_catch_a_leaked_secret(platform: str) -> None:
    network = sample()
    node = network.nodes[0]
    value = fake_value(network.services.aaa.key.secret)
    cfg = mutated(platform, node.name, "\n", f"\n! {value}\n")
    with pytest.raises(AssertionError, match="outside SNMP/AAA"):
        check_secrets(network, node, platform, cfg)
