"""The isolation part's checks as the audit and enforce workflows see them: configs
rendered, read from a directory or over SSH, or the lab live (through `RunnerAccess`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from egovnet import platforms as registry
from egovnet.configs.parse import parse_for
from egovnet.model import Network
from egovnet.wiring.devices import DeviceSession
from egovnet.wiring.lab import RunnerAccess, lab_names, restore_named, service_hosts
from egovnet.workflows.enforce import EnforceResult, Ports
from egovnet.workflows.rollout import RolloutRun
from isolation.analysis import audit_configs
from isolation.enforce import Verdict, targets_of, unknown_ports
from isolation.findings import Finding, hosts_to_repair
from isolation.live import live_audit
from isolation.resolvers import config_findings
from isolation.sources import intended_configs, intended_named, parse_running, read_running
from nornir_tasks.report import RolloutReport
from nornir_tasks.tasks import fetch_running, interfaces

EnforceOutcome = EnforceResult[Verdict, RolloutReport]
"""What `egovnet isolation enforce` gets back from the enforce workflow with this wiring."""
RolloutRunReport = RolloutRun[RolloutReport]


def live_findings(network: Network, stages: dict[str, float]) -> list[Finding]:
    access = RunnerAccess(network.lab_name)
    return live_audit(network, access, lab_names(network), stages)


@dataclass
class IsolationAudit:
    """The audit workflow's `IsolationChecks` over one network."""

    network: Network

    def intended(self) -> list[Finding]:
        named = config_findings(self.network, intended_named(self.network), "config")
        return sorted(audit_configs(self.network, intended_configs(self.network)) + named)

    def running(self, directory: Path) -> list[Finding]:
        configs, findings = read_running(self.network, directory)
        return sorted(findings + audit_configs(self.network, configs))

    def live(self, stages: dict[str, float]) -> list[Finding]:
        return live_findings(self.network, stages)

    def hosts_to_repair(self, findings: Sequence[Finding]) -> list[str]:
        return hosts_to_repair(list(findings))


def running_findings(session: DeviceSession) -> list[Finding]:
    """The audit of every host's running config, read over SSH now; a host that cannot be
    read is a finding of its own (an audit that skips it would prove nothing)."""
    results = session.run(fetch_running)
    configs = {}
    findings = []
    for node in session.network.nodes:
        result = results[node.name][0]
        if result.failed:
            reason = session.masker.mask(str(result.exception))
            findings.append(Finding("unparsed", node.name, "", "", reason, "config"))
            continue
        file = f"{node.name} (running)"
        configs[node.name], mismatch = parse_running(result.result, node, file)
        findings.extend([mismatch] if mismatch else [])
    return sorted(findings + audit_configs(session.network, configs))


@dataclass
class EnforceRepair:
    """The enforce workflow's `IsolationRepair`: the audit of `source` (running configs
    over SSH, or the lab live), the targets, the ports to shut, the verdict."""

    session: DeviceSession
    source: str  # running | live
    platform: str | None = None

    def audit(self) -> list[Finding]:
        if self.source == "live":
            return live_findings(self.session.network, {})
        return running_findings(self.session)

    def targets(self, findings: list[Finding], all_hosts: bool) -> list[str]:
        services = set(service_hosts(self.session.network))
        return [h for h in targets_of(findings, self.session.hosts, all_hosts) if h not in services]

    def service_targets(self, findings: list[Finding]) -> list[str]:
        """Service hosts with findings: repaired in the lab only (named.conf restored)."""
        if self.source != "live":
            return []
        services = set(service_hosts(self.session.network))
        return sorted({f.host for f in findings if f.host in services})

    def restore_services(self, hosts: list[str]) -> list[str]:
        return restore_named(self.session.network, hosts)

    def shut_unknown_ports(self, intended: dict[str, str], targets: list[str]) -> Ports:
        return with_unknown_ports_shut(self.session, intended, targets, self.platform)

    def verdict(
        self, before: list[Finding], after: list[Finding], targets: list[str], changed: list[str]
    ) -> Verdict:
        return Verdict(before, after, targets, changed)


def with_unknown_ports_shut(
    session: DeviceSession, intended: dict[str, str], targets: list[str], platform: str | None
) -> dict[str, list[tuple[str, str]]]:
    """Add a shutdown stanza to the intended config of each target for every port the host
    has and its config does not know, where its platform can (`shut_unknown_ports` in the
    registry: FRR); the ports shut, per host."""
    records = {h: registry.platform(platform or session.network.node(h).platform) for h in targets}
    able = [h for h in targets if records[h].shut_unknown_ports is not None]
    if not able:
        return {}
    results = session.run(interfaces, only=able)
    shut: dict[str, list[tuple[str, str]]] = {}
    for host in able:
        result = results[host][0]
        if result.failed:
            continue  # the rollout will meet the same host and report why
        record = records[host]
        known = parse_for(intended[host], host, record.name, f"{host}.cfg")
        ports = unknown_ports(result.result, known)
        if ports and record.shut_unknown_ports is not None:
            shut_ports = registry.load_reference(record.shut_unknown_ports)
            intended[host] = shut_ports(intended[host], ports)
            shut[host] = ports
    return shut
