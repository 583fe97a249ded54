"""The NOC page in a real browser (Debian's headless Chromium) on this module's own lab, with
its own exporter, Prometheus and Alertmanager (`egovnet monitor up`, lab timings: 5 s
scrapes) and `egovnet noc` on free loopback ports.

What a NOC relies on: the page shows every router up; when a county's snmpd is stopped
(SIGSTOP: it answers nothing), the page shows that county, and only it, down within two
scrape intervals, then the alert on it; when it continues (SIGCONT), the county is green
again. Screenshots of each step are kept under
build/test-artifacts/noc/ (gitignored).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.runner import SNMP_DIR
from tests.console import EGOVNET, ROOT, environment
from tests.lab.test_monitoring_lab import Prometheus, free_port, in_node, routers_up
from tests.labkit import TestLab

ARTIFACTS = ROOT / "build" / "test-artifacts" / "noc"
SCRAPE = 5.0
"""The lab profile's scrape interval (exporters/promconfig.py TIMINGS["lab"])."""
REFRESH = 2.0
WAIT = 120.0
COUNTY = "zunhua"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root, in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1600,1000",
)

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("dot") is None,
    reason="needs Debian's chromium and graphviz",
)


def chromium(url: str, profile: Path, *extra: str) -> str:
    """Load `url`, let its script poll for a few (virtual) seconds, and return stdout."""
    done = subprocess.run(
        [
            "chromium",
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={int(REFRESH * 2500)}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def attributes(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w:-]+)="([^"]*)"', tag))


class Page:
    """The NOC page as Chromium renders it."""

    def __init__(self, url: str, profile: Path) -> None:
        self.url = url
        self.profile = profile

    def dom(self) -> str:
        return chromium(self.url, self.profile, "--dump-dom")

    def nodes(self, dom: str) -> dict[str, dict[str, str]]:
        found = {}
        for tag in re.findall(r'<g [^>]*class="node[^"]*"[^>]*>', dom):
            attrs = attributes(tag)
            if attrs.get("data-tier") != "internet":
                found[attrs["data-host"]] = attrs
        return found

    def alerts(self, dom: str) -> list[tuple[str, str]]:
        """(host, alertname) of every item of the page's alert list."""
        listed = re.search(r'<ul id="alerts">(.*?)</ul>', dom, re.S)
        assert listed, "no alert list on the page"
        return [
            (attrs.get("data-host", ""), attrs.get("data-alertname", ""))
            for attrs in map(
                attributes, re.findall(r"<li [^>]*data-alertname[^>]*>", listed.group(1))
            )
        ]

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        chromium(self.url, self.profile, f"--screenshot={path}")
        assert path.read_bytes().startswith(b"\x89PNG")
        return path


