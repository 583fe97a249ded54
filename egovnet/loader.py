"""From the inventory directory to a validated `Network` with every address allocated.

The loader works in passes and keeps going after a problem so that one run reports all of
them: files (UTF-8, YAML, duplicate keys, plain-text secrets), shapes (unknown keys, types),
the tree (parents, tiers, cycles, uplinks), slots and pools, then addresses (hand-written ones
checked against pools and against each other). Each pass only runs on what the previous ones
left sound, so one mistake does not echo as ten.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any, Literal

import networkx as nx
from pydantic import BaseModel, ValidationError

from egovnet import schema
from egovnet.addressing import (
    TIER_LEVEL,
    Hierarchy,
    Pool,
    bits_for,
    department_leaf_prefixlen,
    link_leaf_bits,
    nth_subnet,
)
from egovnet.errors import ProblemList
from egovnet.model import (
    GLOBAL,
    Department,
    InternetUplink,
    Link,
    LinkEnd,
    Network,
    Node,
    Zone,
)
from egovnet.perf import bulk_build
from egovnet.schema import (
    HOST_NAME,
    AddressPlanSpec,
    DepartmentSpec,
    FanoutSpec,
    HostData,
    HostSpec,
    NetworkSpec,
    Platform,
)
from egovnet.secrets import SECRET_KEY, find_plaintext_secrets
from egovnet.yamlio import line_of, load_yaml_file

HOSTS, GROUPS, DEFAULTS, NETWORK = "hosts.yaml", "groups.yaml", "defaults.yaml", "network.yaml"
FORBIDDEN_PREFIX = IPv4Network("192.0.2.0/24")
"""TEST-NET-1: this workplace's own uplink lives there, so no lab or plan may use it."""

_KNOWN_KEYS = sorted(
    {
        name
        for model in vars(schema).values()
        if isinstance(model, type) and issubclass(model, BaseModel) and model is not BaseModel
        for name in model.model_fields
    }
)


@dataclass
class _Source:
    """Where a value came from, so that problems point at the line that wrote it."""

    file: str
    document: Any
    path: tuple[str | int, ...]

    def line(self, *more: str | int) -> int | None:
        return line_of(self.document, (*self.path, *more))


@dataclass
class _HostDraft:
    """A host after shape validation, before allocation."""

    name: str
    spec: HostSpec
    data: HostData
    sources: dict[str, _Source]
    order: int
    platform: Platform
    level: int = 0
    slot: int = -1
    leaf_index: int = 0
    children: list[str] = field(default_factory=list)

    def where(self, key: str, *more: str | int) -> tuple[str, int | None]:
        """File and line of a data key, following inheritance to the group that set it."""
        source = self.sources.get(key) or self.sources["__host__"]
        return source.file, source.line(key, *more) or self.sources["__host__"].line()


