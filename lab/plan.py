"""What the namespace lab will build, read from a containerlab topology file.

The lab reads the topology *file*, never the topology code (DESIGN.md): whatever deploys it
here must deploy what containerlab would. `read_plan` turns a `.clab.yml` into a small typed
plan and refuses a file it could not deploy faithfully, naming the node or link at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any

import yaml

from egovnet.errors import EgovnetError

LINUX_IFNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")
"""A Linux interface name: at most 15 characters, no '/', ':' or spaces."""


class TopologyError(EgovnetError, ValueError):
    """The topology file cannot be deployed as a lab; the message names the file and place."""


@dataclass(frozen=True)
class LabNode:
    """One node: a router (FRR) or a plain host (department, internet)."""

    name: str
    role: str
    management: IPv4Address | None
    config: Path | None
    exec: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)
    mounts: tuple[tuple[Path, str], ...] = ()
    """A host's binds (source folder, target inside the node), e.g. a DNS host's named
    files: bound before its exec commands run. A router's FRR binds are the config above."""


@dataclass(frozen=True)
class LabLink:
    """A veth pair between two node interfaces."""

    a: tuple[str, str]
    b: tuple[str, str]


@dataclass(frozen=True)
class LabPlan:
    """Everything a runner needs: nodes, links and the management subnet."""

    name: str
    management: IPv4Network
    gateway: IPv4Address
    nodes: dict[str, LabNode]
    links: tuple[LabLink, ...]

    def routers(self) -> list[LabNode]:
        return [node for node in self.nodes.values() if node.role == "router"]


def _endpoint(text: Any, where: str, nodes: dict[str, Any]) -> tuple[str, str]:
    if not isinstance(text, str) or text.count(":") != 1:
        raise TopologyError(f"{where}: endpoint {text!r} must be 'node:interface'")
    node, interface = text.split(":")
    if node not in nodes:
        raise TopologyError(f"{where}: endpoint {text!r} names no node of the topology")
    if not LINUX_IFNAME.match(interface):
        raise TopologyError(f"{where}: interface {interface!r} is not a valid Linux name")
    return node, interface


def _config(entry: dict[str, Any], base: Path) -> Path | None:
    for bind in entry.get("binds", []):
        source, _, target = str(bind).partition(":")
        if target == "/etc/frr/frr.conf":
            return (base / source).resolve()
    return None


def _mounts(entry: dict[str, Any], base: Path, where: str) -> tuple[tuple[Path, str], ...]:
    """A host node's binds as (source, target); TopologyError for one that cannot be bound."""
    found = []
    for bind in entry.get("binds") or []:
        source, _, target = str(bind).partition(":")
        target = target.split(":", 1)[0]  # containerlab's ":ro" and the like
        resolved = (base / source).resolve()
        if not target.startswith("/") or not resolved.exists():
            msg = f"{where}: bind {bind!r}: {resolved} missing or target not absolute"
            raise TopologyError(msg)
        found.append((resolved, target))
    return tuple(found)


def read_plan(path: Path) -> LabPlan:
    """Read and check a containerlab topology file (see module docstring)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TopologyError(f"{path}: cannot read the topology: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("topology"), dict):
        raise TopologyError(f"{path}: not a containerlab topology (no 'topology' mapping)")
    try:
        management = IPv4Network(document["mgmt"]["ipv4-subnet"])
        gateway = IPv4Address(document["mgmt"]["ipv4-gw"])
    except (KeyError, TypeError, ValueError) as exc:
        raise TopologyError(f"{path}: mgmt.ipv4-subnet and mgmt.ipv4-gw are required") from exc
    raw_nodes = document["topology"].get("nodes") or {}
    nodes: dict[str, LabNode] = {}
    seen_management: dict[IPv4Address, str] = {}
    for name, raw in raw_nodes.items():
        where = f"{path}: node {name}"
        entry = raw or {}
        labels = {str(k): str(v) for k, v in (entry.get("labels") or {}).items()}
        address = entry.get("mgmt-ipv4")
        management_ip = IPv4Address(address) if address else None
        if management_ip is not None:
            if management_ip not in management or management_ip == gateway:
                raise TopologyError(
                    f"{where}: mgmt-ipv4 {management_ip} is not usable in {management}"
                )
            if management_ip in seen_management:
                raise TopologyError(
                    f"{where}: mgmt-ipv4 {management_ip} is also {seen_management[management_ip]}'s"
                )
            seen_management[management_ip] = name
        role = labels.get(
            "egovnet-role", "router" if entry.get("network-mode") != "none" else "host"
        )
        nodes[name] = LabNode(
            name=name,
            role=role,
            management=management_ip,
            config=_config(entry, path.parent),
            exec=tuple(str(c) for c in entry.get("exec") or ()),
            labels=labels,
            mounts=() if role == "router" else _mounts(entry, path.parent, where),
        )
    links: list[LabLink] = []
    used: dict[tuple[str, str], int] = {}
    for index, link in enumerate(document["topology"].get("links") or []):
        where = f"{path}: link {index + 1}"
        endpoints = (link or {}).get("endpoints")
        if not isinstance(endpoints, list) or len(endpoints) != 2:
            raise TopologyError(f"{where}: needs exactly two endpoints")
        a, b = (_endpoint(e, where, raw_nodes) for e in endpoints)
        for end in (a, b):
            if end in used:
                raise TopologyError(
                    f"{where}: {end[0]}:{end[1]} is already used by link {used[end]}"
                )
            used[end] = index + 1
        links.append(LabLink(a, b))
    return LabPlan(
        name=str(document.get("name", "lab")),
        management=management,
        gateway=gateway,
        nodes=nodes,
        links=tuple(links),
    )
