"""`egovnet compliance check`: graded protection (等级保护) per node, from the `compliance`
part. The command parses options, gathers the evidence (`compliance.evidence`), runs the
check and prints: a summary per tier and control family, then every failing rule with its
evidence line and the platform's remediation. Exit 0: every rule passes, is not applicable
or an accepted exception; 1: any fail or unverified (fail closed); 2: bad input.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from compliance.engine import ComplianceReport, RuleResult, check_hosts
from compliance.evidence import HostEvidence, intended_evidence, running_evidence
from compliance.report import ReportMeta, write_report
from compliance.rules import RuleError, default_rules
from egovnet.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FOUND,
    JsonOption,
    emit_json,
    err,
    fail,
    load,
    out,
    state,
)
from egovnet.errors import EgovnetError
from egovnet.model import Network
from egovnet.wiring.compliance import lab_evidence, publish_state
from egovnet.wiring.devices import provenance

compliance_app = typer.Typer(
    help="Graded protection (等级保护 2.0, GB/T 22239-2019): every node against its level.",
    no_args_is_help=True,
)


class Source(StrEnum):
    """Where the evidence comes from."""

    intended = "intended"
    running = "running"
    live = "live"


STATUS_STYLE = {
    "pass": "green",
    "not_applicable": "dim",
    "accepted_exception": "yellow",
    "fail": "bold red",
    "unverified": "bold magenta",
}


def _bad_input(message: str, as_json: bool) -> typer.Exit:
    if as_json:
        emit_json({"ok": False, "error": message})
    else:
        err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(EXIT_BAD_INPUT)


def _limit(network: Network, limit: list[str] | None, as_json: bool) -> list[str] | None:
    """The hosts `--limit` names (commas or repeats), each one the inventory's."""
    if not limit:
        return None
    hosts = [name for entry in limit for name in entry.split(",") if name]
    known = {node.name for node in network.nodes}
    unknown = [name for name in hosts if name not in known]
    if unknown:
        raise _bad_input(f"--limit: not a host of the inventory: {', '.join(unknown)}", as_json)
    return hosts


StateOption = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="Also write the check's failures to this file, which `egovnet exporter "
        "--compliance-state FILE` serves as egov_compliance_failures.",
    ),
]


def live_evidence(network: Network, hosts: list[str] | None) -> dict[str, HostEvidence]:
    """The live source: the inventory's lab (`egovnet.wiring.compliance.lab_evidence`)."""
    return lab_evidence(network, hosts)


def print_report(report: ComplianceReport) -> None:
    """The summary per tier and family, then the failing results with evidence."""
    families = list(report.families)
    counts: dict[tuple[str, str], Counter[str]] = {}
    tiers: list[str] = []
    for r in report.results:
        if r.tier not in tiers:
            tiers.append(r.tier)
        counts.setdefault((r.tier, r.family), Counter())[r.status] += 1
    table = Table(title=f"graded protection ({report.source}): pass / fail per tier and family")
    table.add_column("tier")
    for family in families:
        table.add_column(f"{family}\n{report.families[family]}", justify="right")
    for tier in tiers:
        cells = []
        for family in families:
            c = counts.get((tier, family), Counter())
            bad = c["fail"] + c["unverified"]
            good = c["pass"] + c["accepted_exception"]
            text = f"{good}" + (f" / [bold red]{bad}[/]" if bad else "")
            cells.append(text if good or bad else "[dim]n/a[/]")
        table.add_row(tier, *cells)
    out.print(table)
    failing = report.failing()
    if failing:
        out.print(_failures(failing))
    accepted = [r for r in report.results if r.status == "accepted_exception"]
    for r in accepted:
        out.print(f"[yellow]accepted exception[/] {escape(r.host)} {r.rule}: {escape(r.message)}")
    totals = report.counts()
    summary = ", ".join(f"{totals[s]} {s}" for s in STATUS_STYLE if totals.get(s))
    hosts = len(report.hosts)
    if failing:
        out.print(f"[bold red]✗ {len(failing)} failing of {len(report.results)} ({summary})[/]")
    else:
        out.print(f"[bold green]✓[/] {hosts} host(s) comply with their level ({summary})")


def _failures(failing: list[RuleResult]) -> Table:
    table = Table(title=f"{len(failing)} failing rule(s)", show_lines=True)
    for column in ("host", "level", "rule", "clause", "status", "evidence", "remediation"):
        table.add_column(column, overflow="fold")
    for r in failing:
        lines = [
            f"{e.origin}:{e.line}: {e.text}" if e.line else f"{e.origin}: {e.text}"
            for e in r.evidence[:4]
        ]
        evidence = "\n".join([r.message, *lines])
        style = STATUS_STYLE[r.status]
        table.add_row(
            escape(r.host),
            str(r.level),
            r.rule,
            escape(r.clause),
            f"[{style}]{r.status}[/]",
            escape(evidence),
            escape("\n".join(r.remediation)),
        )
    return table


@compliance_app.command("check")
def check(
    source: Annotated[
        Source,
        typer.Option(
            "--source",
            help="intended: rendered configs (and an FRR node's sshd/snmpd); running: files "
            "in --dir (<host>.cfg, <host>.sshd_config, <host>.snmpd.conf), e.g. a backup; "
            "live: the lab's nodes.",
        ),
    ] = Source.intended,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="With --source running: the files' directory.")
    ] = None,
    limit: Annotated[
        list[str] | None,
        typer.Option("--limit", help="Only these hosts (repeat, or separate with commas)."),
    ] = None,
    state_file: StateOption = None,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also write the assessor's report to this directory: compliance.html "
            "(self-contained) and compliance.json, by control family and by tier.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check every node against the graded-protection rules of its level (province, city
    and exit: 3; county: 2; `data.protection_level` raises it). Exit 1 on any failing or
    unverified rule, with the evidence line and the remediation of the host's platform."""
    network = load(as_json)
    hosts = _limit(network, limit, as_json)
    try:
        rules = default_rules()
    except RuleError as exc:
        fail(exc, as_json)
    if source is Source.running:
        if directory is None or not directory.is_dir():
            raise _bad_input(
                f"--source running needs --dir, a directory of configs (got {directory})",
                as_json,
            )
        evidence = running_evidence(network, directory, hosts)
        expected = hosts if hosts is not None else [node.name for node in network.nodes]
    elif source is Source.live:
        try:
            evidence = live_evidence(network, hosts)
        except EgovnetError as exc:  # the lab is not up: nothing was checked
            fail(exc, as_json)
        expected = hosts if hosts is not None else [node.name for node in network.nodes]
    else:
        evidence = intended_evidence(network, hosts)
        expected = list(evidence)
    report = check_hosts(network, evidence, rules, hosts=expected)
    if state_file is not None:
        publish_state(report, state_file)
    written = []
    if report_dir is not None:
        meta = ReportMeta.now(network.name, provenance(state.inventory))
        written = [str(p) for p in write_report(report_dir, report, meta)]
    if as_json:
        emit_json({**report.as_dict(), **({"report": written} if written else {})})
    else:
        print_report(report)
        for path in written:
            out.print(f"report: {escape(path)}")
    if report.exit_code:
        raise typer.Exit(EXIT_FOUND)


def register(app: typer.Typer) -> None:
    """Add `compliance` to the egovnet app."""
    app.add_typer(compliance_app, name="compliance")
