"""The same change pushed by `egovnet rollout` (Nornir) and by `egovnet playbook deploy`
(Ansible through ansible-runner), to the same lab, in one run, alternating (root only).

The change touches every router and routing alone: the BGP keepalive/hold timers in
network.yaml, a new value for every push so that every push has something to do. Each
round pushes once with each tool, the first tool alternating between rounds, so that a
warm cache or a busy neighbour on this shared machine does not favour one of them. Both
stage by tier (province and exit, cities, counties) and gate each wave: the rollout on BGP,
SSH, SNMP and pings from the lab's namespaces; the playbook on BGP, SSH and SNMP.

Reported per push: wall time and CPU seconds (user + system of the command and every
child it waited for: `RUSAGE_CHILDREN`). Ansible's network_cli keeps each login in a
detached `ansible-connection` process that nobody waits for, so its CPU is missing from
Ansible's figure: the ratio of CPU seconds is a floor on Ansible's cost, not its whole.
Figures are printed, never asserted; the goal is egovnet >= 5x faster (wall).

The lab is its own (`egvb-ansible`, addresses clear of this machine: lab/sandbox.py), brought
up with the rendered configs and taken down at the end, also on failure; the sandbox lock is
held for the whole run. The sample (13 routers) by default; `--hebei` makes a province of
157 routers (2 cores, an exit, 11 cities of 13 counties): long, and heavy on a shared machine.

Run: ``.venv/bin/python benchmarks/ansible_vs_nornir.py [--rounds N] [--hebei]``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from egovnet.generate import generate_inventory, write_inventory
from egovnet.model import Network
from egovnet.secrets import env_name, secret_names
from lab.sandbox import SANDBOX_LOCK, sandbox_inventory

EGOVNET = Path(sys.executable).parent / "egovnet"
LAB = "egvb-ansible"
SAMPLE = Path(__file__).resolve().parents[1] / "inventory"
GOAL = 5.0


@dataclass(frozen=True)
class Push:
    """One push: which tool, wall and CPU seconds, and whether it applied everywhere."""

    tool: str
    wall: float
    cpu: float
    ok: bool
    changed: int


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(env: dict[str, str], cwd: Path, *args: str) -> tuple[float, float, str, int]:
    """(wall, CPU seconds, stdout, exit code) of `egovnet ARGS`."""
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(
        [str(EGOVNET), *args], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"egovnet {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return wall, children_cpu() - cpu, done.stdout, done.returncode


def set_timers(inventory: Path, keepalive: int) -> None:
    """BGP keepalive `keepalive` s, hold three times that, on every router."""
    path = inventory / "network.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s*)keepalive: \d+$", rf"\g<1>keepalive: {keepalive}", text)
    text = re.sub(r"(?m)^(\s*)hold: \d+$", rf"\g<1>hold: {keepalive * 3}", text)
    path.write_text(text, encoding="utf-8")


def rollout(env: dict[str, str], cwd: Path) -> Push:
    wall, cpu, out, _code = run(env, cwd, "rollout", "--yes", "--platform", "frr", "--json")
    report: dict[str, Any] = json.loads(out)
    changed = sum(h["outcome"] == "applied" for h in report["hosts"].values())
    return Push("egovnet rollout", wall, cpu, report["outcome"] == "applied", changed)


def playbook(env: dict[str, str], cwd: Path) -> Push:
    wall, cpu, out, code = run(env, cwd, "playbook", "deploy", "--platform", "frr", "--json")
    report: dict[str, Any] = json.loads(out)
    return Push("egovnet playbook deploy", wall, cpu, code == 0, len(report["changed"]))


def lab_network(directory: Path, inventory: Path, hebei: bool) -> Network:
    if not hebei:
        return sandbox_inventory(SAMPLE, inventory, LAB)
    generated = directory / "generated"
    write_inventory(generate_inventory(1, 11, 13, 2), generated)
    return sandbox_inventory(generated, inventory, LAB)


def summary(pushes: list[Push]) -> None:
    by_tool: dict[str, list[Push]] = {}
    for push in pushes:
        by_tool.setdefault(push.tool, []).append(push)
    medians = {}
    for tool, runs in by_tool.items():
        wall = statistics.median(p.wall for p in runs)
        cpu = statistics.median(p.cpu for p in runs)
        medians[tool] = (wall, cpu)
        print(f"  {tool:<24} median wall {wall:7.1f} s   CPU {cpu:7.1f} s   ({len(runs)} pushes)")
    nornir, ansible = medians["egovnet rollout"], medians["egovnet playbook deploy"]
    print(
        f"  ratio Ansible / egovnet: wall {ansible[0] / nornir[0]:.2f}x, "
        f"CPU {ansible[1] / nornir[1]:.2f}x (goal: wall >= {GOAL:.0f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="pushes per tool")
    parser.add_argument("--hebei", action="store_true", help="157 routers instead of 13")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the lab needs root")
    with (
        tempfile.TemporaryDirectory(prefix="egovnet-ansible-bench-") as work,
        SANDBOX_LOCK.open("a") as lock,
    ):
        fcntl.flock(lock, fcntl.LOCK_EX)
        directory = Path(work)
        inventory = directory / "inv"
        network = lab_network(directory, inventory, args.hebei)
        env = {k: v for k, v in os.environ.items() if not k.startswith("EGOVNET_")}
        env |= {env_name(name): "benchmark-secret" for name in secret_names(network)}
        env["EGOVNET_INVENTORY"] = str(inventory)
        print(f"lab {LAB}: {len(network.nodes)} routers, {os.cpu_count()} cores")
        pushes: list[Push] = []
        try:
            wall, _cpu, _out, code = run(env, directory, "lab", "up", "--json", "--timeout", "900")
            if code != 0:
                raise SystemExit("lab up failed")
            print(f"  lab up, converged {wall:.1f} s")
            keepalive = 3
            for round_ in range(args.rounds):
                tools = [rollout, playbook] if round_ % 2 == 0 else [playbook, rollout]
                for tool in tools:
                    keepalive += 1
                    set_timers(inventory, keepalive)
                    push = tool(env, directory)
                    pushes.append(push)
                    print(
                        f"  round {round_ + 1}: {push.tool:<24} keepalive {keepalive:>2}"
                        f"  wall {push.wall:6.1f} s  CPU {push.cpu:6.1f} s"
                        f"  {'ok' if push.ok else 'FAILED'}, {push.changed} changed"
                    )
            summary(pushes)
        finally:
            run(env, directory, "lab", "down", "--lab", LAB)


if __name__ == "__main__":
    main()
