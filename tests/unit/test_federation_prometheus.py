"""Federation with real Prometheus processes on loopback: `monitor config --layout national`
for a generated inventory of two provinces, every Prometheus it describes started on free
ports (the national core's shard, the two provinces', the national one), and the national
one answering queries across both provinces with their labels intact.

What the province Prometheus scrape is the test's own small metrics endpoint per exporter
address (prometheus-client), answering `/snmp?target=HOST` with `egov_snmp_up` and the
labels the exporter gives a device (host, tier, province, city, county: the same
`node_labels` the file_sd entries carry), so what is tested is federation and sharding, not
SNMP. Each province has two exporters (`--exporter-shards 2`): each device must be asked of
one of them only. One county per province answers 0.

Prometheus is Debian's package; in CI (`CI` set) its absence fails the test instead of
skipping it (as in test_monitor_stack). Every process is stopped and every server closed at
teardown; the data lives under the test's temporary directory.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from tests.console import egovnet
from tests.unit.test_monitor_stack import query, require, wait_for

DOWN = {"hebei-c01-k01", "shanxi-c02-k01"}
"""One county per province whose device does not answer: egov_snmp_up 0."""
EXPORTER_LABELS = ("host", "tier", "province", "city", "county")
WAIT = 120.0


def free_block(size: int) -> int:
    """The first port of `size` consecutive loopback ports free now (the layout gives its
    Prometheus and exporters consecutive ports from the ones it is given)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + size >= 65536:
            continue
        held: list[socket.socket] = []
        try:
            for port in range(base, base + size):
                held.append(socket.socket())
                held[-1].bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
        return base
    pytest.fail(f"no {size} consecutive free ports on loopback")


