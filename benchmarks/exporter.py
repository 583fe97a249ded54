"""egovnet's SNMP exporter side by side with Debian's prometheus-snmp-exporter (root only).

Both scrape the same net-snmp agent for the same 14 IF-MIB columns (ifName, ifAlias and 12
counters/gauges) of a node with about 60 interfaces, with SNMPv3 authPriv (SHA/AES) and
with v2c, first directly (loopback RTT), then through a UDP relay that holds every packet
10 ms each way (about 20 ms round trip: no netem on these machines). Printed per case:
scrape duration p50/p95 seen by the HTTP client, CPU seconds per scrape of the exporter
process (utime+stime from /proc), and egovnet's figure over the reference's. Last, a
province of 157 devices scraped once (as Prometheus does every 30 s) by egovnet's exporter
with its lab modules: CPU seconds used, as a share of one core over 30 s.

Everything runs in a network namespace of its own (`unshare --net`): the agent's addresses
(the sample's management addresses) exist only there, nothing can leave the machine, and
the namespace with its veths vanishes when the benchmark exits. Figures are printed, never
asserted. Run: ``.venv/bin/python benchmarks/exporter.py [--scrapes N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.model import Network

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "inventory"
AUTH, PRIV, COMMUNITY = "bench-auth-key", "bench-priv-key", "bench-community"
ENV = {
    "EGOVNET_SECRET_SNMP_NOC_AUTH": AUTH,
    "EGOVNET_SECRET_SNMP_NOC_PRIV": PRIV,
    "EGOVNET_SECRET_SNMP_BENCH": COMMUNITY,
}
COLUMNS = {
    # label columns
    "ifName": "1.3.6.1.2.1.31.1.1.1.1",
    "ifAlias": "1.3.6.1.2.1.31.1.1.1.18",
    # metric columns
    "ifHCInOctets": "1.3.6.1.2.1.31.1.1.1.6",
    "ifHCOutOctets": "1.3.6.1.2.1.31.1.1.1.10",
    "ifHCInUcastPkts": "1.3.6.1.2.1.31.1.1.1.7",
    "ifHCOutUcastPkts": "1.3.6.1.2.1.31.1.1.1.11",
    "ifHCInMulticastPkts": "1.3.6.1.2.1.31.1.1.1.8",
    "ifHCOutMulticastPkts": "1.3.6.1.2.1.31.1.1.1.12",
    "ifInErrors": "1.3.6.1.2.1.2.2.1.14",
    "ifOutErrors": "1.3.6.1.2.1.2.2.1.20",
    "ifInDiscards": "1.3.6.1.2.1.2.2.1.13",
    "ifOutDiscards": "1.3.6.1.2.1.2.2.1.19",
    "ifOperStatus": "1.3.6.1.2.1.2.2.1.8",
    "ifHighSpeed": "1.3.6.1.2.1.31.1.1.1.15",
}
COUNTERS = {"ifHCInOctets", "ifHCOutOctets", "ifInErrors", "ifOutErrors", "ifInDiscards"}
COUNTERS |= {"ifOutDiscards", "ifHCInUcastPkts", "ifHCOutUcastPkts"}
COUNTERS |= {"ifHCInMulticastPkts", "ifHCOutMulticastPkts"}
VETH_PAIRS = 29
"""Interfaces of the agent's namespace: lo and 29 veth pairs, 59 in all."""
DIRECT, RELAYED = "zhengding", "luancheng"
"""Inventory hosts whose management addresses the agent and the relay listen on."""
EGOV_PORT, REF_PORT = 19116, 19117
TICK = os.sysconf("SC_CLK_TCK")


def sh(*argv: str) -> str:
    return subprocess.run(list(argv), capture_output=True, text=True, check=True).stdout


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def egov_module(directory: Path) -> Path:
    """egovnet's module with exactly the 14 columns."""
    labels = [{"label": name, "oid": COLUMNS[name]} for name in ("ifName", "ifAlias")]
    metrics = [
        {
            "name": f"egov_bench_{name.lower()}" + ("_total" if name in COUNTERS else ""),
            "oid": oid,
            "type": "counter" if name in COUNTERS else "gauge",
            "help": name,
        }
        for name, oid in COLUMNS.items()
        if name not in ("ifName", "ifAlias")
    ]
    module = {
        "name": "bench_if",
        "description": "The benchmark's 14 IF-MIB columns.",
        "tables": [
            {
                "name": "interfaces",
                "index": [{"label": "ifIndex", "type": "integer"}],
                "labels": labels,
                "metrics": metrics,
            }
        ],
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "bench_if.yaml").write_text(yaml.safe_dump(module))
    return directory


