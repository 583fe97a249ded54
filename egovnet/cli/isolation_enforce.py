"""`egovnet isolation enforce`: audit, roll the intended state out to the hosts the audit
names (through the rollout engine: staged, gated, rolled back on failure), audit again.

The audit reads the devices' running configs over SSH (`--source running`, any network) or,
in the lab, the running configs, routing tables and probes (`--source live`). Exit 0 only
when the audit after the rollout is clean; findings that a rollout cannot touch (their
hosts were already as intended) are named as such.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from egovnet.cli.common import (
    JsonOption,
    SecretsOption,
    emit_json,
    err,
    fail,
    out,
)
from egovnet.cli.isolation_cmds import isolation_app, print_findings
from egovnet.cli.rollout_cmds import (
    BackupOption,
    CanaryOption,
    GateTimeoutOption,
    KeyOption,
    ParallelOption,
    PlatformOption,
    RunsOption,
    UserOption,
    YesOption,
    print_report,
    render_intended,
    rollout_engine,
    start_session,
)
from egovnet.errors import EgovnetError
from egovnet.wiring.devices import EngineSettings
from egovnet.wiring.isolation import EnforceOutcome, EnforceRepair, RolloutRunReport
from egovnet.workflows import enforce as enforce_workflow
from egovnet.workflows.enforce import EnforceRequest


class EnforceSource(StrEnum):
    running = "running"
    live = "live"


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
    session = start_session(None, platform, (username, ssh_key), max_parallel, secrets, as_json)

    def say(line: str) -> None:
        if not as_json:
            err.print(f"[bold]==>[/] {escape(line)}")

    def show(run: RolloutRunReport) -> None:
        if not as_json:
            print_report(run.report, show_diffs=dry_run)
            out.print(f"report: {escape(str(run.path))}")

    settings = EngineSettings(canary, max_parallel, repo, platform, gate_timeout)
    engine = rollout_engine(session, settings, yes=yes, as_json=as_json)
    repair = EnforceRepair(session, source.value, platform)
    request = EnforceRequest(source.value, all_hosts, dry_run)
    try:
        result = enforce_workflow.enforce(
            repair,
            render_intended(session, platform),
            engine,
            request,
            runs,
            say=say,
            on_rollout=show,
        )
    except EgovnetError as exc:
        fail(exc, as_json)
    _finish(result, as_json)


def _finish(result: EnforceOutcome, as_json: bool) -> None:
    """Print the verdict and exit: 0 when clean, the rollout's code when it failed, else 1."""
    code = result.exit_code
    if as_json:
        emit_json(result.as_dict())
        raise typer.Exit(code)
    verdict = result.verdict
    if result.dry_run:
        print_findings(verdict.before, "isolation audit before enforcing")
        out.print("dry run: nothing changed")
    elif result.rollout_failed:
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
