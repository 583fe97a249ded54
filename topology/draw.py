"""Pictures of the network from the model: Graphviz lays it out, egovnet names every element.

The drawing is the parent tree (national core, province cores, the exit, cities, counties)
with every link of the model, the internet behind each exit, and per node a badge line with
its departments and zones. Graphviz's `dot` (Debian's `graphviz`, run as a subprocess) does
the layout; egovnet never places a box itself.

Counties hang under their city as one column (invisible edges chain them, their links to the
city leave the chain's rank constraints alone), so a province of 11 cities and 143 counties
is 11 columns wide and about 15 ranks tall instead of one rank of 143 boxes.

The SVG is dot's, post-processed to a stable contract the NOC page and tests rely on::

    <g id="node:HOST" class="node" data-host="HOST" data-tier="TIER" data-state="...">
    <g id="link:A:B" class="link" data-a="A" data-b="B" data-kind="parent|uplink|peer|internet"
       data-state="...">

one element per node of the model (plus one per drawn internet) and one per link of the
model (plus one per exit's internet link). `A` is the upper end (the node linked to), `B` the
lower. `data-state` is `unknown` in a static drawing and what `--live` found otherwise.

Static formats come from the model alone; a live drawing takes a `Status` (plain data the
caller got from Prometheus: this part does not query anything).
"""

from __future__ import annotations

import html
import itertools
import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import quoteattr

from egovnet.errors import EgovnetError
from egovnet.model import Network, Node

Format = Literal["svg", "png", "html", "drawio", "mermaid", "dot"]
FORMATS: tuple[Format, ...] = ("svg", "png", "html", "drawio", "mermaid", "dot")
State = Literal["up", "down", "degraded", "unknown"]
LinkKind = Literal["parent", "uplink", "peer", "internet"]
INTERNET = "internet"
"""The drawn internet's node id (`internet` under one exit; `internet:EXIT` under several)."""
DOT_TIMEOUT = 300.0

TIER_FILL = {
    "national": "#d9c8f0",
    "province": "#c8d8f0",
    "exit": "#f0dcc0",
    "city": "#d4ecd4",
    "county": "#f4f4f4",
    INTERNET: "#ffffff",
}
STATE_FILL = {"up": "#8fd18f", "down": "#ef6b6b", "degraded": "#f2c14e", "unknown": "#d0d0d0"}
STATE_LINE = {"up": "#2e8b2e", "down": "#d62020", "degraded": "#e0a000", "unknown": "#808080"}
KIND_STYLE = {
    "parent": 'style=solid penwidth=1.6 color="#404040"',
    "uplink": 'style=dashed penwidth=1.6 color="#2060c0"',
    "peer": 'style=dotted penwidth=1.6 color="#7040a0"',
    "internet": 'style=bold penwidth=2.0 color="#c06000"',
}


class DrawError(EgovnetError):
    """Graphviz is missing or failed, or the drawing was asked for something the model lacks."""


@dataclass(frozen=True)
class DrawNode:
    """One box: a router, or the internet behind an exit."""

    id: str
    tier: str
    label: str
    badge: str
    region: str


@dataclass(frozen=True)
class DrawLink:
    """One line: `a` is the upper end (the node linked to), `b` the lower one."""

    a: str
    b: str
    kind: LinkKind

    @property
    def id(self) -> str:
        return f"link:{self.a}:{self.b}"


@dataclass(frozen=True)
class Drawing:
    """What is drawn, before any layout: the nodes and links of the model (or a subtree)."""

    title: str
    nodes: tuple[DrawNode, ...]
    links: tuple[DrawLink, ...]
    columns: tuple[tuple[str, ...], ...] = ()
    """Leaves stacked under their parent, top to bottom (one tuple per parent)."""


@dataclass(frozen=True)
class Status:
    """Live state per node and per link, from whatever monitoring the caller asked.

    Example: ``Status(nodes={"zunhua": "down"}, links={("tangshan", "zunhua"): "up"},
    notes={"zunhua": "snmp down"})``; anything absent is `unknown`.
    """

    nodes: Mapping[str, State] = field(default_factory=dict)
    links: Mapping[tuple[str, str], State] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)

    def node(self, host: str) -> State:
        return self.nodes.get(host, "unknown")

    def link(self, a: str, b: str) -> State:
        return self.links.get((a, b), self.links.get((b, a), "unknown"))


