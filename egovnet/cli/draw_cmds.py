"""`egovnet topology draw` and `egovnet noc`: the network's picture, static or live.

Both need a drawing (`topology`) and, live, monitoring (`exporters`): they go through
`egovnet.wiring.noc`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from egovnet.cli.common import JsonOption, emit_json, fail, load, out
from egovnet.errors import EgovnetError
from egovnet.wiring.noc import draw as draw_network
from egovnet.wiring.noc import noc_config
from exporters.noc import NOC_PORT, NocServer
from topology.draw import FORMATS, Format

SUFFIX = {"svg": "svg", "png": "png", "html": "html", "drawio": "drawio", "mermaid": "mmd"}


def _format_of(output: Path | None, given: str | None) -> Format:
    if given is not None:
        chosen = given
    elif output is not None and output.suffix.lstrip(".") in (*FORMATS, "mmd"):
        chosen = {"mmd": "mermaid", "gv": "dot"}.get(output.suffix.lstrip("."), output.suffix[1:])
    else:
        chosen = "svg"
    if chosen not in FORMATS:
        raise EgovnetError(f"--format {chosen}: one of {', '.join(FORMATS)}")
    return chosen


def draw(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: stdout).")
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help=f"One of {', '.join(FORMATS)} (default: from -o's suffix, else svg).",
        ),
    ] = None,
    under: Annotated[
        str | None, typer.Option("--under", help="Draw only this host and what is below it.")
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Colour nodes and links from Prometheus.")
    ] = False,
    prometheus: Annotated[
        str, typer.Option(help="HOST:PORT or URL of Prometheus (with --live).")
    ] = "127.0.0.1:9090",
    as_json: JsonOption = False,
) -> None:
    """Draw the network: province → city → county, the exit and the internet, every link.

    Graphviz (`dot`) lays it out. Solid lines are parent links, dashed ones redundant
    uplinks, dotted ones peer links, bold the internet. Badges count departments per zone.
    """
    network = load(as_json)
    started = time.perf_counter()
    try:
        chosen = _format_of(output, output_format)
        data = draw_network(network, chosen, under=under, prometheus=prometheus if live else None)
    except EgovnetError as exc:
        fail(exc, as_json)
    seconds = time.perf_counter() - started
    if output is None:
        sys.stdout.buffer.write(data)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
    except OSError as exc:
        fail(EgovnetError(f"cannot write {output}: {exc.strerror or exc}"), as_json)
    summary = {
        "ok": True,
        "file": str(output),
        "format": chosen,
        "under": under,
        "live": live,
        "bytes": len(data),
        "seconds": round(seconds, 3),
    }
    if as_json:
        emit_json(summary)
    else:
        out.print(
            f"[bold green]✓[/] {escape(str(output))}: {chosen}, {len(data)} bytes in {seconds:.2f}s"
        )


def noc(
    port: Annotated[int, typer.Option(help="Port of the page (on --bind).")] = NOC_PORT,
    bind: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    prometheus: Annotated[str, typer.Option(help="HOST:PORT or URL of Prometheus.")] = (
        "127.0.0.1:9090"
    ),
    alertmanager: Annotated[
        str | None, typer.Option(help="HOST:PORT or URL of Alertmanager.")
    ] = "127.0.0.1:9093",
    under: Annotated[
        str | None, typer.Option("--under", help="Show only this host and what is below it.")
    ] = None,
    refresh: Annotated[
        float, typer.Option(min=1.0, help="Seconds between the page's refreshes.")
    ] = 5.0,
    runs: Annotated[
        Path, typer.Option(help="Rollout reports (runs/<id>/report.json) for node details.")
    ] = Path("runs"),
    as_json: JsonOption = False,
) -> None:
    """Serve the live NOC page: the map coloured from Prometheus, Alertmanager's firing alerts
    on their nodes, per-node detail on click. Read-only; no external URL in the page."""
    network = load(as_json)
    try:
        config = noc_config(
            network,
            prometheus=prometheus,
            alertmanager=alertmanager,
            runs=runs,
            under=under,
            refresh=refresh,
        )
        server = NocServer(config, (bind, port))
    except EgovnetError as exc:
        fail(exc, as_json)
    except OSError as exc:
        fail(EgovnetError(f"cannot listen on {bind}:{port}: {exc.strerror or exc}"), as_json)
    if as_json:
        emit_json({"ok": True, "url": server.url, "hosts": len(config.hosts)})
    else:
        out.print(f"[bold green]✓[/] NOC page on {server.url} ({len(config.hosts)} routers)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
