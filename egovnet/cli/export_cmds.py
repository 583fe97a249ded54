"""`egovnet inventory export`: the model as a Nornir SimpleInventory or an Ansible inventory.

The files come from `egovnet.export` (a pure function over the model); this module parses
the options, writes the files and prints what it wrote.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from egovnet.cli.common import JsonOption, emit_json, fail, load, out
from egovnet.errors import EgovnetError
from egovnet.export import Login, export_inventory
from lab.keys import lab_key


class ExportFormat(StrEnum):
    """Which tool's inventory."""

    NORNIR = "nornir"
    ANSIBLE = "ansible"


def register(inventory_app: typer.Typer) -> None:
    """Add `export` to `egovnet inventory`."""
    inventory_app.command("export")(export)


def default_key() -> str | None:
    """The key a login uses when none is given: the lab's, when it exists."""
    key = lab_key()
    return str(key) if key.exists() else None


def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="nornir or ansible.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory to write into.")],
    platform: Annotated[
        str | None,
        typer.Option("--platform", help="Treat every node as this platform (the lab runs FRR)."),
    ] = None,
    username: Annotated[
        str, typer.Option("--username", envvar="EGOVNET_USERNAME", help="SSH user.")
    ] = "root",
    ssh_key: Annotated[
        Path | None,
        typer.Option(
            "--ssh-key",
            envvar="EGOVNET_SSH_KEY",
            help="Path of the SSH key (written as a path, never its content). Default: the "
            "lab's key when it exists.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the inventory with every management address, platform names each tool
    understands and groups by tier, province and city; credentials only by reference."""
    network = load(as_json)
    key = str(ssh_key) if ssh_key else default_key()
    try:
        files = export_inventory(network, fmt.value, Login(username, key), platform)
    except EgovnetError as exc:
        fail(exc, as_json)
    output.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        target = output / name
        temporary = target.with_suffix(target.suffix + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
    written = [str(output / name) for name in files]
    if as_json:
        emit_json({"ok": True, "format": fmt.value, "hosts": len(network.nodes), "files": written})
    else:
        out.print(
            f"[bold green]✓[/] {fmt.value} inventory of {len(network.nodes)} host(s): "
            + ", ".join(escape(w) for w in written)
        )
