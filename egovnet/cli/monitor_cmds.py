"""`egovnet exporter` and `egovnet monitor ...`: the SNMP exporter and the monitoring stack.

Wires the inventory, the secrets store and the `exporters` part together; the part itself
never reads the CLI's options or the environment.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.markup import escape
from rich.table import Table

from egovnet.cli.common import (
    DEFAULT_SECRETS,
    EXIT_FOUND,
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
from egovnet.errors import EgovnetError, InventoryError, SecretError
from egovnet.wiring.lab import lab_route_check
from exporters import stack
from exporters.compliance import ComplianceCollector
from exporters.dashboards import write_dashboards
from exporters.federation import (
    DEVICES_PER_EXPORTER,
    LAYOUTS,
    FederationPlan,
    Layout,
    LayoutError,
    exporter_addresses,
    federated_series,
    write_federation,
)
from exporters.modules import MODULE_DIR, ModuleError, load_modules
from exporters.promconfig import TIMINGS, Endpoints, write_config
from exporters.server import Exporter, serve
from exporters.targets import build_targets
from exporters.walk import WalkLimits

monitor_app = typer.Typer(
    help="Monitoring from the inventory: Prometheus, Alertmanager and the SNMP exporter.",
    no_args_is_help=True,
)


ExporterOption = Annotated[
    str, typer.Option(help="HOST:PORT where Prometheus reaches the SNMP exporter.")
]
PrometheusOption = Annotated[str, typer.Option(help="HOST:PORT of Prometheus.")]
AlertmanagerOption = Annotated[
    str, typer.Option(help="HOST:PORT where Prometheus reaches Alertmanager.")
]
WebhookOption = Annotated[
    str | None, typer.Option(help="URL prefix each NOC receiver posts alerts to.")
]


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
        int,
        typer.Option(
            help="Response size each GETBULK aims to stay under; 1400 where a path drops "
            "IP fragments."
        ),
    ] = WalkLimits.pdu_bytes,
    streams: Annotated[int, typer.Option(help="Request streams per target walked at once.")] = 4,
    max_in_flight: Annotated[
        int, typer.Option(help="SNMP requests in flight at most, over all targets.")
    ] = 64,
    lab: Annotated[
        bool,
        typer.Option(
            "--lab",
            help="Lab devices: interfaces named as the lab's FRR names them (ethN), and no "
            "packet to an address not routed over the management bridge of the inventory's "
            "lab.",
        ),
    ] = False,
    compliance_state: Annotated[
        Path | None,
        typer.Option(
            "--compliance-state",
            help="Also serve the last compliance check on /metrics "
            "(egov_compliance_failures): the state file `compliance check --state` writes.",
        ),
    ] = None,
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
        targets,
        found,
        limits=WalkLimits(pdu_bytes, streams),
        max_in_flight=max_in_flight,
        route_check=lab_route_check(network.lab_name) if lab else None,
    )
    try:
        extra = [ComplianceCollector(compliance_state)] if compliance_state else []
        server = serve(exporter, host, port, extra)
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
    exporter: ExporterOption = "127.0.0.1:9116",
    alertmanager: AlertmanagerOption = "127.0.0.1:9093",
    webhook: WebhookOption = None,
    layout: Annotated[
        str,
        typer.Option(
            help="single: one Prometheus for every device; national: one Prometheus per "
            "province and a national one federating them; city: one per city and one "
            "federating them (a province too big for one Prometheus)."
        ),
    ] = "single",
    exporter_shards: Annotated[
        int,
        typer.Option(
            help="Exporters sharing each Prometheus's devices by hashmod of the host name "
            f"(plan one per {DEVICES_PER_EXPORTER} devices); they listen on the ports "
            "from --exporter's on."
        ),
    ] = 1,
    prometheus: Annotated[
        str,
        typer.Option(
            help="With --layout national|city: HOST:PORT of the national Prometheus; "
            "the shards' listen on the ports after it."
        ),
    ] = "127.0.0.1:9090",
    as_json: JsonOption = False,
) -> None:
    """Write prometheus.yml, file_sd targets, alert rules, alertmanager.yml and Grafana
    dashboards (DIR/dashboards/*.json) from the inventory. Check them with
    `promtool check config DIR/prometheus.yml`. With --layout national or city: DIR holds
    the federating Prometheus, DIR/shards/NAME/ each province's (or city's)."""
    network = load(as_json)
    if profile not in TIMINGS:
        fail(EgovnetError(f"unknown profile '{profile}' (production or lab)"), as_json)
    if layout not in LAYOUTS:
        fail(EgovnetError(f"unknown layout '{layout}' ({', '.join(LAYOUTS)})"), as_json)
    if exporter_shards < 1:
        fail(EgovnetError(f"--exporter-shards {exporter_shards}: at least 1"), as_json)
    plan: FederationPlan | None = None
    try:
        for listen in (exporter, alertmanager, prometheus):
            parse_listen(listen)
        if layout == "single":
            written = write_config(
                network,
                output,
                timing=TIMINGS[profile],
                endpoints=Endpoints(exporter, alertmanager),
                lab=profile == "lab",
                webhook=webhook,
                exporters=exporter_addresses(exporter, exporter_shards),
            )
        else:
            plan = write_federation(
                network,
                output,
                cast("Layout", layout),
                timing=TIMINGS[profile],
                prometheus=prometheus,
                exporter=exporter,
                alertmanager=alertmanager,
                exporter_shards=exporter_shards,
                lab=profile == "lab",
                webhook=webhook,
            )
            written = plan.files
        written += write_dashboards(network, output / "dashboards")
    except (LayoutError, typer.BadParameter) as exc:
        fail(exc if isinstance(exc, EgovnetError) else EgovnetError(str(exc)), as_json)
    except OSError as exc:
        fail(EgovnetError(f"cannot write into {output}: {exc.strerror or exc}"), as_json)
    if as_json:
        document: dict[str, object] = {
            "ok": True,
            "directory": str(output),
            "layout": layout,
            "files": [str(p) for p in written],
        }
        if plan is not None:
            document["prometheus"] = [
                {"name": i.name, "config": str(i.config), "listen": i.listen, "argv": i.argv()}
                for i in plan.instances
            ]
            document["shards"] = [
                {
                    "name": s.name,
                    "labels": s.labels,
                    "devices": len(s.nodes),
                    "exporters": list(s.exporters),
                    "federated_series": federated_series(s, network),
                }
                for s in plan.shards
            ]
        emit_json(document)
        return
    out.print(
        f"[bold green]✓[/] {escape(str(output))}: {len(written)} files, "
        f"{len(network.nodes)} targets ({profile} timings, {layout} layout)"
    )
    if plan is not None:
        out.print(
            f"{len(plan.shards)} shard Prometheus and the national one federating them; "
            "start each (the exporters of a shard listen where its prometheus.yml says):"
        )
        for instance in plan.instances:
            out.print(escape(" ".join(instance.argv())), soft_wrap=True)
        for shard in plan.shards:
            for address in shard.exporters:
                out.print(
                    escape(f"egovnet -i {state.inventory} exporter --listen {address}"),
                    soft_wrap=True,
                )


DEFAULT_RUN = Path("build/monitor")
RunDirOption = Annotated[
    Path,
    typer.Option("--run-dir", help="Where the stack keeps its config, data, logs and pids."),
]


def _secrets_file(secrets: Path | None) -> Path | None:
    """The secrets file this command reads (as `secret_store` finds it), for the exporter:
    it runs in the run directory, where the default relative path would find nothing."""
    if secrets is not None:
        return secrets
    if "EGOVNET_SECRETS" in os.environ:
        return Path(os.environ["EGOVNET_SECRETS"])
    return DEFAULT_SECRETS if DEFAULT_SECRETS.exists() else None


def _parts(
    run_dir: Path, secrets: Path | None, exporter: str, prometheus: str, alertmanager: str
) -> list[stack.Component]:
    exporter_argv = [
        sys.executable,
        "-m",
        "egovnet.cli.app",
        "-i",
        str(state.inventory.resolve()),
        "exporter",
        "--lab",
        "--modules",
        str((run_dir / "config" / "modules").resolve()),
        *(["--secrets", str(secrets.resolve())] if secrets else []),
    ]
    return stack.components(
        run_dir.resolve(),
        exporter_argv,
        exporter=exporter,
        prometheus=prometheus,
        alertmanager=alertmanager,
    )


def _report(rows: list[stack.ComponentStatus], as_json: bool, run_dir: Path) -> bool:
    healthy = all(row.running and row.ready for row in rows)
    if as_json:
        emit_json({"ok": healthy, "run_dir": str(run_dir), "components": [asdict(r) for r in rows]})
        return healthy
    table = Table(title="monitoring")
    for column in ("component", "pid", "running", "ready", "URL"):
        table.add_column(column)
    marks = {True: "[green]✓[/]", False: "[red]✗[/]"}
    for row in rows:
        table.add_row(row.name, str(row.pid or ""), marks[row.running], marks[row.ready], row.url)
    out.print(table)
    return healthy


@monitor_app.command("up")
def monitor_up(
    run_dir: RunDirOption = DEFAULT_RUN,
    secrets: SecretsOption = None,
    profile: Annotated[str, typer.Option(help="Timings: lab (default) or production.")] = "lab",
    exporter: ExporterOption = "127.0.0.1:9116",
    prometheus: PrometheusOption = "127.0.0.1:9090",
    alertmanager: AlertmanagerOption = "127.0.0.1:9093",
    webhook: WebhookOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start the SNMP exporter, Prometheus and Alertmanager on loopback for the lab's
    inventory, each writing under the run directory; print their URLs. Idempotent."""
    network = load(as_json)
    store = secret_store(secrets, as_json)
    if profile not in TIMINGS:
        fail(EgovnetError(f"unknown profile '{profile}' (production or lab)"), as_json)
    try:
        build_targets(network, store)  # every secret the exporter needs, checked now
        for listen in (exporter, prometheus, alertmanager):
            parse_listen(listen)
        config = run_dir / "config"
        write_config(
            network,
            config,
            timing=TIMINGS[profile],
            endpoints=Endpoints(exporter, alertmanager),
            lab=True,
            webhook=webhook,
        )
        write_dashboards(network, config / "dashboards")
        if not (config / "modules").exists():
            shutil.copytree(MODULE_DIR, config / "modules")
        parts = _parts(run_dir, _secrets_file(secrets), exporter, prometheus, alertmanager)
        stack.up(run_dir.resolve(), parts)
    except (SecretError, InventoryError, stack.StackError, typer.BadParameter) as exc:
        fail(exc if isinstance(exc, EgovnetError) else EgovnetError(str(exc)), as_json)
    except OSError as exc:
        fail(EgovnetError(f"cannot set up {run_dir}: {exc.strerror or exc}"), as_json)
    healthy = _report(stack.status(run_dir.resolve(), parts), as_json, run_dir)
    if not as_json:
        out.print(
            f"[bold green]✓[/] monitoring up: Prometheus http://{prometheus}/ , Alertmanager "
            f"http://{alertmanager}/ , exporter http://{exporter}/ ; "
            "`egovnet monitor down` stops it"
        )
    if not healthy:
        raise typer.Exit(EXIT_FOUND)


@monitor_app.command("status")
def monitor_status(
    run_dir: RunDirOption = DEFAULT_RUN,
    exporter: ExporterOption = "127.0.0.1:9116",
    prometheus: PrometheusOption = "127.0.0.1:9090",
    alertmanager: AlertmanagerOption = "127.0.0.1:9093",
    as_json: JsonOption = False,
) -> None:
    """Each component: running, answering, its URL. Exit 1 if any is not."""
    parts = _parts(run_dir, None, exporter, prometheus, alertmanager)
    if not _report(stack.status(run_dir.resolve(), parts), as_json, run_dir):
        raise typer.Exit(EXIT_FOUND)


@monitor_app.command("down")
def monitor_down(run_dir: RunDirOption = DEFAULT_RUN, as_json: JsonOption = False) -> None:
    """Stop the exporter, Prometheus and Alertmanager and remove the run directory."""
    stopped = stack.down(run_dir.resolve())
    if as_json:
        emit_json({"ok": True, "run_dir": str(run_dir), "stopped": stopped})
        return
    out.print(
        f"[bold green]✓[/] monitoring down: {len(stopped)} component(s) stopped, "
        f"{escape(str(run_dir))} removed"
    )


def register(app: typer.Typer) -> None:
    """Add `exporter` and the `monitor` sub-commands to the egovnet app."""
    app.command("exporter")(exporter_command)
    app.add_typer(monitor_app, name="monitor")
