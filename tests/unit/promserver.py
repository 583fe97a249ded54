"""A real Prometheus (Debian's binary) on a free loopback port, scraping a tiny metrics
endpoint the test serves with prometheus-client: the exporter's series for the sample, with
the hosts the test names down. No root, no lab; what `--live` and the NOC page read."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from egovnet.model import Network
from exporters.live import LiveError, query

SCRAPE = "1s"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def series(network: Network, down: set[str]) -> CollectorRegistry:
    """egov_snmp_up, egov_if_oper_status and egov_bgp_peer_state as the exporter labels them;
    a down host answers nothing but `egov_snmp_up 0`, and its neighbours see the port down."""
    registry = CollectorRegistry()
    up = Gauge("egov_snmp_up", "", ["host", "tier"], registry=registry)
    oper = Gauge(
        "egov_if_oper_status", "", ["host", "ifName", "role", "neighbor"], registry=registry
    )
    bgp = Gauge("egov_bgp_peer_state", "", ["host", "neighbor", "vrf"], registry=registry)
    for node in network.nodes:
        up.labels(node.name, node.tier).set(0 if node.name in down else 1)
    for link in network.links:
        far_down = link.upper.host in down or link.lower.host in down
        for end in (link.upper, link.lower):
            if end.host in down:
                continue
            far = link.other(end.host).host
            role = "downlink" if end is link.upper else "uplink"
            oper.labels(end.host, f"eth{end.port}", role, far).set(2 if far_down else 1)
            bgp.labels(end.host, far, "global").set(1 if far_down else 6)
    return registry


@dataclass
class PromHarness:
    prometheus: str
    hosts: int

    def wait_scraped(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self._scraped():
            if time.monotonic() > deadline:
                pytest.fail(f"Prometheus on {self.prometheus} scraped nothing in {timeout:.0f}s")
            time.sleep(0.5)

    def _scraped(self) -> bool:
        try:
            found = query(self.prometheus, 'count(egov_snmp_up{job="egov_snmp"})')
        except LiveError:  # still starting
            return False
        return bool(found) and found[0]["value"][1] == str(self.hosts)


@contextmanager
def prometheus_harness(network: Network, workdir: Path, down: set[str]) -> Iterator[PromHarness]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed")
    metrics_port = free_port()
    server, thread = start_http_server(metrics_port, "127.0.0.1", series(network, down))
    prom = f"127.0.0.1:{free_port()}"
    config = {
        "global": {"scrape_interval": SCRAPE, "evaluation_interval": SCRAPE},
        "scrape_configs": [
            {
                "job_name": "egov_snmp",
                "honor_labels": True,
                "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
            }
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address={prom}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "prometheus.log").open("w"),
    )
    try:
        yield PromHarness(prom, len(network.nodes))
    finally:
        process.terminate()
        process.wait(timeout=30)
        server.shutdown()
        thread.join(timeout=5)
