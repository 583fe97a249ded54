"""The compliance part joined to the lab, the rollout and the exporter.

- live evidence: `compliance.live.live_evidence` over the lab's `RunnerAccess` (commands
  by `nsenter` into the inventory's lab), `egovnet-facts` at the lab's path;
- the state file the exporter serves (`exporters.compliance`), written after every check;
- enforce's `ComplianceRepair`: the live check, the failing hosts, and the repair of the
  Linux-side services the lab runs beside FRR (sshd, snmpd): their rendered configs written
  back by the lab (`lab.runner.restore_services`), since FRR's config rollout does not carry
  them (docs/compliance-live.md says why);
- the rollout's compliance gate: the changed hosts checked live before and after each wave;
  a (host, rule) failing after that passed before is a regression, and the wave rolls back.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compliance.engine import ComplianceReport, check_hosts
from compliance.evidence import SNMPD, SSHD, HostEvidence
from compliance.live import live_evidence
from egovnet.errors import EgovnetError
from egovnet.model import Network
from egovnet.render.host_services import render_snmpd_conf, render_sshd_config
from egovnet.secrets import SecretStore, SharedSecrets
from egovnet.wiring.lab import LabNotUpError, RunnerAccess
from exporters.compliance import ComplianceState, RuleFailure, write_state
from lab import runner as lab_runner
from nornir_tasks.gates import GateResult

SERVICE_EVIDENCE = (SSHD, SNMPD)
"""Evidence texts of Linux-side services: failing rules on them are repaired by the lab."""


def lab_evidence(network: Network, hosts: Sequence[str] | None = None) -> dict[str, HostEvidence]:
    """Every selected router's live evidence from the inventory's lab (LabNotUpError when
    it is not up)."""
    access = RunnerAccess(network.lab_name)
    return live_evidence(access, network, hosts, facts=(lab_runner.FACTS_PATH,))


def live_check(network: Network, hosts: Sequence[str] | None = None) -> ComplianceReport:
    """The check on the lab's live evidence."""
    return check_hosts(network, lab_evidence(network, hosts))


def publish_state(report: ComplianceReport, path: Path) -> Path:
    """The report's failures as the state file the exporter serves on `/metrics`."""
    failures = tuple(RuleFailure(r.host, r.tier, r.rule, r.level) for r in report.failing())
    return write_state(
        path, ComplianceState(time.time(), report.source, len(report.hosts), failures)
    )


@dataclass
class LiveRepair:
    """`enforce`'s `ComplianceRepair` over the lab: check, failing hosts, service repair."""

    network: Network
    hosts: list[str]
    store: SecretStore
    state: Path | None = None

    def audit(self) -> ComplianceReport:
        report = live_check(self.network, self.hosts)
        if self.state is not None:
            publish_state(report, self.state)
        return report

    def targets(self, report: ComplianceReport) -> list[str]:
        failing = set(report.hosts_to_repair())
        return [h for h in self.hosts if h in failing]

    def services_to_restore(
        self, report: ComplianceReport, targets: list[str]
    ) -> dict[str, list[str]]:
        """Per target, the services whose evidence a failing rule points at (or names in
        its message: the text was missing). Every lab router runs sshd and snmpd, whatever
        platform it stands in for."""
        wanted: dict[str, set[str]] = {}
        for result in report.failing():
            if result.host not in targets:
                continue
            named = {line.evidence for line in result.evidence} & set(SERVICE_EVIDENCE)
            named |= {s for s in SERVICE_EVIDENCE if s in result.message}
            if named:
                wanted.setdefault(result.host, set()).update(named)
        return {h: sorted(s) for h, s in wanted.items()}

    def restore_services(self, services: Mapping[str, Sequence[str]]) -> dict[str, str]:
        secrets = SharedSecrets.resolve(self.network, self.store)
        failed: dict[str, str] = {}
        for host, names in services.items():
            node = self.network.node(host)
            texts = {
                SSHD: render_sshd_config(self.network, node) if SSHD in names else None,
                SNMPD: (
                    render_snmpd_conf(self.network, node, secrets.snmp_users)
                    if SNMPD in names
                    else None
                ),
            }
            try:
                lab_runner.restore_services(
                    self.network.lab_name, host, sshd=texts[SSHD], snmpd=texts[SNMPD]
                )
            except (EgovnetError, OSError) as exc:
                failed[host] = str(exc)
        return failed


@dataclass
class ComplianceGate:
    """The rollout's compliance gate: `baseline` before a wave (the engine's `before_wave`),
    `check` after it; a rule that passed on a host before and fails after (or can no longer
    be verified) is a regression. A host failing before stays a failure, not a regression:
    the gate judges the change, the check judges the network."""

    network: Network
    failing_before: dict[str, set[str]] = field(default_factory=dict)

    def _failing(self, hosts: Sequence[str]) -> tuple[dict[str, set[str]], dict[str, str]]:
        try:
            report = live_check(self.network, list(hosts))
        except LabNotUpError as exc:
            return {}, {h: str(exc) for h in hosts}
        failing: dict[str, set[str]] = {h: set() for h in hosts}
        for result in report.failing():
            failing.setdefault(result.host, set()).add(result.rule)
        return failing, {}

    def baseline(self, _wave: str, hosts: list[str]) -> None:
        failing, _unread = self._failing(hosts)
        self.failing_before.update(failing)

    def check(self, hosts: Sequence[str]) -> list[GateResult]:
        failing, unread = self._failing(hosts)
        results = []
        for host in hosts:
            if host in unread:
                results.append(GateResult(host, "compliance", False, unread[host]))
                continue
            new = sorted(failing.get(host, set()) - self.failing_before.get(host, set()))
            detail = (
                f"regressed: {', '.join(new)}"
                if new
                else f"no regression ({len(failing.get(host, set()))} failing as before)"
            )
            results.append(GateResult(host, "compliance", not new, detail))
        return results
