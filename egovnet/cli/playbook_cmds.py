"""`egovnet playbook NAME`: an Ansible playbook of `playbooks/` on the inventory's routers.

Parses the options and prints; the run itself (inventory export, staging, ansible-runner,
the backup's commit) is `egovnet.wiring.playbooks`.
"""

from __future__ import annotations

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
    load,
    out,
    secret_store,
)
from egovnet.cli.export_cmds import default_key
from egovnet.cli.rollout_cmds import (
    BackupOption,
    GateTimeoutOption,
    KeyOption,
    LimitOption,
    ParallelOption,
    PlatformOption,
    RunsOption,
    UserOption,
)
from egovnet.errors import EgovnetError
from egovnet.export import Login
from egovnet.wiring.playbooks import PlaybookRequest, run
from nornir_tasks.rollout import LimitError, select_hosts
from playbooks.runner import PLAYBOOKS, UnknownPlaybookError, playbook_path


def register(app: typer.Typer) -> None:
    """Add `playbook` to the console script."""
    app.command("playbook")(playbook)


def playbook(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(PLAYBOOKS)}.")],
    limit: LimitOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Ansible's check and diff mode: change nothing.")
    ] = False,
    platform: PlatformOption = None,
    username: UserOption = "root",
    ssh_key: KeyOption = None,
    max_parallel: ParallelOption = 20,
    backup_repo: BackupOption = Path("backups"),
    runs: RunsOption = Path("runs"),
    gate_timeout: GateTimeoutOption = 90.0,
    secrets: SecretsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run playbooks/NAME.yml through ansible-runner (artifacts in runs/<id>/ansible/).
    Exit 1 naming the hosts that failed; a failed host stops the run (deploy: its wave
    and every later one)."""
    try:
        playbook_path(name)
    except UnknownPlaybookError as exc:
        fail(exc, as_json)
    network = load(as_json)
    try:
        hosts = select_hosts(network, limit)
    except LimitError as exc:
        fail(exc, as_json)
    store = secret_store(secrets, as_json)
    key = str(ssh_key) if ssh_key else default_key()
    request = PlaybookRequest(
        name,
        hosts,
        limit is not None,
        check=check,
        platform=platform,
        login=Login(username, key),
        forks=max_parallel,
        runs=runs,
        backup_repo=backup_repo,
        secrets_file=secrets,
        gate_timeout=gate_timeout,
    )

    def say(line: str) -> None:
        if not as_json:
            err.print(escape(line))

    try:
        result = run(network, store, request, say)
    except EgovnetError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json(result.as_dict())
    else:
        for host, reason in result.failed.items():
            err.print(f"[red]✗ {escape(host)}[/]: {escape(reason)}")
        changed = result.run.changed_hosts
        verb = "would change" if check else "changed"
        colour = "green" if result.ok else "red"
        line = f"[bold {colour}]playbook {escape(name)}: {result.run.status}[/], "
        line += f"{len(result.run.hosts)} host(s), {len(changed)} {verb}"
        if result.failed:
            line += f", failed: {escape(', '.join(result.failed))}"
        if result.commit:
            line += f"; backup commit {result.commit[:12]} in {escape(str(backup_repo))}"
        out.print(line)
        out.print(f"artifacts: {escape(str(result.directory))}")
    raise typer.Exit(result.exit_code)
