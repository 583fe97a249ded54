"""The `egovnet` command line: one console script, sub-commands per job.

Exit codes (DESIGN.md): 0 success, 1 the check found problems, 2 bad input or usage.
Every command that reports takes `--json`, which prints one JSON document on stdout and
nothing else there; human-readable output and progress go to stderr/stdout via rich.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from egovnet import platforms as registry
from egovnet.cli import (
    compliance_cmds,
    compliance_enforce,
    config_cmds,
    dns_cmds,
    draw_cmds,
    export_cmds,
    isolation_cmds,
    isolation_enforce,
    monitor_cmds,
    playbook_cmds,
    rollout_cmds,
)
from egovnet.cli.common import (
    DEFAULT_SECRETS,
    EXIT_BAD_INPUT,
    EXIT_FOUND,
    JsonOption,
    SecretsOption,
    emit_json,
    err,
    fail,
    load,
    out,
    phase_bars,
    progress,
    secret_store,
    state,
)
from egovnet.errors import EgovnetError, InventoryError, SecretError
from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.render.engine import render_network, write_configs
from egovnet.schema import DEFAULT_LAB
from egovnet.secrets import (
    SharedSecrets,
    env_name,
    secret_names,
    snmp_credentials,
    write_random_secrets,
)
from lab import runner as lab_runner
from lab import session as lab_session
from lab.keys import ensure_lab_key
from lab.plan import TopologyError, read_plan
from lab.runner import LabError, NodeStatus
from topology.clab import CONFIG_DIR, clab_topology, write_clab

app = typer.Typer(
    name="egovnet",
    help=(
        "Infrastructure as code for a provincial e-government extranet (电子政务外网).\n\n"
        "One YAML inventory (hosts.yaml, groups.yaml, defaults.yaml, network.yaml) is the single "
        "source of truth; egovnet validates it, allocates every address, and renders configs for "
        "FRR, Huawei VRP, H3C Comware and Cisco IOS.\n\n"
        "Start with:  egovnet inventory validate   then   egovnet render -o build/configs"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
inventory_app = typer.Typer(help="Check, summarise and generate inventories.", no_args_is_help=True)
secrets_app = typer.Typer(
    help="Lab and demo secrets (never for real networks).", no_args_is_help=True
)
topology_app = typer.Typer(help="Topology files: containerlab.", no_args_is_help=True)
lab_app = typer.Typer(
    help="The lab: the inventory's network as namespaces with real FRR on this machine (root).",
    no_args_is_help=True,
)
app.add_typer(inventory_app, name="inventory")
app.add_typer(secrets_app, name="secrets")
app.add_typer(topology_app, name="topology")
topology_app.command("draw")(draw_cmds.draw)
app.command("noc")(draw_cmds.noc)
app.add_typer(lab_app, name="lab")
app.add_typer(dns_cmds.dns_app, name="dns")


@app.callback()
def _main(
    inventory: Annotated[
        Path,
        typer.Option(
            "-i",
            "--inventory",
            envvar="EGOVNET_INVENTORY",
            help="Inventory directory (hosts.yaml, groups.yaml, defaults.yaml, network.yaml).",
            show_default=True,
        ),
    ] = Path("inventory"),
) -> None:
    state.inventory = inventory


# ----------------------------------------------------------------------------- inventory


@inventory_app.command("validate")
def validate(as_json: JsonOption = False) -> None:
    """Check the inventory: files, keys, tree, pools and every address; report all problems.

    Exit 0 when valid, 2 with every problem listed (file:line, host, field) otherwise.
    """
    started = time.perf_counter()
    network = load(as_json)
    elapsed = time.perf_counter() - started
    unpinned = [node.name for node in network.nodes if not node.pinned]
    summary = {
        "ok": True,
        "inventory": str(state.inventory),
        "network": network.name,
        "nodes": len(network.nodes),
        "links": len(network.links),
        "departments": sum(len(n.departments) for n in network.nodes),
        "tiers": network.tier_counts(),
        "unpinned": unpinned,
        "seconds": round(elapsed, 3),
    }
    if as_json:
        emit_json(summary)
        return
    tiers = ", ".join(f"{count} {tier}" for tier, count in network.tier_counts().items())
    out.print(
        f"[bold green]✓[/] {escape(str(state.inventory))}: {escape(network.name)} is valid: "
        f"{summary['nodes']} nodes ({tiers}), {summary['links']} links, "
        f"{summary['departments']} departments, all addresses allocated "
        f"({elapsed:.2f}s)"
    )
    if unpinned:
        names = ", ".join(unpinned[:5])
        if len(unpinned) > 5:
            names += f" and {len(unpinned) - 5} more"
        out.print(
            f"[yellow]note:[/] {len(unpinned)} node(s) have no slot ({escape(names)}): their "
            "addresses follow their order in hosts.yaml; write data.slot to fix them for life "
            "(inventory show --json lists the current slots)"
        )


@inventory_app.command("show")
def show(as_json: JsonOption = False) -> None:
    """Print the network as a tree with addresses and counts; `--json` prints the whole model."""
    network = load(as_json)
    if as_json:
        sys.stdout.write(network.model_dump_json(indent=2) + "\n")
        return
    tree = Tree(f"[bold]{escape(network.name)}[/]  ({escape(str(state.inventory))})")
    branches: dict[str, Tree] = {}
    for _depth, node in network.walk():
        label = (
            f"[bold]{node.name}[/] {escape(node.region)} [dim]{node.tier} {node.platform} "
            f"lo {node.loopback} mgmt {node.management.ip} AS {node.asn}[/]"
        )
        if node.uplinks:
            label += f" [cyan]+uplinks {', '.join(node.uplinks)}[/]"
        if node.departments:
            label += f" [magenta]{len(node.departments)} dept[/]"
        parent = branches.get(node.parent or "", tree)
        branches[node.name] = parent.add(label)
    out.print(tree)
    table = Table(title="counts")
    for column in ("tier", "nodes"):
        table.add_column(column)
    for tier, count in network.tier_counts().items():
        table.add_row(tier, str(count))
    table.add_row("links", str(len(network.links)))
    table.add_row("departments", str(sum(len(n.departments) for n in network.nodes)))
    out.print(table)


@inventory_app.command("generate")
def generate(
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory to write.")],
    provinces: Annotated[
        int, typer.Option(min=1, max=31, help="Provinces (>1 adds a national core).")
    ] = 1,
    cities: Annotated[int, typer.Option(min=1, max=60, help="Cities per province.")] = 11,
    counties: Annotated[int, typer.Option(min=0, max=60, help="Counties per city.")] = 13,
    departments: Annotated[int, typer.Option(min=0, max=64, help="Departments per node.")] = 4,
    force: Annotated[bool, typer.Option(help="Overwrite an existing inventory there.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Write a valid inventory of any size in the sample's format (default: one province)."""
    if (output / "hosts.yaml").exists() and not force:
        fail(EgovnetError(f"{output}/hosts.yaml exists; pass --force to overwrite"), as_json)
    files = generate_inventory(provinces, cities, counties, departments)
    try:
        write_inventory(files, output)
    except OSError as exc:
        fail(
            EgovnetError(f"cannot write the inventory into {output}: {exc.strerror or exc}"),
            as_json,
        )
    try:
        network = load_network(output)
    except InventoryError as exc:  # a generator bug: say so rather than leave a bad inventory
        fail(exc, as_json)
    summary = {
        "ok": True,
        "output": str(output),
        "nodes": len(network.nodes),
        "tiers": network.tier_counts(),
    }
    if as_json:
        emit_json(summary)
    else:
        out.print(
            f"[bold green]✓[/] wrote {escape(str(output))}: {len(network.nodes)} nodes "
            f"({', '.join(f'{n} {t}' for t, n in network.tier_counts().items())})"
        )


