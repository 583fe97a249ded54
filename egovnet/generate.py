"""Synthetic inventories of any size: for tests, benchmarks and capacity planning.

`generate_inventory(P, C, K, D)` builds a national (P > 1) or provincial (P == 1) extranet in
the shape the sample describes: per province a redundant core pair, a unified internet exit,
C dual-homed cities alternating between the two cores, K counties per city and D departments
per node. Every node gets an explicit `slot:` (and every department its own slot), so the
addresses of what exists never move when nodes or departments are added later.

The address plan is sized with the loader's own arithmetic (`egovnet.addressing`): fanout per
tier with at least one free child slot under every parent, then every pool cut to exactly the
size the hierarchy needs and packed, largest first, into 10.0.0.0/8 (never touching
10.255.0.0/16, where a nameserver lives, nor 192.0.2.0/24); the internet pool sits in
198.18.0.0/15, the lab's simulated internet.

Output is plain text, built by hand for speed (10,000 hosts in well under a second) and
identical for identical arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import yaml

from egovnet import platforms
from egovnet.addressing import (
    LEAF_LEVEL,
    Hierarchy,
    bits_for,
    bits_for_count,
    department_leaf_prefixlen,
    link_leaf_bits,
    management_station,
)

PROVINCES: tuple[tuple[str, str], ...] = (
    ("hebei", "河北省"),
    ("shanxi", "山西省"),
    ("neimenggu", "内蒙古自治区"),
    ("liaoning", "辽宁省"),
    ("jilin", "吉林省"),
    ("heilongjiang", "黑龙江省"),
    ("jiangsu", "江苏省"),
    ("zhejiang", "浙江省"),
    ("anhui", "安徽省"),
    ("fujian", "福建省"),
    ("jiangxi", "江西省"),
    ("shandong", "山东省"),
    ("henan", "河南省"),
    ("hubei", "湖北省"),
    ("hunan", "湖南省"),
    ("guangdong", "广东省"),
    ("guangxi", "广西壮族自治区"),
    ("hainan", "海南省"),
    ("sichuan", "四川省"),
    ("guizhou", "贵州省"),
    ("yunnan", "云南省"),
    ("xizang", "西藏自治区"),
    ("shaanxi", "陕西省"),
    ("gansu", "甘肃省"),
    ("qinghai", "青海省"),
    ("ningxia", "宁夏回族自治区"),
    ("xinjiang", "新疆维吾尔自治区"),
    ("beijing", "北京市"),
    ("tianjin", "天津市"),
    ("shanghai", "上海市"),
    ("chongqing", "重庆市"),
)
"""The 31 provincial-level divisions as (host-name stem, region name); hebei first, as in the
sample inventory, then provinces and autonomous regions, then the municipalities."""

NATIONAL_HOST = "national-core"
PRIVATE_SPACE = IPv4Network("10.0.0.0/8")
RESERVED = (IPv4Network("10.255.0.0/16"), IPv4Network("192.0.2.0/24"))
"""Never allocated: a nameserver of these machines, and TEST-NET-1 (this workplace's uplink)."""
INTERNET_SPACE = IPv4Network("198.18.0.0/15")
UPLINKS_PER_NODE = 2
SMALLEST_POOL = 24
"""Pools are never cut smaller than a /24, so tiny inventories still read naturally."""
DEPARTMENT_PREFIXLENS = (26, 27, 28, 29)
SERVICE_HOST_PREFIXLEN = 29
"""Each service host's subnet (the node's gateway, the host, room for a second server)."""
"""Department subnet sizes tried in turn, largest first, until the whole plan fits."""


@dataclass(frozen=True)
class ZoneTemplate:
    """The fixed part of a generated zone; its pool and sizes are computed."""

    name: str
    description: str
    internet: bool
    vlan: int
    department_vlan_base: int


ZONES: tuple[ZoneTemplate, ...] = (
    ZoneTemplate("private", "专用网络区 (no internet at all)", False, 100, 1000),
    ZoneTemplate("public", "公用网络区 (internet only through the unified exit)", True, 200, 2000),
)


@dataclass(frozen=True)
class ZonePlan:
    """One zone's pool and department sizing."""

    template: ZoneTemplate
    pool: IPv4Network
    department_prefixlen: int
    departments_per_node: int


@dataclass(frozen=True)
class AddressPlan:
    """Everything `network.yaml` says about addresses, sized for one generated inventory."""

    fanout: dict[str, int]
    loopbacks: IPv4Network
    links: IPv4Network
    management: IPv4Network
    internet: IPv4Network
    zones: tuple[ZonePlan, ...]
    services: IPv4Network
    """The service zone's pool: one /29 per DNS host (two per province) and room for more."""

    @property
    def station(self) -> str:
        """The management station: the first host of the management pool."""
        return str(management_station(self.management))


# --------------------------------------------------------------------------------------
# address arithmetic: sizing pools with the loader's own formulas (egovnet.addressing)


def pool_prefixlen(leaf_prefixlen: int, hierarchy: Hierarchy, top_level: int, roots: int) -> int:
    """The longest prefix that holds `roots` top-level blocks of a pool with this leaf size.

    >>> pool_prefixlen(32, Hierarchy((0, 3, 2)), 1, 2)  # 2 roots x 32 leaves of /32
    26
    """
    return leaf_prefixlen - hierarchy_span_bits(hierarchy, top_level, roots)


def hierarchy_span_bits(hierarchy: Hierarchy, top_level: int, roots: int) -> int:
    """Bits that the whole tree spans, counted in leaves: every root block side by side."""
    return sum(hierarchy.child_bits[top_level:LEAF_LEVEL]) + bits_for_count(roots)


def management_prefixlen(leaf_units: int) -> int:
    """Management addresses are `network + 2 + leaf index`; network, station and broadcast
    are not for nodes, so the pool needs `leaf_units + 3` addresses.

    >>> management_prefixlen(64), management_prefixlen(253), management_prefixlen(254)
    (25, 24, 23)
    """
    return 32 - (leaf_units + 2).bit_length()


def pack(
    sizes: list[tuple[str, int]],
    space: IPv4Network = PRIVATE_SPACE,
    avoid: tuple[IPv4Network, ...] = RESERVED,
) -> dict[str, IPv4Network] | None:
    """Place prefixes of the given lengths into `space` without overlap, largest first.

    Largest-first keeps every block naturally aligned with no gaps; a block that would touch
    a reserved range is moved past it. Returns None when they do not all fit.

    >>> pack([("a", 10), ("b", 9)])
    {'a': IPv4Network('10.128.0.0/10'), 'b': IPv4Network('10.0.0.0/9')}
    >>> pack([("a", 9), ("b", 9)]) is None  # the second /9 would hold 10.255.0.0/16
    True
    """
    placed: dict[str, IPv4Network] = {}
    cursor = int(space.network_address)
    end = int(space.broadcast_address) + 1
    for key, prefixlen in sorted(sizes, key=lambda item: item[1]):
        if prefixlen < space.prefixlen:
            return None
        size = 1 << (32 - prefixlen)
        while True:
            cursor = -(-cursor // size) * size  # align up
            if cursor + size > end:
                return None
            block = IPv4Network((cursor, prefixlen))
            clash = next((net for net in avoid if block.overlaps(net)), None)
            if clash is None:
                break
            cursor = int(clash.broadcast_address) + 1
        placed[key] = block
        cursor += size
    return {key: placed[key] for key, _ in sizes}


def _departments_per_zone(departments: int) -> dict[str, int]:
    """Most departments any node has in each zone (private takes odd-numbered ones)."""
    return {"private": (departments + 1) // 2, "public": departments // 2}


def plan_addresses(provinces: int, cities: int, counties: int, departments: int) -> AddressPlan:
    """Fanout and pools for an inventory of this shape, each with room for one more child.

    Raises ValueError when no department subnet size from /26 to /29 lets it fit.
    """
    fanout_need = {
        # two cores per province under the national core
        "national": 2 * provinces + 1 if provinces > 1 else 0,
        # core-1 carries the exit and the odd-numbered cities
        "province": (cities + 1) // 2 + 1 + 1,
        "city": counties + 1,
    }
    child_bits = (
        bits_for(fanout_need["national"]),
        bits_for(fanout_need["province"]),
        bits_for(fanout_need["city"]),
    )
    hierarchy = Hierarchy(child_bits)
    fanout = {
        tier: hierarchy.capacity(level)
        for level, tier in enumerate(("national", "province", "city"))
    }
    top_level, roots = (0, 1) if provinces > 1 else (1, 2)
    span = hierarchy_span_bits(hierarchy, top_level, roots)
    leaf_units = 1 << span
    instances = 1 + len(ZONES)

    def sized(leaf_prefixlen: int) -> int:
        return min(leaf_prefixlen - span, SMALLEST_POOL)

    internet_len = sized(31)
    if internet_len < INTERNET_SPACE.prefixlen:
        raise ValueError(f"{leaf_units} leaf blocks of /31 do not fit in {INTERNET_SPACE}")
    internet = IPv4Network((INTERNET_SPACE.network_address, internet_len))
    per_zone = _departments_per_zone(departments)
    for department_prefixlen in DEPARTMENT_PREFIXLENS:
        per_node = {zone.name: per_zone[zone.name] + 1 for zone in ZONES}  # one free slot
        sizes = [
            ("loopbacks", sized(32)),
            ("links", sized(32 - link_leaf_bits(UPLINKS_PER_NODE, instances))),
            ("management", min(management_prefixlen(leaf_units), SMALLEST_POOL)),
        ]
        sizes += [
            (
                f"zone:{zone.name}",
                sized(department_leaf_prefixlen(department_prefixlen, per_node[zone.name])),
            )
            for zone in ZONES
        ]
        service_hosts = 2 * provinces + 1  # a free slot, as everywhere
        service_len = SERVICE_HOST_PREFIXLEN - bits_for_count(service_hosts)
        sizes.append(("services", min(service_len, SMALLEST_POOL)))
        placed = pack(sizes)
        if placed is None:
            continue
        return AddressPlan(
            fanout=fanout,
            loopbacks=placed["loopbacks"],
            links=placed["links"],
            management=placed["management"],
            internet=internet,
            zones=tuple(
                ZonePlan(
                    zone, placed[f"zone:{zone.name}"], department_prefixlen, per_node[zone.name]
                )
                for zone in ZONES
            ),
            services=placed["services"],
        )
    raise ValueError(
        f"no address plan fits {PRIVATE_SPACE} for {leaf_units} leaf blocks "
        f"(fanout {fanout}); use fewer nodes or departments"
    )


# --------------------------------------------------------------------------------------
# the hosts


def _department_lines(departments: int, *, public_only: bool) -> list[str]:
    lines: list[str] = []
    next_slot = {"private": 0, "public": 0}
    for index in range(departments):
        zone = "private" if index % 2 == 0 else "public"
        if public_only and zone != "public":
            continue
        slot = next_slot[zone]
        next_slot[zone] += 1
        number = index + 1
        lines.append(
            f"      - {{name: dept{number:02d}, zone: {zone}, slot: {slot}, "
            f"description: 第{number}委办局}}\n"
        )
    if lines:
        lines.insert(0, "    departments:\n")
    return lines


def _host(
    name: str,
    group: str,
    region: str,
    slot: int,
    departments: list[str],
    parent: str | None = None,
    uplink: str | None = None,
) -> str:
    parts = [f"{name}:\n  groups: [{group}]\n  data:\n    region: {region}\n"]
    if parent is not None:
        parts.append(f"    parent: {parent}\n")
    if uplink is not None:
        parts.append(f"    uplinks: [{uplink}]\n")
    parts.append(f"    slot: {slot}\n")
    parts.extend(departments)
    return "".join(parts)


def _hosts_text(provinces: int, cities: int, counties: int, departments: int) -> str:
    """hosts.yaml: national core, then per province its cores, exit, cities and counties."""
    depts = _department_lines(departments, public_only=False)
    exit_depts = _department_lines(departments, public_only=True)
    national = provinces > 1
    out = [
        "# Generated by egovnet.generate: "
        f"{provinces} province(s) x {cities} cities x {counties} counties, "
        f"{departments} department(s) per node.\n"
        "# slot: the node's number under its parent; it fixes the node's address block for "
        "life.\n"
    ]
    if national:
        out.append(_host(NATIONAL_HOST, "national", "国家电子政务外网中心", 0, depts))
    for p, (stem, region) in enumerate(PROVINCES[:provinces]):
        core1, core2 = f"{stem}-core-1", f"{stem}-core-2"
        parent = NATIONAL_HOST if national else None
        out.append(_host(core1, "province", region, 2 * p + 1 if national else 0, depts, parent))
        out.append(
            _host(core2, "province", region, 2 * p + 2 if national else 1, depts, parent, core1)
        )
        # the exit takes core-1's slot 1; core-1's cities follow it, core-2's start at 1
        out.append(
            _host(f"{stem}-exit", "exit", f"{region}统一互联网出口", 1, exit_depts, core1, core2)
        )
        for c in range(cities):
            city = f"{stem}-c{c + 1:02d}"
            on_first = c % 2 == 0
            slot = c // 2 + (2 if on_first else 1)
            home, other = (core1, core2) if on_first else (core2, core1)
            out.append(_host(city, "city", f"第{c + 1}市", slot, depts, home, other))
            out.extend(
                _host(f"{city}-k{k + 1:02d}", "county", f"第{k + 1}县", k + 1, depts, city)
                for k in range(counties)
            )
    return "".join(out)


# --------------------------------------------------------------------------------------
# the other files


def _dump(header: str, document: dict[str, Any]) -> str:
    return header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def _groups_text() -> str:
    groups = {
        tier: {"data": {"tier": tier}}
        for tier in ("national", "province", "city", "county", "exit")
    }
    return _dump(
        "# Tiers as Nornir groups: a host in group `county` inherits `tier: county`.\n", groups
    )


def _defaults_text(platform: str) -> str:
    return _dump(
        "# Nornir SimpleInventory defaults. Credentials never live here: see the secrets file.\n",
        {"platform": platform, "data": {}},
    )


def _service_zone(provinces: int, cities: int, plan: AddressPlan) -> dict[str, Any]:
    """DNS at every province: the primary (the first province's core-1) or a secondary at
    each core-1, and a secondary at the province's first city for 异地 redundancy."""
    hosts: dict[str, Any] = {}
    for p, (stem, _region) in enumerate(PROVINCES[:provinces]):
        roles = ["authoritative", "resolver"] if p == 0 else ["secondary", "resolver"]
        hosts[f"dns-{stem}-1"] = {"node": f"{stem}-core-1", "roles": roles, "slot": 2 * p}
        if cities:
            hosts[f"dns-{stem}-2"] = {
                "node": f"{stem}-c01",
                "roles": ["secondary", "resolver"],
                "slot": 2 * p + 1,
            }
    return {
        "name": "services",
        "description": "共享服务区 (DNS)",
        "pool": str(plan.services),
        "domain": "nation.egov" if provinces > 1 else f"{PROVINCES[0][0]}.egov",
        "ports": ["udp/53", "tcp/53"],
        "host_prefixlen": SERVICE_HOST_PREFIXLEN,
        "hosts": hosts,
    }


def _network_text(provinces: int, cities: int, plan: AddressPlan) -> str:
    name = "国家电子政务外网" if provinces > 1 else f"{PROVINCES[0][1]}电子政务外网"
    station = plan.station
    document: dict[str, Any] = {
        "name": name,
        "address_plan": {
            "loopbacks": str(plan.loopbacks),
            "management": str(plan.management),
            "links": str(plan.links),
            "internet": str(plan.internet),
            "fanout": plan.fanout,
            "uplinks_per_node": UPLINKS_PER_NODE,
        },
        "zones": {
            zone.template.name: {
                "description": zone.template.description,
                "pool": str(zone.pool),
                "internet": zone.template.internet,
                "vlan": zone.template.vlan,
                "department_vlan_base": zone.template.department_vlan_base,
                "department_prefixlen": zone.department_prefixlen,
                "departments_per_node": zone.departments_per_node,
            }
            for zone in plan.zones
        },
        "routing": {"asn_base": 4200000000, "keepalive": 3, "hold": 9},
        "services": {
            "ntp": [station],
            "syslog": [station],
            "aaa": {
                "protocol": "tacacs",
                "servers": [station],
                "key": {"secret": "aaa-key"},
                "two_factor": True,
            },
            "local_admin": {"name": "egov-admin", "password": {"secret": "local-admin"}},
            "snmp": {
                "location": name,
                "users": [
                    {
                        "name": "noc",
                        "group": "egov-ro",
                        "auth": "sha",
                        "auth_key": {"secret": "snmp-noc-auth"},
                        "priv": "aes128",
                        "priv_key": {"secret": "snmp-noc-priv"},
                    }
                ],
            },
            "ssh": {"idle_timeout_minutes": 10},
            "banner": f"{name} - 仅限授权访问 Authorised access only",
            "syslog_retention_days": 180,
        },
        "service_zone": _service_zone(provinces, cities, plan),
    }
    header = (
        f"# {name}: generated by egovnet.generate. Pools are sized to the fanout, which leaves\n"
        f"# at least one free slot under every parent; {station} is the management station.\n"
        "# Secrets are only named here ({secret: NAME}).\n"
    )
    return _dump(header, document)


def generate_inventory(
    provinces: int, cities: int, counties: int, departments: int, *, platform: str | None = None
) -> dict[str, str]:
    """A complete inventory as {file name: YAML text}: hosts, groups, defaults and network.

    Every node gets `platform` (default: the one the lab runs, so the lab can bring it up).

    `provinces` > 1 adds a national core above every province's core pair. Host count:
    `(P > 1) + P * (3 + C * (1 + K))`.

    >>> files = generate_inventory(1, 1, 1, 1)
    >>> sorted(files)
    ['defaults.yaml', 'groups.yaml', 'hosts.yaml', 'network.yaml']
    >>> files["hosts.yaml"].count("\\n  groups: ")
    5
    """
    if not 1 <= provinces <= len(PROVINCES):
        raise ValueError(f"provinces must be 1..{len(PROVINCES)}, got {provinces}")
    for what, value in (("cities", cities), ("counties", counties), ("departments", departments)):
        if value < 0:
            raise ValueError(f"{what} must not be negative, got {value}")
    record = platforms.lab_platform() if platform is None else platforms.platform(platform)
    plan = plan_addresses(provinces, cities, counties, departments)
    return {
        "hosts.yaml": _hosts_text(provinces, cities, counties, departments),
        "groups.yaml": _groups_text(),
        "defaults.yaml": _defaults_text(record.name),
        "network.yaml": _network_text(provinces, cities, plan),
    }


def write_inventory(files: dict[str, str], directory: Path) -> list[Path]:
    """Write the files of `generate_inventory` into `directory` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
