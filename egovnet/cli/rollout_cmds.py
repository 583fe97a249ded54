"""`egovnet backup`, `egovnet diff` and `egovnet rollout`: the device-facing commands.

They wire the rollout engine (nornir_tasks) to this place: credentials from the secrets
store and the environment, the intended configs rendered from the inventory, and, when the
lab is up on this machine, the lab's namespaces as the vantage point of the data-plane gates.
"""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from nornir.core import Nornir
from nornir.core.task import AggregatedResult
from rich.markup import escape
from rich.syntax import Syntax

from egovnet.cli.common import (
    EXIT_FOUND,
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
from egovnet.errors import EgovnetError, SecretError
from egovnet.model import Network, Node
from egovnet.render.engine import render_network
from egovnet.render.view import SharedSecrets, secret_names
from egovnet.secrets import SecretStore
from lab import runner as lab_runner
from lab.keys import lab_key
from nornir_tasks.backup import Masker, commit_backup
from nornir_tasks.gates import HealthGates, PingProbe, SnmpV3User, snmpv3_probe
from nornir_tasks.inventory import Credentials, build_nornir
from nornir_tasks.report import RolloutReport
from nornir_tasks.rollout import (
    LimitError,
    Rollout,
    RolloutContext,
    RolloutOptions,
    select_hosts,
)
from nornir_tasks.tasks import diff_intended, fetch_running


class RollbackScope(StrEnum):
    """How much a failure undoes."""

    WAVE = "wave"
    ALL = "all"


DEVICE_PASSWORD = "device-password"  # noqa: S105 - the name of an optional secret, not a value

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


def _credentials(username: str, ssh_key: Path | None, store: SecretStore) -> Credentials:
    key = ssh_key
    if key is None and lab_key().exists():
        key = lab_key()
    password = None
    if not store.missing([DEVICE_PASSWORD]):
        password = store.get(DEVICE_PASSWORD)
    return Credentials(username, password, str(key) if key else None)


def _masker(network: Network, store: SecretStore) -> Masker:
    names = [*secret_names(network), DEVICE_PASSWORD]
    return Masker({name: store.get(name) for name in names if not store.missing([name])})


def render_intended(
    network: Network, store: SecretStore, platform: str | None, as_json: bool
) -> dict[str, str]:
    try:
        return render_network(network, SharedSecrets.resolve(network, store), platform)
    except SecretError as exc:
        fail(exc, as_json)


def lab_ping_probe(lab: str) -> PingProbe | None:
    """Pings from inside the node namespaces of lab `lab` (the inventory's), when it runs
    here; never from another lab's nodes of the same names."""
    try:
        holders = {holder.node: holder for holder in lab_runner.find_holders(lab)}
    except OSError:
        return None
    if not holders:
        return None

    def ping(node: Node, source: str, target: str) -> bool:
        holder = holders.get(node.name)
        if holder is None:
            return False
        output = holder.enter("ping", "-n", "-c", "1", "-W", "2", "-I", source, target, check=False)
        return " 1 received" in output

    return ping


def _snmp(network: Network, store: SecretStore) -> Callable[[Node], bool] | None:
    users = network.spec.services.snmp.users
    if not users:
        return None
    spec = users[0]
    user = SnmpV3User(
        spec.name,
        spec.auth.upper().replace("SHA256", "SHA-256"),
        store.get(spec.auth_key.secret),
        "AES",
        store.get(spec.priv_key.secret),
    )
    return snmpv3_probe(user)


def _inventory_commit(inventory: Path) -> str:
    """The inventory's git commit, `-dirty` when it has uncommitted changes."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - git with fixed arguments
            ["git", "-C", str(inventory), *args],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=False,
        )

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return "not in git"
    dirty = git("status", "--porcelain", "--", ".").stdout.strip()
    return head.stdout.strip() + ("-dirty" if dirty else "")


def _operator() -> str:
    return os.environ.get("EGOVNET_OPERATOR") or os.environ.get("SUDO_USER") or getpass.getuser()


def _hosts(network: Network, limit: str | None, as_json: bool) -> list[str]:
    try:
        return select_hosts(network, limit)
    except LimitError as exc:
        fail(exc, as_json)


@dataclass
class DeviceSession:
    """What every device command starts from: the model, the hosts, secrets, a Nornir."""

    network: Network
    hosts: list[str]
    store: SecretStore
    masker: Masker
    nornir: Nornir

    @classmethod
    def start(
        cls,
        limit: str | None,
        platform: str | None,
        login: tuple[str, Path | None],
        max_parallel: int,
        secrets: Path | None,
        as_json: bool,
    ) -> DeviceSession:
        network = load(as_json)  # an invalid inventory stops here, before any connection
        hosts = _hosts(network, limit, as_json)
        store = secret_store(secrets, as_json)
        credentials = _credentials(login[0], login[1], store)
        nornir = build_nornir(network, credentials, workers=max_parallel, platform=platform)
        return cls(network, hosts, store, _masker(network, store), nornir)

    def run(
        self, task: Callable[..., object], only: list[str] | None = None, **kwargs: Any
    ) -> AggregatedResult:
        """`task` on the session's hosts (or on `only` of them), connections closed after."""
        names = set(self.hosts if only is None else only)
        try:
            return self.nornir.filter(filter_func=lambda h: h.name in names).run(
                task=task, on_failed=True, **kwargs
            )
        finally:
            self.nornir.close_connections(on_failed=True)


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
    session = DeviceSession.start(
        limit, platform, (username, ssh_key), max_parallel, secrets, as_json
    )
    hosts, masker = session.hosts, session.masker
    results = session.run(fetch_running)
    configs = {name: results[name][0].result for name in hosts if not results[name][0].failed}
    failed = {name: str(results[name][0].exception) for name in hosts if name not in configs}
    commit = None
    if configs:
        commit = commit_backup(
            repo,
            configs,
            masker,
            operator=_operator(),
            message=f"backup of {len(configs)} host(s) by {_operator()}\n\n"
            f"inventory {state.inventory} @ {_inventory_commit(state.inventory)}",
        )
    if as_json:
        emit_json(
            {
                "ok": not failed,
                "repo": str(repo),
                "commit": commit,
                "hosts": sorted(configs),
                "failed": {k: masker.mask(v) for k, v in failed.items()},
            }
        )
    else:
        for name, error in failed.items():
            err.print(f"[red]✗ {escape(name)}[/]: {escape(masker.mask(error))}")
        where = f"commit {commit[:12]}" if commit else "no commit"
        out.print(
            f"{'[green]✓' if not failed else '[yellow]![/]'}[/] {len(configs)} of "
            f"{len(hosts)} host(s) backed up in {escape(str(repo))} ({where})"
        )
    raise typer.Exit(EXIT_FOUND if failed else EXIT_OK)


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
    session = DeviceSession.start(
        limit, platform, (username, ssh_key), max_parallel, secrets, as_json
    )
    hosts, masker = session.hosts, session.masker
    intended = render_intended(session.network, session.store, platform, as_json)
    results = session.run(diff_intended, intended=intended)
    rows: list[dict[str, str | None]] = []
    for name in hosts:
        result = results[name][0]
        if result.failed:
            rows.append({"host": name, "error": masker.mask(str(result.exception)), "diff": ""})
        else:
            rows.append({"host": name, "error": None, "diff": masker.mask(result.result.text)})
    drift = [row["host"] for row in rows if row["diff"]]
    failed = [row["host"] for row in rows if row["error"]]
    if as_json:
        emit_json({"ok": not drift and not failed, "drift": drift, "failed": failed, "hosts": rows})
    else:
        for row in rows:
            if row["error"]:
                err.print(f"[red]✗ {escape(str(row['host']))}[/]: {escape(str(row['error']))}")
            elif row["diff"]:
                out.print(
                    Syntax(str(row["diff"]), "diff", theme="ansi_dark", background_color="default")
                )
        out.print(
            f"{len(drift)} of {len(hosts)} host(s) differ from the inventory"
            + (f"; {len(failed)} could not be read" if failed else "")
        )
    raise typer.Exit(EXIT_FOUND if drift or failed else EXIT_OK)


def print_report(report: RolloutReport, show_diffs: bool) -> None:
    if show_diffs:
        for host in report.hosts.values():
            if host.diff:
                out.print(Syntax(host.diff, "diff", theme="ansi_dark", background_color="default"))
    colour = "green" if report.exit_code == EXIT_OK else "red"
    lines = report.summary().splitlines()
    out.print(f"[bold {colour}]{escape(lines[0])}[/]")
    for line in lines[1:]:
        out.print(line, markup=False)


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
    secrets: SecretsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bring the network to the inventory: back up and diff every target, then push wave by
    wave (province, cities, counties; a canary first in each), with health gates after each
    step. A failed host or gate rolls the wave (or, with --rollback-scope all, the run) back
    to the pre-run backup and exits 1; Ctrl-C lets in-flight hosts finish, rolls back, exits
    130. Every run writes runs/<id>/report.json and summary.txt."""
    session = DeviceSession.start(
        limit, platform, (username, ssh_key), max_parallel, secrets, as_json
    )
    intended = render_intended(session.network, session.store, platform, as_json)
    options = RolloutOptions(
        dry_run, limit, canary, max_parallel, rollback_scope.value, repo, platform
    )
    report, path = execute_rollout(
        session, intended, options, yes=yes, runs=runs, gate_timeout=gate_timeout, as_json=as_json
    )
    if as_json:
        emit_json({**report.as_dict(), "report": str(path)})
    else:
        print_report(report, show_diffs=dry_run)
        out.print(f"report: {escape(str(path))}")
    raise typer.Exit(report.exit_code)


def execute_rollout(
    session: DeviceSession,
    intended: dict[str, str],
    options: RolloutOptions,
    *,
    yes: bool,
    runs: Path,
    gate_timeout: float,
    as_json: bool,
) -> tuple[RolloutReport, Path]:
    """Run the engine with the CLI's gates, prompt and Ctrl-C handling; the report and where
    it was written. Shared by `rollout` and `isolation enforce`."""
    network, store, nornir = session.network, session.store, session.nornir
    gates = HealthGates(
        network,
        ping=lab_ping_probe(network.lab_name),
        snmp=_snmp(network, store),
        timeout=gate_timeout,
    )
    context = RolloutContext(_operator(), str(state.inventory), _inventory_commit(state.inventory))

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

    engine = Rollout(
        network,
        nornir,
        intended,
        gates,
        session.masker,
        options,
        context,
        say=say,
        confirm=confirm,
    )

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        say("interrupted: in-flight hosts finish, then the wave is rolled back")
        engine.interrupted.set()

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        report = engine.run()
    except EgovnetError as exc:
        fail(exc, as_json)
    finally:
        signal.signal(signal.SIGINT, previous)
        nornir.close_connections(on_failed=True)
    return report, report.write(runs / report.run_id).resolve()
