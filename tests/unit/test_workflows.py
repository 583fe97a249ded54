"""The workflows with fakes for their I/O: what each does in what order, what it reports,
and the exit code the CLI passes on. No device, no lab: the point of injecting them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from egovnet.errors import EgovnetError
from egovnet.workflows.audit import AuditSource, audit
from egovnet.workflows.backup import Provenance, backup
from egovnet.workflows.diff import diff
from egovnet.workflows.enforce import EnforceRequest, Ports, enforce
from egovnet.workflows.ports import Failed, RolloutRequest
from egovnet.workflows.rollout import rollout
from isolation.enforce import Verdict
from isolation.findings import Finding

WHO = Provenance("ops", "inventory", "abc123-dirty")


@dataclass
class FakeDevices:
    """Hosts whose running config is `configs[host]`; a host missing from it is down."""

    configs: dict[str, str]
    hosts: list[str] = field(default_factory=list)

    def running(self) -> dict[str, str | Failed]:
        return {h: self.configs.get(h, Failed("ssh: timed out")) for h in self.hosts}

    def diffs(self, intended: Mapping[str, str]) -> dict[str, str | Failed]:
        out: dict[str, str | Failed] = {}
        for h in self.hosts:
            if h not in self.configs:
                out[h] = Failed("ssh: timed out")
            else:
                same = self.configs[h] == intended[h]
                out[h] = "" if same else f"-{self.configs[h]}\n+{intended[h]}\n"
        return out

    def mask(self, text: str) -> str:
        return text.replace("s3cret", "<tacacs-key>")


def test_backup_commits_every_host_read_and_names_the_one_that_was_not() -> None:
    devices = FakeDevices({"a": "hostname a\n", "c": "hostname c\n"}, ["a", "b", "c"])
    commits: list[tuple[dict[str, str], str, str]] = []

    def commit(configs: dict[str, str], who: str, message: str) -> str:
        commits.append((configs, who, message))
        return "f" * 40

    result = backup(devices, Path("backups"), commit, WHO)

    assert [sorted(c[0]) for c in commits] == [["a", "c"]]
    assert commits[0][1] == "ops"
    assert "inventory inventory @ abc123-dirty" in commits[0][2]
    assert result.exit_code == 1
    assert result.as_dict() == {
        "ok": False,
        "repo": "backups",
        "commit": "f" * 40,
        "hosts": ["a", "c"],
        "failed": {"b": "ssh: timed out"},
    }


def test_backup_of_no_readable_host_makes_no_commit() -> None:
    def commit(_configs: dict[str, str], _who: str, _message: str) -> str:
        raise AssertionError("nothing to commit")

    result = backup(FakeDevices({}, ["a"]), Path("backups"), commit, WHO)
    assert result.commit is None
    assert result.exit_code == 1


def test_diff_reports_drift_and_unreadable_hosts_with_secrets_masked() -> None:
    devices = FakeDevices({"a": "key s3cret", "b": "same"}, ["a", "b", "c"])
    result = diff(devices, lambda: {"a": "key other", "b": "same", "c": "x"})
    document = result.as_dict()
    assert document["drift"] == ["a"]
    assert document["failed"] == ["c"]
    assert "s3cret" not in json.dumps(document)
    assert result.exit_code == 1
    assert diff(FakeDevices({"b": "same"}, ["b"]), lambda: {"b": "same"}).exit_code == 0


@dataclass
class FakeHost:
    diff: str = ""
    commands: int = 0


@dataclass
class FakeReport:
    run_id: str
    exit_code: int
    hosts: dict[str, FakeHost]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return f"run {self.run_id}\n"

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "report.json"
        path.write_text(json.dumps(self.as_dict()), encoding="utf-8")
        return path


@dataclass
class FakeEngine:
    """Changes every host it is asked to (`exit_code` 0), or fails the run."""

    exit_code: int = 0
    runs: list[tuple[dict[str, str], RolloutRequest]] = field(default_factory=list)

    def run(self, intended: dict[str, str], request: RolloutRequest) -> FakeReport:
        self.runs.append((dict(intended), request))
        hosts = (request.limit or "").split(",")
        return FakeReport("r1", self.exit_code, {h: FakeHost("d", 3) for h in hosts if h})


def test_rollout_keeps_the_report_under_runs_whatever_the_outcome(tmp_path: Path) -> None:
    engine = FakeEngine(exit_code=1)
    run = rollout(engine, lambda: {"a": "cfg"}, RolloutRequest(limit="a"), tmp_path)
    assert run.path == (tmp_path / "r1" / "report.json").resolve()
    assert run.path.exists()
    assert run.exit_code == 1
    assert run.as_dict()["report"] == str(run.path)


LEAK = Finding("private-no-internet-route", "b", "private", "0.0.0.0/0", "b.cfg:3", "config")
WIRED = Finding("internet-reaches-nothing", "c", "public", "x -> y", "probe", "probe")


@dataclass
class FakeRepair:
    """Audits return `audits` in turn; every host has one unknown port."""

    audits: list[list[Finding]]
    hosts: list[str]
    calls: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    """Hosts outside the rollout (a lab's DNS servers): restored, not rolled out to."""

    def audit(self) -> list[Finding]:
        self.calls.append("audit")
        return self.audits.pop(0)

    def targets(self, findings: list[Finding], all_hosts: bool) -> list[str]:
        found = list(self.hosts) if all_hosts else sorted({f.host for f in findings})
        return [h for h in found if h not in self.services]

    def service_targets(self, findings: list[Finding]) -> list[str]:
        return sorted({f.host for f in findings if f.host in self.services})

    def restore_services(self, hosts: list[str]) -> list[str]:
        self.calls.append(f"restore {','.join(hosts)}")
        return list(hosts)

    def shut_unknown_ports(self, intended: dict[str, str], targets: list[str]) -> Ports:
        for host in targets:
            intended[host] += "interface rogue0\n shutdown\n"
        return {host: [("rogue0", "public")] for host in targets}

    def verdict(
        self, before: list[Finding], after: list[Finding], targets: list[str], changed: list[str]
    ) -> Verdict:
        return Verdict(before, after, targets, changed)


def render() -> dict[str, str]:
    return {"a": "cfg a\n", "b": "cfg b\n", "c": "cfg c\n"}


def test_enforce_with_nothing_found_renders_and_changes_nothing(tmp_path: Path) -> None:
    engine, repair = FakeEngine(), FakeRepair([[]], ["a", "b"])

    def no_render() -> dict[str, str]:
        raise AssertionError("nothing to render")

    result = enforce(repair, no_render, engine, EnforceRequest("running"), tmp_path)
    assert engine.runs == []
    assert result.exit_code == 0
    assert result.as_dict()["report"] is None


def test_enforce_rolls_out_to_the_hosts_found_then_audits_again(tmp_path: Path) -> None:
    engine, repair = FakeEngine(), FakeRepair([[LEAK, WIRED], [WIRED]], ["a", "b", "c"])
    lines: list[str] = []
    heard: list[str] = []
    result = enforce(
        repair,
        render,
        engine,
        EnforceRequest("live"),
        tmp_path,
        say=lines.append,
        on_rollout=lambda run: heard.append(f"{run.report.run_id} after {repair.calls}"),
    )
    intended, request = engine.runs[0]
    assert request == RolloutRequest(False, "b,c", "wave")
    assert intended["b"].endswith("interface rogue0\n shutdown\n")
    assert heard == ["r1 after ['audit']"]  # the rollout is told before the second audit
    assert repair.calls == ["audit", "audit"]
    assert "auditing again (live)" in lines
    document = result.as_dict()
    assert document["repaired"] == 1
    assert [f["host"] for f in document["after"]] == ["c"]
    assert result.exit_code == 1  # a finding is left: not clean


DNS = Finding("dns-private-no-internet", "dns1", "private", "view private", "named.conf", "config")


def test_enforce_restores_a_service_host_without_a_rollout_and_audits_again(
    tmp_path: Path,
) -> None:
    engine = FakeEngine()
    repair = FakeRepair([[DNS], []], ["a", "b"], services=["dns1"])
    result = enforce(repair, render, engine, EnforceRequest("live"), tmp_path)
    assert engine.runs == []  # nothing of the routers to roll out
    assert repair.calls == ["audit", "restore dns1", "audit"]
    document = result.as_dict()
    assert (document["targets"], document["changed"]) == (["dns1"], ["dns1"])
    assert result.exit_code == 0


def test_enforce_restores_service_hosts_after_the_rollout(tmp_path: Path) -> None:
    engine = FakeEngine()
    repair = FakeRepair([[LEAK, DNS], []], ["a", "b"], services=["dns1"])
    result = enforce(repair, render, engine, EnforceRequest("live"), tmp_path)
    assert engine.runs[0][1] == RolloutRequest(False, "b", "wave")
    assert repair.calls == ["audit", "restore dns1", "audit"]
    assert result.as_dict()["targets"] == ["b", "dns1"]
    assert result.exit_code == 0


def test_enforce_after_a_failed_rollout_exits_with_its_code_and_audits_once(
    tmp_path: Path,
) -> None:
    engine, repair = FakeEngine(exit_code=130), FakeRepair([[LEAK]], ["a", "b"])
    result = enforce(repair, render, engine, EnforceRequest("running"), tmp_path)
    assert repair.calls == ["audit"]
    assert result.rollout_failed
    assert result.exit_code == 130


def test_enforce_dry_run_audits_once_and_exits_1_on_findings(tmp_path: Path) -> None:
    engine, repair = FakeEngine(), FakeRepair([[LEAK]], ["a", "b"])
    request = EnforceRequest("running", dry_run=True)
    result = enforce(repair, render, engine, request, tmp_path)
    assert engine.runs[0][1].dry_run
    assert repair.calls == ["audit"]
    assert result.exit_code == 1


@dataclass
class FakeChecks:
    found: list[Finding]

    def intended(self) -> list[Finding]:
        return self.found

    def running(self, directory: Path) -> list[Finding]:
        return [*self.found, WIRED] if directory.name == "backup" else []

    def live(self, stages: dict[str, float]) -> list[Finding]:
        stages["probes"] = 1.0
        return []

    def hosts_to_repair(self, findings: Any) -> list[str]:
        return sorted({f.host for f in findings})


def test_audit_times_every_stage_and_reports_the_hosts_to_repair() -> None:
    ticks = iter([10.0, 12.5])
    result = audit(FakeChecks([LEAK]), AuditSource.running, Path("backup"), lambda: next(ticks))
    document = result.as_dict()
    assert document["hosts_to_repair"] == ["b", "c"]
    assert document["seconds"] == {"total": 2.5}
    assert result.exit_code == 1
    live = audit(FakeChecks([]), AuditSource.live)
    assert list(live.seconds) == ["probes", "total"]
    assert live.exit_code == 0


def test_an_audit_of_running_configs_needs_their_directory() -> None:
    with pytest.raises(EgovnetError, match="directory"):
        audit(FakeChecks([]), AuditSource.running)
