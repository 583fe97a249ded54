"""The isolation policy of `network.yaml`, checked against the hosts and filled with defaults.

`schema.IsolationSpec` is what a person writes (mostly nothing: the seeds' policy is the
default); `build_policy` makes the `model.Policy` the loader puts in the model (each zone's
effective `ZonePolicy`, the exits, the shared services), so that the audit, the probes and
the interconnect matrix read one answer and never re-derive a default. The policy may
only tighten the zone model: a zone without `internet: true` has no default route anywhere,
so a policy letting it out would describe a network that cannot exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from egovnet.drafts import NETWORK, LoadContext
from egovnet.model import Node, Policy, SharedService, ZonePolicy
from egovnet.schema import NetworkSpec
from egovnet.yamlio import line_of


def build_policy(spec: NetworkSpec, nodes: Sequence[Node]) -> Policy:
    """The policy the model holds: every zone's effective policy (what `network.yaml` says,
    else the seeds' default), the exits, the shared services and the probe settings."""
    zones = {}
    for name, zone in spec.zones.items():
        written = spec.isolation.zones.get(name)
        internet = zone.internet
        if written is not None and written.internet is not None:
            internet = zone.internet and written.internet == "via-exit"
        reaches: tuple[str, ...] = (name,)
        if written is not None and written.reaches is not None:
            reaches = tuple(written.reaches)
        zones[name] = ZonePolicy(zone=name, internet=internet, reaches=reaches)
    named = spec.isolation.exits
    exits = tuple(named) if named else tuple(n.name for n in nodes if n.tier == "exit")
    shared = tuple(
        SharedService(host=host, department=department)
        for host, department in (entry.split("/", 1) for entry in spec.isolation.shared_services)
    )
    return Policy(zones=zones, exits=exits, shared_services=shared, probes=spec.isolation.probes)


def check_policy(loader: LoadContext, spec: NetworkSpec, nodes: Iterable[Node]) -> None:
    """Report policy entries that name what does not exist or that loosen the zone model."""
    document = loader.docs.get(NETWORK)
    file = loader.file(NETWORK)
    by_name = {node.name: node for node in nodes}
    isolation = spec.isolation

    def add(path: tuple[str | int, ...], message: str) -> None:
        field = ".".join(str(p) for p in ("isolation", *path))
        loader.problems.add(file, field, message, line=line_of(document, ("isolation", *path)))

    for index, name in enumerate(isolation.exits):
        node = by_name.get(name)
        if node is None:
            add(("exits", index), f"no host '{name}' in hosts.yaml")
        elif node.internet is None:
            add(("exits", index), f"host '{name}' is a {node.tier}, not an internet exit")
    for zone, written in isolation.zones.items():
        if zone not in spec.zones:
            add(("zones", zone), f"unknown zone '{zone}' (zones: {', '.join(spec.zones)})")
            continue
        if written.internet == "via-exit" and not spec.zones[zone].internet:
            add(
                ("zones", zone, "internet"),
                f"zone '{zone}' has internet: false; the policy can only tighten it",
            )
        for index, other in enumerate(written.reaches or []):
            if other != zone:
                add(
                    ("zones", zone, "reaches", index),
                    f"zone '{zone}' cannot reach zone '{other}': zones never reach each other",
                )
    for index, entry in enumerate(isolation.shared_services):
        host, department = entry.split("/", 1)
        node = by_name.get(host)
        if node is None:
            add(("shared_services", index), f"no host '{host}' in hosts.yaml")
        elif department not in {d.name for d in node.departments}:
            add(("shared_services", index), f"host '{host}' has no department '{department}'")