def wait(what: str, check: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s: {what}"
        time.sleep(0.5)


def status(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/api/status", timeout=10) as answer:  # noqa: S310
        document: dict[str, Any] = json.load(answer)
    return document


@pytest.fixture(scope="module")
def noc(test_lab: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("noc-browser")
    egovnet = test_lab.egovnet
    run_dir = workdir / "monitor"
    ports = {
        "--exporter": f"127.0.0.1:{free_port()}",
        "--prometheus": f"127.0.0.1:{free_port()}",
        "--alertmanager": f"127.0.0.1:{free_port()}",
    }
    options = [item for pair in ports.items() for item in pair]
    page_port = free_port()
    server: subprocess.Popen[str] | None = None
    try:
        lab = egovnet("lab", "up", "--json", cwd=workdir)
        assert lab.returncode == 0, lab.stdout + lab.stderr
        up = egovnet("monitor", "up", "--run-dir", str(run_dir), *options, "--json", cwd=workdir)
        assert up.returncode == 0, up.stdout + up.stderr
        server = subprocess.Popen(
            [
                str(EGOVNET),
                "noc",
                "--port",
                str(page_port),
                "--prometheus",
                ports["--prometheus"],
                "--alertmanager",
                ports["--alertmanager"],
                "--refresh",
                str(REFRESH),
                "--runs",
                str(workdir / "runs"),
            ],
            env=environment(test_lab.inventory),
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = f"http://127.0.0.1:{page_port}"

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:  # noqa: S310
                    return bool(answer.status == 200)
            except OSError:
                assert server is not None
                assert server.poll() is None, server.communicate()
                return False

        wait("the NOC page to answer", healthy, timeout=60)
        yield {
            "kit": test_lab,
            "url": url,
            "page": Page(url, workdir / "chromium"),
            "prometheus": Prometheus(ports["--prometheus"]),
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        down = egovnet("monitor", "down", "--run-dir", str(run_dir), cwd=workdir)
        lab_down = test_lab.down(workdir)
        assert down.returncode == 0, down.stderr
        assert lab_down.returncode == 0, lab_down.stderr


def test_the_page_shows_every_router_up(noc: dict[str, Any]) -> None:
    kit: TestLab = noc["kit"]
    prometheus: Prometheus = noc["prometheus"]
    prometheus.wait("all 13 routers up", lambda: routers_up(prometheus))
    page: Page = noc["page"]
    expected = {node.name for node in kit.network.nodes}

    def all_up() -> dict[str, dict[str, str]]:
        nodes = page.nodes(page.dom())
        return (
            nodes
            if {h for h, a in nodes.items() if a.get("data-state") == "up"} == expected
            else {}
        )

    nodes = wait("every router green on the page", all_up)
    assert set(nodes) == expected
    assert all(a["data-alerts"] == "0" for a in nodes.values())
    page.screenshot("1-all-up.png")


def test_a_county_without_snmpd_goes_down_alone_then_green_again(noc: dict[str, Any]) -> None:
    kit: TestLab = noc["kit"]
    page: Page = noc["page"]
    prometheus: Prometheus = noc["prometheus"]
    prometheus.wait("all 13 routers up", lambda: routers_up(prometheus))
    holder = kit.holders()[COUNTY]
    pid = holder.path(f"{SNMP_DIR}/snmpd.pid").read_text().strip()
    stopped = in_node(kit, COUNTY, "kill", "-STOP", pid)
    assert stopped.returncode == 0, stopped.stderr
    started = time.monotonic()
    try:
        # what the page polls, bounded by two scrape intervals and one refresh of the page
        wait(
            f"{COUNTY} down in the page's status",
            lambda: status(noc["url"])["nodes"].get(COUNTY) == "down",
            timeout=2 * SCRAPE + REFRESH,
        )
        seen = time.monotonic() - started
        print(f"{COUNTY} down on the page's status {seen:.1f}s after its snmpd stopped")

        def only_county_down() -> dict[str, dict[str, str]]:
            nodes = page.nodes(page.dom())
            down = {h for h, a in nodes.items() if a.get("data-state") == "down"}
            return nodes if down == {COUNTY} else {}

        wait(f"{COUNTY}, and only it, red in the browser", only_county_down)
        page.screenshot("2-county-down.png")

        def alerted() -> bool:
            dom = page.dom()
            on_node = page.nodes(dom)[COUNTY].get("data-alerts", "0") != "0"
            return on_node and (COUNTY, "EgovDeviceUnreachable") in page.alerts(dom)

        try:
            wait(f"EgovDeviceUnreachable on {COUNTY} on the page", alerted)
        except AssertionError as exc:
            now = status(noc["url"])
            firing = prometheus.query('ALERTS{alertname="EgovDeviceUnreachable"}')
            pytest.fail(
                f"{exc}; the page's status: {COUNTY} {now['nodes'].get(COUNTY)}, alerts "
                f"{now['alerts']}, errors {now['errors']}; Prometheus ALERTS: {firing}"
            )
        dom = page.dom()
        assert {host for host, _ in page.alerts(dom)} == {COUNTY}
        assert 'class="alert-badge"' in dom
        page.screenshot("3-county-alerted.png")
    finally:
        again = in_node(kit, COUNTY, "kill", "-CONT", pid)
        assert again.returncode == 0, again.stderr

    def green_again() -> bool:
        dom = page.dom()
        nodes = page.nodes(dom)
        on_county = [name for host, name in page.alerts(dom) if host == COUNTY]
        return nodes[COUNTY].get("data-state") == "up" and not on_county

    try:
        wait(f"{COUNTY} green again and its alert gone", green_again)
    except AssertionError as exc:
        now = status(noc["url"])
        pytest.fail(f"{exc}; the page's status: {COUNTY} {now['nodes'].get(COUNTY)}, {now}")
    page.screenshot("4-repaired.png")