# ----------------------------------------------------------------------------- render


@app.command("render")
def render(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Directory for one file per host.")
    ] = Path("build/configs"),
    platform: Annotated[
        str | None,
        typer.Option(
            help=f"Render every node for one platform ({', '.join(registry.platform_names())}) "
            "instead of its own."
        ),
    ] = None,
    secrets: SecretsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Render the intended configuration of every node, one file per host (<host>.cfg).

    Output is byte-identical from run to run; files already up to date are not rewritten, and
    files a previous render wrote for hosts that are gone are removed.
    """
    if platform is not None:
        try:
            registry.platform(platform)
        except registry.UnknownPlatformError as exc:
            fail(exc, as_json)
    network = load(as_json)
    store = secret_store(secrets, as_json)
    missing = store.missing(secret_names(network))
    if missing:
        hint = "; ".join(f"{name} (${env_name(name)})" for name in missing)
        fail(
            SecretError(
                f"secrets not set: {hint}. For a lab, `egovnet secrets init` makes random ones."
            ),
            as_json,
        )
    started = time.perf_counter()
    configs = render_network(network, SharedSecrets.resolve(network, store), platform)
    try:
        with progress(len(configs), "writing", not as_json) as advance:
            report = write_configs(configs, output, advance)
    except OSError as exc:
        fail(EgovnetError(f"cannot write configs into {output}: {exc.strerror or exc}"), as_json)
    elapsed = time.perf_counter() - started
    platforms: dict[str, int] = {}
    for node in network.nodes:
        key = platform or node.platform
        platforms[key] = platforms.get(key, 0) + 1
    summary = {
        "ok": True,
        **asdict(report),
        "nodes": len(configs),
        "platforms": platforms,
        "seconds": round(elapsed, 3),
    }
    if as_json:
        emit_json(summary)
        return
    per = ", ".join(f"{count} {name}" for name, count in sorted(platforms.items()))
    out.print(
        f"[bold green]✓[/] rendered {len(configs)} configs ({per}) into {escape(str(output))}: "
        f"{report.written} written, {report.unchanged} unchanged, "
        f"{len(report.removed)} stale removed ({elapsed:.2f}s)"
    )


# ----------------------------------------------------------------------------- topology


@topology_app.command("clab")
def topology_clab(
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Topology file; configs go beside it. Default: build/lab/<lab name>.clab.yml, "
            "where `lab up` puts it.",
        ),
    ] = None,
    secrets: SecretsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a containerlab topology of the inventory, with every router's FRR config.

    Deploy it with containerlab (`containerlab deploy -t FILE`). Routers run FRR whatever
    platform they stand in for (their label says which); the configs are rendered for FRR
    into `configs/` beside the file.
    """
    network = load(as_json)
    output = output or default_topology(network.lab_name)
    store = secret_store(secrets, as_json)
    missing = store.missing(secret_names(network))
    if missing:
        hint = "; ".join(f"{name} (${env_name(name)})" for name in missing)
        fail(SecretError(f"secrets not set: {hint}"), as_json)
    try:
        path = write_clab(network, output)
        configs = render_network(
            network, SharedSecrets.resolve(network, store), registry.LAB.platform
        )
        report = write_configs(configs, output.parent / CONFIG_DIR)
    except OSError as exc:
        fail(
            EgovnetError(f"cannot write the topology into {output}: {exc.strerror or exc}"), as_json
        )
    topology = clab_topology(network)["topology"]
    summary = {
        "ok": True,
        "file": str(path),
        "nodes": len(topology["nodes"]),
        "links": len(topology["links"]),
        "configs": report.directory,
    }
    if as_json:
        emit_json(summary)
        return
    out.print(
        f"[bold green]✓[/] {escape(str(path))}: {summary['nodes']} nodes "
        f"({len(network.nodes)} routers), {summary['links']} links; FRR configs in "
        f"{escape(report.directory)}"
    )