@dataclass
class _Loader:
    directory: Path
    problems: ProblemList = field(default_factory=ProblemList)
    docs: dict[str, Any] = field(default_factory=dict)
    secret_paths: dict[str, set[tuple[str | int, ...]]] = field(default_factory=dict)
    invalid_hosts: set[str] = field(default_factory=set)
    """Hosts already reported as invalid: others naming them must not say 'no such host'."""

    # ----- pass 1: files -------------------------------------------------------------
    def read_files(self) -> None:
        for name, required in ((HOSTS, True), (GROUPS, False), (DEFAULTS, False), (NETWORK, True)):
            path = self.directory / name
            document = load_yaml_file(path, self.problems, required=required)
            if document is not None and not isinstance(document, dict):
                self.problems.add(path, "", "must be a mapping at the top level", line=1)
                document = None
            if document is not None:
                self.secret_paths[name] = find_plaintext_secrets(
                    document, str(path), self.problems, references=name == NETWORK
                )
            self.docs[name] = document

    def file(self, name: str) -> str:
        return str(self.directory / name)

    def body(self, file_name: str, entry: Any, base: tuple[str | int, ...]) -> Any:
        """An entry as plain data, minus the plain-text secrets already reported in it.

        Dropping them keeps the host in play (so one mistake is one problem) and keeps their
        values out of every later message.
        """
        plain = _plain(entry)
        for path in self.secret_paths.get(file_name, ()):
            if path[: len(base)] != base or not isinstance(plain, dict):
                continue
            node: Any = plain
            for step in path[len(base) : -1]:
                inside_dict = isinstance(node, dict) and step in node
                inside_list = isinstance(node, list) and isinstance(step, int) and step < len(node)
                node = node[step] if inside_dict or inside_list else None
            if isinstance(node, dict):
                node.pop(path[-1], None)
        return plain

    # ----- pass 2: shapes ------------------------------------------------------------
    def report(
        self,
        exc: ValidationError,
        file: str,
        document: Any,
        base: tuple[str | int, ...],
        host: str | None = None,
        field_prefix: str = "",
    ) -> None:
        for error in exc.errors():
            loc = tuple(error["loc"])
            field_name = ".".join(str(p) for p in (*base[1 if host else 0 :], *loc))
            if field_prefix:
                field_name = f"{field_prefix}.{field_name}" if field_name else field_prefix
            self.problems.add(
                file,
                field_name,
                _message(error),
                host=host,
                line=line_of(document, (*base, *loc)),
            )

    def validate_network(self) -> NetworkSpec | None:
        document = self.docs.get(NETWORK)
        if document is None:
            return None
        try:
            return NetworkSpec.model_validate(self.body(NETWORK, document, ()))
        except ValidationError as exc:
            self.report(exc, self.file(NETWORK), document, ())
            return None

    def validate_groups(self) -> dict[str, HostSpec]:
        groups: dict[str, HostSpec] = {}
        for file_name in (GROUPS, DEFAULTS):
            document = self.docs.get(file_name)
            if document is None:
                continue
            entries = {"defaults": document} if file_name == DEFAULTS else document
            for name, entry in entries.items():
                base: tuple[str, ...] = () if file_name == DEFAULTS else (name,)
                body = self.body(file_name, entry, base) if isinstance(entry, dict) else entry
                try:
                    groups[name] = HostSpec.model_validate(body or {})
                except ValidationError as exc:
                    self.report(exc, self.file(file_name), document, base)
        return groups

    def resolve_hosts(self, groups: dict[str, HostSpec]) -> dict[str, _HostDraft]:
        document = self.docs.get(HOSTS)
        drafts: dict[str, _HostDraft] = {}
        if document is None:
            return drafts
        hosts_file = self.file(HOSTS)
        for order, (name, entry) in enumerate(document.items()):
            line = document.lines.get(name)
            if not HOST_NAME.match(name):
                self.problems.add(
                    hosts_file,
                    "",
                    f"invalid host name '{name}': use lower-case letters, digits and '-'",
                    host=name,
                    line=line,
                )
                continue
            body = self.body(HOSTS, entry, (name,)) if isinstance(entry, dict) else entry
            try:
                spec = HostSpec.model_validate(body or {})
            except ValidationError as exc:
                self.report(exc, hosts_file, document, (name,), host=name)
                self.invalid_hosts.add(name)
                continue
            draft = self._inherit(name, spec, entry, groups, order)
            if draft is None:
                self.invalid_hosts.add(name)
            else:
                drafts[name] = draft
        return drafts

    def _inherit(
        self, name: str, spec: HostSpec, entry: Any, groups: dict[str, HostSpec], order: int
    ) -> _HostDraft | None:
        """Nornir's precedence: the host, then its groups depth-first, then defaults."""
        hosts_file = self.file(HOSTS)
        hosts_doc = self.docs[HOSTS]
        sources: dict[str, _Source] = {"__host__": _Source(hosts_file, hosts_doc, (name,))}
        data: dict[str, Any] = dict(spec.data)
        for key in data:
            sources[key] = _Source(hosts_file, hosts_doc, (name, "data"))
        platform = spec.platform
        chain: list[str] = []
        pending = list(spec.groups)
        while pending:
            group = pending.pop(0)
            if group in chain:
                continue
            if group not in groups or group == "defaults":
                self.problems.add(
                    hosts_file,
                    "groups",
                    f"unknown group '{group}' (not in groups.yaml)",
                    host=name,
                    line=line_of(hosts_doc, (name, "groups")),
                )
                return None
            chain.append(group)
            pending[:0] = groups[group].groups
        if "defaults" in groups:
            chain.append("defaults")
        for group in chain:
            group_spec = groups[group]
            file_name = DEFAULTS if group == "defaults" else GROUPS
            base: tuple[str, ...] = ("data",) if group == "defaults" else (group, "data")
            for key, value in group_spec.data.items():
                if key not in data:
                    data[key] = value
                    sources[key] = _Source(self.file(file_name), self.docs[file_name], base)
            platform = platform or group_spec.platform
        if platform is None:
            self.problems.add(
                hosts_file,
                "platform",
                "no platform set on the host, its groups or defaults",
                host=name,
                line=sources["__host__"].line(),
            )
            return None
        try:
            host_data = HostData.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                key = str(loc[0]) if loc else ""
                source = sources.get(key, _Source(hosts_file, hosts_doc, (name, "data")))
                self.problems.add(
                    source.file,
                    ".".join(str(p) for p in ("data", *loc)),
                    _message(error),
                    host=name,
                    line=source.line(*loc) or sources["__host__"].line(),
                )
            return None
        return _HostDraft(name, spec, host_data, sources, order, platform)


