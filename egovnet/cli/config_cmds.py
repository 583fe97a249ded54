"""`egovnet config parse FILE...`: what egovnet understood of a configuration.

Engineers use it to see at a glance what the isolation audit will reason about: the facts
read (interfaces, routes, BGP, filters, NAT), every line that could not be read or whose
construct is not modelled, and the share of lines understood. Exit 0 when everything was
understood, 1 when something was not, 2 when a file could not be read at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from egovnet import platforms
from egovnet.cli.common import EXIT_BAD_INPUT, EXIT_FOUND, EXIT_OK, JsonOption, emit_json, out
from egovnet.configs.facts import config_facts, coverage_counts
from egovnet.configs.parse import detect, parse_for
from egovnet.configs.text import DecodeError, read_config_text

config_app = typer.Typer(help="What egovnet reads in device configurations.", no_args_is_help=True)


class UnreadableError(Exception):
    """A file that is not a configuration egovnet can read (the message says why)."""


def parse_file(path: Path, given: str | None) -> tuple[dict[str, Any], tuple[int, int]]:
    """One file's facts document and its (understood, content) line counts. The text is read
    as it comes off the gear (`read_config_text`: UTF-8 or GBK, pager junk and prompts
    removed) and parsed as the platform it is written in (`detect`), `given` only where the
    text shows none."""
    try:
        read = read_config_text(path)
    except DecodeError as exc:
        raise UnreadableError(str(exc)) from exc
    except OSError as exc:
        raise UnreadableError(f"{path}: {exc.strerror or exc}") from exc
    text = read.text
    detection = detect(text, given)
    shown = detection.markers > 0 or any(r.detection.matches(text) for r in platforms.platforms())
    if not shown and given is None:
        raise UnreadableError(f"{path}: no platform's signature in the text; pass --platform")
    platform = detection.platform if shown else str(given)
    config = parse_for(text, path.stem, platform, str(path))
    facts = config_facts(config, text, file=str(path), platform_given=given, encoding=read.encoding)
    counts = coverage_counts(config, text)
    if counts[1] == 0:
        raise UnreadableError(f"{path}: no configuration lines in it")
    return facts, counts


def _print(facts: dict[str, Any]) -> None:
    bgp = facts["bgp"]
    neighbours = sum(len(i["neighbors"]) for i in bgp["instances"]) if bgp else 0
    out.print(
        f"[bold]{escape(facts['file'])}[/]: {facts['platform']}, hostname "
        f"{escape(str(facts['hostname']))}, coverage {facts['coverage']:.1%}"
    )
    out.print(
        f"  {len(facts['vrfs'])} vrf(s), {len(facts['interfaces'])} interface(s), "
        f"{len(facts['static_routes'])} static route(s), "
        f"bgp {bgp['asn'] if bgp else 'none'} with {neighbours} neighbour(s), "
        f"{len(facts['filters'])} filter(s), {len(facts['nat'])} nat rule(s)"
    )
    missed = [("unparsed", u["line"], u["text"], u["reason"]) for u in facts["unparsed"]] + [
        ("unmodelled", u["line"], u["text"], u["construct"]) for u in facts["unmodelled"]
    ]
    if not missed:
        out.print("  [bold green]✓[/] every line understood")
        return
    table = Table(show_lines=False)
    for column in ("line", "kind", "text", "why"):
        table.add_column(column, overflow="fold")
    for kind, line, text, why in sorted(missed, key=lambda m: m[1]):
        table.add_row(str(line), kind, escape(text), escape(why))
    out.print(table)


@config_app.command("parse")
def parse(
    files: Annotated[list[Path], typer.Argument(help="Configuration files to read.")],
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform",
            help="The platform to read a file as when its text does not show one "
            f"({', '.join(platforms.platform_names())}).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """What egovnet understood of each configuration file: the facts the audit reasons
    about, and every line it could not read or does not model."""
    if platform is not None and platform not in platforms.platform_names():
        message = f"--platform {platform!r}: not one of {', '.join(platforms.platform_names())}"
        if as_json:
            emit_json({"files": [], "coverage": 0.0, "error": message})
        else:
            out.print(f"[bold red]error:[/] {escape(message)}")
        raise typer.Exit(EXIT_BAD_INPUT)
    documents: list[dict[str, Any]] = []
    understood = content = 0
    code = EXIT_OK
    for path in files:
        try:
            facts, (good, lines) = parse_file(path, platform)
        except UnreadableError as exc:
            documents.append({"file": str(path), "error": str(exc)})
            code = EXIT_BAD_INPUT
            if not as_json:
                out.print(f"[bold red]error:[/] {escape(str(exc))}")
            continue
        understood, content = understood + good, content + lines
        documents.append(facts)
        if (facts["unparsed"] or facts["unmodelled"]) and code == EXIT_OK:
            code = EXIT_FOUND
        if not as_json:
            _print(facts)
    coverage = round(understood / content, 4) if content else 0.0
    if as_json:
        emit_json({"files": documents, "coverage": coverage})
    elif len(files) > 1:
        out.print(f"coverage over {len(files)} files: {coverage:.1%}")
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
