"""How fast and how large the namespace lab is at a province's size (root only).

Generates a province like Hebei (2 core routers, an exit, 11 cities, 13 counties each: 157
routers, plus department and internet hosts), brings it up with the real runner and guard,
and prints: time to namespaces, to links, to daemons up, to full BGP convergence, resident
memory per router (zebra + bgpd + staticd, and per daemon), and time to tear down; beside
them the floor measured in the same run: a bare loop (one `ip -batch` in a scratch network
namespace) creating as many namespaces and veth pairs as the lab has, i.e. what the kernel
alone takes. Goals (issue 15): <= 60 s to converged and <= 40 MiB median per router on 2
cores. Figures are printed, never asserted; on a shared machine read the ratio to the floor.

Bring-ups of a lab this size need about 8 GB and the CPU: where several people share a
machine, run it under `flock` on a lock they share, one big lab at a time.

Run: ``.venv/bin/python benchmarks/lab_scale.py [--counties K] [--departments D]``.
The lab is its own (`egvb-lab-scale`, addresses clear of this machine and of any lab up here:
lab/sandbox.py), so a lab already up (the demo) is never touched. Everything it creates is
removed at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from egovnet.generate import generate_inventory, write_inventory
from egovnet.render.engine import render_network, write_configs
from egovnet.secrets import SecretStore, SharedSecrets, env_name, secret_names, snmp_credentials
from lab import runner, session
from lab.keys import ensure_lab_key
from lab.plan import LabPlan, read_plan
from lab.sandbox import SANDBOX_LOCK, sandbox_inventory
from topology.clab import CONFIG_DIR, write_clab

LAB = "egvb-lab-scale"
GOAL_SECONDS = 60


def rss_kib(pid: int) -> int:
    """Resident memory of one process, KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def router_rss(holder: runner.Holder) -> dict[str, int]:
    """KiB resident in each FRR daemon of one router (processes sharing its PID namespace);
    sshd and snmpd run beside them but are not FRR's footprint."""
    namespace = Path(f"/proc/{holder.pid}/ns/pid").readlink()
    daemons: dict[str, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == holder.pid:
            continue
        try:
            if (proc / "ns" / "pid").readlink() != namespace:
                continue
            name = (proc / "comm").read_text().strip()
        except OSError:
            continue
        if name in runner.DAEMONS:
            daemons[name] = daemons.get(name, 0) + rss_kib(int(proc.name))
    return daemons


def kernel_floor(plan: LabPlan) -> float:
    """Seconds the kernel alone takes for the lab's namespaces and veth pairs: one `ip -batch`
    in a scratch mount and network namespace (its names never reach the machine's
    /run/netns; everything goes when it exits)."""
    index = {name: number for number, name in enumerate(plan.nodes)}
    lines = [f"netns add floor{number}" for number in index.values()]
    for number, link in enumerate(plan.links):
        a, b = index[link.a[0]], index[link.b[0]]
        lines.append(
            f"link add fa{number} netns floor{a} type veth peer name fb{number} netns floor{b}"
        )
    script = "mkdir -p /run/netns && mount -t tmpfs floor /run/netns && exec ip -batch -"
    argv = ["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script]
    started = time.perf_counter()
    subprocess.run(argv, input="\n".join(lines) + "\n", text=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    """Bring a generated province up, measure, take it down."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=11)
    parser.add_argument("--counties", type=int, default=13)
    parser.add_argument("--departments", type=int, default=2)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the lab needs root")
    with (
        tempfile.TemporaryDirectory(prefix="egovnet-lab-scale-") as work,
        SANDBOX_LOCK.open("a") as lock,
    ):
        fcntl.flock(lock, fcntl.LOCK_EX)
        directory = Path(work)
        write_inventory(
            generate_inventory(1, args.cities, args.counties, args.departments),
            directory / "generated",
        )
        network = sandbox_inventory(directory / "generated", directory / "inv", LAB)
        store = SecretStore(environ={env_name(n): "benchmark" for n in secret_names(network)})
        topology = write_clab(network, directory / "lab" / f"{LAB}.clab.yml")
        configs = render_network(network, SharedSecrets.resolve(network, store), "frr")
        write_configs(configs, topology.parent / CONFIG_DIR)
        plan = read_plan(topology)
        marks: dict[str, float] = {}
        started = time.perf_counter()

        def progress(phase: str, done: int, total: int) -> None:
            if done == total:
                marks[phase] = time.perf_counter() - started

        try:
            users = [snmp_credentials(u, store) for u in network.services.snmp.users]
            report = session.up(
                network,
                plan,
                ssh_key=ensure_lab_key(),
                snmp_users=users,
                timeout=600,
                progress=progress,
            )
            converged = report.converged_after
            marks["converged"] = marks.pop("convergence")
            holders = runner.find_holders(plan.name)
            routers = [h for h in holders if plan.nodes[h.node].role == "router"]
            per_router = [router_rss(h) for h in routers]
        except runner.LabError as exc:
            raise SystemExit(str(exc)) from exc
        finally:
            down_started = time.perf_counter()
            session.down(plan.name)
            teardown = time.perf_counter() - down_started
        floor = kernel_floor(plan)
    print_report(plan, marks, converged, per_router, teardown, floor)


def print_report(
    plan: LabPlan,
    marks: dict[str, float],
    converged: float,
    per_router: list[dict[str, int]],
    teardown: float,
    floor: float,
) -> None:
    """Print every figure of one run."""
    memory = [sum(daemons.values()) / 1024 for daemons in per_router]
    print(
        f"egovnet lab scale: {len(plan.routers())} routers, {len(plan.nodes)} nodes, "
        f"{len(plan.links)} links; {os.cpu_count()} CPU(s)"
    )
    for phase in ("namespaces", "links", "daemons", "converged"):
        if phase in marks:
            print(f"  {phase:<12} {marks[phase]:8.1f} s")
    print(
        f"  floor: bare namespaces + veth pairs (one ip -batch) {floor:.1f} s; "
        f"namespaces + links / floor: {marks.get('links', 0) / floor:.1f}x; "
        f"converged / floor: {marks.get('converged', 0) / floor:.1f}x"
    )
    print(f"  (BGP converged {converged:.1f} s after the last daemon started)")
    print(
        f"  RSS per router: median {statistics.median(memory):.1f} MiB, "
        f"max {max(memory):.1f} MiB (goal <= 40 MiB median)"
    )
    for daemon in runner.DAEMONS:
        values = [d.get(daemon, 0) / 1024 for d in per_router]
        print(
            f"    {daemon:<8} median {statistics.median(values):5.1f} MiB, max {max(values):5.1f}"
        )
    print(f"  teardown     {teardown:8.1f} s")
    goal = "meets" if marks.get("converged", 1e9) <= GOAL_SECONDS else "misses"
    print(f"  time to converged: {goal} the {GOAL_SECONDS} s goal (a shared machine: see floor)")


if __name__ == "__main__":
    main()
