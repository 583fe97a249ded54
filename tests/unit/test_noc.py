"""The NOC page's server against a real Prometheus (tests/unit/promserver.py): the page is
self-contained and carries the map's contract, `/api/status` says which node is down,
`/api/node` gives interfaces, BGP peers and the last rollout, and nothing but GETs exist."""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.wiring.noc import noc_config
from exporters.dashboards import dashboards
from exporters.noc import NOC_URL, NocServer
from exporters.promconfig import TIMINGS, alert_rules
from tests.console import ROOT
from tests.unit.promserver import PromHarness, prometheus_harness

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")


@pytest.fixture(scope="module")
def sample() -> Network:
    return load_network(ROOT / "inventory")


@pytest.fixture(scope="module")
def page(
    sample: Network, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, PromHarness]]:
    workdir = tmp_path_factory.mktemp("noc")
    runs = workdir / "runs"
    for run_id, outcome in (("20261201T080000Z-a", "ok"), ("20261202T090000Z-b", "rolled back")):
        (runs / run_id).mkdir(parents=True)
        report = {
            "run_id": run_id,
            "started": run_id[:16],
            "outcome": outcome,
            "dry_run": False,
            "hosts": {"zhengding": {"outcome": "applied" if outcome == "ok" else "rolled back"}},
        }
        (runs / run_id / "report.json").write_text(json.dumps(report))
    with prometheus_harness(sample, workdir, down={"zunhua"}) as prom:
        config = noc_config(sample, prometheus=prom.prometheus, alertmanager=None, runs=runs)
        server = NocServer(config, ("127.0.0.1", 0))
        server.start()
        try:
            prom.wait_scraped()
            yield server.url, prom
        finally:
            server.shutdown()
            server.server_close()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback http
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def get_json(url: str) -> Any:
    status, body = get(url)
    assert status == 200, body
    return json.loads(body)


def test_the_page_is_self_contained_and_carries_the_map(
    page: tuple[str, PromHarness], sample: Network
) -> None:
    url, prom = page
    status, body = get(url + "/")
    assert status == 200
    text = body.decode()
    # offline: nothing loaded from anywhere; the one outside link is back to Prometheus
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text)
    links = [link for link in re.findall(r'href="([^"]+)"', text) if not link.startswith("${")]
    assert links == [f"http://{prom.prometheus}/alerts"]
    assert "url(http" not in text
    assert "@import" not in text
    hosts = set(re.findall(r'class="node" data-host="([^"]+)"', text))
    assert hosts == {node.name for node in sample.nodes} | {"internet"}
    assert text.count('class="link"') == len(sample.links) + 1


def test_status_says_which_node_is_down(page: tuple[str, PromHarness], sample: Network) -> None:
    url, _ = page
    document = get_json(url + "/api/status")
    assert document["errors"] == []
    assert set(document["nodes"]) == {node.name for node in sample.nodes}
    assert {h for h, s in document["nodes"].items() if s == "down"} == {"zunhua"}
    assert document["links"]["tangshan|zunhua"] == "down"
    assert document["alerts"] == []  # no Alertmanager given


def test_node_detail_has_interfaces_peers_and_the_last_rollout(
    page: tuple[str, PromHarness],
) -> None:
    url, prom = page
    detail = get_json(url + "/api/node?host=zhengding")
    assert detail["snmp_up"] is True
    assert {(i["neighbor"], i["oper"]) for i in detail["interfaces"]} == {("shijiazhuang", "up")}
    assert [(p["neighbor"], p["established"]) for p in detail["bgp"]] == [("shijiazhuang", True)]
    assert detail["rollout"]["run_id"] == "20261202T090000Z-b"  # the newest run with the host
    assert detail["rollout"]["host_outcome"] == "rolled back"
    assert detail["prometheus"].startswith(f"http://{prom.prometheus}/graph?")
    assert get_json(url + "/api/node?host=tangshan")["rollout"] is None
    status, _ = get(url + "/api/node?host=nowhere")
    assert status == 404


def test_the_server_answers_reads_only(page: tuple[str, PromHarness]) -> None:
    url, _ = page
    post = urllib.request.Request(url + "/api/status", data=b"{}", method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(post, timeout=10)  # noqa: S310 - loopback http
    assert refused.value.code == 501
    status, body = get(url + "/map.svg")
    assert status == 200
    assert body.startswith(b"<svg")


def test_alerts_and_dashboards_link_to_the_page(sample: Network) -> None:
    rules = alert_rules(TIMINGS["production"])
    alerts = [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]
    assert alerts
    for rule in alerts:
        assert rule["annotations"]["noc_url"] == f"{NOC_URL}/?host={{{{ $labels.host }}}}"
    for name, board in dashboards(sample).items():
        assert [link["url"] for link in board["links"]] == [NOC_URL], name
