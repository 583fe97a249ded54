"""The platform registry: everything egovnet knows about a platform, in one record each.

A platform (`frr`, `huawei_vrp`, `h3c_comware`, `cisco_ios`) is looked up here by every part:
the schema validates `platform:` against `platform_names()`, the renderer takes its interface
naming and template directory, the config reader its parser and detection signature, the
rollout engine its driver and CLI commands, the exporter its SNMP modules, the topology and
the lab the naming of the platform the lab runs (`LAB`). No part keeps a table of its own
keyed by platform name; `tests/unit/test_platforms.py` holds every record complete and
`tests/unit/test_platform_literals.py` fails on a platform name written anywhere else.

Why Python records and not one YAML file per platform (as netlab's `netsim/devices/*.yml`):
the records hold regular expressions, format strings and references to code that a test must
check anyway, and strict mypy checks every field's type where it is written, with no loader,
no schema of its own and no package data to ship. Adding a platform is one `PlatformRecord`
below, a template directory, and the code its references name.

Why dotted references ("package.module:attribute") and not names checked against the parts'
own tables: a table keyed by platform name in a part is the very copy this registry removes.
The core must not import the parts (they import the core), so a record names a part's code
as a string, the form entry points use, and the part resolves it with `load_reference`.
Nothing is imported until a part asks; the completeness test resolves every reference.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from egovnet.errors import EgovnetError


class UnknownPlatformError(EgovnetError, ValueError):
    """A platform name the registry does not know; the message lists the known ones."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown platform '{name}': expected one of {', '.join(_ORDER)}")
        self.name = name


class PlatformReferenceError(EgovnetError, ImportError):
    """A record's dotted reference names code that does not exist (a registry bug)."""


@dataclass(frozen=True)
class Naming:
    """How a platform names a router's interfaces (docs/routing.md, "Ports").

    Format fields: `{n}` a port number, `{port}` a port's name, `{vlan}` a zone's or a
    department's VLAN, `{trunk}` the department trunk's name.

    >>> naming = Naming("eth{n}", "eth0", "lo", "dept{vlan}")
    >>> naming.port_name(3), naming.subinterface_name("eth3", 100), naming.department_name(1000)
    ('eth3', 'eth3.100', 'dept1000')
    """

    port: str
    management: str
    loopback: str
    department: str
    subinterface: str = "{port}.{vlan}"
    """A link's sub-interface for one zone (802.1Q on real gear, a veth of its own in the lab)."""
    department_trunk: int | None = None
    """Port whose 802.1Q sub-interfaces are the departments' gateways (towards the access
    switch); None where each department has an interface of its own (the lab's veths)."""

    def port_name(self, number: int) -> str:
        """The name of port `number`."""
        return self.port.format(n=number)

    def subinterface_name(self, port: str, vlan: int) -> str:
        """The sub-interface of `port` for `vlan`."""
        return self.subinterface.format(port=port, vlan=vlan)

    def trunk_name(self) -> str | None:
        """The department trunk's name; None where departments have interfaces of their own."""
        return None if self.department_trunk is None else self.port_name(self.department_trunk)

    def department_name(self, vlan: int) -> str:
        """The gateway interface of the department on `vlan`."""
        return self.department.format(trunk=self.trunk_name(), vlan=vlan)


@dataclass(frozen=True)
class Commands:
    """The words a driver types on this platform's CLI (scrapli keeps these as data too).

    Rollback is not a command: on every platform the driver computes it as the change from
    the running config back to the config saved before the commit (NAPALM's rollback).
    """

    show_config: str
    show_version: str
    version_pattern: str
    """Group 1 is the software version in `show_version`'s output."""
    save: str
    """Makes the running config the startup one (netmiko's `save_config(cmd=...)` answers a
    confirmation prompt where the platform asks one)."""
    bgp_peers: str
    bgp_peer_pattern: str | None
    """One BGP session per match (named groups address, asn, state, received); None where
    `bgp_peers` answers JSON (FRR)."""
    negate: str
    """The word that removes a line (`no ` / `undo `)."""
    leave: str
    """The word that leaves a configuration context (`exit` / `quit`)."""
    comment: str
    error_pattern: str
    """Matches (multi-line) a line by which the device refuses a command."""


