"""The last compliance check on the exporter's `/metrics`: what the check wrote is what
Prometheus scrapes, a rule failing twice on a host is one series, and a state file that
cannot be read says so (`egov_compliance_state_ok 0`) instead of looking like a clean network.
Served by the real exporter's HTTP server."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporters.compliance import (
    ComplianceCollector,
    ComplianceState,
    ComplianceStateError,
    RuleFailure,
    read_state,
    write_state,
)
from exporters.server import Exporter, serve

Samples = dict[str, list[tuple[dict[str, str], float]]]

STATE = ComplianceState(
    checked_at=1796000000.0,
    source="live",
    hosts=13,
    failures=(
        RuleFailure("baoding", "city", "ssh-password-auth-off", 3),
        RuleFailure("baoding", "city", "ssh-password-auth-off", 3),
        RuleFailure("zhuozhou", "county", "log-remote-syslog", 2),
    ),
)


@pytest.fixture
def metrics_of(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """An exporter (no SNMP targets) serving the compliance state file `state.json`."""
    state = tmp_path / "state.json"
    exporter = Exporter({}, {})
    server = serve(exporter, "127.0.0.1", 0, [ComplianceCollector(state)])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        exporter.close()


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback http
        text = answer.read().decode()
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def test_the_exporter_serves_the_last_checks_failures(metrics_of: tuple[Path, str]) -> None:
    state, url = metrics_of
    write_state(state, STATE)
    samples = scrape(url)
    assert sorted(
        labels["host"] + "/" + labels["rule"] for labels, _ in samples["egov_compliance_failures"]
    ) == ["baoding/ssh-password-auth-off", "zhuozhou/log-remote-syslog"]
    assert (
        {"host": "baoding", "tier": "city", "rule": "ssh-password-auth-off", "level": "3"},
        1.0,
    ) in samples["egov_compliance_failures"]
    assert samples["egov_compliance_state_ok"] == [({}, 1.0)]
    assert samples["egov_compliance_hosts_checked"] == [({}, 13.0)]
    assert samples["egov_compliance_last_check_timestamp_seconds"] == [({}, 1796000000.0)]
    assert "egov_snmp_targets" in samples  # beside the exporter's own series

    # the next check is clean: the failures go, on the very next scrape
    write_state(state, ComplianceState(1796000600.0, "live", 13, ()))
    samples = scrape(url)
    assert "egov_compliance_failures" not in samples
    assert samples["egov_compliance_state_ok"] == [({}, 1.0)]


@pytest.mark.parametrize("content", [None, "{not json", '{"version": 99}', '{"version": 1}'])
def test_an_unreadable_state_is_reported_not_clean(
    metrics_of: tuple[Path, str], content: str | None
) -> None:
    state, url = metrics_of
    if content is not None:
        state.write_text(content, encoding="utf-8")
    samples = scrape(url)
    assert samples["egov_compliance_state_ok"] == [({}, 0.0)]
    assert "egov_compliance_failures" not in samples
    with pytest.raises(ComplianceStateError, match=str(state)):
        read_state(state)


def test_a_state_round_trips(tmp_path: Path) -> None:
    path = write_state(tmp_path / "deep" / "state.json", STATE)
    assert read_state(path) == STATE
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temporary left
