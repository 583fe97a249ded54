"""`egovnet isolation audit` and `egovnet interconnect check`: the CLI of the isolation part.

The part (`isolation/`) knows nothing of the lab; `egovnet.wiring` gives its live checks the
lab's way of running a command in a node or host namespace (`lab.runner`), and the
topology's names. The audit itself is the `audit` workflow.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from egovnet.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FOUND,
    JsonOption,
    emit_json,
    err,
    fail,
    load,
    out,
)
from egovnet.errors import EgovnetError
from egovnet.wiring.isolation import IsolationAudit
from egovnet.wiring.lab import RunnerAccess, lab_names
from egovnet.workflows import audit as audit_workflow
from egovnet.workflows.audit import AuditSource
from isolation import interconnect
from isolation.findings import Finding, hosts_to_repair
from isolation.interconnect import PairResult

isolation_app = typer.Typer(
    help="Prove extranet/internet isolation: from configs, routing tables and probes.",
    no_args_is_help=True,
)
interconnect_app = typer.Typer(
    help="The reachability matrix the inventory implies, checked live in the lab.",
    no_args_is_help=True,
)


Source = AuditSource


def print_findings(findings: list[Finding], title: str) -> None:
    """Findings as a table on stdout, or one green line when there are none."""
    if not findings:
        out.print(f"[bold green]✓[/] {escape(title)}: no findings")
        return
    table = Table(title=f"{title}: {len(findings)} finding(s)", show_lines=False)
    for column in ("host", "zone", "rule", "prefix / flow", "evidence"):
        table.add_column(column, overflow="fold")
    for f in findings:
        table.add_row(f.host, f.zone, f.rule, escape(f.subject), escape(f.evidence))
    out.print(table)
    out.print(f"hosts to repair: {', '.join(hosts_to_repair(findings)) or 'none'}")


@isolation_app.command("audit")
def audit(
    source: Annotated[
        Source,
        typer.Option(
            "--source",
            help="intended: rendered configs; running DIR: configs in DIR (<host>.cfg, and "
            "<host>.nft for an FRR exit's firewall), e.g. a backup; live: the lab's running "
            "configs, routing tables and probes (root, lab up).",
        ),
    ] = Source.intended,
    directory: Annotated[
        Path | None, typer.Argument(help="With --source running: the configs' directory.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check the isolation policy; exit 1 on any finding. Each finding names the host,
    zone, prefix or flow, the evidence and the rule it breaks."""
    network = load(as_json)
    if source is Source.running and (directory is None or not directory.is_dir()):
        message = f"--source running needs a directory of configs (got {directory})"
        if as_json:
            emit_json({"ok": False, "error": message})
        else:
            err.print(f"[bold red]error:[/] {escape(message)}")
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        result = audit_workflow.audit(IsolationAudit(network), source, directory)
    except EgovnetError as exc:
        fail(exc, as_json)
    if as_json:
        emit_json(result.as_dict())
    else:
        print_findings(result.findings, f"isolation audit ({source.value})")
    if result.findings:
        raise typer.Exit(EXIT_FOUND)


def print_matrix(pairs: list[PairResult]) -> None:
    """The matrix as one table, a section per city (province-level nodes first)."""
    table = Table(title="interconnect matrix", show_lines=False)
    for column in ("from", "to", "kind", "zone", "result", "loss", "rtt ms"):
        table.add_column(column, overflow="fold")
    groups: dict[str, list[PairResult]] = {}
    for pair in pairs:
        groups.setdefault(pair.city, []).append(pair)
    for index, (city, rows) in enumerate(groups.items()):
        if index:
            table.add_section()
        table.add_row(f"[bold]{escape(city)}[/]")
        for pair in rows:
            if pair.qname is not None:  # a DNS probe: the name, and what came back
                mark = "[green]✓[/]" if pair.ok else "[bold red]✗[/]"
                result = f"{mark} {escape(pair.answer or '')}"
            elif pair.ok:
                result = "[green]✓ reached[/]" if pair.reachable else "[green]✓ kept apart[/]"
            else:
                result = "[bold red]✗ unreachable[/]" if pair.expected else "[bold red]✗ LEAK[/]"
            target = pair.dst if pair.qname is None else f"{pair.qname} @ {pair.dst}"
            table.add_row(
                escape(pair.src),
                escape(target),
                pair.kind,
                pair.zone,
                result,
                "" if pair.loss is None else f"{pair.loss:.0%}",
                "" if pair.rtt_ms is None else f"{pair.rtt_ms:.2f}",
            )
    out.print(table)
    bad = sum(1 for p in pairs if not p.ok)
    colour = "bold red" if bad else "bold green"
    out.print(f"[{colour}]{len(pairs) - bad} of {len(pairs)} pairs as the inventory implies[/]")


@interconnect_app.command("check")
def interconnect_check(
    metrics: Annotated[
        Path | None,
        typer.Option("--metrics", help="Also write the results in Prometheus text format."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check the reachability matrix in the lab (root, lab up): every department to its
    node, city, province cores and shared services; every router to the core over each
    uplink; and the pairs that must not reach each other. Exit 1 if any pair is wrong."""
    network = load(as_json)
    started = time.perf_counter()
    try:
        pairs = interconnect.check(network, RunnerAccess(network.lab_name), lab_names(network))
    except EgovnetError as exc:
        fail(exc, as_json)
    seconds = time.perf_counter() - started
    if metrics is not None:
        metrics.parent.mkdir(parents=True, exist_ok=True)
        metrics.write_text(interconnect.metrics_text(network, pairs), encoding="utf-8")
    ok = all(p.ok for p in pairs)
    if as_json:
        emit_json(
            {
                "ok": ok,
                "pairs": [p.as_dict() for p in pairs],
                "wrong": sum(1 for p in pairs if not p.ok),
                "seconds": round(seconds, 2),
            }
        )
    else:
        print_matrix(pairs)
    if not ok:
        raise typer.Exit(EXIT_FOUND)


def register(app: typer.Typer) -> None:
    """Add `isolation` and `interconnect` to the egovnet app."""
    app.add_typer(isolation_app, name="isolation")
    app.add_typer(interconnect_app, name="interconnect")
