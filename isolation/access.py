"""How the live checks reach into the lab, passed in rather than reached for.

The isolation part must not import the lab (DESIGN.md: each part imports only the core), so
the live checks take a `LabAccess`: run a command in a node (optionally inside one of a
router's zone namespaces), or start a process there and stop it later. The CLI wires it to
`lab.runner`; a real network would wire it to SSH sessions the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Protocol


@dataclass(frozen=True)
class Completed:
    """A finished command: its exit code and output."""

    returncode: int
    stdout: str
    stderr: str = ""


class Running(Protocol):
    """A process started in a node: its first output line, and a way to end it."""

    def first_line(self, timeout: float) -> str: ...

    def stop(self) -> None: ...


class LabAccess(Protocol):
    """Commands in the lab's nodes (routers, department hosts, the internet host)."""

    def run(
        self, node: str, argv: Sequence[str], *, zone: str | None = None, timeout: float = 30.0
    ) -> Completed:
        """Run `argv` in `node` (in its zone namespace `zone`, on a router)."""
        ...

    def start(self, node: str, argv: Sequence[str]) -> Running:
        """Start a long-running `argv` in `node`."""
        ...

    def nodes(self) -> set[str]:
        """Names of the nodes that are running."""
        ...


@dataclass(frozen=True)
class LabNames:
    """How the lab names the hosts around the routers (the topology's convention)."""

    department_host: Callable[[str, str], str]
    """(router, department) -> the department's host node."""
    internet_host: Callable[[str], str]
    """exit router -> the simulated internet's host node behind it."""
    internet_server: IPv4Address
    """An address on the internet host that public departments must reach."""
    data_interface: str = "eth1"
    """A host's one interface toward its router."""
    internet_name: str = "www.internet.test"
    """A name the simulated internet's DNS server answers with `internet_server`."""
    named_conf: str = "/etc/bind/named.conf"
    """Where a lab DNS host's named reads its config."""
