"""`egovnet backup`, `egovnet diff` and `egovnet rollout`: the device-facing commands.

Each parses its options, starts a device session (`egovnet.wiring.devices`: credentials from
the secrets store and the environment, a Nornir over the model), calls its workflow
(`egovnet.workflows`) and prints the result, or emits it as JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.syntax import Syntax

from egovnet.cli.common import (
    EXIT_OK,
    JsonOption,
    SecretsOption,
    emit_json,
    err,
    fail,
    load,
    out,
    secret_store,
    state,
)
from egovnet.errors import EgovnetError
from egovnet.model import Network
from egovnet.render.engine import render_network
from egovnet.secrets import SharedSecrets
from egovnet.wiring.compliance import ComplianceGate
from egovnet.wiring.devices import (
    DEVICE_PASSWORD,
    DeviceSession,
    EngineSettings,
    NornirRollout,
    provenance,
)
from egovnet.workflows import backup as backup_workflow
from egovnet.workflows import diff as diff_workflow
from egovnet.workflows import rollout as rollout_workflow
from egovnet.workflows.ports import RolloutReportLike, RolloutRequest
from nornir_tasks.rollout import LimitError, select_hosts


class RollbackScope(StrEnum):
    """How much a failure undoes."""

    WAVE = "wave"
    ALL = "all"


LimitOption = Annotated[
    str | None,
    typer.Option(
        "--limit",
        help="Hosts to act on, comma-separated: names, globs (*-core-*), tier:county, "
        "under:HOST (HOST and its subtree). Default: every host.",
    ),
]
PlatformOption = Annotated[
    str | None,
    typer.Option(
        "--platform",
        help="Treat every node as this platform (the lab runs FRR for all of them).",
    ),
]
UserOption = Annotated[
    str,
    typer.Option(
        "--username",
        envvar="EGOVNET_USERNAME",
        help="SSH user on the devices (a host's `username` in the inventory wins).",
    ),
]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--ssh-key",
        envvar="EGOVNET_SSH_KEY",
        help="SSH private key. Default: the lab's key when it exists. A password, if any, "
        f"comes from the secret {DEVICE_PASSWORD!r}.",
    ),
]
ParallelOption = Annotated[
    int, typer.Option("--max-parallel", min=1, max=200, help="Hosts worked on at once.")
]
BackupOption = Annotated[
    Path, typer.Option("--backup-repo", help="Git repository of running configs.")
]
CanaryOption = Annotated[
    int, typer.Option("--canary", min=0, help="Hosts pushed and gated alone first in each wave.")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before changing.")]
RunsOption = Annotated[Path, typer.Option("--runs", help="Where run reports go.")]
GateTimeoutOption = Annotated[
    float, typer.Option("--gate-timeout", min=1, help="Seconds the gates may take to pass.")
]


def render_intended(session: DeviceSession, platform: str | None) -> Callable[[], dict[str, str]]:
    """The intended configs of the session's network, rendered when a workflow asks."""

    def render() -> dict[str, str]:
        network = session.network
        return render_network(network, SharedSecrets.resolve(network, session.store), platform)

    return render


def _hosts(network: Network, limit: str | None, as_json: bool) -> list[str]:
    try:
        return select_hosts(network, limit)
    except LimitError as exc:
        fail(exc, as_json)


def start_session(
    limit: str | None,
    platform: str | None,
    login: tuple[str, Path | None],
    max_parallel: int,
    secrets: Path | None,
    as_json: bool,
) -> DeviceSession:
    """The model, the hosts `limit` selects, the secrets and a Nornir; bad input exits 2."""
    network = load(as_json)  # an invalid inventory stops here, before any connection
    hosts = _hosts(network, limit, as_json)
    store = secret_store(secrets, as_json)
    return DeviceSession.start(network, hosts, store, login, max_parallel, platform)


def rollout_engine(
    session: DeviceSession, settings: EngineSettings, *, yes: bool, as_json: bool
) -> NornirRollout:
    """The engine with the CLI's progress lines and prompt. Shared by `rollout` and
    `isolation enforce`."""

    def say(line: str) -> None:
        if not as_json:
            err.print(f"[bold]==>[/] {escape(line)}")

    def confirm(count: int) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            say(f"{count} host(s) would change; pass --yes to apply without a prompt")
            return False
        return typer.confirm(f"Apply changes to {count} host(s) in staged waves?", err=True)

    return NornirRollout(session, settings, provenance(state.inventory), say, confirm)


def register(app: typer.Typer) -> None:
    """Add `backup`, `diff` and `rollout` to the console script."""
    app.command("backup")(backup)
    app.command("diff")(diff)
    app.command("rollout")(rollout)