def reference_config(path: Path) -> Path:
    """snmp_exporter 0.21's snmp.yml, written by hand with numeric OIDs: one module per
    SNMP version, every metric indexed by ifIndex with ifName/ifAlias looked up."""
    lookups = [
        {"labels": ["ifIndex"], "labelname": name, "oid": COLUMNS[name], "type": "DisplayString"}
        for name in ("ifName", "ifAlias")
    ]
    metrics = [
        {
            "name": name,
            "oid": oid,
            "type": "counter" if name in COUNTERS else "gauge",
            "indexes": [{"labelname": "ifIndex", "type": "gauge"}],
            "lookups": lookups,
        }
        for name, oid in COLUMNS.items()
        if name not in ("ifName", "ifAlias")
    ]
    common = {"walk": list(COLUMNS.values()), "metrics": metrics, "timeout": "5s", "retries": 3}
    config = {
        "if_v3": common
        | {
            "version": 3,
            "auth": {
                "username": "noc",
                "security_level": "authPriv",
                "password": AUTH,
                "auth_protocol": "SHA",
                "priv_protocol": "AES",
                "priv_password": PRIV,
            },
        },
        "if_v2": common | {"version": 2, "auth": {"community": COMMUNITY}},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def v2c_inventory(directory: Path, hosts: list[str]) -> Path:
    """A copy of the sample where `hosts` are polled with v2c (services.snmp.v2c)."""
    shutil.copytree(SAMPLE, directory)
    text = (directory / "network.yaml").read_text(encoding="utf-8")
    block = (
        f"    v2c:\n      community: {{secret: snmp-bench}}\n      hosts: [{', '.join(hosts)}]\n"
    )
    (directory / "network.yaml").write_text(text.replace("  ssh:\n", block + "  ssh:\n", 1))
    return directory


@contextmanager
def process(argv: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    with log.open("wb") as out:
        child = subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env)
    try:
        yield child.pid
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback http
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def fetch(url: str) -> tuple[float, str]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 - loopback http
        body = answer.read().decode()
    return time.perf_counter() - started, body


class Relay:
    """A UDP relay holding each packet `delay` seconds in both directions."""

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], delay: float) -> None:
        self.listen, self.upstream, self.delay = listen, upstream, delay
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.transports: list[asyncio.BaseTransport] = []

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(10)

    def stop(self) -> None:
        """Close every socket of the relay and end its thread."""

        async def close() -> None:
            for transport in self.transports:
                transport.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _serve(self) -> None:
        relay = self
        clients: dict[tuple[str, int], asyncio.DatagramTransport] = {}

        class Front(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                relay.loop.call_later(relay.delay, lambda: asyncio.ensure_future(send(data, addr)))

        front_transport, _ = await self.loop.create_datagram_endpoint(Front, local_addr=self.listen)
        self.transports.append(front_transport)

        class Back(asyncio.DatagramProtocol):
            def __init__(self, client: tuple[str, int]) -> None:
                self.client = client

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                relay.loop.call_later(
                    relay.delay, lambda: front_transport.sendto(data, self.client)
                )

        async def send(data: bytes, client: tuple[str, int]) -> None:
            if client not in clients:
                transport, _ = await relay.loop.create_datagram_endpoint(
                    lambda: Back(client), remote_addr=relay.upstream
                )
                clients[client] = transport
                relay.transports.append(transport)
            clients[client].sendto(data)


def measure(pid: int, url: str, scrapes: int, series: str) -> dict[str, float]:
    for _ in range(3):  # warm up: engine discovery, first connections
        fetch(url)
    durations = []
    before = cpu_seconds(pid)
    for _ in range(scrapes):
        seconds, body = fetch(url)
        durations.append(seconds)
    cpu = cpu_seconds(pid) - before
    quantiles = statistics.quantiles(durations, n=20)
    return {
        "p50": statistics.median(durations),
        "p95": quantiles[18],
        "cpu": cpu / scrapes,
        "rows": sum(1 for line in body.splitlines() if line.startswith(series + "{")),
    }


def inner(scrapes: int) -> None:
    sh("ip", "link", "set", "lo", "up")
    for index in range(VETH_PAIRS):
        sh("ip", "link", "add", f"bv{index}a", "type", "veth", "peer", "name", f"bv{index}b")
        sh("ip", "link", "set", f"bv{index}a", "up")
        sh("ip", "link", "set", f"bv{index}b", "up")
    network = load_network(SAMPLE)
    direct = str(network.node(DIRECT).management.ip)
    relayed = str(network.node(RELAYED).management.ip)
    for address in (direct, relayed):
        sh("ip", "address", "add", f"{address}/32", "dev", "lo")
    work = Path(tempfile.mkdtemp(prefix="egov-bench-"))
    try:
        run_benchmark(work, network, direct, relayed, scrapes)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def start_snmpd(work: Path, addresses: list[str] | None) -> list[str]:
    """snmpd's command line: on `addresses`, or (None) on every address of the benchmark's
    own namespace: a config line cannot hold a province's 157 addresses."""
    (work / "persist").mkdir(exist_ok=True)
    listen = ",".join(f"udp:{a}:161" for a in addresses) if addresses else "udp:161"
    (work / "snmpd.conf").write_text(
        f"agentAddress {listen}\n"
        f'createUser noc SHA "{AUTH}" AES "{PRIV}"\nrouser noc priv\n'
        f"rocommunity {COMMUNITY}\n"
    )
    return [
        "env",
        f"SNMP_PERSISTENT_DIR={work / 'persist'}",
        "/usr/sbin/snmpd",
        "-f",
        "-C",
        "-c",
        str(work / "snmpd.conf"),
        "-LF",
        "0-4",  # warnings and worse: not a line per request
        str(work / "snmpd.out"),
    ]


def run_benchmark(work: Path, network: Network, direct: str, relayed: str, scrapes: int) -> None:
    modules = egov_module(work / "modules")
    reference = reference_config(work / "snmp.yml")
    inventories = {"v3": SAMPLE, "v2c": v2c_inventory(work / "inv-v2c", [DIRECT, RELAYED])}
    env = {**os.environ, **ENV}
    relay = Relay((relayed, 161), (direct, 161), 0.010)
    results: dict[tuple[str, str, str], dict[str, float]] = {}
    with process(start_snmpd(work, [direct]), work / "snmpd.log"):
        time.sleep(1)
        relay.start()
        with process(
            [
                "prometheus-snmp-exporter",
                f"--config.file={reference}",
                f"--web.listen-address=127.0.0.1:{REF_PORT}",
            ],
            work / "ref.log",
        ) as ref_pid:
            wait_http(f"http://127.0.0.1:{REF_PORT}/metrics")
            for version, inventory in inventories.items():
                egov = [
                    sys.executable, "-m", "egovnet.cli.app", "-i", str(inventory), "exporter",
                    "--listen", f"127.0.0.1:{EGOV_PORT}", "--modules", str(modules),
                ]  # fmt: skip
                with process(egov, work / f"egov-{version}.log", env) as egov_pid:
                    wait_http(f"http://127.0.0.1:{EGOV_PORT}/metrics")
                    for rtt, (host, address) in {
                        "lab": (DIRECT, direct),
                        "20ms": (RELAYED, relayed),
                    }.items():
                        egov_url = (
                            f"http://127.0.0.1:{EGOV_PORT}/snmp?target={host}&module=bench_if"
                        )
                        module = "if_v3" if version == "v3" else "if_v2"
                        ref_url = (
                            f"http://127.0.0.1:{REF_PORT}/snmp?target={address}&module={module}"
                        )
                        results["egovnet", version, rtt] = measure(
                            egov_pid, egov_url, scrapes, "egov_bench_ifhcinoctets_total"
                        )
                        results["reference", version, rtt] = measure(
                            ref_pid, ref_url, scrapes, "ifHCInOctets"
                        )
    relay.stop()  # the province's agent listens on every address, port 161 included
    print_results(results, scrapes)
    province(work, scrapes)


def print_results(results: dict[tuple[str, str, str], dict[str, float]], scrapes: int) -> None:
    print(f"\nIF-MIB, 14 columns, {VETH_PAIRS * 2 + 1} interfaces, {scrapes} scrapes per case")
    header = (
        f"{'case':<14}{'exporter':<11}{'rows':>5}{'p50 ms':>9}{'p95 ms':>9}{'CPU ms/scrape':>15}"
    )
    print(header)
    print("-" * len(header))
    for version in ("v3", "v2c"):
        for rtt in ("lab", "20ms"):
            for who in ("egovnet", "reference"):
                r = results[who, version, rtt]
                print(
                    f"{version + ' ' + rtt:<14}{who:<11}{r['rows']:>5.0f}{r['p50'] * 1e3:>9.1f}"
                    f"{r['p95'] * 1e3:>9.1f}{r['cpu'] * 1e3:>15.1f}"
                )
            ours, theirs = results["egovnet", version, rtt], results["reference", version, rtt]
            print(
                f"{'':<14}{'ratio':<11}{'':>5}{ours['p50'] / theirs['p50']:>9.2f}"
                f"{ours['p95'] / theirs['p95']:>9.2f}"
                f"{ours['cpu'] / max(theirs['cpu'], 1e-9):>15.2f}"
            )
    print("ratio = egovnet / reference (goals: <= 2x at lab RTT, <= 0.5x at 20 ms, CPU <= 3x)")


def province(work: Path, scrapes: int) -> None:
    """157 devices (Hebei's size), each scraped once with the lab modules, 8 at a time."""
    directory = work / "province"
    write_inventory(generate_inventory(1, 11, 13, 0), directory)
    network = load_network(directory)
    addresses = [str(node.management.ip) for node in network.nodes]
    for address in addresses:  # the two of the first part are there already
        subprocess.run(
            ["ip", "address", "add", f"{address}/32", "dev", "lo"],  # noqa: S607 - iproute2
            capture_output=True,
            check=False,
        )
    (work / "p").mkdir()
    env = {**os.environ, **ENV}
    with process(start_snmpd(work / "p", None), work / "snmpd-province.log") as agent:
        time.sleep(2)
        if (
            not Path(f"/proc/{agent}").exists()
            or "Z" in Path(f"/proc/{agent}/stat").read_text().split()[2]
        ):
            sys.exit(f"snmpd did not start: {(work / 'snmpd-province.log').read_text()}")
        egov = [
            sys.executable, "-m", "egovnet.cli.app", "-i", str(directory), "exporter",
            "--listen", f"127.0.0.1:{EGOV_PORT + 10}",
        ]  # fmt: skip
        with process(egov, work / "egov-province.log", env) as pid:
            modules = "system,if_mib,bgp,ospf,host_resources"
            base = f"http://127.0.0.1:{EGOV_PORT + 10}/snmp?module={modules}&target="
            wait_http(f"http://127.0.0.1:{EGOV_PORT + 10}/metrics")
            names = [node.name for node in network.nodes]
            for name in names[:3]:
                fetch(base + name)  # warm up
            before, started = cpu_seconds(pid), time.perf_counter()
            sizes: list[int] = []

            def one(name: str) -> None:
                sizes.append(len(fetch(base + name)[1]))

            threads: list[threading.Thread] = []
            for name in names:
                while sum(t.is_alive() for t in threads) >= 8:
                    time.sleep(0.005)
                thread = threading.Thread(target=one, args=(name,))
                thread.start()
                threads.append(thread)
            for thread in threads:
                thread.join()
            cpu, wall = cpu_seconds(pid) - before, time.perf_counter() - started
            up = json.dumps({"scrapes": len(sizes)})
    print(
        f"\nprovince: {len(names)} devices scraped once (system, if_mib, bgp, ospf, "
        f"host_resources; ~{VETH_PAIRS * 2 + 1} interfaces each), 8 at a time: {up}\n"
        f"  CPU {cpu:.1f} s in {wall:.1f} s wall; every 30 s that is "
        f"{cpu / 30 * 100:.0f}% of one core (goal: within one core)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=30, help="Scrapes per case.")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("the benchmark needs root (a network namespace of its own)")
    if args.inner:
        inner(args.scrapes)
        return
    for tool in ("prometheus-snmp-exporter", "/usr/sbin/snmpd", "unshare"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed")
    argv = ["unshare", "--net", "--", sys.executable, __file__, "--inner"]
    sys.exit(subprocess.call([*argv, "--scrapes", str(args.scrapes)]))


if __name__ == "__main__":
    main()