def badge(node: Node) -> str:
    """Departments and zones on one short line: `4 dept · private 2 · public 2`.

    >>> from types import SimpleNamespace as N
    >>> badge(N(departments=[N(zone="private"), N(zone="public"), N(zone="public")],
    ...         zones=("private", "public"), internet=None))  # type: ignore[arg-type]
    '3 dept · pr 1 · pu 2'
    """
    counts: dict[str, int] = {}
    for department in node.departments:
        counts[department.zone] = counts.get(department.zone, 0) + 1
    parts = [f"{len(node.departments)} dept"] if node.departments else []
    parts += [f"{zone[:2]} {counts[zone]}" for zone in node.zones if counts.get(zone)]
    if node.internet is not None:
        parts.append("exit")
    return " · ".join(parts)


def subtree(network: Network, root: str) -> set[str]:
    """`root` and every node below it in the parent tree."""
    try:
        network.node(root)
    except KeyError as exc:
        raise DrawError(f"--under {root}: no such host in {network.source}") from exc
    found = {root}
    stack = [root]
    while stack:
        for child in network.children(stack.pop()):
            found.add(child.name)
            stack.append(child.name)
    return found


def drawing(network: Network, under: str | None = None) -> Drawing:
    """The nodes and links to draw: the whole model, or the subtree `under` a host.

    A subtree keeps only links with both ends inside it, and the internet of an exit in it.
    """
    keep = subtree(network, under) if under else {node.name for node in network.nodes}
    nodes = [
        DrawNode(node.name, node.tier, node.name, badge(node), node.region)
        for node in network.nodes
        if node.name in keep
    ]
    links = [
        DrawLink(link.upper.host, link.lower.host, link.kind)
        for link in network.links
        if link.upper.host in keep and link.lower.host in keep
    ]
    exits = [node for node in network.nodes if node.name in keep and node.internet is not None]
    for exit_node in exits:
        cloud = INTERNET if len(exits) == 1 else f"{INTERNET}:{exit_node.name}"
        uplink = exit_node.internet
        hop = str(uplink.next_hop) if uplink is not None else ""
        nodes.append(DrawNode(cloud, INTERNET, "internet", hop, ""))
        links.append(DrawLink(exit_node.name, cloud, "internet"))
    columns = []
    for node in network.nodes:
        leaves = [
            child.name
            for child in network.children(node.name)
            if child.name in keep and not network.children(child.name)
        ]
        if node.name in keep and len(leaves) > 1:
            columns.append(tuple(leaves))
    title = f"{network.name}" + (f" under {under}" if under else "")
    return Drawing(title, tuple(nodes), tuple(links), tuple(columns))


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def to_dot(picture: Drawing, status: Status | None = None) -> str:
    """The DOT source: ids `node:HOST` and `link:A:B` are what the SVG contract is built on."""
    lines = [
        f"digraph {_q(picture.title)} {{",
        '  graph [rankdir=TB splines=line nodesep=0.25 ranksep=0.45 fontname="WenQuanYi Micro Hei,'
        f'sans-serif" label={_q(picture.title)} labelloc=t];',
        '  node [shape=box style="rounded,filled" fontname="WenQuanYi Micro Hei,sans-serif"'
        " fontsize=10 margin=0.06 height=0.3];",
        "  edge [arrowhead=none];",
    ]
    # a column's parent is wider than its leaves and shares their group (dot aligns a group
    # vertically), so its links run down the column's left side like a bus
    heads = {link.a for link in picture.links if link.kind == "parent"}
    group = {}
    for column in picture.columns:
        parent = next(link.a for link in picture.links if link.b == column[0] and link.a in heads)
        group[parent] = f"{_q(parent)} width=1.8"
        group.update(dict.fromkeys(column, f"{_q(parent)} width=1.45"))
    for node in picture.nodes:
        fill = TIER_FILL.get(node.tier, "#ffffff")
        line = "#404040"
        if status is not None and node.tier != INTERNET:
            fill = STATE_FILL[status.node(node.id)]
            line = STATE_LINE[status.node(node.id)]
        text = node.label + (f"\n{node.region}" if node.region else "")
        if node.badge:
            text += f"\n{node.badge}"
        shape = " shape=ellipse" if node.tier == INTERNET else ""
        if node.id in group:
            shape += f" group={group[node.id]}"
        tooltip = node.region or node.label
        if status is not None and status.notes.get(node.id):
            tooltip += f" — {status.notes[node.id]}"
        lines.append(
            f"  {_q(node.id)} [id={_q('node:' + node.id)} label={_q(text)}"
            f' fillcolor="{fill}" color="{line}" tooltip={_q(tooltip)}{shape}];'
        )
    # a stacked leaf below the first of its column sits where the chain puts it: its link
    # to the parent must not pull it up to the parent's next rank
    stacked = {leaf for column in picture.columns for leaf in column[1:]}
    for link in picture.links:
        style = KIND_STYLE[link.kind]
        if status is not None:
            state = status.link(link.a, link.b)
            style = re.sub(r'color="[^"]*"', f'color="{STATE_LINE[state]}"', style)
        constraint = " constraint=false" if link.kind in ("uplink", "peer") else ""
        if link.kind == "parent" and link.b in stacked:
            constraint = " constraint=false tailport=sw headport=w"
        lines.append(
            f"  {_q(link.a)} -> {_q(link.b)} [id={_q(link.id)} {style}{constraint}"
            f" tooltip={_q(f'{link.a} — {link.b} ({link.kind})')}];"
        )
    for column in picture.columns:
        for upper, lower in itertools.pairwise(column):
            lines.append(f"  {_q(upper)} -> {_q(lower)} [style=invis weight=10];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz(dot_text: str, output: str) -> bytes:
    """Run `dot -T<output>` on the DOT text; its stdout."""
    binary = shutil.which("dot")
    if binary is None:
        raise DrawError("graphviz's `dot` is not installed (Debian: apt-get install graphviz)")
    try:
        done = subprocess.run(  # noqa: S603 - dot and a fixed -T option, DOT on stdin
            [binary, f"-T{output}"],
            input=dot_text.encode(),
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DrawError(f"dot -T{output} took more than {DOT_TIMEOUT:.0f}s") from exc
    if done.returncode != 0:
        raise DrawError(f"dot -T{output} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


_G_OPEN = re.compile(r'<g id="(node|link):([^"]*)" class="(node|edge)">')


def svg(picture: Drawing, status: Status | None = None, dot_text: str | None = None) -> str:
    """dot's SVG with the contract's classes and data attributes on every node and link."""
    raw = graphviz(dot_text or to_dot(picture, status), "svg").decode()
    tiers = {node.id: node.tier for node in picture.nodes}
    kinds = {link.id: link for link in picture.links}

    def state_of(kind: str, key: str) -> str:
        if status is None:
            return "unknown"
        if kind == "node":
            return "up" if tiers.get(key) == INTERNET else status.node(key)
        link = kinds[f"link:{key}"]
        return status.link(link.a, link.b)

    def tag(match: re.Match[str]) -> str:
        kind, key = match.group(1), html.unescape(match.group(2))
        state = state_of(kind, key)
        if kind == "node":
            return (
                f'<g id={quoteattr("node:" + key)} class="node" data-host={quoteattr(key)}'
                f" data-tier={quoteattr(tiers[key])} data-state={quoteattr(state)}>"
            )
        link = kinds[f"link:{key}"]
        return (
            f'<g id={quoteattr(link.id)} class="link" data-a={quoteattr(link.a)}'
            f" data-b={quoteattr(link.b)} data-kind={quoteattr(link.kind)}"
            f" data-state={quoteattr(state)}>"
        )

    body = _G_OPEN.sub(tag, raw)
    return body[body.index("<svg") :]


def page(picture: Drawing, svg_text: str) -> str:
    """A self-contained HTML page with the SVG inline (no external URL)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(picture.title)}</title>"
        "<style>body{margin:0;font-family:sans-serif}svg{max-width:100%;height:auto}</style>"
        f"</head><body>\n{svg_text}\n</body></html>\n"
    )


def drawio(picture: Drawing, dot_text: str) -> str:
    """mxGraph XML (draw.io) with dot's coordinates, from `dot -Tjson`."""
    layout = json.loads(graphviz(dot_text, "json"))
    top = float(layout["bb"].split(",")[3])
    by_name = {item["name"]: item for item in layout.get("objects", [])}
    known = {node.id: node for node in picture.nodes}
    cells = ['<mxCell id="0"/>', '<mxCell id="1" parent="0"/>']
    for name, node in known.items():
        item = by_name[name]
        x, y = (float(v) for v in item["pos"].split(","))
        width, height = float(item["width"]) * 72, float(item["height"]) * 72
        text = node.label + (f"<br>{html.escape(node.region)}" if node.region else "")
        text += f"<br><i>{html.escape(node.badge)}</i>" if node.badge else ""
        fill = TIER_FILL.get(node.tier, "#ffffff")
        shape = "ellipse;" if node.tier == INTERNET else "rounded=1;"
        cells.append(
            f"<mxCell id={quoteattr('node:' + name)} value={quoteattr(text)}"
            f' style="{shape}whiteSpace=wrap;html=1;fillColor={fill};" vertex="1" parent="1">'
            f'<mxGeometry x="{x - width / 2:.1f}" y="{top - y - height / 2:.1f}"'
            f' width="{width:.1f}" height="{height:.1f}" as="geometry"/></mxCell>'
        )
    dash = {"parent": "0", "uplink": "1", "peer": "1", "internet": "0"}
    colour = {"parent": "#404040", "uplink": "#2060c0", "peer": "#7040a0", "internet": "#c06000"}
    for link in picture.links:
        cells.append(
            f"<mxCell id={quoteattr(link.id)} value={quoteattr(link.kind)}"
            f' style="endArrow=none;dashed={dash[link.kind]};strokeColor={colour[link.kind]};"'
            f' edge="1" parent="1" source={quoteattr("node:" + link.a)}'
            f' target={quoteattr("node:" + link.b)}><mxGeometry relative="1"'
            ' as="geometry"/></mxCell>'
        )
    return (
        '<mxfile host="egovnet"><diagram name='
        + quoteattr(picture.title)
        + "><mxGraphModel><root>\n"
        + "\n".join(cells)
        + "\n</root></mxGraphModel></diagram></mxfile>\n"
    )


def mermaid(picture: Drawing) -> str:
    """A Mermaid flowchart: one node line per box, one line per link (same ids as the SVG)."""

    def mid(name: str) -> str:
        return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", name)

    arrows = {"parent": "---", "uplink": "-.-", "peer": "-.-", "internet": "==="}
    lines = ["flowchart TB"]
    for node in picture.nodes:
        text = node.label + (f"<br/>{node.region}" if node.region else "")
        text += f"<br/>{node.badge}" if node.badge else ""
        text = text.replace('"', "'")
        opening, closing = ("((", "))") if node.tier == INTERNET else ("[", "]")
        lines.append(f'  {mid(node.id)}{opening}"{text}"{closing}')
    for link in picture.links:
        lines.append(f"  {mid(link.a)} {arrows[link.kind]} {mid(link.b)}")
    for tier, fill in TIER_FILL.items():
        members = [mid(node.id) for node in picture.nodes if node.tier == tier]
        if members:
            lines.append(f"  classDef {tier} fill:{fill},stroke:#404040")
            lines.append(f"  class {','.join(members)} {tier}")
    return "\n".join(lines) + "\n"


def render(picture: Drawing, output: Format, status: Status | None = None) -> bytes:
    """The drawing in one format, as bytes to write."""
    dot_text = to_dot(picture, status)
    if output == "dot":
        return dot_text.encode()
    if output == "mermaid":
        return mermaid(picture).encode()
    if output == "png":
        return graphviz(dot_text, "png")
    if output == "drawio":
        return drawio(picture, dot_text).encode()
    svg_text = svg(picture, status, dot_text)
    if output == "html":
        return page(picture, svg_text).encode()
    return svg_text.encode()
