"""`compliance enforce` and the rollout's compliance gate, with fakes for the lab and the
engine: enforce touches only the failing hosts (their services restored before the config
rollout, which a broken sshd might refuse), checks again, and exits 0 only when the second
check is clean; the gate calls a rule that passed before the wave and fails after it a
regression, and a rule that failed before no regression."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from compliance.engine import ComplianceReport, check_hosts
from compliance.evidence import EvidenceText, intended_evidence
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.secrets import SecretStore
from egovnet.wiring import compliance as wiring
from egovnet.wiring.compliance import ComplianceGate, LiveRepair
from egovnet.workflows.compliance import enforce_compliance
from nornir_tasks.gates import GateResult, HealthGates
from tests.unit.conftest import SAMPLE
from tests.unit.test_workflows import FakeEngine

CITY, COUNTY = "baoding", "zhuozhou"


@dataclass
class FakeCheck:
    """A report: the failing hosts."""

    failing: list[str]

    @property
    def exit_code(self) -> int:
        return 1 if self.failing else 0

    def as_dict(self) -> dict[str, Any]:
        return {"failing": self.failing}


@dataclass
class FakeLab:
    """Checks answer in turn; services restored are recorded, with the engine's runs."""

    checks: list[FakeCheck]
    services: dict[str, list[str]]
    engine: FakeEngine
    calls: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    def audit(self) -> FakeCheck:
        self.calls.append("check")
        return self.checks.pop(0)

    def targets(self, report: FakeCheck) -> list[str]:
        return report.failing

    def services_to_restore(self, report: FakeCheck, targets: list[str]) -> dict[str, list[str]]:
        return {h: s for h, s in self.services.items() if h in targets}

    def restore_services(self, services: Mapping[str, Sequence[str]]) -> dict[str, str]:
        self.calls.append(f"restore {sorted(services)} (rollouts so far: {len(self.engine.runs)})")
        return dict(self.refuse)


def test_enforce_restores_services_then_rolls_out_to_the_failing_hosts_only(
    tmp_path: Path,
) -> None:
    engine = FakeEngine()
    lab = FakeLab([FakeCheck([CITY]), FakeCheck([])], {CITY: ["sshd"]}, engine)
    result = enforce_compliance(lab, lambda: {CITY: "c", COUNTY: "k"}, engine, False, tmp_path)
    assert lab.calls == ["check", f"restore ['{CITY}'] (rollouts so far: 0)", "check"]
    assert [request.limit for _, request in engine.runs] == [CITY]
    assert result.exit_code == 0
    document = result.as_dict()
    assert document["restored"] == {CITY: ["sshd"]}
    assert document["targets"] == [CITY]
    assert document["after"] == {"failing": []}


def test_enforce_exits_1_when_the_second_check_still_fails(tmp_path: Path) -> None:
    engine = FakeEngine()
    lab = FakeLab([FakeCheck([CITY]), FakeCheck([CITY])], {}, engine)
    assert enforce_compliance(lab, dict, engine, False, tmp_path).exit_code == 1


def test_enforce_of_a_clean_network_changes_nothing(tmp_path: Path) -> None:
    engine = FakeEngine()
    lab = FakeLab([FakeCheck([])], {}, engine)
    result = enforce_compliance(lab, dict, engine, False, tmp_path)
    assert (result.exit_code, engine.runs, lab.calls) == (0, [], ["check"])


def test_a_dry_run_restores_nothing_and_checks_once(tmp_path: Path) -> None:
    engine = FakeEngine()
    lab = FakeLab([FakeCheck([CITY])], {CITY: ["snmpd"]}, engine)
    result = enforce_compliance(lab, dict, engine, True, tmp_path)
    assert lab.calls == ["check"]
    assert [request.dry_run for _, request in engine.runs] == [True]
    assert result.exit_code == 1


def test_a_failed_rollout_is_its_exit_code_and_no_second_check(tmp_path: Path) -> None:
    engine = FakeEngine(exit_code=130)
    lab = FakeLab([FakeCheck([CITY])], {}, engine)
    assert enforce_compliance(lab, dict, engine, False, tmp_path).exit_code == 130
    assert lab.calls == ["check"]


def test_a_service_that_could_not_be_restored_fails_the_run(tmp_path: Path) -> None:
    engine = FakeEngine()
    lab = FakeLab(
        [FakeCheck([CITY]), FakeCheck([])],
        {CITY: ["sshd"]},
        engine,
        refuse={CITY: "sshd -t: bad config"},
    )
    result = enforce_compliance(lab, dict, engine, False, tmp_path)
    assert result.exit_code == 1
    assert result.as_dict()["not_restored"] == {CITY: "sshd -t: bad config"}


# ----- the real repair's choice of services, and the gate, on real reports ---------------


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(SAMPLE)


