"""The shape of the inventory files, as pydantic models that refuse unknown keys.

These models describe what a person writes; `egovnet.model` describes the network that
results (with addresses allocated). Keeping them apart lets the written form stay small
(most fields optional, inherited from groups) while the built model is complete.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from egovnet.platforms import platform_names

TIERS = ("national", "province", "city", "county", "exit")
PROTECTION_LEVEL: dict[str, int] = {"national": 2, "province": 3, "city": 3, "exit": 3, "county": 2}
"""Graded protection (等级保护) level of each tier, as seed 004 sets it: the province and
city extranet (with the province's unified internet exit) at level 3, everything else at
least level 2. The national centre's own level is its operator's to set, not this
province's: it stays at the floor, and `data.protection_level: 3` raises it."""
HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
SECRET_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"  # noqa: S105 - a name pattern, not a secret
DEPARTMENT_NAME = r"^[a-z0-9][a-z0-9_-]{0,30}$"
LAB_NAME = r"^[a-z][a-z0-9-]{0,15}$"
"""Short: it marks the lab's processes on a machine (`egovnet-lab:NAME:NODE`)."""
DEFAULT_LAB = "egovnet"

Tier = Literal["national", "province", "city", "county", "exit"]


def _known_platform(name: str) -> str:
    """A platform of the registry (`egovnet.platforms`). The error is the one a `Literal`
    gives, so the loader words it the same: "unknown platform 'x': expected 'frr', ..."."""
    known = platform_names()
    if name not in known:
        expected = ", ".join(repr(n) for n in known[:-1]) + f" or {known[-1]!r}"
        raise PydanticCustomError(
            "literal_error", "Input should be {expected}", {"expected": expected}
        )
    return name


Platform = Annotated[str, AfterValidator(_known_platform)]
"""A platform name the registry knows."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Strict):
    """A pointer to a secret kept outside the inventory (secrets file or environment)."""

    secret: Annotated[str, Field(pattern=SECRET_NAME)]


class DepartmentSpec(_Strict):
    """A department (委办局) attached to a node, as written in `hosts.yaml`."""

    name: Annotated[str, Field(pattern=DEPARTMENT_NAME)]
    zone: str
    slot: Annotated[int, Field(ge=0)] | None = None
    prefix: IPv4Network | None = None
    description: str | None = None


class HostData(_Strict):
    """The `data:` of a host after inheritance from its groups and `defaults.yaml`."""

    tier: Tier
    parent: str | None = None
    uplinks: list[str] = Field(default_factory=list)
    region: str
    slot: Annotated[int, Field(ge=0)] | None = None
    loopback: IPv4Address | None = None
    departments: list[DepartmentSpec] = Field(default_factory=list)
    protection_level: Annotated[int, Field(ge=2, le=3)] | None = None
    """Graded protection (等级保护) level above the tier's: may only raise it (the loader
    refuses a lower one); 2 and 3 are the levels egovnet's rules cover."""


class HostSpec(_Strict):
    """A Nornir SimpleInventory host entry (credentials are refused: they are secrets)."""

    hostname: str | None = None
    platform: Platform | None = None
    groups: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    username: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    connection_options: dict[str, Any] = Field(default_factory=dict)


class FanoutSpec(_Strict):
    """Most children a node of each tier will ever have; fixes block sizes for life."""

    national: Annotated[int, Field(ge=0, le=4095)] = 0
    province: Annotated[int, Field(ge=0, le=4095)] = 15
    city: Annotated[int, Field(ge=0, le=4095)] = 15


class AddressPlanSpec(_Strict):
    """The pools of `network.yaml`."""

    loopbacks: IPv4Network
    links: IPv4Network
    management: IPv4Network
    internet: IPv4Network
    fanout: FanoutSpec = Field(default_factory=FanoutSpec)
    uplinks_per_node: Annotated[int, Field(ge=1, le=8)] = 2


class ZoneSpec(_Strict):
    """A security zone (安全域): a routing instance (VRF / VPN instance) on every node."""

    description: str = ""
    pool: IPv4Network
    internet: bool = False
    vlan: Annotated[int, Field(ge=2, le=4094)]
    department_vlan_base: Annotated[int, Field(ge=2, le=4094)]
    department_prefixlen: Annotated[int, Field(ge=8, le=30)] = 26
    departments_per_node: Annotated[int, Field(ge=1, le=256)] = 4


