"""The compliance engine: intended configs pass, and what a check cannot read fails closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.engine import ComplianceReport, check_hosts
from compliance.evidence import EvidenceText, HostEvidence, intended_evidence
from compliance.rules import RULES_DIR, RuleError, load_rule_file, load_rules
from egovnet.errors import InventoryError
from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.model import Network


@pytest.fixture(scope="module")
def sample(request: pytest.FixtureRequest) -> Network:
    return load_network(Path(__file__).resolve().parents[2] / "inventory")


def test_the_sample_intended_configs_pass_every_rule(sample: Network) -> None:
    report = check_hosts(sample, intended_evidence(sample))
    assert [(r.host, r.rule, r.status, r.message) for r in report.failing()] == []
    assert report.exit_code == 0
    assert set(report.hosts) == {node.name for node in sample.nodes}
    assert report.counts()["pass"] > 0


def test_levels_come_from_the_tier(sample: Network) -> None:
    levels = {node.tier: node.protection_level for node in sample.nodes}
    assert levels == {"province": 3, "exit": 3, "city": 3, "county": 2}


def test_a_host_may_raise_its_level_but_never_lower_it(inventory_copy: Path) -> None:
    hosts = inventory_copy / "hosts.yaml"
    text = hosts.read_text(encoding="utf-8")
    raised = text.replace("    region: 正定县\n", "    region: 正定县\n    protection_level: 3\n")
    hosts.write_text(raised, encoding="utf-8")
    raised_network = load_network(inventory_copy)
    assert raised_network.node("zhengding").protection_level == 3
    report = check_hosts(raised_network, intended_evidence(raised_network, ["zhengding"]))
    (redundancy,) = [r for r in report.results if r.rule == "redundant-uplinks"]
    assert (redundancy.status, redundancy.level) == ("fail", 3)  # one uplink: level 3 wants two
    lowered = text.replace(
        "    region: 石家庄市\n", "    region: 石家庄市\n    protection_level: 2\n"
    )
    hosts.write_text(lowered, encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_network(inventory_copy)
    (problem,) = caught.value.problems
    assert (problem.file, problem.host, problem.field) == (
        str(hosts),
        "shijiazhuang",
        "data.protection_level",
    )
    assert "may only raise" in problem.message


def _evidence(network: Network, host: str, config: str) -> HostEvidence:
    node = network.node(host)
    return HostEvidence(
        host, node.platform, "running", {"config": EvidenceText("config", config, "x.cfg")}
    )


def test_evidence_of_another_platform_is_unverified_never_passed(sample: Network) -> None:
    vrp = intended_evidence(sample, ["hebei-core-1"])["hebei-core-1"].texts["config"].text
    report = check_hosts(sample, {"zhengding": _evidence(sample, "zhengding", vrp)})
    statuses = {r.status for r in report.results if r.level in (2,)}
    assert statuses <= {"unverified", "not_applicable"}
    assert "unverified" in statuses
    assert report.exit_code == 1
    assert any("not frr's" in r.message for r in report.results)


def test_missing_evidence_is_unverified(sample: Network) -> None:
    report = check_hosts(sample, {}, hosts=["zhengding"])
    assert report.exit_code == 1
    assert {r.status for r in report.results} <= {"unverified", "not_applicable", "pass"}
    ssh = next(r for r in report.results if r.rule == "ssh-only")
    assert ssh.status == "unverified"


def test_a_broken_rule_file_names_file_rule_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "x.yaml"
    bad.write_text(
        "family: x\nname: X\nrules:\n"
        "  - id: one\n    title: t\n    clause: {2: a}\n    levels: [2]\n"
        "    platforms:\n"
        "      frr: {checks: [{in: config, require: '(unclosed'}], remediation: [x]}\n"
        "      huawei_vrp: {not_checkable: n}\n      h3c_comware: {not_checkable: n}\n"
        "      cisco_ios: {not_checkable: n}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleError) as caught:
        load_rule_file(bad)
    message = str(caught.value)
    assert str(bad) in message
    assert "rule one" in message
    assert "platforms.frr.checks.0" in message
    assert "bad regex" in message


def test_a_rule_must_say_how_every_platform_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "x.yaml"
    bad.write_text(
        "family: x\nname: X\nrules:\n"
        "  - id: one\n    title: t\n    clause: {2: a}\n    levels: [2]\n"
        "    platforms:\n      frr: {not_checkable: n}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleError, match=r"rule one: platforms: .*no entry for huawei_vrp"):
        load_rule_file(bad)


def test_the_shipped_rules_load_with_unique_ids() -> None:
    rules = load_rules()
    ids = [rule.id for rule in rules]
    assert len(ids) == len(set(ids))
    assert {rule.family for rule in rules} == {path.stem for path in RULES_DIR.glob("*.yaml")}


def test_the_report_serialises_as_it_is(sample: Network) -> None:
    report = check_hosts(sample, intended_evidence(sample, ["zhengding"]))
    assert isinstance(report, ComplianceReport)
    document = json.loads(json.dumps(report.as_dict()))
    assert document["ok"] is True
    assert document["hosts"] == ["zhengding"]
    first = document["results"][0]
    assert set(first) >= {"host", "rule", "status", "evidence", "remediation", "clause"}


def test_a_generated_national_inventory_passes_every_rule(tmp_path: Path) -> None:
    """All 31 provinces under the national core (a few cities each: the full size is the
    benchmark's, benchmarks/compliance.py)."""
    write_inventory(generate_inventory(31, 2, 1, 2), tmp_path)
    network = load_network(tmp_path)
    report = check_hosts(network, intended_evidence(network))
    assert [(r.host, r.rule, r.status, r.message) for r in report.failing()] == []
    levels = {node.tier: node.protection_level for node in network.nodes}
    assert levels == {"national": 2, "province": 3, "exit": 3, "city": 3, "county": 2}
    statuses = {r.status for r in report.results if r.tier == "city"}
    assert statuses == {"pass", "not_applicable"}


def test_every_rule_is_documented() -> None:
    """docs/compliance.md has a section per rule, so an assessor can read what each checks."""
    docs = (RULES_DIR.parents[1] / "docs" / "compliance.md").read_text(encoding="utf-8")
    missing = [rule.id for rule in load_rules() if f"#### `{rule.id}`" not in docs]
    assert missing == []
