"""How fast the rollout engine is on a province-sized lab (root only).

Generates a province like Hebei (2 cores, an exit, 11 cities, 13 counties each: 157
routers), brings its lab up with the rendered configs, and times what an engineer runs,
through the real console script:

- `egovnet backup` of every router (one git commit);
- `egovnet rollout --dry-run` (backup + diff of every router; goal <= 10 s at 157 routers,
  the backup alone <= 8 s);
- `egovnet rollout --yes` of a change touching every router (BGP timers 3/9 -> 4/12 s in
  network.yaml), with push time and gate waits per wave reported apart;
- the same rollout again (nothing to change);
- one SSH session to one router (login, `show running-config`, logout), the unit against
  which the per-node push cost is compared;
- the floor of a backup: every router's `show running-config` over bare paramiko (login,
  read to the prompt, one command, out: no netmiko, no Nornir, no git), 20 at once as the
  backup runs, so the backup's ratio to it is what egovnet adds; beside it the naive floor
  (one session times the rounds of 20), which leaves out that 20 logins at once share two
  cores with the lab's own daemons.

Figures are printed, never asserted. The lab is its own (`egvb-rollout`, addresses clear of
this machine and of any lab up here: lab/sandbox.py), so a lab already up (the demo) is never
touched; it is taken down at the end, also on failure. Holds the sandbox lock (benchmarks and
test sessions take turns) for the whole run.

Run: ``.venv/bin/python benchmarks/rollout.py [--counties K]``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import paramiko

from egovnet.generate import generate_inventory, write_inventory
from egovnet.model import Network
from egovnet.platforms import lab_platform
from egovnet.secrets import env_name, secret_names
from lab.keys import lab_key
from lab.sandbox import SANDBOX_LOCK, sandbox_inventory
from nornir_tasks.drivers.frr import FrrDriver
from nornir_tasks.drivers.ssh import SshParams

EGOVNET = Path(sys.executable).parent / "egovnet"
LAB = "egvb-rollout"


def run(
    env: dict[str, str], cwd: Path, *args: str
) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(EGOVNET), *args], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )
    return time.perf_counter() - started, done


def report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    if not done.stdout.strip().startswith("{"):
        raise SystemExit(f"egovnet failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def unhealthy(done: subprocess.CompletedProcess[str]) -> str:
    """What `lab up --json` says went wrong: its error, or the routers not yet healthy."""
    try:
        document = json.loads(done.stdout)
    except json.JSONDecodeError:
        return (done.stdout + done.stderr)[-2000:]
    rows = [row for row in document.get("status", []) if not row.get("healthy")]
    shown = [
        f"{row['node']} ({row['sessions_up']}/{row['sessions']} sessions, ssh {row['ssh']})"
        for row in rows[:20]
    ]
    return f"{document.get('error', '')} {len(rows)} unhealthy: {', '.join(shown)}"


def one_ssh_session(address: str, host: str) -> float:
    """Seconds for a login, one `show running-config`, and a logout: median of 5."""
    times = []
    for _ in range(5):
        started = time.perf_counter()
        params = SshParams(host, address, "root", key_file=str(lab_key()))
        driver = FrrDriver(params, lab_platform())
        driver.open()
        driver.get_config()
        driver.close()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


PARALLEL = 20
"""Sessions at once: the rollout's `--max-parallel` default."""