# ----------------------------------------------------------------------------- lab

TOPOLOGY_DIR = Path("build/lab")
TopologyOption = Annotated[
    Path | None,
    typer.Option(
        "--topology",
        help="A .clab.yml to deploy. Default: generated from the inventory into "
        f"{TOPOLOGY_DIR}/LAB.clab.yml.",
    ),
]
LabOption = Annotated[
    str | None,
    typer.Option(
        "--lab",
        help=f"Lab name (the topology's `name`). Default: the inventory's lab.name, or "
        f"'{DEFAULT_LAB}' when the inventory does not load.",
    ),
]


def default_topology(lab: str) -> Path:
    """Where `lab up` writes the lab's topology, and `lab status` reads it."""
    return TOPOLOGY_DIR / f"{lab}.clab.yml"


def _lab_name(lab: str | None) -> str:
    """The lab a command acts on: as given, else the inventory's, else the default one.
    Never fails on a broken inventory: `lab down` must work after a crash or an edit."""
    if lab is not None:
        return lab
    try:
        return load_network(state.inventory).lab_name
    except (EgovnetError, OSError):
        return DEFAULT_LAB


def _require_root(as_json: bool) -> None:
    if os.geteuid() != 0:
        fail(EgovnetError("the lab needs root (network namespaces, veths, nftables)"), as_json)


