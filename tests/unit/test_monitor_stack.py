"""`egovnet monitor up / status / down` with the real Prometheus and Alertmanager, no lab.

The inventory is a copy of the sample with a lab name and addresses of its own
(tests/labkit.py), and that lab is never up: no device address is routed over its bridge,
so the exporter refuses every target (`unroutable`, no packet leaves this machine) and
Prometheus sees each of them down, whatever other lab (the demo) runs here. Enough to check
that the stack starts, that Prometheus scrapes the inventory's targets through the exporter
with their labels, that `status` tells, and that `down` leaves no process and no file
behind, and stops nothing another run directory started. The lab test
(tests/lab/test_monitoring_lab.py) does the same with devices answering.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console import egovnet as run_egovnet
from tests.labkit import TestLab, lab_name, make_test_lab


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = f"not installed: {', '.join(missing)} (Debian prometheus packages)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    url = f"http://{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as answer:
        document = json.load(answer)
    assert document["status"] == "success", document
    result: list[dict[str, Any]] = document["data"]["result"]
    return result


def wait_for(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> TestLab:
    """The module's inventory: its own lab, never brought up."""
    made = make_test_lab(tmp_path_factory.mktemp("inventory"), lab_name(__name__))
    assert not made.holders()
    return made


def stack_options() -> list[str]:
    """Free loopback ports for the three components: never the demo's 9090, 9093, 9116."""
    return [
        *("--exporter", f"127.0.0.1:{free_port()}"),
        *("--prometheus", f"127.0.0.1:{free_port()}"),
        *("--alertmanager", f"127.0.0.1:{free_port()}"),
    ]