def bare_show_running(address: str) -> bool:
    """One login, `show running-config`, logout over bare paramiko (no netmiko, no
    egovnet): read until the prompt, type, read until the prompt; True when the config came
    back."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # noqa: S507 - lab nodes
    try:
        client.connect(address, username="root", key_filename=str(lab_key()), timeout=60,
                       allow_agent=False, look_for_keys=False)  # fmt: skip
        channel = client.invoke_shell()
        channel.settimeout(60)

        def until_prompt() -> str:
            text = b""
            while not re.search(rb"[#>] ?$", text):
                chunk = channel.recv(65536)
                if not chunk:
                    break
                text += chunk
            return text.decode("utf-8", "replace")

        until_prompt()
        channel.sendall(b"show running-config no-header\n")
        config = until_prompt()
        channel.sendall(b"exit\n")
        return "router bgp" in config
    finally:
        client.close()


def backup_floor(network: Network) -> tuple[float, int]:
    """Seconds for every router's running config over bare paramiko, `PARALLEL` at once, and
    how many came back."""
    addresses = [str(node.management.ip) for node in network.nodes if node.management]
    started = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        got = sum(pool.map(bare_show_running, addresses))
    return time.perf_counter() - started, got


def floors(network: Network) -> tuple[float, float]:
    """Print and return one SSH session through the driver and the bare paramiko backup floor."""
    routers = len(network.nodes)
    first = network.nodes[-1]
    session = one_ssh_session(str(first.management.ip), first.name)
    print(f"  one SSH session (login, show run, out) {session:7.2f} s")
    rounds = -(-routers // PARALLEL)
    print(
        f"  naive backup floor ({rounds} rounds of {PARALLEL} sessions) {rounds * session:5.1f} s"
    )
    floor, got = backup_floor(network)
    print(f"  backup floor: paramiko, {PARALLEL} at once  {floor:7.1f} s ({got}/{routers} configs)")
    return session, floor


def wave_lines(document: dict[str, Any]) -> list[str]:
    lines = []
    for wave in document["waves"]:
        pushes = [
            host["timings"].get("push", 0.0)
            for host in document["hosts"].values()
            if host["wave"] == wave["name"] and "push" in host["timings"]
        ]
        median = statistics.median(pushes) if pushes else 0.0
        lines.append(
            f"    wave {wave['name']:<9} {len(wave['hosts']):>4} hosts"
            f"  push {wave['push_seconds']:6.1f}s  gates {wave['gate_seconds']:5.1f}s"
            f"  median push per host {median:.2f}s"
        )
    return lines


def print_failures(document: dict[str, Any]) -> None:
    """Why a rollout did not apply: the report's message and each host's error."""
    if document["outcome"] == "applied":
        return
    print(f"    why: {document.get('message')}")
    for name, host in document["hosts"].items():
        if host.get("error"):
            print(f"    {name}: {host['error'][:300]}")


def print_pushes(applied: dict[str, Any], push: float, gates: float, session: float) -> None:
    """Push and gate time of a rollout, and the median push per router against one session."""
    pushes = [h["timings"]["push"] for h in applied["hosts"].values() if "push" in h["timings"]]
    if not pushes:
        print("    no router was pushed: the figures above are all there is")
        return
    median = statistics.median(pushes)
    print(
        f"    pushes {push:.1f} s, gate waits {gates:.1f} s; median push per router "
        f"{median:.2f} s = {median / session:.1f}x one SSH session"
    )


def touch_every_router(inventory: Path) -> None:
    """A change every router must take, harmless to routing: BGP timers 3/9 -> 4/12 s.

    Keepalive alone (4/9) is refused by validation: FRR keeps at most hold/3 and shows
    `timers bgp 3 9`, so no commit could ever make the router match."""
    network_yaml = inventory / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8")
    text = text.replace("keepalive: 3", "keepalive: 4").replace("hold: 9", "hold: 12")
    network_yaml.write_text(text, encoding="utf-8")


def province(directory: Path, inventory: Path, cities: int, counties: int) -> Network:
    """A generated province as this benchmark's own lab, at addresses clear of this machine."""
    generated = directory / "generated"
    write_inventory(generate_inventory(1, cities, counties, 2), generated)
    return sandbox_inventory(generated, inventory, LAB)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=11)
    parser.add_argument("--counties", type=int, default=13)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the lab needs root")
    with (
        tempfile.TemporaryDirectory(prefix="egovnet-rollout-bench-") as work,
        SANDBOX_LOCK.open("a") as lock,
    ):
        fcntl.flock(lock, fcntl.LOCK_EX)
        directory = Path(work)
        inventory = directory / "inv"
        network = province(directory, inventory, args.cities, args.counties)
        env = {k: v for k, v in os.environ.items() if not k.startswith("EGOVNET_")}
        env |= {env_name(name): "benchmark-secret" for name in secret_names(network)}
        env["EGOVNET_INVENTORY"] = str(inventory)
        routers = len(network.nodes)
        print(f"province lab: {routers} routers, {os.cpu_count()} cores")
        try:
            seconds, done = run(env, directory, "lab", "up", "--json", "--timeout", "900")
            if done.returncode != 0:
                raise SystemExit(f"lab up failed ({done.returncode}): {unhealthy(done)}")
            print(f"  lab up, converged                      {seconds:7.1f} s")
            session, floor = floors(network)
            frr = ("--platform", "frr")
            seconds, done = run(env, directory, "backup", *frr, "--json")
            backup = report(done)
            print(
                f"  backup of {len(backup['hosts'])} routers (one commit)    {seconds:7.1f} s "
                f"= {seconds / floor:.1f}x the paramiko floor (goal <= 8 s)"
            )
            seconds, done = run(env, directory, "rollout", "--dry-run", *frr, "--json")
            dry = report(done)
            print(
                f"  dry run (backup + diff), whole command  {seconds:7.1f} s "
                f"(backup {dry['timings']['backup']:.1f} s, diff {dry['timings']['diff']:.1f} s;"
                f" goal <= 10 s) = {seconds / floor:.1f}x the paramiko floor"
            )
            touch_every_router(inventory)
            seconds, done = run(env, directory, "rollout", "--yes", *frr, "--json")
            applied = report(done)
            changed = sum(h["outcome"] == "applied" for h in applied["hosts"].values())
            print(
                f"  staged rollout touching every router    {seconds:7.1f} s "
                f"({applied['outcome']}, {changed} applied)"
            )
            print("\n".join(wave_lines(applied)))
            print_failures(applied)
            push_total = sum(w["push_seconds"] for w in applied["waves"])
            gate_total = sum(w["gate_seconds"] for w in applied["waves"])
            print_pushes(applied, push_total, gate_total, session)
            seconds, done = run(env, directory, "rollout", "--yes", *frr, "--json")
            again = report(done)
            print(
                f"  the same rollout again                  {seconds:7.1f} s ({again['outcome']})"
            )
        finally:
            run(env, directory, "lab", "down", "--lab", LAB)


if __name__ == "__main__":
    main()