def backup(
    repo: BackupOption = Path("backups"),
    limit: LimitOption = None,
    platform: PlatformOption = None,
    username: UserOption = "root",
    ssh_key: KeyOption = None,
    max_parallel: ParallelOption = 20,
    secrets: SecretsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Running configs of every host into a git repository: one commit per run, secrets
    masked. Exit 1 when a host could not be read (the others are still committed)."""
    session = start_session(limit, platform, (username, ssh_key), max_parallel, secrets, as_json)
    result = backup_workflow.backup(
        session, repo, session.committer(repo), provenance(state.inventory)
    )
    if as_json:
        emit_json(result.as_dict())
    else:
        for name, error in result.failed.items():
            err.print(f"[red]✗ {escape(name)}[/]: {escape(error)}")
        where = f"commit {result.commit[:12]}" if result.commit else "no commit"
        out.print(
            f"{'[green]✓[/]' if result.ok else '[yellow]![/]'} {len(result.hosts)} of "
            f"{len(result.selected)} host(s) backed up in {escape(str(repo))} ({where})"
        )
    raise typer.Exit(result.exit_code)


def diff(
    limit: LimitOption = None,
    platform: PlatformOption = None,
    username: UserOption = "root",
    ssh_key: KeyOption = None,
    max_parallel: ParallelOption = 20,
    secrets: SecretsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Intended (rendered from the inventory) against running, per host, as unified diffs.
    Exit 1 on any drift or unreachable host; nothing is changed."""
    session = start_session(limit, platform, (username, ssh_key), max_parallel, secrets, as_json)
    try:
        result = diff_workflow.diff(session, render_intended(session, platform))
    except EgovnetError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json(result.as_dict())
    else:
        for row in result.hosts:
            if row.error:
                err.print(f"[red]✗ {escape(row.host)}[/]: {escape(row.error)}")
            elif row.diff:
                out.print(Syntax(row.diff, "diff", theme="ansi_dark", background_color="default"))
        failed = result.failed
        out.print(
            f"{len(result.drift)} of {len(result.hosts)} host(s) differ from the inventory"
            + (f"; {len(failed)} could not be read" if failed else "")
        )
    raise typer.Exit(result.exit_code)


def print_report(report: RolloutReportLike, show_diffs: bool) -> None:
    if show_diffs:
        for host in report.hosts.values():
            if host.diff:
                out.print(Syntax(host.diff, "diff", theme="ansi_dark", background_color="default"))
    colour = "green" if report.exit_code == EXIT_OK else "red"
    lines = report.summary().splitlines()
    out.print(f"[bold {colour}]{escape(lines[0])}[/]")
    for line in lines[1:]:
        out.print(line, markup=False)


class ExtraGate(StrEnum):
    compliance = "compliance"


def rollout(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Back up and diff every target, change nothing.")
    ] = False,
    limit: LimitOption = None,
    canary: CanaryOption = 1,
    max_parallel: ParallelOption = 20,
    rollback_scope: Annotated[
        RollbackScope,
        typer.Option(
            "--rollback-scope",
            help="On a failure roll back the failing wave, or all waves of the run.",
        ),
    ] = RollbackScope.WAVE,
    yes: YesOption = False,
    platform: PlatformOption = None,
    username: UserOption = "root",
    ssh_key: KeyOption = None,
    repo: BackupOption = Path("backups"),
    runs: RunsOption = Path("runs"),
    gate_timeout: GateTimeoutOption = 90.0,
    gate: Annotated[
        list[ExtraGate] | None,
        typer.Option(
            "--gate",
            help="An extra gate after each wave (repeatable). compliance: the wave's hosts "
            "checked live (the lab) before and after; a rule that regressed rolls it back.",
        ),
    ] = None,
    secrets: SecretsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bring the network to the inventory: back up and diff every target, then push wave by
    wave (province, cities, counties; a canary first in each), with health gates after each
    step. A failed host or gate rolls the wave (or, with --rollback-scope all, the run) back
    to the pre-run backup and exits 1; Ctrl-C lets in-flight hosts finish, rolls back, exits
    130. Every run writes runs/<id>/report.json and summary.txt."""
    session = start_session(limit, platform, (username, ssh_key), max_parallel, secrets, as_json)
    settings = EngineSettings(canary, max_parallel, repo, platform, gate_timeout)
    engine = rollout_engine(session, settings, yes=yes, as_json=as_json)
    if ExtraGate.compliance in (gate or []):
        engine.wave_gates = [ComplianceGate(session.network)]
    request = RolloutRequest(dry_run, limit, rollback_scope.value)
    try:
        run = rollout_workflow.rollout(engine, render_intended(session, platform), request, runs)
    except EgovnetError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json(run.as_dict())
    else:
        print_report(run.report, show_diffs=dry_run)
        out.print(f"report: {escape(str(run.path))}")
    raise typer.Exit(run.exit_code)
