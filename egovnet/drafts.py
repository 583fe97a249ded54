"""What the inventory loader passes between its stages: host drafts and the load context.

Loading runs in stages, each in its own module: reading and shape validation
(`egovnet.loader`), the tree (`egovnet.tree_checks`), slots, pools and addresses
(`egovnet.allocation`). They share the objects here; nothing outside loading uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

from egovnet.errors import ProblemList
from egovnet.schema import HostData, HostSpec, Platform
from egovnet.yamlio import line_of

HOSTS, GROUPS, DEFAULTS, NETWORK = "hosts.yaml", "groups.yaml", "defaults.yaml", "network.yaml"
FORBIDDEN_PREFIX = IPv4Network("192.0.2.0/24")
"""TEST-NET-1: this workplace's own uplink lives there, so no lab or plan may use it."""


@dataclass
class Source:
    """Where a value came from, so that problems point at the line that wrote it."""

    file: str
    document: Any
    path: tuple[str | int, ...]

    def line(self, *more: str | int) -> int | None:
        return line_of(self.document, (*self.path, *more))


@dataclass
class HostDraft:
    """A host after shape validation, before allocation."""

    name: str
    spec: HostSpec
    data: HostData
    sources: dict[str, Source]
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
class LoadContext:
    """State shared by the loading stages: the files read, and every problem found so far."""

    directory: Path
    problems: ProblemList = field(default_factory=ProblemList)
    docs: dict[str, Any] = field(default_factory=dict)
    secret_paths: dict[str, set[tuple[str | int, ...]]] = field(default_factory=dict)
    invalid_hosts: set[str] = field(default_factory=set)
    """Hosts already reported as invalid: others naming them must not say 'no such host'."""

    def file(self, name: str) -> str:
        return str(self.directory / name)


def tier_name(level: int) -> str:
    return {0: "national", 1: "province", 2: "city", 3: "county"}[level]
