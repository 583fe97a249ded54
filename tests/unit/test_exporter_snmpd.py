"""The exporter over HTTP against a real net-snmp agent on this machine's loopback.

No lab and no root needed: snmpd listens on 127.0.0.1 at a free port with the inventory's
SNMPv3 user (authPriv SHA/AES, fake keys). Three inventory hosts point at it in three ways:
`zhengding` with the right keys, `jingxing` with a wrong one, and `luancheng` at a UDP port
where nothing answers. What a NOC relies on: bad requests are refused before any packet,
every fault shows up as `egov_snmp_up 0` plus an error of the right kind, and no fault of
one target delays or breaks another's scrape or the process.
"""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace

import pytest

from egovnet.loader import load_network
from egovnet.secrets import SecretStore, SnmpCredentials
from exporters.modules import MODULE_DIR, load_modules
from exporters.server import Exporter, serve, via_device
from exporters.targets import build_targets
from tests.unit.conftest import SAMPLE
from tests.unit.snmp_agent import AUTH, COMMUNITY, PRIV, running_snmpd

EXTRA = """\
name: edge
description: Objects at the edges of the agent's MIB view.
scalars:
  - {name: egov_test_missing, oid: 1.3.6.1.2.1.1.99.0, type: gauge, help: noSuchObject.}
  - {name: egov_test_uptime, oid: 1.3.6.1.2.1.1.3.0, type: gauge, help: Present.}
tables:
  - name: beyond
    index: [{label: idx, type: integer}]
    metrics:
      - {name: egov_test_beyond, oid: 1.3.6.1.6.3.99.1.1, type: gauge, help: endOfMibView.}
"""


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real snmpd on 127.0.0.1:PORT with the inventory's SNMPv3 user; its port."""
    with running_snmpd(tmp_path_factory.mktemp("snmpd")) as port:
        yield port


