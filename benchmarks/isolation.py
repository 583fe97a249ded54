"""How long do isolation audits take, at a nation's size from configs and live in the lab?

Stages of the configuration audit, timed separately on a generated national inventory
(31 provinces x 11 cities x 9 counties, 4 departments: about 3,500 nodes):

* load: `load_network`;
* render + parse: every node rendered on its own platform (FRR, VRP, Comware, IOS) and
  parsed back into the vendor-neutral model;
* routing: every routing instance's table computed (BGP propagation through the filters);
* questions: the policy's questions (networkx paths, inbound forwarding, ...).

`--real-size`: the running-config audit of the sample inventory rendered for Huawei VRP with
three of its configs grown to real-gear size (about 6 MB each: tens of thousands of
internet-facing interfaces and static routes), timed by stage beside a floor, a bare
line-split loop over the same text: the audit's checks must stay linear or n log n in
interfaces and routes (docs/parsing.md, "Speed").

With `--live` (root): takes the sandbox lock, brings up a copy of the sample as a lab of its
own (`egvb-isolation`, addresses clear of this machine and of any lab up here: lab/sandbox.py),
times the live audit's stages (running configs, routing tables, probes) and `interconnect
check`, then takes that lab down; a lab already up here (the demo) is never touched.
Figures are printed, never asserted, beside a floor measured in the same run (a bare loop
splitting every line of the rendered configs into words); the goals are 5 s for the national
config audit (issue 15) and 60 s for the live checks of a 150-node province.

Run: ``.venv/bin/python benchmarks/isolation.py [--provinces N] [--platform P] [--live]``
(or ``-m benchmarks.isolation``).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

if not __package__:
    # run as a file, this file's folder comes first on sys.path, and this very file would
    # stand in for the `isolation` package it measures
    HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.render.engine import render_network
from egovnet.wiring.lab import RunnerAccess, lab_names
from isolation import interconnect
from isolation.analysis import Audit
from isolation.live import live_audit
from isolation.sources import NO_SECRETS, intended_configs, read_running
from lab.sandbox import SANDBOX_LOCK, sandbox_inventory

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
GOAL = 5.0
"""Seconds for the national config audit, load to findings, on 2 cores (issue 15)."""
LAB = "egvb-isolation"
SECRETS = Path(".secrets/secrets.yaml")


def timed(label: str, work: Callable[[], T]) -> T:
    """Run `work`, print its wall-clock seconds and this process's CPU seconds beside them
    (on a machine shared with other work, wall clock moves with the load; CPU less so)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    print(f"  {label:<16} {wall:7.2f} s  (CPU {used:.2f} s)")
    return result


