"""`egovnet dns render`: the extranet's BIND 9 files, one folder per service host.

The CLI only parses, calls `egovnet.render.dns` and writes what it returns.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from egovnet.cli.common import JsonOption, emit_json, fail, load, out
from egovnet.errors import EgovnetError
from egovnet.render.dns import DEFAULT_CONF_DIR, render_dns

dns_app = typer.Typer(help="The extranet's DNS (BIND 9), from the inventory.", no_args_is_help=True)


@dns_app.command("render")
def render(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Directory: one folder per service host.")
    ],
    serial: Annotated[
        int | None,
        typer.Option(help="SOA serial of the zones (default: now, in seconds since 1970)."),
    ] = None,
    conf_dir: Annotated[
        str, typer.Option(help="Where the files are installed on the hosts (paths in named.conf).")
    ] = DEFAULT_CONF_DIR,
    as_json: JsonOption = False,
) -> None:
    """Write named.conf for every service host and the zone files on the primary.

    Check them with `named-checkconf -z` and `named-checkzone` (Debian bind9-utils).
    """
    network = load(as_json)
    started = time.perf_counter()
    chosen = serial if serial is not None else int(time.time())
    try:
        files = render_dns(network, chosen, conf_dir)
    except EgovnetError as exc:
        fail(exc, as_json)
    written: dict[str, list[str]] = {}
    records = 0
    try:
        for host, texts in files.items():
            folder = output / host
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in texts.items():
                (folder / name).write_text(text, encoding="utf-8")
                if name != "named.conf":
                    records += text.count(" IN ")
            written[host] = sorted(texts)
    except OSError as exc:
        fail(EgovnetError(f"cannot write {output}: {exc.strerror or exc}"), as_json)
    seconds = time.perf_counter() - started
    if as_json:
        emit_json(
            {
                "ok": True,
                "directory": str(output),
                "serial": chosen,
                "hosts": written,
                "records": records,
                "seconds": round(seconds, 3),
            }
        )
        return
    out.print(
        f"[bold green]✓[/] {escape(str(output))}: {len(written)} service host(s), "
        f"{records} records, serial {chosen}, in {seconds:.2f}s"
    )
    for host, names in written.items():
        out.print(f"  {escape(host)}: {escape(', '.join(names))}")