@dataclass(frozen=True)
class Signature:
    """How a configuration text shows which platform wrote it (`isolation.sources`).

    It matches when every string of `all_of` and at least one of `any_of` occur, searched
    in the first `HEAD` characters only when `head_only` (a header line), else everywhere.

    >>> Signature(any_of=("sysname ",)).matches("#\\nsysname a\\n")
    True
    """

    any_of: tuple[str, ...]
    all_of: tuple[str, ...] = ()
    head_only: bool = False

    HEAD = 4000

    def matches(self, text: str) -> bool:
        """Whether `text` carries this signature."""
        where = text[: self.HEAD] if self.head_only else text
        return all(s in where for s in self.all_of) and any(s in where for s in self.any_of)


@dataclass(frozen=True)
class Napalm:
    """The NAPALM driver for a platform, for code that wants NAPALM's own (not used yet)."""

    driver: str
    package: str
    """The PyPI distribution that provides it (`napalm` for the stock drivers)."""


@dataclass(frozen=True)
class PlatformRecord:
    """Everything egovnet knows about one platform. References are "module:attribute"."""

    name: str
    """The inventory's `platform:` value."""
    display: str
    vendor: str
    """As `get_facts` reports it (NAPALM's `vendor`)."""
    naming: Naming
    templates: str
    """Directory under `egovnet/templates/` holding `node.j2`."""
    netmiko_type: str
    netutils_os: str | None
    """netutils' config-parser name for hierarchical diffs; None where the driver diffs with
    its own tool (FRR: frr-reload.py's logic)."""
    napalm: Napalm | None
    """None: no NAPALM driver exists for the platform (FRR has no stock or maintained one);
    egovnet's own driver keeps NAPALM's contract (`nornir_tasks.drivers.base`)."""
    parser: str
    """`(text, host, file) -> DeviceConfig`: a config text into the vendor-neutral model."""
    driver: str
    """`(SshParams, PlatformRecord) -> ConfigDriver`: the rollout's session to one device."""
    commands: Commands
    detection: Signature
    snmp_modules: tuple[str, ...]
    """Exporter modules (`exporters/modules/<name>.yaml`) a device of this platform answers."""
    renders_exit_filter: bool
    """The templates render an exit's firewall and NAT (FRR: the nftables section); where
    False, the audit assumes the policy's until the templates render it."""
    shut_unknown_ports: str | None = None
    """`(config, ports) -> config`: shut ports a device has and its config does not know
    (`isolation enforce`); the driver must offer `list_interfaces`. None: not supported."""
    ansible_network_os: str | None = None
    """The `ansible_network_os` whose terminal and cliconf plugins (shipped in the `ansible`
    package) drive the platform over `network_cli`; None: that package ships none for it
    (Huawei VRP and H3C Comware collections are not in it)."""