def _print_status(rows: list[NodeStatus]) -> None:
    table = Table(title="lab status")
    for column in ("node", "role", "management", "healthy", "daemons", "BGP", "SSH", "SNMP"):
        table.add_column(column)
    for row in rows:
        mark = "[green]✓[/]" if row.healthy else "[red]✗[/]"
        sessions = f"{row.sessions_up}/{row.sessions}" if row.role == "router" else ""
        marks = {None: "", True: "[green]✓[/]", False: "[red]✗[/]"}
        table.add_row(
            escape(row.node),
            row.role,
            row.management or "",
            mark,
            " ".join(row.daemons),
            sessions,
            marks[row.ssh],
            marks[row.snmp],
        )
    out.print(table)


@lab_app.command("up")
def lab_up(
    topology: TopologyOption = None,
    secrets: SecretsOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for BGP to converge.")] = 60.0,
    bare: Annotated[
        bool,
        typer.Option(help="Routers boot with management access only: FRR runs unconfigured."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Deploy the topology as namespaces, with FRR on every router, then wait for BGP.

    Before any link exists the guard is installed (unreachable routes for the lab's prefixes,
    an nftables table dropping forwarding on lab interfaces), and the inventory is refused if
    its prefixes touch this machine's routes, gateway or nameservers, or another lab's.
    Idempotent.
    """
    _require_root(as_json)
    network = load(as_json)
    store = secret_store(secrets, as_json)
    if store.missing(secret_names(network)):
        fail(SecretError("secrets not set: run `egovnet secrets init` for a lab"), as_json)
    snmp_users = [snmp_credentials(u, store) for u in network.services.snmp.users]
    if topology is None:
        topology = write_clab(network, default_topology(network.lab_name))
        configs = render_network(
            network, SharedSecrets.resolve(network, store), registry.LAB.platform
        )
        write_configs(configs, topology.parent / CONFIG_DIR)
    try:
        plan = read_plan(topology)
        with phase_bars(enabled=not as_json) as phase_done:
            report = lab_session.up(
                network,
                plan,
                ssh_key=ensure_lab_key(),
                snmp_users=snmp_users,
                bare=bare,
                timeout=timeout,
                progress=phase_done,
            )
    except (TopologyError, LabError) as exc:
        fail(exc, as_json)
    summary = {
        "ok": report.healthy,
        "lab": report.lab,
        "nodes": report.nodes,
        "seconds": report.seconds,
        "converged_after": report.converged_after,
        "status": [asdict(row) | {"healthy": row.healthy} for row in report.status],
    }
    if as_json:
        emit_json(summary)
    else:
        _print_status(report.status)
        state = "bare (FRR unconfigured)" if bare else "BGP converged"
        out.print(
            f"[bold green]✓[/] lab {report.lab} up: {report.nodes} nodes in "
            f"{report.seconds}s, {state}; take it down with `egovnet lab down`"
        )
    if not report.healthy:
        raise typer.Exit(EXIT_FOUND)


@lab_app.command("status")
def lab_status(
    topology: TopologyOption = None, lab: LabOption = None, as_json: JsonOption = False
) -> None:
    """Every node: running, FRR daemons, BGP sessions up of configured. Exit 1 if any is not."""
    _require_root(as_json)
    try:
        plan = read_plan(topology or default_topology(_lab_name(lab)))
    except TopologyError as exc:
        fail(exc, as_json)
    rows = lab_session.status(plan)
    healthy = all(row.healthy for row in rows)
    if as_json:
        emit_json(
            {
                "ok": healthy,
                "lab": plan.name,
                "status": [asdict(row) | {"healthy": row.healthy} for row in rows],
            }
        )
    else:
        _print_status(rows)
    if not healthy:
        raise typer.Exit(EXIT_FOUND)


@lab_app.command("shell")
def lab_shell(
    host: Annotated[str, typer.Argument(help="A node of the lab: a router or a host.")],
    command: Annotated[
        str | None, typer.Option("-c", "--command", help="Run one command and exit.")
    ] = None,
    lab: LabOption = None,
) -> None:
    """Open vtysh on a router (a shell on a host), or run one command there with -c."""
    _require_root(False)
    name = _lab_name(lab)
    holders = {h.node: h for h in lab_runner.find_holders(name)}
    if host not in holders:
        known = ", ".join(sorted(holders)[:8]) or "none: is the lab up?"
        fail(EgovnetError(f"no node '{host}' in lab {name} (nodes: {known})"), False)
    holder = holders[host]
    enter = ["nsenter", "-t", str(holder.pid), "-m", "-u", "-n", "-p"]
    is_router = holder.path(f"/etc/frr/{host}/vtysh.conf").exists()
    if is_router:
        argv = [*enter, "vtysh", "-N", host, *(["-c", command] if command else [])]
    else:
        argv = [*enter, "sh", *(["-c", command] if command else [])]
    raise typer.Exit(subprocess.call(argv))  # noqa: S603 - an argument list, no shell


@lab_app.command("down")
def lab_down(lab: LabOption = None, as_json: JsonOption = False) -> None:
    """Remove every node, link and process of the lab, its management bridge and its guard;
    nothing of another lab.

    Works from what exists on the machine, so it also cleans up after a killed `lab up`.
    """
    _require_root(as_json)
    report = lab_session.down(_lab_name(lab))
    if as_json:
        emit_json(
            {
                "ok": True,
                "lab": report.lab,
                "removed": report.removed,
                "guard_routes_removed": report.guard_routes_removed,
            }
        )
    else:
        out.print(
            f"[bold green]✓[/] lab {escape(report.lab)} down: {len(report.removed)} nodes "
            "removed, guard removed"
        )


# ----------------------------------------------------------------------------- secrets


@secrets_app.command("init")
def secrets_init(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Secrets file to create or extend.")
    ] = DEFAULT_SECRETS,
    as_json: JsonOption = False,
) -> None:
    """Create random values for every secret the inventory names (mode 0600; lab use only)."""
    network = load(as_json)
    try:
        added = write_random_secrets(output, secret_names(network))
    except SecretError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json({"ok": True, "file": str(output), "added": added})
    else:
        names = ", ".join(added) or "none"
        out.print(f"[bold green]✓[/] {escape(str(output))}: {len(added)} secret(s) added ({names})")


rollout_cmds.register(app)
monitor_cmds.register(app)
isolation_cmds.register(app)
compliance_cmds.register(app)
config_cmds.register(app)
isolation_enforce.register()
compliance_enforce.register()
export_cmds.register(inventory_app)
playbook_cmds.register(app)


def main() -> None:
    """Console-script entry point."""
    # A short-lived process over a large acyclic model: reference counting frees what it
    # must, and the cyclic collector would only re-walk millions of objects (docs: perf.py).
    gc.disable()
    try:
        app()
    except EgovnetError as exc:  # anything not handled per command is still bad input
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    main()
