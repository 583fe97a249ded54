"""`egovnet compliance enforce`: check the lab live, repair the failing hosts only (their
Linux-side services restored by the lab, then the intended configs rolled out through the
staged, gated rollout), check again. Exit 0 only when the second check is clean.

`--state FILE` writes each check's failures where the exporter reads them, as `compliance
check --state` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from egovnet.cli.common import JsonOption, SecretsOption, emit_json, err, fail, out
from egovnet.cli.compliance_cmds import StateOption, compliance_app
from egovnet.cli.compliance_cmds import print_report as print_check
from egovnet.cli.rollout_cmds import (
    BackupOption,
    CanaryOption,
    GateTimeoutOption,
    KeyOption,
    LimitOption,
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
from egovnet.wiring.compliance import LiveRepair
from egovnet.wiring.devices import EngineSettings
from egovnet.workflows.compliance import enforce_compliance
from egovnet.workflows.rollout import RolloutRun
from nornir_tasks.report import RolloutReport


def enforce(
    limit: LimitOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check, then show what would change; change nothing.")
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
    state_file: StateOption = None,
    secrets: SecretsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Repair graded protection on the lab: check live (FRR's running config, sshd -T,
    snmpd's config, listening sockets), restore the rendered sshd/snmpd configs where their
    rules fail, roll the intended configs out to the failing hosts through the staged
    rollout, then check again. Exit 0 only if the second check is clean."""
    session = start_session(limit, platform, (username, ssh_key), max_parallel, secrets, as_json)

    def say(line: str) -> None:
        if not as_json:
            err.print(f"[bold]==>[/] {escape(line)}")

    def show(run: RolloutRun[RolloutReport]) -> None:
        if not as_json:
            print_report(run.report, show_diffs=dry_run)
            out.print(f"report: {escape(str(run.path))}")

    settings = EngineSettings(canary, max_parallel, repo, platform, gate_timeout)
    engine = rollout_engine(session, settings, yes=yes, as_json=as_json)
    repair = LiveRepair(session.network, session.hosts, session.store, state_file)
    try:
        result = enforce_compliance(
            repair,
            render_intended(session, platform),
            engine,
            dry_run,
            runs,
            say=say,
            on_rollout=show,
        )
    except EgovnetError as exc:
        fail(exc, as_json)
    code = result.exit_code
    if as_json:
        emit_json(result.as_dict())
        raise typer.Exit(code)
    out.print("[bold]before enforcing[/]")
    print_check(result.before)
    for host, services in result.restored.items():
        out.print(f"restored on {escape(host)}: {escape(', '.join(services))}")
    for host, why in result.not_restored.items():
        err.print(f"[bold red]✗[/] could not restore the services of {escape(host)}: {escape(why)}")
    if result.after is not None and result.after is not result.before:
        out.print("[bold]after enforcing[/]")
        print_check(result.after)
    elif dry_run:
        out.print("dry run: nothing changed")
    raise typer.Exit(code)


def register() -> None:
    """Add `enforce` to `egovnet compliance`."""
    compliance_app.command("enforce")(enforce)