@pytest.fixture(scope="module")
def stack(kit: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require("prometheus", "prometheus-alertmanager")
    egovnet = kit.egovnet
    workdir = tmp_path_factory.mktemp("monitor")
    ports = {
        "--exporter": f"127.0.0.1:{free_port()}",
        "--prometheus": f"127.0.0.1:{free_port()}",
        "--alertmanager": f"127.0.0.1:{free_port()}",
    }
    options = [item for pair in ports.items() for item in pair]
    run_dir = workdir / "run"
    try:
        started = egovnet(
            "monitor", "up", "--run-dir", str(run_dir), *options, "--json", cwd=workdir
        )
        assert started.returncode == 0, started.stdout + started.stderr
        yield {
            "report": json.loads(started.stdout),
            "run_dir": run_dir,
            "options": options,
            "prometheus": ports["--prometheus"],
            "workdir": workdir,
            "kit": kit,
        }
    finally:
        egovnet("monitor", "down", "--run-dir", str(run_dir), cwd=workdir)


def test_up_starts_three_components_that_answer(stack: dict[str, Any]) -> None:
    report = stack["report"]
    assert report["ok"] is True
    assert [c["name"] for c in report["components"]] == ["exporter", "alertmanager", "prometheus"]
    assert all(c["running"] and c["ready"] for c in report["components"])


def test_prometheus_scrapes_every_inventory_target_with_its_labels(stack: dict[str, Any]) -> None:
    prometheus = stack["prometheus"]
    rows = wait_for(
        "13 devices scraped",
        lambda: len(r := query(prometheus, 'egov_snmp_up{job="egov_snmp"}')) == 13 and r,
    )
    by_host = {row["metric"]["host"]: row for row in rows}
    zhengding = by_host["zhengding"]["metric"]
    assert zhengding["tier"] == "county"
    assert zhengding["city"] == "石家庄市"
    assert zhengding["county"] == "正定县"
    assert zhengding["job"] == "egov_snmp"
    # the exporter's own /metrics is another scrape job: once it has been read, Prometheus
    # still holds one egov_snmp_up per router (the exporter's job adds none without labels)
    wait_for(
        "the exporter's own job scraped",
        lambda: query(prometheus, 'up{job="egov_exporter"} == 1'),
    )
    assert len(query(prometheus, "egov_snmp_up")) == 13
    assert query(prometheus, "count(egov_snmp_up)")[0]["value"][1] == "13"
    # its lab is not up: nothing routed over its bridge, so every device is down, and no
    # packet was sent (another lab on this machine, the demo, changes nothing of that)
    assert {row["value"][1] for row in rows} == {"0"}
    refused = wait_for(
        "13 targets refused as unroutable",
        lambda: (
            len(r := query(prometheus, 'egov_snmp_scrape_errors{kind="unroutable"} > 0')) == 13
            and r
        ),
    )
    assert {row["metric"]["host"] for row in refused} == set(by_host)
    assert query(prometheus, 'egov_snmp_errors_total{kind="unroutable"} > 0')
    assert query(prometheus, "sum(egov_snmp_packets_sent_total)")[0]["value"][1] == "0"
    assert not stack["kit"].holders(), "the module's lab came up during the test"


def test_up_again_changes_nothing_and_status_is_green(stack: dict[str, Any]) -> None:
    run_dir, options, workdir = stack["run_dir"], stack["options"], stack["workdir"]
    egovnet = stack["kit"].egovnet
    before = {c["name"]: c["pid"] for c in stack["report"]["components"]}
    again = egovnet("monitor", "up", "--run-dir", str(run_dir), *options, "--json", cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert {c["name"]: c["pid"] for c in json.loads(again.stdout)["components"]} == before
    status = egovnet(
        "monitor", "status", "--run-dir", str(run_dir), *options, "--json", cwd=workdir
    )
    assert status.returncode == 0, status.stdout
    assert json.loads(status.stdout)["ok"] is True


def test_down_removes_every_process_and_file_and_nothing_of_another_run_dir(
    stack: dict[str, Any],
) -> None:
    """Last in this module: it takes the stack down (the fixture's down is then a no-op).
    A second stack, in a run directory whose path begins with the first one's (as another
    user's monitoring would be beside it), keeps running."""
    run_dir, options, workdir = stack["run_dir"], stack["options"], stack["workdir"]
    egovnet = stack["kit"].egovnet
    beside = run_dir.with_name(run_dir.name + "-beside")
    other = egovnet(
        "monitor", "up", "--run-dir", str(beside), *stack_options(), "--json", cwd=workdir
    )
    try:
        assert other.returncode == 0, other.stdout + other.stderr
        pids = [c["pid"] for c in stack["report"]["components"]]
        done = egovnet("monitor", "down", "--run-dir", str(run_dir), "--json", cwd=workdir)
        assert done.returncode == 0, done.stderr
        stopped = sorted(json.loads(done.stdout)["stopped"])
        assert stopped == ["alertmanager", "exporter", "prometheus"]
        assert not run_dir.exists()
        for pid in pids:
            cmdline = Path(f"/proc/{pid}/cmdline")
            assert not cmdline.exists() or str(run_dir) not in cmdline.read_text(errors="replace")
        status = egovnet(
            "monitor", "status", "--run-dir", str(run_dir), *options, "--json", cwd=workdir
        )
        assert status.returncode == 1
        assert not any(c["running"] for c in json.loads(status.stdout)["components"])
        for component in json.loads(other.stdout)["components"]:
            alive = Path(f"/proc/{component['pid']}/cmdline")
            assert alive.exists(), f"{component['name']} of another run directory was stopped"
    finally:
        egovnet("monitor", "down", "--run-dir", str(beside), cwd=workdir)
    assert not beside.exists()


def test_up_finds_the_default_secrets_file_for_the_exporter(kit: TestLab, tmp_path: Path) -> None:
    """`egovnet secrets init` leaves .secrets/secrets.yaml in the working directory; the
    exporter runs elsewhere (the run directory) and must still get those secrets."""
    require("prometheus", "prometheus-alertmanager")
    secrets = tmp_path / ".secrets" / "secrets.yaml"
    secrets.parent.mkdir()
    secrets.write_text(
        "snmp-noc-auth: file-auth-key\nsnmp-noc-priv: file-priv-key\naaa-key: x\nlocal-admin: y\n"
    )
    secrets.chmod(0o600)
    run_dir = tmp_path / "run"
    options = stack_options()
    try:
        started = run_egovnet(
            "monitor", "up", "--run-dir", str(run_dir), *options, "--json",
            cwd=tmp_path, inventory=kit.inventory, secrets=False,
        )  # fmt: skip
        assert started.returncode == 0, started.stdout + started.stderr
        assert all(c["ready"] for c in json.loads(started.stdout)["components"])
    finally:
        run_egovnet("monitor", "down", "--run-dir", str(run_dir), cwd=tmp_path, secrets=False)
    assert not run_dir.exists()