_RECORDS: tuple[PlatformRecord, ...] = (
    PlatformRecord(
        name="frr",
        display="FRRouting",
        vendor="FRRouting",
        # containerlab's convention (eth0 is management); zones use FRR's netns VRF backend:
        # a VRF is a network namespace of the node, named after the zone.
        naming=Naming("eth{n}", "eth0", "lo", "dept{vlan}"),
        templates="frr",
        netmiko_type="cisco_ios",  # vtysh's prompts and modes are IOS-like enough for netmiko
        netutils_os=None,
        napalm=None,
        parser="isolation.parse_frr:parse_frr",
        driver="nornir_tasks.drivers.frr:FrrDriver",
        commands=Commands(
            show_config="show running-config no-header",
            show_version="show version",
            version_pattern=r"FRRouting (\S+)",
            save="write memory",
            bgp_peers="show bgp vrf all summary json",
            bgp_peer_pattern=None,
            negate="no ",
            leave="exit",
            comment="!",
            error_pattern=r"^% ?(Unknown|Invalid|Command incomplete|Ambiguous|Can't|Configuration|"
            r"Specified|There is no|Failed|Error|No such|Please)",
        ),
        detection=Signature(any_of=("frr version", "frr defaults"), head_only=True),
        snmp_modules=("system", "if_mib", "bgp", "host_resources"),
        renders_exit_filter=True,
        shut_unknown_ports="isolation.enforce:shut_ports_frr",
        # the ansible package ships no FRR collection; vtysh's prompts, modes and `terminal
        # length 0` are IOS's (netmiko drives it as cisco_ios too): docs/ansible.md
        ansible_network_os="cisco.ios.ios",
    ),
    # Vendor gear: port 0 is the trunk to the node's access switch, one sub-interface per
    # department VLAN; ports 1.. are the links (docs/routing.md, "Ports").
    PlatformRecord(
        name="huawei_vrp",
        display="Huawei VRP",
        vendor="Huawei",
        naming=Naming(
            "GigabitEthernet0/0/{n}", "MEth0/0/1", "LoopBack0", "{trunk}.{vlan}", department_trunk=0
        ),
        templates="huawei_vrp",
        netmiko_type="huawei",
        netutils_os="hp_comware",  # Comware's parser serves VRP: the two share their syntax
        napalm=Napalm("huawei_vrp", "napalm-huawei-vrp"),
        parser="isolation.parse_vrp:parse_huawei_vrp",
        driver="nornir_tasks.drivers.vendor:VendorCliDriver",
        commands=Commands(
            show_config="display current-configuration",
            show_version="display version",
            version_pattern=r"VRP \(R\) software, Version (\S+)",
            save="save",
            bgp_peers="display bgp all peer",
            # Peer  V  AS  MsgRcvd  MsgSent  OutQ  Up/Down  State  PrefRcv
            bgp_peer_pattern=r"^\s*(?P<address>\d+\.\d+\.\d+\.\d+)\s+4\s+(?P<asn>\d+)\s+"
            r"(?:\d+\s+){3}\S+\s+(?P<state>\w+)\s+(?P<received>\d+)\s*$",
            negate="undo ",
            leave="quit",
            comment="#",
            error_pattern=r"^Error:|Unrecognized command|Incomplete command|Wrong parameter",
        ),
        # VRP and Comware share `sysname`; these words are VRP's own.
        detection=Signature(
            all_of=("sysname ",), any_of=("ip ip-prefix ", "ipv4-family", "dot1q termination")
        ),
        snmp_modules=("system", "if_mib", "bgp", "ospf", "huawei"),
        renders_exit_filter=False,
    ),
    PlatformRecord(
        name="h3c_comware",
        display="H3C Comware",
        vendor="H3C",
        naming=Naming(
            "GigabitEthernet1/0/{n}",
            "M-GigabitEthernet0/0/0",
            "LoopBack0",
            "{trunk}.{vlan}",
            department_trunk=0,
        ),
        templates="h3c_comware",
        netmiko_type="hp_comware",
        netutils_os="hp_comware",
        napalm=Napalm("h3c_comware", "napalm-h3c-comware"),
        parser="isolation.parse_vrp:parse_h3c_comware",
        driver="nornir_tasks.drivers.vendor:VendorCliDriver",
        commands=Commands(
            show_config="display current-configuration",
            show_version="display version",
            version_pattern=r"Comware Software, Version ([^,\s]+)",
            save="save force",
            bgp_peers="display bgp peer ipv4",
            # Peer  AS  MsgRcvd  MsgSent  OutQ  PrefRcv  Up/Down  State
            bgp_peer_pattern=r"^\s*(?P<address>\d+\.\d+\.\d+\.\d+)\s+(?P<asn>\d+)\s+"
            r"(?:\d+\s+){3}(?P<received>\d+)\s+\S+\s+(?P<state>\w+)\s*$",
            negate="undo ",
            leave="quit",
            comment="#",
            error_pattern=r"Unrecognized command|Incomplete command|Wrong parameter|^ % ",
        ),
        # after VRP in registry order: a `sysname` config without VRP's words is Comware
        detection=Signature(any_of=("sysname ",)),
        snmp_modules=("system", "if_mib", "bgp", "ospf", "h3c"),
        renders_exit_filter=False,
    ),
    PlatformRecord(
        name="cisco_ios",
        display="Cisco IOS",
        vendor="Cisco",
        naming=Naming(
            "GigabitEthernet0/{n}",
            "GigabitEthernet0",
            "Loopback0",
            "{trunk}.{vlan}",
            department_trunk=0,
        ),
        templates="cisco_ios",
        netmiko_type="cisco_ios",
        netutils_os="cisco_ios",
        napalm=Napalm("ios", "napalm"),
        parser="isolation.parse_ios:parse_ios",
        driver="nornir_tasks.drivers.vendor:VendorCliDriver",
        commands=Commands(
            show_config="show running-config",
            show_version="show version",
            version_pattern=r"Version (\S+?),",
            save="write mem",
            bgp_peers="show ip bgp all summary",
            # Neighbor  V  AS  MsgRcvd  MsgSent  TblVer  InQ  OutQ  Up/Down  State/PfxRcd
            bgp_peer_pattern=r"^(?P<address>\d+\.\d+\.\d+\.\d+)\s+4\s+(?P<asn>\d+)\s+"
            r"(?:\d+\s+){5}\S+\s+(?P<state>\S+)\s*$",
            negate="no ",
            leave="exit",
            comment="!",
            error_pattern=r"^% (Invalid|Incomplete|Ambiguous)",
        ),
        # IOS's own words (FRR writes `vrf NAME`, and no `service timestamps`)
        detection=Signature(any_of=("vrf definition ", "service timestamps ", "no service pad")),
        snmp_modules=("system", "if_mib", "bgp", "ospf"),
        renders_exit_filter=False,
        ansible_network_os="cisco.ios.ios",
    ),
)