def report_with(
    network: Network, host: str, edits: Mapping[str, tuple[str, str]]
) -> ComplianceReport:
    """The check of `host`'s intended evidence with text edits (evidence -> (old, new))."""
    evidence = intended_evidence(network, [host])
    texts = dict(evidence[host].texts)
    listening = "- tcp LISTEN 0 128 10.0.0.1:22 0.0.0.0:*\n"  # what a live node shows besides
    texts["services"] = EvidenceText("services", listening, "live")
    for name, (old, new) in edits.items():
        assert old in texts[name].text, (name, old)
        texts[name] = type(texts[name])(name, texts[name].text.replace(old, new), "live")
    return check_hosts(network, {host: type(evidence[host])(host, "frr", "live", texts)})


PASSWORDS = {"sshd": ("PasswordAuthentication no", "PasswordAuthentication yes")}


def test_the_repair_restores_sshd_where_an_sshd_rule_fails(network: Network) -> None:
    repair = LiveRepair(network, [CITY], SecretStore(environ={}))
    report = report_with(network, CITY, PASSWORDS)
    assert repair.targets(report) == [CITY]
    assert repair.services_to_restore(report, [CITY]) == {CITY: ["sshd"]}
    clean = report_with(network, CITY, {})
    assert repair.targets(clean) == []


def test_the_gate_calls_a_new_failure_a_regression_and_an_old_one_not(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = [report_with(network, CITY, {}), report_with(network, CITY, PASSWORDS)]
    monkeypatch.setattr(wiring, "live_check", lambda _network, _hosts: reports.pop(0))
    gate = ComplianceGate(network)
    gate.baseline("cities", [CITY])
    [result] = gate.check([CITY])
    assert (result.host, result.gate, result.ok) == (CITY, "compliance", False)
    assert result.detail.startswith("regressed: ")
    assert "ssh-only" in result.detail

    reports[:] = [report_with(network, CITY, PASSWORDS), report_with(network, CITY, PASSWORDS)]
    gate = ComplianceGate(network)
    gate.baseline("cities", [CITY])
    [result] = gate.check([CITY])
    assert result.ok, result.detail


@dataclass
class FakeResult:
    result: list[dict[str, Any]]
    failed: bool = False
    exception: Exception | None = None


@dataclass
class FakeNornir:
    """Every host answers its BGP sessions Established."""

    network: Network

    def filter(self, filter_func: Any) -> FakeNornir:
        return self

    def run(self, task: Any, on_failed: bool, **_kwargs: Any) -> dict[str, list[FakeResult]]:
        return {
            node.name: [
                FakeResult(
                    [
                        {"vrf": s.vrf, "address": str(s.peer_address), "state": "Established"}
                        for s in self.network.sessions_of(node.name)
                    ]
                )
            ]
            for node in self.network.nodes
        }


@dataclass
class RecordingGate:
    failing: bool
    asked: list[list[str]] = field(default_factory=list)

    def baseline(self, wave: str, hosts: list[str]) -> None:
        raise AssertionError("the engine's before_wave calls this, not the health gates")

    def check(self, hosts: Sequence[str]) -> list[GateResult]:
        self.asked.append(list(hosts))
        return [GateResult(h, "compliance", not self.failing, "x") for h in hosts]


@pytest.mark.parametrize("failing", [False, True])
def test_a_wave_gate_is_asked_once_after_the_health_gates_pass(
    network: Network, monkeypatch: pytest.MonkeyPatch, failing: bool
) -> None:
    """Not polled for the gate timeout: a regression does not go away by waiting."""
    monkeypatch.setattr(HealthGates, "_probes", lambda _self, _node, _pending: [])
    gate = RecordingGate(failing)
    gates = HealthGates(network, timeout=30.0, interval=0.01, extra=[gate])
    ok, results, _waited = gates.wait(FakeNornir(network), [CITY])  # type: ignore[arg-type]
    assert gate.asked == [[CITY]]
    assert ok is not failing
    assert [r.gate for r in results] == ["bgp", "compliance"]


@pytest.mark.parametrize(
    "command",
    [("compliance", "check", "--source", "live"), ("compliance", "enforce", "--yes")],
)
def test_live_without_the_lab_is_bad_input_naming_the_lab(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Nothing was checked: exit 2 with what to do, never a report (and never `clean`)."""
    from tests.console import egovnet  # noqa: PLC0415 - only these tests run the CLI
    from tests.labkit import make_test_lab  # noqa: PLC0415

    kit = make_test_lab(tmp_path, "egvt-cl-nolab")  # an inventory copy only: no lab is up
    done = egovnet(*command, "--json", cwd=tmp_path, inventory=kit.inventory)
    assert done.returncode == 2, done.stdout + done.stderr
    assert json.loads(done.stdout) == {
        "ok": False,
        "error": "lab egvt-cl-nolab is not up: run `egovnet lab up` first",
    }