@dataclass
class FakeExporter:
    """One exporter address of a province: answers for the hosts of its province's targets
    file, and remembers which it was asked for."""

    address: str
    hosts: dict[str, dict[str, str]]
    asked: set[str] = field(default_factory=set)
    server: ThreadingHTTPServer | None = None

    def page(self, path: str) -> tuple[int, bytes]:
        url = urllib.parse.urlsplit(path)
        registry = CollectorRegistry()
        if url.path == "/metrics":
            Gauge("egov_snmp_targets", "Targets known", registry=registry).set(len(self.hosts))
            return 200, generate_latest(registry)
        target = urllib.parse.parse_qs(url.query).get("target", [""])[0]
        if url.path != "/snmp" or target not in self.hosts:
            return 400, b"unknown target\n"
        self.asked.add(target)
        labels = self.hosts[target]
        up = Gauge("egov_snmp_up", "Device answered", list(labels), registry=registry)
        up.labels(**labels).set(0 if target in DOWN else 1)
        return 200, generate_latest(registry)

    def start(self) -> None:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = exporter.page(self.path)
                self.send_response(status)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
                return

        host, _, port = self.address.rpartition(":")
        self.server = ThreadingHTTPServer((host, int(port)), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass
class Federation:
    national: str
    shards: dict[str, dict[str, Any]]
    exporters: dict[str, list[FakeExporter]]
    processes: dict[str, subprocess.Popen[bytes]]
    hosts: dict[str, dict[str, str]]
    """Every device's exporter labels, as the targets files give them."""


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def ready(address: str) -> bool:
    try:
        return bool(query(address, "vector(1)"))
    except OSError:
        return False


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    require("prometheus")
    prometheus_binary = shutil.which("prometheus")
    assert prometheus_binary is not None
    inventory = tmp_path_factory.mktemp("inventory")
    generated = egovnet(
        "inventory", "generate", "--provinces", "2", "--cities", "2", "--counties", "1",
        "--departments", "1", "-o", str(inventory),
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    base = free_block(30)
    config = tmp_path_factory.mktemp("federation")
    done = egovnet(
        "monitor", "config", "-o", str(config), "--json", "--layout", "national",
        "--profile", "lab", "--exporter-shards", "2",
        "--prometheus", f"127.0.0.1:{base}", "--exporter", f"127.0.0.1:{base + 10}",
        "--alertmanager", f"127.0.0.1:{base + 25}",
        inventory=inventory,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    plan = json.loads(done.stdout)
    shards = {s["name"]: s for s in plan["shards"]}
    assert set(shards) == {"national-core", "hebei-core", "shanxi-core"}
    exporters: dict[str, list[FakeExporter]] = {}
    hosts: dict[str, dict[str, str]] = {}
    for name, shard in shards.items():
        entries = json.loads((config / "shards" / name / "targets" / "snmp.json").read_text())
        mine = {
            e["targets"][0]: {k: v for k, v in e["labels"].items() if k in EXPORTER_LABELS}
            for e in entries
        }
        hosts |= mine
        exporters[name] = [FakeExporter(address, mine) for address in shard["exporters"]]
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for fake in (f for fakes in exporters.values() for f in fakes):
            fake.start()
        for instance in plan["prometheus"]:
            log = (config / f"{instance['name']}.log").open("wb")
            with log:
                processes[instance["name"]] = subprocess.Popen(
                    [prometheus_binary, *instance["argv"][1:]],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        for instance in plan["prometheus"]:
            wait_for(f"{instance['name']} to answer", lambda a=instance["listen"]: ready(a), WAIT)
        yield Federation(plan["prometheus"][0]["listen"], shards, exporters, processes, hosts)
    finally:
        for process in processes.values():
            stop(process)
        for fake in (f for fakes in exporters.values() for f in fakes):
            fake.stop()
        shutil.rmtree(config / "data", ignore_errors=True)


def by_province(result: list[dict[str, Any]]) -> dict[str, float]:
    return {r["metric"].get("province", ""): float(r["value"][1]) for r in result}


def test_a_national_query_sums_both_provinces_with_their_labels(federation: Federation) -> None:
    provinces = {labels["province"] for labels in federation.hosts.values() if "province" in labels}
    assert len(provinces) == 2
    devices = {
        p: sum(1 for h in federation.hosts.values() if h.get("province") == p) for p in provinces
    }

    # the national core's shard (no province label) too: its series arrive on their own
    # federation scrape, which may come after both provinces'
    every = devices | {"": sum(1 for h in federation.hosts.values() if "province" not in h)}

    def counted() -> dict[str, float] | None:
        found = by_province(query(federation.national, "count by (province) (egov_snmp_up)"))
        return found if all(found.get(p) == n for p, n in every.items()) else None

    wait_for("every device of both provinces federated", counted, WAIT)
    answering = by_province(query(federation.national, "sum by (province) (egov_snmp_up)"))
    assert answering == {"": 1.0} | {p: float(n - 1) for p, n in devices.items()}
    total = query(federation.national, "sum(egov_snmp_up)")
    assert float(total[0]["value"][1]) == len(federation.hosts) - len(DOWN)

    (county,) = query(federation.national, 'egov_snmp_up{host="hebei-c01-k01"}')
    labels = county["metric"]
    assert {k: labels.get(k) for k in EXPORTER_LABELS} == federation.hosts["hebei-c01-k01"]
    assert labels["shard"] == "hebei-core"
    assert labels["instance"] == "hebei-c01-k01"
    assert labels["job"] in {"egov_snmp_0", "egov_snmp_1"}
    assert county["value"][1] == "0"


def test_the_shards_summaries_arrive_named_by_shard_and_province(
    federation: Federation,
) -> None:
    def rows(record: str) -> dict[str, tuple[str, float]]:
        return {
            r["metric"]["shard"]: (r["metric"].get("province", ""), float(r["value"][1]))
            for r in query(federation.national, record)
        }

    def complete() -> bool:
        """Each shard's count covers all its devices: its rules ran after every scrape."""
        counted = rows("shard:egov_devices:count")
        return all(
            counted.get(name, ("", 0.0))[1] == len(fakes[0].hosts)
            for name, fakes in federation.exporters.items()
        )

    wait_for("the summaries of every shard over all its devices", complete, WAIT)
    assert rows("shard:egov_devices_unreachable:count") == {
        "national-core": ("", 0.0),
        "hebei-core": ("河北省", 1.0),
        "shanxi-core": ("山西省", 1.0),
    }


def test_each_device_is_asked_of_one_exporter_of_its_province(federation: Federation) -> None:
    def all_asked() -> bool:
        asked = [h for fakes in federation.exporters.values() for f in fakes for h in f.asked]
        return sorted(asked) == sorted(federation.hosts)

    wait_for("every device scraped", all_asked, WAIT)
    for name, fakes in federation.exporters.items():
        first, second = fakes
        assert not first.asked & second.asked
        assert first.asked | second.asked == set(first.hosts), name
        if len(first.hosts) > 1:
            assert first.asked, f"{name}: the second exporter got every device"
            assert second.asked, f"{name}: the first exporter got every device"


def test_a_province_whose_prometheus_stops_raises_the_national_alert(
    federation: Federation,
) -> None:
    """Last in this module: it stops shanxi's Prometheus."""
    wait_for(
        "shanxi federated",
        lambda: query(federation.national, 'up{job="egov_federate",shard="shanxi-core"} == 1'),
        WAIT,
    )
    stop(federation.processes["shanxi-core"])

    def alert() -> list[dict[str, Any]]:
        return query(federation.national, 'ALERTS{alertname="EgovShardPrometheusDown"}')

    (raised,) = wait_for("EgovShardPrometheusDown for shanxi", alert, WAIT)
    assert raised["metric"]["shard"] == "shanxi-core"
    assert raised["metric"]["province"] == "山西省"
    assert raised["metric"]["alertstate"] in {"pending", "firing"}
    still = query(federation.national, 'up{job="egov_federate",shard="hebei-core"}')
    assert [r["value"][1] for r in still] == ["1"]
