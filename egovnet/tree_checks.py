"""Inventory loading, stage 3: the parent tree and the uplinks must form the network's shape.

Every node hangs under a node of the tier above (county under city, city and exit under
province, province under national); only the top tier stands alone; there are no cycles;
a redundant uplink goes to a sibling of the parent, or to a core peer.
"""

from __future__ import annotations

import difflib

import networkx as nx

from egovnet.addressing import (
    TIER_LEVEL,
)
from egovnet.drafts import (
    HOSTS,
    HostDraft,
    LoadContext,
    tier_name,
)
from egovnet.schema import (
    PROTECTION_LEVEL,
    AddressPlanSpec,
)


def check_tree(
    loader: LoadContext, drafts: dict[str, HostDraft], plan: AddressPlanSpec | None
) -> bool:
    problems = loader.problems
    before = len(problems.problems)
    top_level = min((TIER_LEVEL[d.data.tier] for d in drafts.values()), default=1)
    graph: nx.DiGraph[str] = nx.DiGraph()
    for draft in drafts.values():
        draft.level = TIER_LEVEL[draft.data.tier]
        _check_protection_level(loader, draft)
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
                    f"({tier_name(top_level)}) may stand without one",
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
    check_uplinks(loader, drafts, plan)
    return len(problems.problems) == before


def _check_protection_level(loader: LoadContext, draft: HostDraft) -> None:
    """`data.protection_level` may raise a node above its tier's level, never lower it: seed
    004 sets the tier's level as the floor (province and city 3, the rest at least 2)."""
    wanted = draft.data.protection_level
    floor = PROTECTION_LEVEL[draft.data.tier]
    if wanted is not None and wanted < floor:
        file, line = draft.where("protection_level")
        loader.problems.add(
            file,
            "data.protection_level",
            f"protection level {wanted} is below the {draft.data.tier} tier's level {floor}: "
            "the override may only raise it",
            host=draft.name,
            line=line,
        )


def _parent_tier(tier: str) -> str:
    return {"province": "national", "city": "province", "exit": "province", "county": "city"}.get(
        tier, "nothing"
    )


def check_uplinks(
    loader: LoadContext, drafts: dict[str, HostDraft], plan: AddressPlanSpec | None
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
            if draft.data.parent in loader.invalid_hosts:
                continue  # which uplinks are siblings of the parent cannot be told
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
