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
import re
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
    prompt_pattern: str | None = None
    """Matches (multi-line) the CLI's exec prompt as its last line: the SSH session waits
    for it after login instead of netmiko's sleep-and-retry prompt search (whose backoff
    grows with the load, 0.2 s a login idle, 1 s at 20 logins at once). None: netmiko's own
    session preparation."""


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
    markers: tuple[str, ...] = ()
    """Regular expressions of lines (anchored at a line's start, after its indentation) that
    only this platform writes; detection counts how many of them a text carries, so that
    the platform with the most wins over the first signature that happens to match
    (`egovnet.configs.parse.detect`)."""

    HEAD = 4000

    def score(self, text: str) -> int:
        """How many of `markers` occur in `text`.

        >>> Signature(any_of=(), markers=("packet-filter ", r"version 7\\.")).score(
        ...     "version 7.1.064\\n packet-filter 3000 inbound\\n")
        2
        """
        if not self.markers:
            return 0
        found = {match.lastgroup for match in _markers(self.markers).finditer(text)}
        return len(found)

    def matches(self, text: str) -> bool:
        """Whether `text` carries this signature."""
        where = text[: self.HEAD] if self.head_only else text
        return all(s in where for s in self.all_of) and any(s in where for s in self.any_of)


def _entries(text: str) -> tuple[str, ...]:
    """A comma-separated list of constructs as a tuple."""
    return tuple(entry.strip() for entry in text.split(",") if entry.strip())


