"""Inventory loading, stages 4 and 5: slots, pools, and every address.

Slots come first (explicit ones, then the lowest free one in file order); each node's
leaf index follows from the chain of slots above it; addresses are that index scaled into
each pool (see `egovnet.addressing` and docs/routing.md). Hand-written addresses win and
are checked, with every allocated range, for duplicates and overlaps in one sort.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

from egovnet.addressing import (
    Hierarchy,
    Pool,
    bits_for,
    department_leaf_prefixlen,
    link_leaf_bits,
    management_station,
    nth_subnet,
)
from egovnet.drafts import (
    FORBIDDEN_PREFIX,
    HOSTS,
    NETWORK,
    HostDraft,
    LoadContext,
    tier_name,
)
from egovnet.model import (
    GLOBAL,
    Department,
    InternetUplink,
    Link,
    LinkEnd,
    Node,
)
from egovnet.schema import (
    PROTECTION_LEVEL,
    DepartmentSpec,
    FanoutSpec,
    NetworkSpec,
)
from egovnet.yamlio import line_of


@dataclass(frozen=True)
class Layout:
    """The pools of network.yaml scaled onto the slot hierarchy: what every address comes from."""

    hierarchy: Hierarchy
    pools: dict[str, Pool]
    dept_leaf: dict[str, int]
    instances: tuple[str, ...]
    dept_slots: dict[str, int]
    """Department subnets that fit in one node's own part of each zone pool."""


def plan_layout(spec: NetworkSpec) -> Layout:
    plan = spec.address_plan
    fanout: FanoutSpec = plan.fanout
    hierarchy = Hierarchy(
        (bits_for(fanout.national), bits_for(fanout.province), bits_for(fanout.city))
    )
    instances = (GLOBAL, *spec.zones)
    pools = {
        "loopbacks": Pool(plan.loopbacks, 32, hierarchy),
        "links": Pool(
            plan.links, 32 - link_leaf_bits(plan.uplinks_per_node, len(instances)), hierarchy
        ),
        "internet": Pool(plan.internet, 31, hierarchy),
    }
    dept_leaf: dict[str, int] = {}
    for name, zone in spec.zones.items():
        leaf = department_leaf_prefixlen(zone.department_prefixlen, zone.departments_per_node)
        dept_leaf[name] = leaf
        pools[f"zone:{name}"] = Pool(zone.pool, leaf, hierarchy)
    slots = {
        name: 1 << (zone.department_prefixlen - dept_leaf[name])
        for name, zone in spec.zones.items()
    }
    return Layout(hierarchy, pools, dept_leaf, instances, slots)


def _pool_field(pool_key: str) -> str:
    if pool_key == "service_zone":
        return "service_zone.pool"
    if pool_key.startswith("zone:"):
        return f"zones.{pool_key[5:]}.pool"
    return f"address_plan.{pool_key}"


def check_pools(loader: LoadContext, spec: NetworkSpec, layout: Layout, top_level: int) -> bool:
    problems = loader.problems
    before = len(problems.problems)
    file = loader.file(NETWORK)
    doc = loader.docs[NETWORK]
    named = [(key, pool.network) for key, pool in layout.pools.items()]
    named.append(("management", spec.address_plan.management))
    if spec.service_zone is not None:
        named.append(("service_zone", spec.service_zone.pool))
    for i, (key, net) in enumerate(named):
        field_name = _pool_field(key)
        path = tuple(field_name.split("."))
        if net.overlaps(FORBIDDEN_PREFIX):
            problems.add(
                file,
                field_name,
                f"{net} overlaps 192.0.2.0/24, which is reserved (TEST-NET-1, this "
                "machine's own uplink): choose another prefix",
                line=line_of(doc, path),
            )
        for other_key, other in named[i + 1 :]:
            if net.overlaps(other):
                other_line = line_of(doc, tuple(_pool_field(other_key).split(".")))
                problems.add(
                    file,
                    field_name,
                    f"pool {net} overlaps {_pool_field(other_key)} ({other}, line {other_line})",
                    line=line_of(doc, path),
                )
    for key, pool in layout.pools.items():
        block_len = pool.block_prefixlen(top_level)
        if block_len < pool.network.prefixlen:
            problems.add(
                file,
                _pool_field(key),
                f"pool exhausted: {pool.network} cannot hold one {tier_name(top_level)} block "
                f"(/{block_len} with the fanout in address_plan.fanout); use a larger pool",
                line=line_of(doc, tuple(_pool_field(key).split("."))),
            )
    management = spec.address_plan.management
    units = layout.hierarchy.units(top_level)
    if management.num_addresses - 3 < units:
        problems.add(
            file,
            "address_plan.management",
            f"pool exhausted: {management} has {management.num_addresses - 3} usable addresses "
            f"but one {tier_name(top_level)} block needs {units} (fanout in "
            "address_plan.fanout); use a larger pool",
            line=line_of(doc, ("address_plan", "management")),
        )
    for name, zone in spec.zones.items():
        if zone.department_prefixlen < layout.dept_leaf[name] or layout.dept_leaf[name] < 0:
            problems.add(
                file,
                f"zones.{name}.department_prefixlen",
                "department subnets too large for the pool",
                line=line_of(doc, ("zones", name)),
            )
    for addresses, field_name in (
        (spec.services.ntp, "services.ntp"),
        (spec.services.syslog, "services.syslog"),
        (spec.services.aaa.servers, "services.aaa.servers"),
    ):
        for address in addresses:
            if address in FORBIDDEN_PREFIX:
                problems.add(
                    file,
                    field_name,
                    f"{address} is in 192.0.2.0/24, which is reserved (TEST-NET-1)",
                    line=line_of(doc, tuple(field_name.split("."))),
                )
    return len(problems.problems) == before