_BY_NAME: Mapping[str, PlatformRecord] = MappingProxyType({r.name: r for r in _RECORDS})
_ORDER: tuple[str, ...] = tuple(_BY_NAME)


@dataclass(frozen=True)
class Lab:
    """What the lab runs: every node is the same platform whatever platform it stands in
    for, so its interfaces carry that platform's names (the topology file, the exporter's
    `naming="lab"`), and its SNMP agent answers these modules."""

    platform: str
    snmp_modules: tuple[str, ...]
    """net-snmp with FRR's AgentX sub-agents: OSPF-MIB and BGP4-MIB beside the host's own."""


LAB = Lab(platform="frr", snmp_modules=("system", "if_mib", "bgp", "ospf", "host_resources"))


def platform(name: str) -> PlatformRecord:
    """The record of platform `name`; `UnknownPlatformError` for a name not in the registry.

    >>> platform("huawei_vrp").naming.port_name(1)
    'GigabitEthernet0/0/1'
    >>> platform("junos")
    Traceback (most recent call last):
    ...
    egovnet.platforms.UnknownPlatformError: unknown platform 'junos': expected one of frr, \
huawei_vrp, h3c_comware, cisco_ios
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownPlatformError(name) from None


def platform_names() -> tuple[str, ...]:
    """Every platform's name, in registry order (the order detection tries them in)."""
    return _ORDER


def platforms() -> tuple[PlatformRecord, ...]:
    """Every record, in registry order."""
    return _RECORDS


def lab_platform() -> PlatformRecord:
    """The record of the platform every lab node runs."""
    return platform(LAB.platform)


@cache
def load_reference(reference: str) -> Callable[..., Any]:
    """The callable a "package.module:attribute" reference names, imported now.

    >>> load_reference("egovnet.platforms:platform_names")()[0]
    'frr'
    """
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise PlatformReferenceError(f"reference {reference!r} is not 'package.module:attribute'")
    try:
        found: object = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise PlatformReferenceError(f"reference {reference!r} does not resolve: {exc}") from exc
    if not callable(found):
        raise PlatformReferenceError(
            f"reference {reference!r} names {type(found).__name__}, no callable"
        )
    return found