class RoutingSpec(_Strict):
    """BGP parameters shared by every node."""

    asn_base: Annotated[int, Field(ge=4200000000, le=4294967294)] = 4200000000
    keepalive: Annotated[int, Field(ge=1, le=3600)] = 3
    hold: Annotated[int, Field(ge=3, le=65535)] = 9

    @field_validator("hold")
    @classmethod
    def _hold_is_three_keepalives(cls, hold: int, info: ValidationInfo) -> int:
        # RFC 4271 4.4: keepalive one third of the hold time. FRR takes a larger keepalive
        # without a word and keeps hold/3 (`timers bgp 4 9` shows as `timers bgp 3 9`), VRP
        # refuses it: a config asking for more could never be the device's running config.
        keepalive = info.data.get("keepalive")
        if isinstance(keepalive, int) and keepalive * 3 > hold:
            raise ValueError(
                f"hold must be at least 3 x keepalive ({keepalive} s): routers cap keepalive "
                f"at hold/3, so the config would never match the device's"
            )
        return hold


class SnmpUserSpec(_Strict):
    """An SNMPv3 user: graded protection (等级保护) asks for authPriv."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    group: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = "egov-ro"
    auth: Literal["sha", "sha256"] = "sha"
    auth_key: SecretRef
    priv: Literal["aes128"] = "aes128"
    priv_key: SecretRef


class SnmpV2cSpec(_Strict):
    """SNMPv2c for the few devices that cannot do v3: only the hosts listed here use it
    (monitoring polls every other host with the SNMPv3 user)."""

    community: SecretRef
    hosts: list[Annotated[str, Field(pattern=HOST_NAME.pattern)]] = Field(min_length=1)


class SnmpSpec(_Strict):
    users: list[SnmpUserSpec] = Field(min_length=1)
    location: str = ""
    v2c: SnmpV2cSpec | None = None


class AaaSpec(_Strict):
    protocol: Literal["tacacs", "radius"] = "tacacs"
    servers: list[IPv4Address] = Field(min_length=1)
    key: SecretRef
    two_factor: bool = False
    """The AAA servers ask administrators for a second factor (a one-time password with
    the password): graded protection level 3 asks for two factors (8.1.4.1 d), and the
    device can only show that it sends every login to these servers."""


class LocalAdminSpec(_Strict):
    """The break-glass account each device keeps for when every AAA server is unreachable:
    AAA falls back to `local`, and without a local account that fallback locks everyone out."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,30}$")] = "egov-admin"
    password: SecretRef


class SshSpec(_Strict):
    idle_timeout_minutes: Annotated[int, Field(ge=1, le=60)] = 10
    login_attempts: Annotated[int, Field(ge=1, le=10)] = 5
    """Failed logins before the source is locked out (assessors expect 3-5)."""
    lockout_minutes: Annotated[int, Field(ge=1, le=1440)] = 10
    """How long a locked-out user or source stays locked."""


class ServicesSpec(_Strict):
    """Site-wide services every node is configured to use."""

    ntp: list[IPv4Address] = Field(min_length=1)
    syslog: list[IPv4Address] = Field(min_length=1)
    aaa: AaaSpec
    local_admin: LocalAdminSpec | None = None
    snmp: SnmpSpec
    ssh: SshSpec = Field(default_factory=SshSpec)
    banner: str = "Authorised access only. 仅限授权访问。"
    syslog_retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    """How long the syslog servers keep the network's logs (the Cybersecurity Law §21 asks
    for at least 6 months, 180 days): a statement the level-3 audit rule checks; absent, the
    retention is unknown and that rule fails."""

    @field_validator("banner")
    @classmethod
    def _banner_is_safe_on_every_platform(cls, banner: str) -> str:
        # each vendor delimits the banner with one of these; one inside it would cut it short
        bad = sorted({c for c in banner if c in '"%^\n'})
        if bad:
            raise ValueError(f"banner must be one line without {' '.join(bad)}")
        return banner


class ZonePolicySpec(_Strict):
    """What one zone's departments may reach; unset fields keep the default policy.

    The defaults are the seeds' policy: a zone reaches its own zone's departments; a zone
    with `internet: true` reaches the internet through the unified exit, source-NATed, and
    a zone without it never does. A province may only tighten this (`internet: none` on an
    internet zone, `reaches: []` so that departments reach only the shared services).
    """

    internet: Literal["none", "via-exit"] | None = None
    reaches: list[str] | None = None


class ProbeSpec(_Strict):
    """Ports and bounds of the live isolation probes (lab namespaces only)."""

    tcp_port: Annotated[int, Field(ge=1024, le=65535)] = 18080
    udp_port: Annotated[int, Field(ge=1024, le=65535)] = 18081
    timeout: Annotated[float, Field(gt=0, le=10)] = 1.0


