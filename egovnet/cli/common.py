"""What every `egovnet` sub-command shares: consoles, exit codes, options, error reporting.

Each part's commands live in a module of their own (`lab_cmds`, `rollout_cmds`, ...) and
import from here, so that no two work streams edit one file to add a command.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from egovnet.errors import EgovnetError, InventoryError, SecretError
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.secrets import SecretStore

EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_SECRETS = Path(".secrets/secrets.yaml")

UNBOUNDED_WIDTH = 10_000
"""Columns of a console that is not a terminal: wider than any table or tree line."""


class ReportConsole(Console):
    """A rich Console that keeps every cell whole when its output is not a terminal.

    Rich assumes 80 columns where it finds no terminal (CI logs, `| tee`, a file) and cuts
    table cells to fit (`hebei-co…`), so a log loses the very host names it is read for.
    Off a terminal this console is unbounded (tables and trees take their natural width;
    nothing here expands to the full width); on one, or with `COLUMNS` set, rich's own
    width holds. Asked on every write, since the output stream can change (a test's)."""

    @property
    def size(self) -> ConsoleDimensions:
        found = super().size
        if self._width is None and not self.is_terminal and "COLUMNS" not in self._environ:
            return ConsoleDimensions(UNBOUNDED_WIDTH, found.height)
        return found

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


# emoji off: "hosts.yaml:100:" must not turn into "hosts.yaml💯"
out = ReportConsole(highlight=False, soft_wrap=True, emoji=False)
err = ReportConsole(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class State:
    inventory: Path = Path("inventory")


state = State()

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document for machines.")]


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(exc: EgovnetError, as_json: bool) -> NoReturn:
    """Report a bad-input error and exit 2."""
    if isinstance(exc, InventoryError):
        if as_json:
            emit_json({"ok": False, "problems": [p.as_dict() for p in exc.problems]})
        else:
            count = len(exc.problems)
            err.print(f"[bold red]✗ {count} problem{'s' if count != 1 else ''} in the inventory[/]")
            for problem in exc.problems:
                err.print(f"  {problem}", markup=False)
    elif as_json:
        emit_json({"ok": False, "error": str(exc)})
    else:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
    raise typer.Exit(EXIT_BAD_INPUT)


def load(as_json: bool) -> Network:
    try:
        return load_network(state.inventory)
    except InventoryError as exc:
        fail(exc, as_json)


@contextmanager
def progress(total: int, label: str, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for long work; silent for small jobs and for `--json`."""
    if not enabled or total < 200 or not err.is_terminal:
        yield lambda _n: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def phase_bars(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """One rich progress bar per phase of long work (namespaces, links, daemons, ...),
    each added when its phase reports first; plain lines when stderr is not a terminal."""
    if not enabled:
        yield lambda _phase, _done, _total: None
        return
    if not err.is_terminal:
        started = time.perf_counter()

        def line(phase: str, done: int, total: int) -> None:
            if done == total:
                err.print(f"  ✓ {phase} {done}/{total} ({time.perf_counter() - started:.1f}s)")

        yield line
        return
    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as bars:
        tasks: dict[str, TaskID] = {}

        def advance(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bars.add_task(phase, total=total)
            bars.update(tasks[phase], completed=done, total=total)

        yield advance


def secret_store(secrets: Path | None, as_json: bool) -> SecretStore:
    file = secrets or (
        Path(os.environ["EGOVNET_SECRETS"]) if "EGOVNET_SECRETS" in os.environ else None
    )
    if file is None and DEFAULT_SECRETS.exists():
        file = DEFAULT_SECRETS
    try:
        return SecretStore(file)
    except SecretError as exc:
        fail(exc, as_json)


SecretsOption = Annotated[
    Path | None,
    typer.Option(
        "--secrets",
        help="Secrets file (name: value, mode 0600). Default: $EGOVNET_SECRETS, else "
        f"{DEFAULT_SECRETS}. $EGOVNET_SECRET_<NAME> variables take precedence.",
    ),
]