def config_audit(provinces: int, platform: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inventory = generate_inventory(provinces, 11, 9, 4, platform=platform)
        write_inventory(inventory, Path(tmp))
        print(f"config audit, generated inventory of {provinces} province(s), {platform}:")
        started, cpu = time.perf_counter(), time.process_time()
        network = timed("load", lambda: load_network(tmp))
        configs = timed("render + parse", lambda: intended_configs(network))
        audit = timed("routing", lambda: Audit(network, configs))
        findings = timed("questions", audit.run)
        total, used = time.perf_counter() - started, time.process_time() - cpu
        tables = len(audit.state.tables)
        print(
            f"  {'total':<16} {total:7.2f} s  (CPU {used:.2f} s; {len(network.nodes)} nodes, "
            f"{tables} routing "
            f"instances, {len(findings)} findings; goal <= {GOAL:g} s)"
        )
        bare = split_floor(render_network(network, NO_SECRETS))  # each node's own platform
        print(
            f"  floor: split every line of the rendered configs into words {bare:.2f} s; "
            f"audit / floor {total / bare:.1f}x"
        )


def split_floor(texts: dict[str, str]) -> float:
    """Seconds a bare loop takes to split every line of `texts` into words: what reading
    the configs cannot beat, measured in the same run as the audit."""
    started = time.perf_counter()
    for text in texts.values():
        for line in text.splitlines():
            line.split()
    return time.perf_counter() - started


GROWN = ("hebei-exit", "hebei-core-1", "hebei-core-2")


def grown_config(text: str, interfaces: int, host_index: int) -> str:
    """`text` (a VRP config) with `interfaces` more internet-facing /30 interfaces in the
    public VPN instance and one static route over each, as a big edge router's config."""
    lines = [text.replace("\nreturn", "")]
    for n in range(interfaces):
        base = (100 << 24) | (64 << 16) | (host_index << 20) | (n << 2)
        ip = ".".join(str((base >> s) & 255) for s in (24, 16, 8, 0))
        far = ".".join(str(((base + 2) >> s) & 255) for s in (24, 16, 8, 0))
        route = (198 << 24) | (18 << 16) | (host_index << 20) | n
        dest = ".".join(str((route >> s) & 255) for s in (24, 16, 8, 0))
        lines.append(
            f"interface GigabitEthernet9/{n // 1000}/{n % 1000}\n"
            f" description internet uplink {n} of a grown edge router\n"
            " ip binding vpn-instance public\n"
            f" ip address {ip} 255.255.255.252\n#\n"
            f"ip route-static vpn-instance public {dest} 255.255.255.255 {far}"
            f" description grown route {n}\n#\n"
        )
    return "".join(lines) + "return\n"


def real_size(interfaces: int) -> None:
    network = load_network(ROOT / "inventory")
    texts = render_network(network, NO_SECRETS, "huawei_vrp")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for host, text in texts.items():
            grown = host in GROWN
            body = grown_config(text, interfaces, GROWN.index(host)) if grown else text
            (directory / f"{host}.cfg").write_text(body, encoding="utf-8")
        sizes = [(directory / f"{h}.cfg").stat().st_size for h in GROWN]
        print(
            f"running-config audit, sample inventory (VRP), {', '.join(GROWN)} grown to "
            f"{', '.join(f'{s / 1e6:.1f} MB' for s in sizes)} ({interfaces} interfaces and "
            "routes each):"
        )
        started = time.perf_counter()
        configs, _ = timed("read + parse", lambda: read_running(network, directory))
        audit = timed("routing", lambda: Audit(network, configs))
        findings = timed("questions", audit.run)
        total = time.perf_counter() - started

        def floor() -> int:
            count = 0
            for host in GROWN:
                for line in (directory / f"{host}.cfg").read_text(encoding="utf-8").splitlines():
                    count += len(line.split())
            return count

        floor_started = time.perf_counter()
        floor()
        bare = time.perf_counter() - floor_started
        print(
            f"  {'total':<16} {total:7.2f} s  ({len(audit.uplinks)} internet-facing "
            f"interfaces, {len(findings)} findings); floor (read + split every line of the "
            f"grown files) {bare:.2f} s"
        )


def egovnet(inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`egovnet` in the inventory's own folder (its build/ stays there), with the secrets
    file of the directory the benchmark runs from, if there is one."""
    command = [str(Path(sys.executable).parent / "egovnet"), "-i", str(inventory), *args]
    env = dict(os.environ)
    if SECRETS.exists():
        env.setdefault("EGOVNET_SECRETS", str(SECRETS.resolve()))
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=inventory.parent, env=env
    )
    if done.returncode not in {0, 1}:  # 1: up, but lab status found a node unhealthy
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip() or done.stdout[-500:]}")
    return done


def lab_up(inventory: Path) -> None:
    done = egovnet(inventory, "lab", "up", "--json", "--timeout", "300")
    report = json.loads(done.stdout)
    unhealthy = [row["node"] for row in report["status"] if not row["healthy"]]
    if unhealthy:
        print(f"  (lab up: {len(unhealthy)} node(s) not healthy: {', '.join(unhealthy[:5])})")


def live(source: Path) -> None:
    print(f"live checks on a lab of {source} (waiting for the sandbox lock):")
    with SANDBOX_LOCK.open("a") as lock, tempfile.TemporaryDirectory() as tmp:
        fcntl.flock(lock, fcntl.LOCK_EX)
        inventory = Path(tmp) / "inventory"
        network = sandbox_inventory(source, inventory, LAB)
        try:
            timed("lab up", lambda: lab_up(inventory))
            stages: dict[str, float] = {}
            access = RunnerAccess(network.lab_name)
            findings = live_audit(network, access, lab_names(network), stages)
            for stage, seconds in stages.items():
                print(f"  {stage:<16} {seconds:7.2f} s")
            pairs = timed(
                "interconnect",
                lambda: interconnect.check(network, access, lab_names(network)),
            )
            routers = len(network.nodes)
            print(
                f"  ({routers} routers, {len(findings)} findings, {len(pairs)} pairs; "
                "goal <= 60 s for a 150-router province)"
            )
        finally:
            egovnet(inventory, "lab", "down", "--lab", LAB)
            fcntl.flock(lock, fcntl.LOCK_UN)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provinces", type=int, default=31)
    parser.add_argument("--platform", default="frr", help="every node's platform (default frr)")
    parser.add_argument(
        "--real-size",
        type=int,
        metavar="N",
        default=0,
        help="instead: the running audit with three configs grown by N interfaces and "
        "routes each (21000: about 6 MB)",
    )
    parser.add_argument("--live", action="store_true", help="also time the live checks (root)")
    parser.add_argument(
        "--live-inventory",
        type=Path,
        default=ROOT / "inventory",
        help="the inventory a copy of which --live brings up (default: the sample)",
    )
    options = parser.parse_args()
    if options.real_size:
        real_size(options.real_size)
        return 0
    config_audit(options.provinces, options.platform)
    if options.live:
        if os.geteuid() != 0:
            print("--live needs root", file=sys.stderr)
            return 2
        live(options.live_inventory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