@pytest.fixture(scope="module")
def silent() -> Iterator[int]:
    """A UDP port that takes packets and never answers: a device gone quiet."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        yield int(sink.getsockname()[1])


@pytest.fixture(scope="module")
def exporter(
    snmpd: int, silent: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Exporter, str]]:
    extra = tmp_path_factory.mktemp("modules")
    (extra / "edge.yaml").write_text(EXTRA)
    store = SecretStore(
        environ={"EGOVNET_SECRET_SNMP_NOC_AUTH": AUTH, "EGOVNET_SECRET_SNMP_NOC_PRIV": PRIV}
    )
    targets = build_targets(load_network(SAMPLE), store, timeout=0.5, retries=1)
    targets["zhengding"] = replace(targets["zhengding"], address="127.0.0.1", port=snmpd)
    wrong = SnmpCredentials("v3", name="noc", auth_key="not-the-key", priv_key=PRIV)
    targets["jingxing"] = replace(
        targets["jingxing"], address="127.0.0.1", port=snmpd, credentials=wrong
    )
    targets["luancheng"] = replace(targets["luancheng"], address="127.0.0.1", port=silent)
    v2c = SnmpCredentials("v2c", community=COMMUNITY)
    targets["dingzhou"] = replace(
        targets["dingzhou"], address="127.0.0.1", port=snmpd, credentials=v2c
    )
    running = Exporter(targets, load_modules([MODULE_DIR, extra]))
    server = serve(running, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield running, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        running.close()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback http
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def series(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name + "{")]


def sent(running: Exporter) -> int:
    return sum(s.counters.sent for s in running.snapshot().values())


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("target=10.64.8.10&module=system", "unknown target '10.64.8.10'"),
        ("target=nosuch", "unknown target 'nosuch'"),
        ("module=system", "missing parameter 'target'"),
        ("target=zhengding&module=system,nosuch", "unknown module(s) nosuch"),
    ],
)
def test_bad_requests_are_refused_without_a_packet(
    exporter: tuple[Exporter, str], query: str, message: str
) -> None:
    running, url = exporter
    before = sent(running)
    status, body = get(f"{url}/snmp?{query}")
    assert status == 400
    assert message in body
    assert sent(running) == before


def test_scrape_of_a_real_agent_with_inventory_labels(exporter: tuple[Exporter, str]) -> None:
    _, url = exporter
    status, body = get(f"{url}/snmp?target=zhengding&module=system,if_mib,host_resources")
    assert status == 200
    labels = 'city="石家庄市",county="正定县",host="zhengding",province="河北省",tier="county"'
    assert series(body, "egov_snmp_up") == [f"egov_snmp_up{{{labels}}} 1.0"]
    octets = series(body, "egov_if_in_octets_total")
    assert any('ifName="lo"' in line for line in octets), octets
    assert all(all(pair in line for pair in labels.split(",")) for line in octets)
    memory = series(body, "egov_hr_storage_size_bytes")
    ram = [line for line in memory if 'storage_type="1.3.6.1.2.1.25.2.1.2"' in line]
    assert ram, memory
    assert float(ram[0].rsplit(" ", 1)[1]) > 1e6  # a machine has more than 1 MB of RAM
    assert series(body, "egov_sys_uptime_seconds")


def test_several_modules_in_one_scrape_each_timed(exporter: tuple[Exporter, str]) -> None:
    _, url = exporter
    status, body = get(f"{url}/snmp?target=zhengding&module=system,bgp,ospf,if_mib")
    assert status == 200
    modules = {
        line.split('module="')[1].split('"')[0]
        for line in series(body, "egov_snmp_scrape_duration_seconds")
    }
    assert modules == {"system", "bgp", "ospf", "if_mib"}
    assert series(body, "egov_snmp_up")[0].endswith(" 1.0")  # no BGP/OSPF here: empty, fine


def test_no_such_object_and_end_of_mib_view_are_empty_not_errors(
    exporter: tuple[Exporter, str],
) -> None:
    _, url = exporter
    status, body = get(f"{url}/snmp?target=zhengding&module=edge")
    assert status == 200
    assert series(body, "egov_snmp_up")[0].endswith(" 1.0")
    assert "egov_test_uptime{" in body
    assert "egov_test_missing{" not in body
    assert "egov_test_beyond{" not in body


def test_wrong_v3_key_is_down_with_an_auth_error(exporter: tuple[Exporter, str]) -> None:
    _, url = exporter
    status, body = get(f"{url}/snmp?target=jingxing&module=system")
    assert status == 200
    assert series(body, "egov_snmp_up")[0].endswith(" 0.0")
    assert [line.split("kind=")[1] for line in series(body, "egov_snmp_scrape_errors")] == [
        '"auth",province="河北省",tier="county"} 1.0'
    ]
    _, metrics = get(f"{url}/metrics")
    assert 'egov_snmp_errors_total{kind="auth"}' in metrics


def test_a_silent_target_times_out_with_retries_counted(exporter: tuple[Exporter, str]) -> None:
    running, url = exporter
    status, body = get(f"{url}/snmp?target=luancheng&module=system")
    assert status == 200
    assert series(body, "egov_snmp_up")[0].endswith(" 0.0")
    stats = running.snapshot()["luancheng"]
    assert stats.errors["timeout"] >= 1
    assert stats.counters.sent == 2 * stats.counters.retried  # 1 retry per request
    assert 'kind="timeout"' in series(body, "egov_snmp_scrape_errors")[0]
    _, metrics = get(f"{url}/metrics")
    retried = sum(s.counters.retried for s in running.snapshot().values())
    assert f"egov_snmp_packets_retried_total {float(retried)}" in metrics.splitlines()


def test_metrics_is_the_exporter_alone_with_no_series_of_a_target(
    exporter: tuple[Exporter, str],
) -> None:
    """A device's health is in its /snmp answer only, with its inventory labels: a copy in
    /metrics made Prometheus hold two `egov_snmp_up` per device (one without `city`, which
    Alertmanager routes on) and fire `EgovDeviceUnreachable` twice."""
    _, url = exporter
    for target in ("zhengding", "jingxing", "luancheng"):
        assert get(f"{url}/snmp?target={target}&module=system")[0] == 200
    status, metrics = get(f"{url}/metrics")
    assert status == 200
    samples = [line for line in metrics.splitlines() if line and not line.startswith("#")]
    assert samples
    assert not [line for line in samples if "host=" in line or "tier=" in line]
    names = {line.split("{")[0].split(" ")[0] for line in samples}
    assert not names & {"egov_snmp_up", "egov_snmp_scrape_duration_seconds"}
    assert "egov_snmp_scrapes_total" in names


def test_a_dead_target_does_not_hold_up_another(exporter: tuple[Exporter, str]) -> None:
    """While the silent target's scrape waits out its timeouts, the good target is scraped
    to completion; then both answer as they should, and the process is still serving."""
    _, url = exporter
    dead: dict[str, str] = {}
    waiting = threading.Thread(
        target=lambda: dead.update(body=get(f"{url}/snmp?target=luancheng&module=if_mib")[1])
    )
    waiting.start()
    try:
        status, body = get(f"{url}/snmp?target=zhengding&module=system,if_mib")
        still_waiting = waiting.is_alive()
    finally:
        waiting.join(30)
    assert status == 200
    assert series(body, "egov_snmp_up")[0].endswith(" 1.0")
    assert still_waiting, "the good scrape had to wait for the dead one"
    assert series(dead["body"], "egov_snmp_up")[0].endswith(" 0.0")
    assert get(f"{url}/metrics")[0] == 200


def test_prometheus_scrape_timeout_bounds_a_slow_target(exporter: tuple[Exporter, str]) -> None:
    """Prometheus says how long it waits; the exporter answers (target down) before that,
    rather than let Prometheus drop the scrape and lose the error."""
    running, url = exporter
    before = running.snapshot()["luancheng"].errors["deadline"]
    status, body = get(
        f"{url}/snmp?target=luancheng&module=if_mib",
        {"X-Prometheus-Scrape-Timeout-Seconds": "0.5"},
    )
    assert status == 200
    assert series(body, "egov_snmp_up")[0].endswith(" 0.0")
    assert running.snapshot()["luancheng"].errors["deadline"] == before + 1


def test_v2c_where_the_inventory_says(exporter: tuple[Exporter, str]) -> None:
    _, url = exporter
    status, body = get(f"{url}/snmp?target=dingzhou&module=system,if_mib")
    assert status == 200
    assert series(body, "egov_snmp_up")[0].endswith(" 1.0")
    assert series(body, "egov_if_out_octets_total")


def test_a_route_check_keeps_packets_off_other_paths(snmpd: int) -> None:
    """A lab exporter sends only where the check allows (there: the lab's bridge; here:
    loopback): an inventory address routed anywhere else gets no packet and is `unroutable`."""
    store = SecretStore(
        environ={"EGOVNET_SECRET_SNMP_NOC_AUTH": AUTH, "EGOVNET_SECRET_SNMP_NOC_PRIV": PRIV}
    )
    targets = build_targets(load_network(SAMPLE), store, timeout=0.5, retries=0)
    targets["zhengding"] = replace(targets["zhengding"], address="127.0.0.1", port=snmpd)
    running = Exporter(targets, load_modules(), route_check=via_device("lo"))
    try:
        modules = [running.modules["system"]]
        assert running.scrape(targets["zhengding"], modules).up
        elsewhere = running.scrape(targets["luancheng"], modules)  # 10.64.8.x: not via lo
    finally:
        running.close()
    assert [kind for _, kind, _ in elsewhere.errors] == ["unroutable"]
    assert running.snapshot()["luancheng"].counters.sent == 0
