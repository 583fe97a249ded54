"""A change of the BGP timers on every router, as `benchmarks/rollout.py` makes it, against
the real lab.

FRR takes `timers bgp 4 9` at the prompt without a word and keeps `timers bgp 3 9`: it caps
the keepalive at a third of the hold time. A rollout of keepalive 4 with hold 9 therefore
failed on its very first router (the province core, the canary of the first wave) with
"running config still differs after commit" and rolled the wave back, on every run and at
every size: the 157-router province of the benchmark as well as this 13-router sample. Such
an inventory is now refused before any connection, naming the field; a change the routers
can hold (4 and 12) applies with every gate passing, and a second run changes nothing.

One lab for the module, booted with the rendered configs; every test leaves it as it found it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.engine import render_network
from egovnet.secrets import SecretStore, SharedSecrets
from nornir_tasks.drivers.frr_reload import change_commands
from tests.console import FAKE_SECRETS
from tests.labkit import TestLab

KIT: list[TestLab] = []


def rendered(network: Network) -> dict[str, str]:
    store = SecretStore(None, environ=FAKE_SECRETS)
    return render_network(network, SharedSecrets.resolve(network, store), "frr")


def running(node: str) -> str:
    """A router's running config, read from inside its namespaces."""
    holder = KIT[0].holders()[node]
    done = subprocess.run(
        [
            "nsenter",
            "-t",
            str(holder.pid),
            "-m",
            "-u",
            "-n",
            "-p",
            "vtysh",
            "-N",
            node,
            "-c",
            "show running-config no-header",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def as_intended(intended: dict[str, str]) -> dict[str, bool]:
    """Per router: does its running config need no change to become `intended[router]`?"""
    return {name: not change_commands(text, running(name)) for name, text in intended.items()}


def with_timers(source: Path, target: Path, keepalive: int, hold: int) -> Path:
    """A copy of the inventory at `source` whose BGP timers are `keepalive` and `hold`."""
    shutil.copytree(source, target)
    network_yaml = target / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8")
    assert "keepalive: 3\n" in text
    assert "hold: 9\n" in text
    text = text.replace("keepalive: 3\n", f"keepalive: {keepalive}\n")
    network_yaml.write_text(text.replace("hold: 9\n", f"hold: {hold}\n"), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def lab(test_lab: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("timers")
    KIT[:] = [test_lab]
    try:
        result = test_lab.egovnet("lab", "up", "--json", cwd=workdir, timeout=400)
        assert result.returncode == 0, result.stdout + result.stderr
        yield workdir
    finally:
        down = test_lab.down(workdir)
        assert down.returncode == 0, down.stderr


@pytest.fixture(scope="module")
def intended(lab: Path) -> dict[str, str]:
    return rendered(KIT[0].network)


def rollout(lab: Path, inventory: Path) -> tuple[int, dict[str, Any], str]:
    """`egovnet rollout --yes --platform frr --json` on `inventory`: exit code, report, stderr."""
    result = KIT[0].egovnet(
        "rollout", "--yes", "--platform", "frr", "--json", cwd=lab, inventory=inventory, timeout=400
    )
    text = result.stdout.strip()
    report: dict[str, Any] = json.loads(text) if text.startswith("{") else {}
    return result.returncode, report, result.stderr


def test_a_keepalive_above_a_third_of_hold_is_refused_before_any_router_is_touched(
    lab: Path, tmp_path: Path, intended: dict[str, str]
) -> None:
    inventory = with_timers(KIT[0].inventory, tmp_path / "inventory", keepalive=4, hold=9)
    code, report, stderr = rollout(lab, inventory)
    assert code == 2, (report, stderr)
    [problem] = report["problems"]  # --json: the validation problems, as a document
    assert problem["file"].endswith("network.yaml"), problem
    assert problem["field"] == "routing.hold", problem
    assert problem["line"] is not None, problem
    assert "hold must be at least 3 x keepalive (4 s)" in problem["message"], problem
    assert as_intended(intended) == dict.fromkeys(intended, True)


def test_new_timers_on_every_router_apply_then_a_second_run_changes_nothing(
    lab: Path, tmp_path: Path, intended: dict[str, str]
) -> None:
    inventory = with_timers(KIT[0].inventory, tmp_path / "inventory", keepalive=4, hold=12)
    changed = rendered(load_network(inventory))
    try:
        code, report, stderr = rollout(lab, inventory)
        assert code == 0, (report, stderr)
        assert report.get("outcome") == "applied", report
        hosts = report["hosts"]
        assert len(hosts) == len(intended)
        assert {host["outcome"] for host in hosts.values()} == {"applied"}
        assert as_intended(changed) == dict.fromkeys(changed, True)
        assert "timers bgp 4 12" in running("hebei-core-1")

        code, report, stderr = rollout(lab, inventory)
        assert code == 0, (report, stderr)
        assert report.get("outcome") == "no change", report
    finally:
        code, report, stderr = rollout(lab, KIT[0].inventory)
        assert code == 0, (report, stderr)
    assert as_intended(intended) == dict.fromkeys(intended, True)
