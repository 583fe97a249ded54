"""Monitoring the real lab end to end: `egovnet lab up`, then `egovnet monitor up` (the SNMP
exporter, Prometheus and Alertmanager from Debian, lab timings), as a NOC would use them.

What the NOC relies on: every router is `up` with the inventory's labels; a link taken down
in the lab raises the uplink-down and BGP-neighbour-down alerts in Prometheus, which resolve
when the link comes back; an exporter restarted under Prometheus's scrapes comes back
without help; and a node whose snmpd stops is the only target that goes down. Every wait is
bounded (lab timings: 5 s scrapes and evaluations, 10-15 s `for:`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from egovnet.model import Network
from exporters.dashboards import dashboards, panel_queries
from lab.runner import SNMP_DIR
from tests.labkit import TestLab

WAIT = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def in_node(kit: TestLab, node: str, *argv: str) -> subprocess.CompletedProcess[str]:
    holder = kit.holders()[node]
    return subprocess.run(
        ["nsenter", "-t", str(holder.pid), "-m", "-u", "-n", "-p", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


class Prometheus:
    """The Prometheus HTTP API of the stack under test."""

    def __init__(self, address: str) -> None:
        self.address = address

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"http://{self.address}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as answer:
            document = json.load(answer)
        assert document["status"] == "success", document
        result: list[dict[str, Any]] = document["data"]["result"]
        return result

    def wait(self, what: str, check: Callable[[], Any], timeout: float = WAIT) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = check()
            if found:
                return found
            assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s: {what}"
            time.sleep(1)


@pytest.fixture(scope="module")
def network(test_lab: TestLab) -> Network:
    return test_lab.network


@pytest.fixture(scope="module")
def stack(test_lab: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("monitoring-lab")
    egovnet = test_lab.egovnet
    run_dir = workdir / "monitor"
    ports = {
        "--exporter": f"127.0.0.1:{free_port()}",
        "--prometheus": f"127.0.0.1:{free_port()}",
        "--alertmanager": f"127.0.0.1:{free_port()}",
    }
    options = [item for pair in ports.items() for item in pair]
    try:
        lab = egovnet("lab", "up", "--json", cwd=workdir)
        assert lab.returncode == 0, lab.stdout + lab.stderr
        up = egovnet("monitor", "up", "--run-dir", str(run_dir), *options, "--json", cwd=workdir)
        assert up.returncode == 0, up.stdout + up.stderr
        yield {
            "kit": test_lab,
            "workdir": workdir,
            "run_dir": run_dir,
            "options": options,
            "prometheus": Prometheus(ports["--prometheus"]),
            "exporter": ports["--exporter"],
        }
    finally:
        down = egovnet("monitor", "down", "--run-dir", str(run_dir), cwd=workdir)
        lab_down = test_lab.down(workdir)
        assert down.returncode == 0, down.stderr
        assert lab_down.returncode == 0, lab_down.stderr
        assert not run_dir.exists()


def routers_up(prometheus: Prometheus) -> list[dict[str, Any]]:
    rows = prometheus.query('egov_snmp_up{job="egov_snmp"} == 1')
    return rows if len(rows) == 13 else []


def test_every_router_is_up_with_its_inventory_labels(
    stack: dict[str, Any], network: Network
) -> None:
    prometheus: Prometheus = stack["prometheus"]
    prometheus.wait("all 13 routers up", lambda: routers_up(prometheus))
    rows = prometheus.query('egov_sys_uptime_seconds{job="egov_snmp"}')
    by_host = {row["metric"]["host"]: row["metric"] for row in rows}
    assert set(by_host) == {node.name for node in network.nodes}
    for node in network.nodes:
        labels = by_host[node.name]
        assert labels["tier"] == node.tier
        for key in ("province", "city", "county"):
            assert labels.get(key) == getattr(node, key), (node.name, key)
    # the exporter's own /metrics is a second job: once Prometheus has read it too, there is
    # still one egov_snmp_up per router (it used to add a second one, without city labels)
    prometheus.wait(
        "the exporter's own job scraped",
        lambda: prometheus.query('up{job="egov_exporter"} == 1'),
    )
    count = prometheus.query("count(egov_snmp_up)")
    assert count[0]["value"][1] == str(len(network.nodes))


def test_every_link_and_bgp_session_is_seen_from_both_ends(
    stack: dict[str, Any], network: Network
) -> None:
    prometheus: Prometheus = stack["prometheus"]
    prometheus.wait("all 13 routers up", lambda: routers_up(prometheus))
    links = prometheus.query('egov_if_oper_status{role=~"uplink|downlink"}')
    seen = {(r["metric"]["host"], r["metric"]["neighbor"]) for r in links}
    expected = {(link.upper.host, link.lower.host) for link in network.links}
    expected |= {(b, a) for a, b in expected}
    assert seen == expected
    assert {r["value"][1] for r in links} == {"1"}
    sessions = prometheus.query("egov_bgp_peer_state")
    established = {
        (r["metric"]["host"], r["metric"].get("neighbor"), r["metric"].get("vrf")) for r in sessions
    }
    # FRR's BGP4-MIB lists every instance's sessions: one per link end and instance
    per_instance = {
        (end.host, link.other(end.host).host, instance)
        for link in network.links
        for end in (link.upper, link.lower)
        for instance in link.subnets
    }
    assert established == per_instance
    assert {r["value"][1] for r in sessions} == {"6"}


def firing(prometheus: Prometheus, alert: str, **labels: str) -> list[dict[str, Any]]:
    matchers = "".join(f',{key}="{value}"' for key, value in labels.items())
    return prometheus.query(f'ALERTS{{alertname="{alert}",alertstate="firing"{matchers}}}')


def test_a_link_down_fires_uplink_and_bgp_alerts_which_resolve(stack: dict[str, Any]) -> None:
    """zhengding's uplink to shijiazhuang is `eth1` in the lab; shutting it there leaves the
    city's end enabled but down (EgovUplinkDown) and the session between them idle
    (EgovBgpPeerDown); `no shutdown` and both resolve."""
    prometheus: Prometheus = stack["prometheus"]
    prometheus.wait("all 13 routers up", lambda: routers_up(prometheus))
    assert not firing(prometheus, "EgovUplinkDown")
    kit: TestLab = stack["kit"]
    down = in_node(kit, "zhengding", "ip", "link", "set", "eth1", "down")
    assert down.returncode == 0, down.stderr
    try:
        uplink = prometheus.wait(
            "EgovUplinkDown for shijiazhuang's link to zhengding",
            lambda: firing(prometheus, "EgovUplinkDown", host="shijiazhuang"),
        )
        assert [r["metric"]["neighbor"] for r in uplink] == ["zhengding"]
        bgp = prometheus.wait(
            "EgovBgpPeerDown between zhengding and shijiazhuang",
            lambda: firing(prometheus, "EgovBgpPeerDown", neighbor="zhengding"),
        )
        assert {(r["metric"]["host"], r["metric"]["vrf"]) for r in bgp} == {
            ("shijiazhuang", "global")  # the zones' sessions run over their own veths
        }
        others = firing(prometheus, "EgovBgpPeerDown")
        assert {r["metric"]["host"] for r in others} <= {"shijiazhuang", "zhengding"}
    finally:
        back = in_node(kit, "zhengding", "ip", "link", "set", "eth1", "up")
        assert back.returncode == 0, back.stderr
    prometheus.wait(
        "the uplink and BGP alerts to resolve",
        lambda: (
            not firing(prometheus, "EgovUplinkDown") and not firing(prometheus, "EgovBgpPeerDown")
        ),
    )


def test_an_exporter_restarted_under_scrapes_comes_back(stack: dict[str, Any]) -> None:
    prometheus: Prometheus = stack["prometheus"]
    prometheus.wait("all 13 routers up", lambda: routers_up(prometheus))
    run_dir: Path = stack["run_dir"]
    pid = int((run_dir / "run" / "exporter.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    prometheus.wait(
        "Prometheus to see the exporter gone",
        lambda: prometheus.query('up{job="egov_exporter"} == 0'),
    )
    kit: TestLab = stack["kit"]
    again = kit.egovnet(
        "monitor",
        "up",
        "--run-dir",
        str(run_dir),
        *stack["options"],
        "--json",
        cwd=stack["workdir"],
    )
    assert again.returncode == 0, again.stdout + again.stderr
    restarted = {c["name"]: c["pid"] for c in json.loads(again.stdout)["components"]}
    assert restarted["exporter"] != pid
    prometheus.wait(
        "the exporter and every router back",
        lambda: prometheus.query('up{job="egov_exporter"} == 1') and routers_up(prometheus),
    )


def test_a_stopped_snmpd_takes_only_its_node_down(stack: dict[str, Any], network: Network) -> None:
    """Last: zunhua's snmpd stays stopped until the lab goes down."""
    prometheus: Prometheus = stack["prometheus"]
    prometheus.wait("all 13 routers up", lambda: routers_up(prometheus))
    kit: TestLab = stack["kit"]
    holder = kit.holders()["zunhua"]
    pid = holder.path(f"{SNMP_DIR}/snmpd.pid").read_text().strip()
    stopped = in_node(kit, "zunhua", "kill", pid)
    assert stopped.returncode == 0, stopped.stderr

    def only_zunhua_down() -> bool:
        rows = prometheus.query('egov_snmp_up{job="egov_snmp"}')
        values = {r["metric"]["host"]: r["value"][1] for r in rows}
        return len(values) == 13 and {h for h, v in values.items() if v != "1"} == {"zunhua"}

    prometheus.wait("zunhua, and only zunhua, down", only_zunhua_down)
    prometheus.wait(
        "EgovDeviceUnreachable for zunhua",
        lambda: firing(prometheus, "EgovDeviceUnreachable", host="zunhua"),
    )
    # one series per scrape module may fire; what matters is which devices
    alerts = firing(prometheus, "EgovDeviceUnreachable")
    # one alert, carrying the city Alertmanager routes it by
    assert [(a["metric"]["host"], a["metric"].get("city")) for a in alerts] == [
        ("zunhua", network.node("zunhua").city)
    ]