def _root_capacity(layout: Layout, spec: NetworkSpec, level: int) -> int:
    capacity = min(
        pool.network.num_addresses // (1 << (32 - pool.block_prefixlen(level)))
        for pool in layout.pools.values()
    )
    management = spec.address_plan.management.num_addresses - 3  # network, station, broadcast
    return min(capacity, max(management // layout.hierarchy.units(level), 0))


def assign_slots(
    loader: LoadContext, drafts: dict[str, HostDraft], layout: Layout, spec: NetworkSpec
) -> bool:
    problems = loader.problems
    before = len(problems.problems)
    siblings: dict[str | None, list[HostDraft]] = {}
    for draft in sorted(drafts.values(), key=lambda d: d.order):
        siblings.setdefault(draft.data.parent, []).append(draft)
        if draft.data.parent:
            drafts[draft.data.parent].children.append(draft.name)
    for parent, group in siblings.items():
        if parent is None:
            level = group[0].level
            first, last = 0, _root_capacity(layout, spec, level) - 1
            what = f"the pools hold {last + 1} {tier_name(level)} block(s) at the top"
        else:
            upper = drafts[parent]
            first, last = 1, layout.hierarchy.capacity(upper.level)
            tier = upper.data.tier if upper.data.tier != "exit" else "province"
            what = f"address_plan.fanout.{tier} gives '{parent}' {last} child slot(s)"
        taken: dict[int, str] = {}
        for draft in group:
            slot = draft.data.slot
            if slot is None:
                continue
            file, line = draft.where("slot")
            if not first <= slot <= last:
                problems.add(
                    file,
                    "data.slot",
                    f"slot {slot} is out of range {first}..{last}: {what}",
                    host=draft.name,
                    line=line,
                )
            elif slot in taken:
                problems.add(
                    file,
                    "data.slot",
                    f"slot {slot} is also taken by '{taken[slot]}'",
                    host=draft.name,
                    line=line,
                )
            else:
                taken[slot] = draft.name
                draft.slot = slot
        free = (s for s in range(first, last + 1) if s not in taken)
        for draft in group:
            if draft.data.slot is not None:
                continue
            slot = next(free, None)
            if slot is None:
                file, line = draft.where("parent")
                problems.add(
                    file,
                    "data.slot",
                    f"pool exhausted: no free slot left; {what}",
                    host=draft.name,
                    line=line,
                )
                continue
            draft.slot = slot
    return len(problems.problems) == before


def leaf_indexes(drafts: dict[str, HostDraft], hierarchy: Hierarchy) -> None:
    roots = [d for d in drafts.values() if d.data.parent is None]
    stack = list(roots)
    for root in roots:
        root.leaf_index = hierarchy.root_index(root.level, root.slot)
    while stack:
        draft = stack.pop()
        for child_name in draft.children:
            child = drafts[child_name]
            child.leaf_index = hierarchy.child_index(draft.leaf_index, child.level, child.slot)
            stack.append(child)


# --------------------------------------------------------------------------------------
# pass 5: addresses


@dataclass(frozen=True)
class _Range:
    first: int
    last: int
    what: str
    host: str
    field: str
    hand: bool


@dataclass
class _AddressBook:
    """Every allocated range, to find duplicates and overlaps with one sort."""

    entries: list[_Range] = field(default_factory=list)

    def add(
        self, net: IPv4Network, what: str, host: str, field_name: str, *, hand: bool = False
    ) -> None:
        first = int(net.network_address)
        last = first + (1 << (32 - net.prefixlen)) - 1  # not num_addresses: 10x slower
        self.entries.append(_Range(first, last, what, host, field_name, hand))

    def overlaps(self) -> list[tuple[_Range, _Range]]:
        found = []
        widest: _Range | None = None
        for entry in sorted(self.entries, key=lambda r: (r.first, -r.last)):
            if widest is not None and entry.first <= widest.last:
                found.append((widest, entry))
            if widest is None or entry.last > widest.last:
                widest = entry
        return found


def allocate(
    loader: LoadContext, drafts: dict[str, HostDraft], spec: NetworkSpec, layout: Layout
) -> tuple[list[Node], list[Link]]:
    problems = loader.problems
    plan = spec.address_plan
    pools = layout.pools
    book = _AddressBook()
    nodes: list[Node] = []
    management = plan.management
    station = management_station(management)
    for draft in sorted(drafts.values(), key=lambda d: d.order):
        name, data = draft.name, draft.data
        u = draft.leaf_index
        loopback = pools["loopbacks"].own(u).network_address
        if data.loopback is not None:
            file, line = draft.where("loopback")
            if data.loopback not in plan.loopbacks:
                problems.add(
                    file,
                    "data.loopback",
                    f"{data.loopback} is outside address_plan.loopbacks ({plan.loopbacks})",
                    host=name,
                    line=line,
                )
            loopback = data.loopback
        book.add(
            IPv4Network(loopback), "loopback", name, "data.loopback", hand=data.loopback is not None
        )
        mgmt_address = IPv4Address(int(management.network_address) + 2 + u)
        if draft.spec.hostname is not None:
            mgmt_address = _hand_management(loader, draft, management, station) or mgmt_address
        elif mgmt_address >= management.broadcast_address:
            problems.add(
                loader.file(HOSTS),
                "hostname",
                f"pool exhausted: address_plan.management {management} has no address "
                "left for this node",
                host=name,
                line=draft.sources["__host__"].line(),
            )
        book.add(
            IPv4Network(mgmt_address),
            "management address",
            name,
            "hostname",
            hand=draft.spec.hostname is not None,
        )
        asn = spec.routing.asn_base + u
        zones = tuple(
            zone for zone, zspec in spec.zones.items() if data.tier != "exit" or zspec.internet
        )
        departments = _departments(loader, draft, spec, layout, zones, book)
        blocks = {GLOBAL: pools["loopbacks"].block(u, draft.level)}
        for zone in zones:
            blocks[zone] = pools[f"zone:{zone}"].block(u, draft.level)
        internet = None
        if data.tier == "exit":
            subnet = pools["internet"].own(u)
            internet = InternetUplink(
                port=plan.uplinks_per_node + 1,
                address=IPv4Interface((int(subnet.network_address) + 1, 31)),
                next_hop=subnet.network_address,
                zone=_internet_zone(loader, draft, zones),
            )
            book.add(subnet, "internet link", name, "")
        labels = _region_labels(draft, drafts)
        nodes.append(
            Node.model_construct(
                name=name,
                tier=data.tier,
                level=draft.level,
                protection_level=max(
                    PROTECTION_LEVEL[data.tier],
                    data.protection_level or PROTECTION_LEVEL[data.tier],
                ),
                platform=draft.platform,
                region=data.region,
                parent=data.parent,
                uplinks=tuple(data.uplinks),
                slot=draft.slot,
                pinned=draft.data.slot is not None,
                leaf_index=u,
                asn=asn,
                loopback=loopback,
                management=IPv4Interface((int(mgmt_address), management.prefixlen)),
                zones=zones,
                departments=tuple(departments),
                blocks=blocks,
                internet=internet,
                username=draft.spec.username,
                port=draft.spec.port,
                province=labels["province"],
                city=labels["city"],
                county=labels["county"],
            )
        )
    highest = max(nodes, key=lambda n: n.asn, default=None)
    if highest is not None and highest.asn > 4294967294:
        problems.add(
            loader.file(NETWORK),
            "routing.asn_base",
            f"AS number {highest.asn} of '{highest.name}' is past the private 32-bit range "
            "(4200000000-4294967294): lower routing.asn_base",
            line=line_of(loader.docs[NETWORK], ("routing", "asn_base")),
        )
    links = _links(drafts, spec, layout, {n.name: n for n in nodes}, book)
    for first, second in book.overlaps():
        _report_overlap(loader, drafts, first, second)
    return nodes, links


def _internet_zone(loader: LoadContext, draft: HostDraft, zones: tuple[str, ...]) -> str:
    """The zone an exit's internet uplink sits in: the first zone with `internet: true` (an
    exit only carries those). None existing is a problem of the host that asks for one."""
    if zones:
        return zones[0]
    file, line = draft.where("tier")
    loader.problems.add(
        file,
        "data.tier",
        "an internet exit needs a zone with internet: true in network.yaml, and none has it",
        host=draft.name,
        line=line,
    )
    return ""


def _hand_management(
    loader: LoadContext, draft: HostDraft, management: IPv4Network, station: IPv4Address
) -> IPv4Address | None:
    hostname = draft.spec.hostname or ""
    file, line = loader.file(HOSTS), line_of(loader.docs[HOSTS], (draft.name, "hostname"))
    try:
        address = IPv4Address(hostname)
    except ValueError:
        loader.problems.add(
            file,
            "hostname",
            f"'{hostname}' is not an IPv4 address (the management address)",
            host=draft.name,
            line=line,
        )
        return None
    if address not in management or address in (
        management.network_address,
        management.broadcast_address,
        station,
    ):
        loader.problems.add(
            file,
            "hostname",
            f"{address} is not a usable address of address_plan.management ({management}; "
            f"{station} is the management station)",
            host=draft.name,
            line=line,
        )
        return None
    return address


def _departments(
    loader: LoadContext,
    draft: HostDraft,
    spec: NetworkSpec,
    layout: Layout,
    zones: tuple[str, ...],
    book: _AddressBook,
) -> list[Department]:
    problems = loader.problems
    result: list[Department] = []
    names: set[str] = set()
    taken: dict[str, dict[int, str]] = {}
    wanted: list[tuple[int, DepartmentSpec]] = list(enumerate(draft.data.departments))
    for index, dept in wanted:
        file, line = draft.where("departments", index)
        field_base = f"data.departments.{index}"
        if dept.name in names:
            problems.add(
                file,
                f"{field_base}.name",
                f"department '{dept.name}' is listed twice",
                host=draft.name,
                line=line,
            )
        names.add(dept.name)
        if dept.zone not in spec.zones:
            problems.add(
                file,
                f"{field_base}.zone",
                f"unknown zone '{dept.zone}': expected one of {', '.join(spec.zones)}",
                host=draft.name,
                line=line,
            )
        elif dept.zone not in zones:
            problems.add(
                file,
                f"{field_base}.zone",
                f"zone '{dept.zone}' has no internet access, so it cannot sit on the internet exit",
                host=draft.name,
                line=line,
            )
        elif dept.slot is not None:
            cap = layout.dept_slots[dept.zone]
            owner = taken.setdefault(dept.zone, {}).get(dept.slot)
            if dept.slot >= cap:
                problems.add(
                    file,
                    f"{field_base}.slot",
                    f"slot {dept.slot} is out of range 0..{cap - 1} "
                    f"(zones.{dept.zone}.departments_per_node)",
                    host=draft.name,
                    line=line,
                )
            elif owner is not None:
                problems.add(
                    file,
                    f"{field_base}.slot",
                    f"slot {dept.slot} is also taken by department '{owner}'",
                    host=draft.name,
                    line=line,
                )
            else:
                taken[dept.zone][dept.slot] = dept.name
    for index, dept in wanted:
        if dept.zone not in zones:
            continue
        zone = spec.zones[dept.zone]
        file, line = draft.where("departments", index)
        field_base = f"data.departments.{index}"
        cap = layout.dept_slots[dept.zone]
        used = taken.setdefault(dept.zone, {})
        slot = dept.slot
        if slot is None:
            slot = next((s for s in range(cap) if s not in used), None)
            if slot is None:
                problems.add(
                    file,
                    field_base,
                    f"pool exhausted: zones.{dept.zone}.departments_per_node allows "
                    f"{cap} department(s) per node",
                    host=draft.name,
                    line=line,
                )
                continue
            used[slot] = dept.name
        own = layout.pools[f"zone:{dept.zone}"].own(draft.leaf_index)
        prefix = nth_subnet(own, zone.department_prefixlen, slot)
        if dept.prefix is not None:
            if not dept.prefix.subnet_of(zone.pool):
                problems.add(
                    file,
                    f"{field_base}.prefix",
                    f"{dept.prefix} is outside zones.{dept.zone}.pool ({zone.pool})",
                    host=draft.name,
                    line=line,
                )
            elif dept.prefix.prefixlen > 30:
                problems.add(
                    file,
                    f"{field_base}.prefix",
                    f"{dept.prefix} is too small for a department (at most /30)",
                    host=draft.name,
                    line=line,
                )
            prefix = dept.prefix
        book.add(
            prefix,
            f"department '{dept.name}'",
            draft.name,
            f"{field_base}.prefix",
            hand=dept.prefix is not None,
        )
        vlan = zone.department_vlan_base + slot
        if vlan > 4094:
            problems.add(
                file,
                field_base,
                f"VLAN {vlan} is past 4094: lower zones.{dept.zone}.department_vlan_base",
                host=draft.name,
                line=line,
            )
        result.append(
            Department(
                name=dept.name,
                zone=dept.zone,
                slot=slot,
                prefix=prefix,
                gateway=IPv4Interface((int(prefix.network_address) + 1, prefix.prefixlen)),
                host=IPv4Interface((int(prefix.network_address) + 2, prefix.prefixlen)),
                vlan=vlan,
                description=dept.description,
            )
        )
    return result


def _region_labels(draft: HostDraft, drafts: dict[str, HostDraft]) -> dict[str, str | None]:
    labels: dict[str, str | None] = {"province": None, "city": None, "county": None}
    current: HostDraft | None = draft
    while current is not None:
        tier = current.data.tier
        if tier in labels and labels[tier] is None:
            labels[tier] = current.data.region
        current = drafts.get(current.data.parent or "")
    return labels


def _links(
    drafts: dict[str, HostDraft],
    spec: NetworkSpec,
    layout: Layout,
    nodes: dict[str, Node],
    book: _AddressBook,
) -> list[Link]:
    plan = spec.address_plan
    upl = plan.uplinks_per_node
    links_pool = layout.pools["links"]
    hierarchy = layout.hierarchy
    top_level = min(d.level for d in drafts.values())
    root_slots = _root_capacity(layout, spec, top_level)
    links: list[Link] = []
    for draft in sorted(drafts.values(), key=lambda d: d.order):
        targets = [(0, draft.data.parent)] if draft.data.parent else []
        targets += [(1 + i, target) for i, target in enumerate(draft.data.uplinks)]
        own = links_pool.own(draft.leaf_index)
        for index, target in targets:
            upper = drafts[target]
            children_ports = hierarchy.capacity(upper.level)
            peer_ports = (
                root_slots if upper.data.parent is None else hierarchy.capacity(upper.level - 1)
            )
            kind: Literal["parent", "uplink", "peer"]
            if index == 0:
                kind = "parent"
                upper_port = upl + draft.slot
            elif upper.level == draft.level:
                kind = "peer"
                upper_port = upl + children_ports + 1 + draft.slot
            else:
                kind = "uplink"
                sibling_slot = drafts[draft.data.parent or ""].slot
                upper_port = (
                    upl
                    + children_ports
                    + 1
                    + peer_ports
                    + sibling_slot * children_ports
                    + draft.slot
                )
            shared = [
                inst
                for inst in layout.instances
                if inst == GLOBAL
                or (inst in nodes[draft.name].zones and inst in nodes[target].zones)
            ]
            subnets = {}
            for inst in shared:
                z = layout.instances.index(inst)
                subnet = IPv4Network((int(own.network_address) + 2 * (z * upl + index), 31))
                subnets[inst] = subnet
                book.add(subnet, f"link to '{target}' ({inst})", draft.name, "")
            links.append(
                Link.model_construct(
                    upper=LinkEnd(host=target, port=upper_port),
                    lower=LinkEnd(host=draft.name, port=1 + index),
                    kind=kind,
                    uplink_index=index,
                    subnets=subnets,
                )
            )
    return links


def _report_overlap(
    loader: LoadContext, drafts: dict[str, HostDraft], first: _Range, second: _Range
) -> None:
    def describe(entry: _Range) -> str:
        size = entry.last - entry.first + 1
        net = IPv4Network((entry.first, 32 - (size.bit_length() - 1)))
        return f"{entry.what} {net} of '{entry.host}'"

    # blame the hand-written side when there is one: that is the line to change
    blamed = first if first.hand and not second.hand else second
    other = first if blamed is second else second
    draft = drafts[blamed.host]
    parts = blamed.field.split(".")
    if parts[0] == "hostname":
        file, line = loader.file(HOSTS), line_of(loader.docs[HOSTS], (draft.name, "hostname"))
    elif len(parts) > 2 and parts[1] == "departments":
        file, line = draft.where("departments", int(parts[2]))
    elif len(parts) > 1:
        file, line = draft.where(parts[1])
    else:
        file, line = draft.where("tier")
    verb = "duplicates" if (first.first, first.last) == (second.first, second.last) else "overlaps"
    loader.problems.add(
        file,
        blamed.field or "data",
        f"{describe(blamed)} {verb} {describe(other)}",
        host=draft.name,
        line=line,
    )
