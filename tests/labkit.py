"""Test labs that never meet a user's lab: each test module's inventory is a copy of the
sample with its own lab name and its own addresses (lab/sandbox.py).

A lab test, a monitoring test or a unit test that names a lab makes its inventory here, reads
every address and node from the loaded copy (`TestLab.network`), and acts only on its own
lab's holders (`TestLab.holders()`): the demo lab (`egovnet`, 10.64.0.0/16, ...) may be up
beside it the whole time and is never seen, stopped or overlapped.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from ipaddress import IPv4Network
from pathlib import Path

from egovnet.model import Network
from lab.names import guard_metric, guard_table, interface_prefix
from lab.runner import Holder, find_holders
from lab.sandbox import sandbox_inventory
from tests.console import ROOT
from tests.console import egovnet as run_egovnet

SAMPLE = ROOT / "inventory"
SAMPLE_SPACE = (
    IPv4Network("10.64.0.0/16"),
    IPv4Network("10.80.0.0/16"),
    IPv4Network("10.96.0.0/16"),
    IPv4Network("10.104.0.0/16"),
    IPv4Network("10.112.0.0/16"),
)
"""Where the sample (and so the demo lab) lives: no test lab comes near it."""
LAB_PREFIX = "egvt-"


def lab_name(module: str) -> str:
    """A test module's own lab name: `egvt-` and its name, cut to the 16 characters a lab
    name may have.

    >>> lab_name("tests.lab.test_isolation_live")
    'egvt-isolation-l'
    """
    stem = module.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    return (LAB_PREFIX + stem)[:16].rstrip("-")


@dataclass(frozen=True)
class TestLab:
    """A test's own lab: its name, its inventory (a sandboxed copy) and the loaded model."""

    __test__ = False  # not a test class, whatever pytest's name matching says

    lab: str
    inventory: Path
    network: Network

    def holders(self) -> dict[str, Holder]:
        """This lab's running nodes by name (never another lab's)."""
        return {holder.node: holder for holder in find_holders(self.lab)}

    def egovnet(
        self, *args: str, cwd: Path, inventory: Path | None = None, timeout: float = 240
    ) -> subprocess.CompletedProcess[str]:
        """`egovnet ARGS` on this lab's inventory (or another copy of it), as a user runs it."""
        return run_egovnet(*args, cwd=cwd, inventory=inventory or self.inventory, timeout=timeout)

    def down(self, cwd: Path) -> subprocess.CompletedProcess[str]:
        """`egovnet lab down --lab LAB`: by name, so it can only ever take this lab down."""
        return self.egovnet("lab", "down", "--lab", self.lab, "--json", cwd=cwd)

    def leftovers(self) -> list[str]:
        """What of this lab is left on the machine (empty: nothing): nodes, root-namespace
        interfaces, its nftables table, its unreachable routes."""
        left = [f"node {node}" for node in self.holders()]
        links = _run("ip", "-o", "link").stdout
        own = interface_prefix(self.lab)
        left += [
            name
            for line in links.splitlines()
            if ":" in line
            for name in [line.split(":")[1].strip().split("@")[0]]
            if name.startswith(own)
        ]
        if _run("nft", "list", "table", "inet", guard_table(self.lab)).returncode == 0:
            left.append(f"nftables table {guard_table(self.lab)}")
        routes = _run("ip", "-4", "route", "show", "type", "unreachable").stdout
        metric = re.compile(rf"\bmetric {guard_metric(self.lab)}\b")
        left += [f"route {line}" for line in routes.splitlines() if metric.search(line)]
        return left


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)


def make_test_lab(directory: Path, lab: str) -> TestLab:
    """A copy of the sample under `directory/inventory` as lab `lab`, its pools clear of the
    sample's space, 10.255.0.0/16, 192.0.2.0/24 and every route of this machine."""
    inventory = directory / "inventory"
    network = sandbox_inventory(SAMPLE, inventory, lab, SAMPLE_SPACE)
    assert network.lab_name == lab
    for pool in (network.pool(instance) for instance in network.instances()):
        assert not any(pool.overlaps(space) for space in SAMPLE_SPACE), pool
    return TestLab(lab, inventory, network)