class IsolationSpec(_Strict):
    """`isolation:` in network.yaml: the extranet/internet isolation policy as data.

    Absent, it means the seeds' policy (see `ZonePolicySpec`); the internet reaches nothing
    inside and management addresses answer only the management network, always.
    """

    exits: list[str] = Field(default_factory=list)
    """The unified internet exit(s); empty: every host of tier `exit`."""
    zones: dict[str, ZonePolicySpec] = Field(default_factory=dict)
    shared_services: list[Annotated[str, Field(pattern=r"^[a-z0-9-]+/[a-z0-9_-]+$")]] = Field(
        default_factory=list
    )
    """`host/department` entries every department of the same zone must reach."""
    probes: ProbeSpec = Field(default_factory=ProbeSpec)


class LabSpec(_Strict):
    """`lab:` in network.yaml: the name of this inventory's lab on a machine. Everything the
    lab creates there is marked with it, so two labs (a demo and a test run) never touch
    each other's nodes, links or guard."""

    name: Annotated[str, Field(pattern=LAB_NAME)] = DEFAULT_LAB


ServiceRole = Literal["authoritative", "secondary", "resolver"]
"""What a service host does: `authoritative` is the primary of the extranet's DNS zone,
`secondary` copies it by zone transfer from the primary, `resolver` answers departments."""

SERVICE_PORT = re.compile(r"^(tcp|udp)/([0-9]{1,5})$")
DOMAIN_NAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"


def _service_port(text: str) -> str:
    """`udp/53`, `tcp/53`: protocol and port, as filters spell a service."""
    match = SERVICE_PORT.fullmatch(text)
    if match is None or not 1 <= int(match.group(2)) <= 65535:
        raise ValueError(f"bad port '{text}': write PROTOCOL/PORT, e.g. udp/53 or tcp/53")
    return text


ServicePortText = Annotated[str, AfterValidator(_service_port)]


class ServiceHostSpec(_Strict):
    """A service host (a DNS server, later the data-exchange platform or a CA) at a node."""

    node: Annotated[str, Field(pattern=HOST_NAME.pattern)]
    roles: list[ServiceRole] = Field(min_length=1)
    slot: Annotated[int, Field(ge=0)] | None = None
    """The host's subnet in the service pool; unset: the lowest free one in file order."""
    description: str | None = None


class ServiceZoneSpec(_Strict):
    """`service_zone:` in network.yaml: the shared services every granted zone reaches.

    Hub and spoke: the service zone is a routing instance at the nodes of its hosts; each
    granted zone imports only the service prefixes and the service zone imports the granted
    zones' routes, so no zone learns another's through it (docs/services.md).
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{0,11}$")] = "services"
    description: str = "共享服务区 (DNS)"
    pool: IPv4Network
    domain: Annotated[str, Field(pattern=DOMAIN_NAME, max_length=200)]
    """The extranet's DNS domain (`hebei.egov`): lower-case labels, at least two."""
    ports: list[ServicePortText] = Field(default_factory=lambda: ["udp/53", "tcp/53"])
    access: list[str] | None = None
    """Zones granted; unset: every zone."""
    host_prefixlen: Annotated[int, Field(ge=24, le=30)] = 29
    vlan_base: Annotated[int, Field(ge=2, le=4094)] = 3900
    hosts: dict[str, ServiceHostSpec] = Field(min_length=1)

    @field_validator("hosts")
    @classmethod
    def _host_names(cls, hosts: dict[str, ServiceHostSpec]) -> dict[str, ServiceHostSpec]:
        for name in hosts:
            if not HOST_NAME.match(name):
                raise ValueError(
                    f"invalid service host name '{name}': use lower-case letters, digits and '-'"
                )
        return hosts


class NetworkSpec(_Strict):
    """`network.yaml`: everything about the network that is not a host."""

    name: str
    address_plan: AddressPlanSpec
    zones: dict[str, ZoneSpec] = Field(min_length=1)
    routing: RoutingSpec = Field(default_factory=RoutingSpec)
    services: ServicesSpec
    isolation: IsolationSpec = Field(default_factory=IsolationSpec)
    service_zone: ServiceZoneSpec | None = None
    lab: LabSpec = Field(default_factory=LabSpec)

    @field_validator("zones")
    @classmethod
    def _zone_names(cls, zones: dict[str, ZoneSpec]) -> dict[str, ZoneSpec]:
        for name in zones:
            if not re.fullmatch(r"[a-z][a-z0-9]{0,11}", name):
                raise ValueError(f"zone name '{name}' must be 1-12 lower-case letters/digits")
        return zones