PUBLISHED_BY_INTERCONNECT = ("egov_dns_",)
"""Series that `egovnet interconnect check --metrics` publishes (job egov_isolation), not the
exporter: their panels are left out here, where no interconnect check runs."""


def test_every_dashboard_panel_query_returns_series(
    stack: dict[str, Any], network: Network
) -> None:
    """Grafana cannot run here: each panel's PromQL goes to the real Prometheus instead, with
    the dashboards' variables set to a county device and its uplink. Runs after the snmpd
    test, so the alert panels have a firing alert to show."""
    prometheus: Prometheus = stack["prometheus"]
    values = {"$host": "zhengding", "$ifName": "eth1"}
    boards = dashboards(network)
    assert len(boards) == 4
    empty: dict[str, str] = {}

    def all_answer() -> bool:
        empty.clear()
        for name, board in boards.items():
            for title, template in panel_queries(board):
                if any(name in template for name in PUBLISHED_BY_INTERCONNECT):
                    continue  # no `interconnect check --metrics` runs in this lab
                expr = template
                for variable, value in values.items():
                    expr = expr.replace(variable, value)
                if not prometheus.query(expr):
                    empty[f"{name}: {title}"] = expr
        return not empty

    # rates need two scrapes, recorded rules an evaluation, hrProcessorLoad a minute of
    # agent uptime: wait for all of them, bounded
    try:
        prometheus.wait("every panel to return series", all_answer, timeout=180)
    except AssertionError:
        pytest.fail(f"panels without series: {json.dumps(empty, ensure_ascii=False, indent=1)}")
