"""`egovnet exporter` and `egovnet monitor ...`: the SNMP exporter and the monitoring stack.

Wires the inventory, the secrets store and the `exporters` part together; the part itself
never reads the CLI's options or the environment.
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
from egovnet.errors import EgovnetError, InventoryError, SecretError
from exporters.modules import MODULE_DIR, ModuleError, load_modules
from exporters.promconfig import TIMINGS, Endpoints, write_config
from exporters.server import Exporter, serve
from exporters.targets import build_targets
from exporters.walk import WalkLimits

monitor_app = typer.Typer(
    help="Monitoring from the inventory: Prometheus, Alertmanager and the SNMP exporter.",
    no_args_is_help=True,
)


def parse_listen(listen: str) -> tuple[str, int]:
    """`HOST:PORT` (or `:PORT` for all addresses) as a (host, port) pair.

    >>> parse_listen("127.0.0.1:9116")
    ('127.0.0.1', 9116)
    """
    host, _, port = listen.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise typer.BadParameter(f"'{listen}': expected HOST:PORT")
    return host or "0.0.0.0", int(port)  # noqa: S104 - only when the user asks for all


def exporter_command(
    listen: Annotated[
        str, typer.Option("--listen", help="Address and port to serve on (HOST:PORT).")
    ] = "127.0.0.1:9116",
    secrets: SecretsOption = None,
    modules: Annotated[
        list[Path] | None,
        typer.Option("--modules", help=f"Module directory (repeatable). Default: {MODULE_DIR}."),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="SNMPv3 user of the inventory. Default: the first.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each SNMP answer.")] = 2.0,
    retries: Annotated[int, typer.Option(help="Requests sent again after a timeout.")] = 2,
    pdu_bytes: Annotated[
        int, typer.Option(help="Response size each GETBULK aims to stay under.")
    ] = 1400,
    streams: Annotated[int, typer.Option(help="Request streams per target walked at once.")] = 4,
    max_in_flight: Annotated[
        int, typer.Option(help="SNMP requests in flight at most, over all targets.")
    ] = 64,
    lab: Annotated[
        bool, typer.Option("--lab", help="Name interfaces as the lab's FRR does (ethN).")
    ] = False,
) -> None:
    """Serve the SNMP exporter: /snmp?target=HOST&module=a,b and /metrics.

    Targets are the inventory's hosts (by name); credentials come from the secrets file or
    the environment (SNMPv3 authPriv; v2c only for hosts network.yaml lists under
    services.snmp.v2c). Module files are checked at start.
    """
    network = load(False)
    store = secret_store(secrets, False)
    try:
        found = load_modules(modules or [MODULE_DIR])
        targets = build_targets(
            network,
            store,
            user=user,
            timeout=timeout,
            retries=retries,
            naming="lab" if lab else "device",
        )
    except (ModuleError, SecretError, InventoryError) as exc:
        fail(exc, False)
    host, port = parse_listen(listen)
    exporter = Exporter(
        targets, found, limits=WalkLimits(pdu_bytes, streams), max_in_flight=max_in_flight
    )
    try:
        server = serve(exporter, host, port)
    except OSError as exc:
        exporter.close()
        fail(EgovnetError(f"cannot listen on {listen}: {exc.strerror or exc}"), False)
    err.print(
        f"egovnet exporter on http://{escape(listen)}/ : {len(targets)} targets, "
        f"modules {', '.join(sorted(found))}"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        exporter.close()


@monitor_app.command("config")
def monitor_config(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Directory to write the configuration into.")
    ] = Path("build/monitoring"),
    profile: Annotated[
        str, typer.Option(help="Timings: production (30s scrapes) or lab (5s, short waits).")
    ] = "production",
    exporter: Annotated[
        str, typer.Option(help="HOST:PORT where Prometheus reaches the SNMP exporter.")
    ] = "127.0.0.1:9116",
    alertmanager: Annotated[
        str, typer.Option(help="HOST:PORT where Prometheus reaches Alertmanager.")
    ] = "127.0.0.1:9093",
    webhook: Annotated[
        str | None, typer.Option(help="URL prefix each NOC receiver posts alerts to.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write prometheus.yml, file_sd targets, alert rules and alertmanager.yml from the
    inventory. Check them with `promtool check config DIR/prometheus.yml`."""
    network = load(as_json)
    if profile not in TIMINGS:
        fail(EgovnetError(f"unknown profile '{profile}' (production or lab)"), as_json)
    try:
        written = write_config(
            network,
            output,
            timing=TIMINGS[profile],
            endpoints=Endpoints(exporter, alertmanager),
            lab=profile == "lab",
            webhook=webhook,
        )
    except OSError as exc:
        fail(EgovnetError(f"cannot write into {output}: {exc.strerror or exc}"), as_json)
    if as_json:
        emit_json({"ok": True, "directory": str(output), "files": [str(p) for p in written]})
        return
    out.print(
        f"[bold green]✓[/] {escape(str(output))}: {len(written)} files, "
        f"{len(network.nodes)} targets ({profile} timings)"
    )


def register(app: typer.Typer) -> None:
    """Add `exporter` and the `monitor` sub-commands to the egovnet app."""
    app.command("exporter")(exporter_command)
    app.add_typer(monitor_app, name="monitor")