@cache
def _markers(markers: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for all of a signature's markers (one pass over a text, not one each);
    group `m<i>` is marker i."""
    either = "|".join(f"(?P<m{i}>{m})" for i, m in enumerate(markers))
    return re.compile(rf"^[ \t]*(?:{either})", re.M)


@dataclass(frozen=True)
class Napalm:
    """The NAPALM driver for a platform: the name `napalm.get_network_driver` takes (and an
    exported Nornir inventory's `napalm` platform), and the distribution that provides it."""

    driver: str
    package: str
    """The distribution that provides it: `napalm` for the stock drivers, `egovnet` for
    egovnet's own (`napalm_egovnet_<name>`, docs/napalm.md)."""


@dataclass(frozen=True)
class ExitAcls:
    """The two ACLs a vendor exit renders on its internet port (docs/isolation.md, "Vendor
    exits: NAT and firewall"): numbers where the platform numbers ACLs by kind (VRP and
    Comware: 2000-2999 basic, by source only; 3000-3999 advanced), names on IOS.

    >>> ExitAcls(nat="2000", inbound="3000").inbound
    '3000'
    """

    nat: str
    """Selects the sources the exit translates: the internet zone's pool, nothing else."""
    inbound: str
    """The internet port's inbound filter: replies to the exit's own address, then deny."""


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
    """None: no NAPALM driver serves the platform."""
    parser: str
    """`(text, host, file) -> DeviceConfig`: a config text into the vendor-neutral model."""
    driver: str
    """`(SshParams, PlatformRecord) -> ConfigDriver`: the rollout's session to one device."""
    commands: Commands
    detection: Signature
    snmp_modules: tuple[str, ...]
    """Exporter modules (`exporters/modules/<name>.yaml`) a device of this platform answers."""
    exit_acls: ExitAcls | None
    """The ACLs an exit's config renders its firewall and NAT with; None where they are not
    ACLs (FRR: an nftables ruleset in the config's packet-filter section)."""
    inert: tuple[str, ...] = ()
    """Top-level constructs (leading words) of the platform's configs that cannot change
    what reaches what, so a parser that does not model them need not report them
    (`egovnet.configs.lines`, docs/parsing.md "Failing closed"): logins, banners, SNMP,
    logging, NTP and the like; never anything that routes, filters, translates or tunnels."""
    shut_unknown_ports: str | None = None
    """`(config, ports) -> config`: shut ports a device has and its config does not know
    (`isolation enforce`); the driver must offer `list_interfaces`. None: not supported."""
    management_acl: str | None = None
    """The ACL that admits management logins (VTY/SSH) from the management subnet only
    (graded protection 8.1.4.4 c); None where sshd does it (FRR: `AllowUsers`)."""
    service_acl: str | None = None
    """The ACL a service node filters its service hosts' ports with (docs/services.md): a
    number where ACLs are numbered by kind (3000-3999 advanced), a name on IOS; None where
    the filter is no ACL (FRR: an nftables ruleset in the lab's service namespace)."""
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
        # NAPALM has no FRR driver: egovnet's (nornir_tasks.drivers.napalm_frr), and the
        # rollout speaks to FRR through it
        napalm=Napalm("egovnet_frr", "egovnet"),
        parser="egovnet.configs.frr:parse_frr",
        driver="nornir_tasks.drivers.napalm_device:napalm_session",
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
            # vtysh's exec prompt, `hostname# `: the banner (motd) before it is free text
            prompt_pattern=r"^[^\s#>]+[#>] ?$",
        ),
        detection=Signature(
            any_of=("frr version", "frr defaults"),
            head_only=True,
            markers=(r"frr version ", r"frr defaults ", r"exit-vrf$"),
        ),
        snmp_modules=("system", "if_mib", "bgp", "host_resources"),
        exit_acls=None,
        inert=_entries(
            "frr, hostname, log, service, line, banner, agentx, password, enable, debug, "
            "username, ip forwarding, ipv6 forwarding, no ipv6 forwarding, end, exit, "
            "exit-vrf"
        ),
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
        # egovnet's driver, not the community napalm-huawei-vrp (docs/napalm.md says why)
        napalm=Napalm("egovnet_huawei_vrp", "egovnet"),
        parser="egovnet.configs.vrp:parse_huawei_vrp",
        driver="nornir_tasks.drivers.napalm_device:napalm_session",
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
            all_of=("sysname ",),
            any_of=("ip ip-prefix ", "ipv4-family", "dot1q termination"),
            markers=(
                r"ip ip-prefix ",
                r"traffic-filter (?:inbound|outbound) ",
                r"dot1q termination ",
                r"stelnet server ",
                r"ssh authentication-type ",
                r"ipv4-family$",
                r"interface MEth",
                # an NE/CE interface shows its admin state; Comware prints nothing for it
                r"undo shutdown$",
                r"port trunk allow-pass vlan ",
                r"traffic-policy \S+ (?:inbound|outbound)",
                r"vlan batch ",
                r"(?:# *)?Huawei Versatile Routing Platform",
            ),
        ),
        snmp_modules=("system", "if_mib", "bgp", "ospf", "huawei"),
        exit_acls=ExitAcls(nat="2000", inbound="3000"),
        management_acl="2001",
        service_acl="3900",
        inert=_entries(
            "sysname, clock, user-interface, aaa, local-user, snmp-agent, info-center, "
            "ntp-service, header, undo, ssh, stelnet, sftp, telnet, http, lldp, "
            "hwtacacs-server, radius-server, return, authentication-profile, dns, ftp, "
            "set, cpu-defend, drop-profile, license, system-view, quit, pki, dot1x, "
            "mac-authen"
        ),
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
        # egovnet's driver, not the community napalm-h3c-comware (docs/napalm.md says why)
        napalm=Napalm("egovnet_h3c_comware", "egovnet"),
        parser="egovnet.configs.vrp:parse_h3c_comware",
        driver="nornir_tasks.drivers.napalm_device:napalm_session",
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
        detection=Signature(
            any_of=("sysname ",),
            markers=(
                r"packet-filter (?:\d+|name \S+) (?:inbound|outbound)",
                r"ip prefix-list \S+ index ",
                r"version [57]\.\d+\.\d+",
                r"vlan-type dot1q vid ",
                r"domain (?:system|default)",
                r"hwtacacs scheme ",
                r"local-user \S+ class ",
                r"interface M-GigabitEthernet",
                r"ip vpn-instance \S+\n\s+route-distinguisher",
                # `display version` pasted above a config, often as comments
                r"(?:# *)?(?:H3C|HPE) Comware",
                r"port link-mode (?:bridge|route)",
            ),
        ),
        snmp_modules=("system", "if_mib", "bgp", "ospf", "h3c"),
        exit_acls=ExitAcls(nat="2000", inbound="3000"),
        management_acl="2001",
        service_acl="3900",
        inert=_entries(
            "sysname, version, clock, line, user-interface, local-user, domain, "
            "snmp-agent, info-center, ntp-service, header, undo, ssh, telnet, http, "
            "lldp, hwtacacs, radius, return, password-recovery, role, user-group, "
            "public-key, pki, dns, ftp, irf, stp, vlan, scheduler, netconf, cwmp, "
            "ip http, ip https, password-control"
        ),
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
        parser="egovnet.configs.ios:parse_ios",
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
        # `hostname` is FRR's word too, but FRR's own header settles an FRR text first
        detection=Signature(
            any_of=("vrf definition ", "service timestamps ", "no service pad", "hostname "),
            markers=(
                r"banner (?:motd|login|exec|incoming) \^C",
                r"vrf definition ",
                r"service timestamps ",
                r"no service pad",
                r"ip vrf \S+$",
                r"ip access-list (?:extended|standard) ",
                r"access-list \d+ (?:permit|deny) ",
                r"ip route \d+\.\d+\.\d+\.\d+ \d+\.\d+\.\d+\.\d+",
                r"version \d+\.\d+$",
                r"ip nat (?:inside|outside)",
                r"Building configuration",
                r"Current configuration : \d+ bytes",
                r"ip vrf forwarding ",
            ),
        ),
        snmp_modules=("system", "if_mib", "bgp", "ospf"),
        exit_acls=ExitAcls(nat="EGOV-NAT", inbound="EGOV-INTERNET-IN"),
        management_acl="EGOV-MGMT",
        service_acl="EGOV-SERVICES",
        inert=_entries(
            "hostname, version, service, no service, boot-start-marker, boot-end-marker, "
            "boot, logging, enable, username, aaa, tacacs, tacacs-server, radius, "
            "radius-server, snmp-server, ntp, clock, line, banner, ip ssh, ip domain, "
            "ip domain-name, ip name-server, no ip domain, no ip domain-lookup, ip http, "
            "no ip http, no ip bootp, no ip source-route, no ip finger, ip scp, ip ftp, "
            "ip tftp, lldp, cdp, no cdp, archive, memory-size, license, redundancy, "
            "control-plane, alias, login, privilege, vtp, spanning-tree, vlan, "
            "diagnostic, platform, multilink, call-home, crypto pki, crypto key, "
            "key chain, file, exception, scheduler, errdisable, mac, security, end, "
            "Building, Current"
        ),
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


def napalm_platform(driver: str) -> PlatformRecord:
    """The record whose NAPALM driver is `driver` (a NAPALM driver finds its platform so).

    >>> napalm_platform("egovnet_frr").name
    'frr'
    """
    for record in _RECORDS:
        if record.napalm is not None and record.napalm.driver == driver:
            return record
    raise UnknownPlatformError(f"with NAPALM driver {driver}")


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
