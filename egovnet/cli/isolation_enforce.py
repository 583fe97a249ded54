"""`egovnet isolation enforce`: audit, roll the intended state out to the hosts the audit
names (through the rollout engine: staged, gated, rolled back on failure), audit again.

The audit reads the devices' running configs over SSH (`--source running`, any network) or,
in the lab, the running configs, routing tables and probes (`--source live`). Exit 0 only
when the audit after the rollout is clean; findings that a rollout cannot touch (their
hosts were already as intended) are named as such.
"""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from egovnet import platforms as registry
from egovnet.cli.common import (
    EXIT_FOUND,
    EXIT_OK,
    JsonOption,
    SecretsOption,
    emit_json,
    err,
    fail,
    out,
)
from egovnet.cli.isolation_cmds import isolation_app, live_findings, print_findings
from egovnet.cli.rollout_cmds import (
    BackupOption,
    CanaryOption,
    DeviceSession,
    GateTimeoutOption,
    KeyOption,
    ParallelOption,
    PlatformOption,
    RunsOption,
    UserOption,
    YesOption,
    execute_rollout,
    print_report,
    render_intended,
)
from egovnet.errors import EgovnetError
from isolation.analysis import audit_configs
from isolation.enforce import Verdict, targets_of, unknown_ports
from isolation.findings import Finding
from isolation.sources import parse_config, parse_for
from nornir_tasks.rollout import RolloutOptions
from nornir_tasks.tasks import fetch_running, interfaces


class EnforceSource(StrEnum):
    running = "running"
    live = "live"


def _running_findings(session: DeviceSession) -> list[Finding]:
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
        configs[node.name] = parse_config(result.result, node.name, node.platform, file)
    return sorted(findings + audit_configs(session.network, configs))


def _audit(session: DeviceSession, source: EnforceSource) -> list[Finding]:
    if source is EnforceSource.live:
        return live_findings(session.network, {})
    return _running_findings(session)


def _with_unknown_ports_shut(
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


def enforce(
    source: Annotated[
        EnforceSource,
        typer.Option(
            "--source",
            help="running: audit the configs read from every device over SSH; live: the "
            "lab's running configs, routing tables and probes (root, lab up).",
        ),
    ] = EnforceSource.running,
    all_hosts: Annotated[
        bool, typer.Option("--all", help="Roll out to every host, not only those with findings.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Audit, then show what would change; change nothing.")
    ] = False,
    yes: YesOption = False,
    canary: CanaryOption = 1,
    max_parallel: ParallelOption = 20,
    platform: PlatformOption = None,
    username: UserOption = "root",
    ssh_key: KeyOption = None,
    repo: BackupOption = Path("backups"),
    runs: RunsOption = Path("runs"),
    gate_timeout: GateTimeoutOption = 90.0,
    secrets: SecretsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Repair isolation: audit, roll the intended configs (zone VRFs, route filters, the
    exit's firewall and NAT; ports not in the inventory shut) out to the hosts with findings
    through the staged rollout, then audit again. Exit 0 only if the second audit is clean."""
    started = time.perf_counter()
    session = DeviceSession.start(
        None, platform, (username, ssh_key), max_parallel, secrets, as_json
    )

    def say(line: str) -> None:
        if not as_json:
            err.print(f"[bold]==>[/] {escape(line)}")

    try:
        say(f"auditing ({source.value})")
        before = _audit(session, source)
        targets = targets_of(before, session.hosts, all_hosts)
        if not targets:
            say("no findings: nothing to enforce")
            _finish(Verdict(before, before, []), None, as_json, started, dry_run)
        say(f"{len(before)} finding(s); rolling the intended state out to {', '.join(targets)}")
        intended = render_intended(session.network, session.store, platform, as_json)
        shut = _with_unknown_ports_shut(session, intended, targets, platform)
        for host, ports in shut.items():
            names = ", ".join(f"{n} (vrf {v})" for n, v in ports)
            say(f"{host}: ports not in the inventory will be shut: {names}")
    except EgovnetError as exc:
        fail(exc, as_json)
    options = RolloutOptions(
        dry_run, ",".join(targets), canary, max_parallel, "wave", repo, platform
    )
    report, path = execute_rollout(
        session, intended, options, yes=yes, runs=runs, gate_timeout=gate_timeout, as_json=as_json
    )
    if not as_json:
        print_report(report, show_diffs=dry_run)
        out.print(f"report: {escape(str(path))}")
    changed = [name for name, host in report.hosts.items() if host.commands]
    if dry_run or report.exit_code != EXIT_OK:
        verdict = Verdict(before, before, targets, changed)
        _finish(verdict, report.exit_code, as_json, started, dry_run, path)
    say(f"auditing again ({source.value})")
    try:
        after = _audit(session, source)
    except EgovnetError as exc:
        fail(exc, as_json)
    _finish(Verdict(before, after, targets, changed), EXIT_OK, as_json, started, dry_run, path)


def _finish(
    verdict: Verdict,
    rollout_code: int | None,
    as_json: bool,
    started: float,
    dry_run: bool,
    report: Path | None = None,
) -> None:
    """Print the verdict and exit: 0 when clean, the rollout's code when it failed, else 1."""
    if rollout_code not in {None, EXIT_OK}:
        code = int(rollout_code or EXIT_FOUND)
    else:
        code = EXIT_OK if verdict.clean or (dry_run and not verdict.before) else EXIT_FOUND
    if as_json:
        emit_json(
            {
                "ok": code == EXIT_OK,
                "dry_run": dry_run,
                "targets": verdict.targets,
                "changed": verdict.changed,
                "before": [f.as_dict() for f in verdict.before],
                "after": [f.as_dict() for f in verdict.after],
                "repaired": len(verdict.repaired),
                "unrepairable": [f.as_dict() for f in verdict.unrepairable],
                "report": str(report) if report else None,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        raise typer.Exit(code)
    if dry_run:
        print_findings(verdict.before, "isolation audit before enforcing")
        out.print("dry run: nothing changed")
    elif rollout_code not in {None, EXIT_OK}:
        err.print("[bold red]✗[/] the rollout did not complete: nothing is left half-applied")
    else:
        print_findings(verdict.after, "isolation audit after enforcing")
        out.print(f"{len(verdict.repaired)} of {len(verdict.before)} finding(s) repaired")
        for finding in verdict.unrepairable:
            out.print(
                f"[yellow]![/] not repairable by a device config ({escape(finding.host)} is "
                f"as intended): {escape(finding.subject)}: {escape(finding.evidence)}"
            )
    raise typer.Exit(code)


def register() -> None:
    """Add `enforce` to `egovnet isolation`."""
    isolation_app.command("enforce")(enforce)