def _plain(value: Any) -> Any:
    """LineDicts back to plain dicts/lists so pydantic sees ordinary input."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _message(error: Any) -> str:
    """A pydantic error in the words an engineer reading an inventory expects."""
    kind = error["type"]
    loc = error["loc"]
    last = str(loc[-1]) if loc else ""
    got = error.get("input")
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(last, _KNOWN_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown key '{last}'{hint}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        noun = {"tier": "tier", "platform": "platform"}.get(last, "value")
        return f"unknown {noun} '{got}': expected {expected}"
    if kind == "missing":
        return "required field is missing"
    text = str(error["msg"]).removeprefix("Value error, ")
    secret_like = any(SECRET_KEY.search(str(step)) for step in loc)
    if isinstance(got, str | int | float) and not isinstance(got, bool) and not secret_like:
        text += f" (got {got!r})"
    return text


# --------------------------------------------------------------------------------------
# pass 3: the tree


def _check_tree(
    loader: _Loader, drafts: dict[str, _HostDraft], plan: AddressPlanSpec | None
) -> bool:
    problems = loader.problems
    before = len(problems.problems)
    top_level = min((TIER_LEVEL[d.data.tier] for d in drafts.values()), default=1)
    graph: nx.DiGraph[str] = nx.DiGraph()
    for draft in drafts.values():
        draft.level = TIER_LEVEL[draft.data.tier]
        graph.add_node(draft.name)
        parent = draft.data.parent
        file, line = draft.where("parent")
        if parent is None:
            if draft.level != top_level or draft.data.tier == "exit":
                article = "an" if draft.data.tier[0] in "aeiou" else "a"
                problems.add(
                    loader.file(HOSTS),
                    "data.parent",
                    f"{article} {draft.data.tier} node needs a parent: only the top tier "
                    f"({_tier_name(top_level)}) may stand without one",
                    host=draft.name,
                    line=draft.sources["__host__"].line(),
                )
            continue
        if parent == draft.name:
            problems.add(
                file, "data.parent", "a node cannot be its own parent", host=draft.name, line=line
            )
            continue
        if parent in loader.invalid_hosts:
            continue  # that host's own problem is reported; do not call it missing
        if parent not in drafts:
            hint = difflib.get_close_matches(parent, list(drafts), n=1)
            problems.add(
                file,
                "data.parent",
                f"parent '{parent}' is not a host in hosts.yaml"
                + (f" (did you mean '{hint[0]}'?)" if hint else ""),
                host=draft.name,
                line=line,
            )
            continue
        graph.add_edge(draft.name, parent)
        upper = drafts[parent]
        wanted = _parent_tier(draft.data.tier)
        if upper.data.tier != wanted:
            problems.add(
                file,
                "data.parent",
                f"a {draft.data.tier} must hang under a {wanted}, "
                f"but parent '{parent}' is a {upper.data.tier}",
                host=draft.name,
                line=line,
            )
    for cycle in nx.simple_cycles(graph):
        ordered = sorted(cycle, key=lambda n: drafts[n].order)
        start = cycle.index(ordered[0])
        loop = cycle[start:] + cycle[:start]
        draft = drafts[loop[0]]
        file, line = draft.where("parent")
        problems.add(
            file,
            "data.parent",
            "parent chain forms a cycle: " + " → ".join([*loop, loop[0]]),
            host=draft.name,
            line=line,
        )
    _check_uplinks(loader, drafts, plan)
    return len(problems.problems) == before


def _parent_tier(tier: str) -> str:
    return {"province": "national", "city": "province", "exit": "province", "county": "city"}.get(
        tier, "nothing"
    )


def _tier_name(level: int) -> str:
    return {0: "national", 1: "province", 2: "city", 3: "county"}[level]


def _check_uplinks(
    loader: _Loader, drafts: dict[str, _HostDraft], plan: AddressPlanSpec | None
) -> None:
    problems = loader.problems
    seen_pairs: dict[frozenset[str], str] = {}
    for draft in drafts.values():
        if draft.data.parent:
            seen_pairs.setdefault(frozenset((draft.name, draft.data.parent)), draft.name)
    for draft in drafts.values():
        file, line = draft.where("uplinks")
        limit = plan.uplinks_per_node if plan else None
        total = len(draft.data.uplinks) + (1 if draft.data.parent else 0)
        if limit is not None and total > limit:
            problems.add(
                file,
                "data.uplinks",
                f"{total} uplinks counting the parent, but address_plan.uplinks_per_node "
                f"is {limit}",
                host=draft.name,
                line=line,
            )
        for index, target in enumerate(draft.data.uplinks):
            field_name = f"data.uplinks.{index}"
            if target in loader.invalid_hosts:
                continue  # reported on its own; it is not missing
            if target not in drafts:
                problems.add(
                    file,
                    field_name,
                    f"uplink '{target}' is not a host in hosts.yaml",
                    host=draft.name,
                    line=line,
                )
                continue
            other = drafts[target]
            pair = frozenset((draft.name, target))
            if target == draft.name:
                problems.add(
                    file, field_name, "a node cannot uplink to itself", host=draft.name, line=line
                )
                continue
            if pair in seen_pairs:
                problems.add(
                    file,
                    field_name,
                    f"link to '{target}' is already declared by '{seen_pairs[pair]}'",
                    host=draft.name,
                    line=line,
                )
                continue
            seen_pairs[pair] = draft.name
            own_level, other_level = TIER_LEVEL[draft.data.tier], TIER_LEVEL[other.data.tier]
            parent = drafts.get(draft.data.parent or "")
            grandparent = parent.data.parent if parent else None
            is_peer = (
                draft.data.tier == other.data.tier
                and draft.data.tier in ("province", "national")
                and draft.data.parent == other.data.parent
            )
            is_parent_sibling = (
                parent is not None
                and other.data.tier == parent.data.tier
                and other.data.parent == grandparent
                and other_level == own_level - 1
            )
            if not (is_peer or is_parent_sibling):
                problems.add(
                    file,
                    field_name,
                    f"uplink '{target}' ({other.data.tier}) must be a sibling of the parent "
                    "(a redundant uplink) or, for province and national cores, a core peer "
                    "under the same parent",
                    host=draft.name,
                    line=line,
                )


# --------------------------------------------------------------------------------------
# pass 4: slots and pools


@dataclass(frozen=True)
class _Layout:
    hierarchy: Hierarchy
    pools: dict[str, Pool]
    dept_leaf: dict[str, int]
    instances: tuple[str, ...]


def _layout(spec: NetworkSpec) -> _Layout:
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
    return _Layout(hierarchy, pools, dept_leaf, instances)


def _pool_field(pool_key: str) -> str:
    if pool_key.startswith("zone:"):
        return f"zones.{pool_key[5:]}.pool"
    return f"address_plan.{pool_key}"


def _check_pools(loader: _Loader, spec: NetworkSpec, layout: _Layout, top_level: int) -> bool:
    problems = loader.problems
    before = len(problems.problems)
    file = loader.file(NETWORK)
    doc = loader.docs[NETWORK]
    named = [(key, pool.network) for key, pool in layout.pools.items()]
    named.append(("management", spec.address_plan.management))
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
                f"pool exhausted: {pool.network} cannot hold one {_tier_name(top_level)} block "
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
            f"but one {_tier_name(top_level)} block needs {units} (fanout in "
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


def _root_capacity(layout: _Layout, spec: NetworkSpec, level: int) -> int:
    capacity = min(
        pool.network.num_addresses // (1 << (32 - pool.block_prefixlen(level)))
        for pool in layout.pools.values()
    )
    management = spec.address_plan.management.num_addresses - 3  # network, station, broadcast
    return min(capacity, max(management // layout.hierarchy.units(level), 0))


def _assign_slots(
    loader: _Loader, drafts: dict[str, _HostDraft], layout: _Layout, spec: NetworkSpec
) -> bool:
    problems = loader.problems
    before = len(problems.problems)
    siblings: dict[str | None, list[_HostDraft]] = {}
    for draft in sorted(drafts.values(), key=lambda d: d.order):
        siblings.setdefault(draft.data.parent, []).append(draft)
        if draft.data.parent:
            drafts[draft.data.parent].children.append(draft.name)
    for parent, group in siblings.items():
        if parent is None:
            level = group[0].level
            first, last = 0, _root_capacity(layout, spec, level) - 1
            what = f"the pools hold {last + 1} {_tier_name(level)} block(s) at the top"
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


def _leaf_indexes(drafts: dict[str, _HostDraft], hierarchy: Hierarchy) -> None:
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


def _allocate(
    loader: _Loader, drafts: dict[str, _HostDraft], spec: NetworkSpec, layout: _Layout
) -> tuple[list[Node], list[Link]]:
    problems = loader.problems
    plan = spec.address_plan
    pools = layout.pools
    book = _AddressBook()
    nodes: list[Node] = []
    management = plan.management
    station = management.network_address + 1
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
            )
            book.add(subnet, "internet link", name, "")
        labels = _region_labels(draft, drafts)
        nodes.append(
            Node.model_construct(
                name=name,
                tier=data.tier,
                level=draft.level,
                platform=draft.platform,
                region=data.region,
                parent=data.parent,
                uplinks=tuple(data.uplinks),
                slot=draft.slot,
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


def _hand_management(
    loader: _Loader, draft: _HostDraft, management: IPv4Network, station: IPv4Address
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
    loader: _Loader,
    draft: _HostDraft,
    spec: NetworkSpec,
    layout: _Layout,
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
            cap = 1 << (spec.zones[dept.zone].department_prefixlen - layout.dept_leaf[dept.zone])
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
        cap = 1 << (zone.department_prefixlen - layout.dept_leaf[dept.zone])
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
                vlan=vlan,
                description=dept.description,
            )
        )
    return result


def _region_labels(draft: _HostDraft, drafts: dict[str, _HostDraft]) -> dict[str, str | None]:
    labels: dict[str, str | None] = {"province": None, "city": None, "county": None}
    current: _HostDraft | None = draft
    while current is not None:
        tier = current.data.tier
        if tier in labels and labels[tier] is None:
            labels[tier] = current.data.region
        current = drafts.get(current.data.parent or "")
    return labels


def _links(
    drafts: dict[str, _HostDraft],
    spec: NetworkSpec,
    layout: _Layout,
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
    loader: _Loader, drafts: dict[str, _HostDraft], first: _Range, second: _Range
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


# --------------------------------------------------------------------------------------


def load_network(directory: Path | str) -> Network:
    """Load, validate and allocate the inventory in `directory`.

    Raises `InventoryError` listing every problem found; returns an immutable `Network`.
    """
    with bulk_build():
        return _load_network(Path(directory))


def _load_network(directory: Path) -> Network:
    loader = _Loader(directory)
    if not loader.directory.is_dir():
        loader.problems.add(
            loader.directory,
            "",
            "inventory directory not found (choose one with -i DIR or $EGOVNET_INVENTORY)",
        )
        loader.problems.raise_if_any()
    loader.read_files()
    spec = loader.validate_network()
    groups = loader.validate_groups()
    drafts = loader.resolve_hosts(groups)
    if loader.docs.get(HOSTS) is not None and not loader.docs[HOSTS] and not loader.problems:
        loader.problems.add(loader.file(HOSTS), "", "no hosts defined")
    tree_ok = _check_tree(loader, drafts, spec.address_plan if spec else None)
    if spec is None or not tree_ok or loader.problems:
        loader.problems.raise_if_any()
    assert spec is not None  # for mypy: raise_if_any raised otherwise  # noqa: S101
    layout = _layout(spec)
    top_level = min(d.level for d in drafts.values())
    if not _check_pools(loader, spec, layout, top_level):
        loader.problems.raise_if_any()
    if not _assign_slots(loader, drafts, layout, spec):
        loader.problems.raise_if_any()
    _leaf_indexes(drafts, layout.hierarchy)
    nodes, links = _allocate(loader, drafts, spec, layout)
    loader.problems.raise_if_any()
    zones = tuple(
        Zone(
            name=name,
            description=z.description,
            pool=z.pool,
            internet=z.internet,
            vlan=z.vlan,
            department_vlan_base=z.department_vlan_base,
            department_prefixlen=z.department_prefixlen,
        )
        for name, z in spec.zones.items()
    )
    return Network.model_construct(
        name=spec.name,
        source=str(loader.directory),
        spec=spec,
        zones=zones,
        nodes=tuple(nodes),
        links=tuple(links),
    )
