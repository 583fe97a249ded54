"""`egovnet monitor config`: what it writes is accepted by Prometheus's and Alertmanager's own
checkers, every alert fires (and stays quiet) as its promtool unit test says, targets carry
the inventory's labels, and alerts reach the NOC of the right city.

promtool and amtool come with Debian's prometheus and prometheus-alertmanager packages; in
CI (`CI` set) their absence fails these tests instead of skipping them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.console import egovnet

PROMTOOL_TESTS = Path(__file__).resolve().parent / "promtool" / "egov_alerts_test.yml"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed (Debian packages prometheus, prometheus-alertmanager)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, cwd=cwd, timeout=60, check=False
    )


@pytest.fixture(scope="module", params=["production", "lab"])
def config(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp(f"monitoring-{request.param}")
    done = egovnet(
        "monitor",
        "config",
        "-o",
        str(directory),
        "--profile",
        request.param,
        "--json",
        "--webhook",
        "http://127.0.0.1:9095/alerts",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["ok"] is True
    return directory


def test_promtool_accepts_the_config_and_rules(config: Path) -> None:
    checked = run(tool("promtool"), "check", "config", "prometheus.yml", cwd=config)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 1 rule files found" in checked.stdout
    rules = run(tool("promtool"), "check", "rules", "rules/egov.rules.yml", cwd=config)
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_amtool_accepts_the_alertmanager_config(config: Path) -> None:
    checked = run(tool("amtool"), "check-config", "alertmanager.yml", cwd=config)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "4 receivers" in checked.stdout  # the province NOC and the sample's 3 cities


def test_every_alert_passes_its_promtool_unit_test(tmp_path: Path) -> None:
    """The unit tests are written for production timings (the `for:` durations matter)."""
    done = egovnet("monitor", "config", "-o", str(tmp_path), "--profile", "production")
    assert done.returncode == 0, done.stderr
    shutil.copy(PROMTOOL_TESTS, tmp_path / PROMTOOL_TESTS.name)
    tested = run(tool("promtool"), "test", "rules", PROMTOOL_TESTS.name, cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_unit_test(config: Path) -> None:
    rules = yaml.safe_load((config / "rules" / "egov.rules.yml").read_text(encoding="utf-8"))
    alerts = {r["alert"] for group in rules["groups"] for r in group["rules"] if "alert" in r}
    tests = yaml.safe_load(PROMTOOL_TESTS.read_text(encoding="utf-8"))["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts == firing
    assert len(alerts) == 16


def test_targets_are_the_inventory_with_its_labels(config: Path) -> None:
    entries = json.loads((config / "targets" / "snmp.json").read_text(encoding="utf-8"))
    by_host = {e["targets"][0]: e["labels"] for e in entries}
    assert len(by_host) == 13
    assert by_host["zhengding"] | {"__param_module": ""} == {
        "host": "zhengding",
        "tier": "county",
        "province": "河北省",
        "city": "石家庄市",
        "county": "正定县",
        "platform": "frr",
        "__param_module": "",
    }
    assert "city" not in by_host["hebei-core-1"]
    assert all("system" in labels["__param_module"].split(",") for labels in by_host.values())


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["tier=county", "city=石家庄市", "severity=warning"], ["noc-shijiazhuang"]),
        (["tier=city", "city=唐山市", "severity=warning"], ["noc-tangshan"]),
        (["tier=county", "city=保定市", "severity=critical"], ["noc-province", "noc-baoding"]),
        (["tier=province", "severity=warning"], ["noc-province"]),
        (["tier=exit", "severity=warning"], ["noc-province"]),
    ],
)
def test_alerts_route_to_the_province_or_their_citys_noc(
    config: Path, labels: list[str], receivers: list[str]
) -> None:
    routed = run(
        tool("amtool"),
        "config",
        "routes",
        "test",
        "--config.file=alertmanager.yml",
        *labels,
        cwd=config,
    )
    assert routed.returncode == 0, routed.stdout + routed.stderr
    assert routed.stdout.split() == [",".join(receivers)]


def test_an_unknown_profile_is_bad_input(tmp_path: Path) -> None:
    done = egovnet("monitor", "config", "-o", str(tmp_path), "--profile", "fast")
    assert done.returncode == 2
    assert "unknown profile 'fast'" in done.stderr
