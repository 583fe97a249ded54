"""The NOC page: the network map, coloured live, with the firing alerts on their nodes.

A small HTTP server (stdlib, bound to loopback by default) that answers:

* `/` — the page: the map's SVG inline (given as text: this part does not draw), styles and
  a script that polls `/api/status` every `refresh` seconds and colours the map's elements
  by their `data-host` / `data-a`+`data-b` attributes. No external URL: it works offline.
  `/?host=HOST` opens that node's detail (what alert annotations link to).
* `/api/status` — `{"updated", "nodes": {host: state}, "links": {"a|b": state}, "notes",
  "alerts": [...], "errors": [...]}` from Prometheus (`exporters.live.live_state`) and
  Alertmanager (`/api/v2/alerts`).
* `/api/node?host=HOST` — interfaces and BGP peers (Prometheus) and the last rollout that
  touched the host (`rollouts`, injected: the runs directory is not this part's business).
* `/map.svg` — the SVG alone; `/healthz` — `ok`.

Every query it makes is a read (instant queries, alert listing); it never posts a silence.
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

from exporters.live import LiveError, base_url, firing_alerts, live_state, node_detail

Rollouts = Callable[[str], dict[str, Any] | None]
"""host -> the last rollout that touched it (run id, when, outcome, report path), or None."""
NOC_PORT = 9180
"""The page's default port (Prometheus's own is 9090, Alertmanager 9093, the exporter 9116)."""
NOC_URL = f"http://127.0.0.1:{NOC_PORT}"
"""Where alert annotations and dashboards link to: `egovnet noc` on its default port."""


@dataclass(frozen=True)
class NocConfig:
    """What the page shows and where it reads from."""

    title: str
    svg: str
    hosts: tuple[str, ...]
    prometheus: str
    alertmanager: str | None = None
    refresh: float = 5.0
    rollouts: Rollouts | None = None


def status(config: NocConfig) -> dict[str, Any]:
    """The JSON the page polls: states, notes and alerts, and what could not be read."""
    errors: list[str] = []
    document: dict[str, Any] = {"nodes": {}, "links": {}, "notes": {}, "alerts": []}
    try:
        document |= live_state(config.prometheus).as_dict()
    except LiveError as exc:
        errors.append(str(exc))
    if config.alertmanager:
        try:
            document["alerts"] = firing_alerts(config.alertmanager)
        except LiveError as exc:
            errors.append(str(exc))
    for host in config.hosts:
        document["nodes"].setdefault(host, "unknown")
    document["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    document["errors"] = errors
    return document


def detail(config: NocConfig, host: str) -> dict[str, Any]:
    """`/api/node`: what Prometheus knows of one host, and its last rollout."""
    try:
        found = node_detail(config.prometheus, host)
    except LiveError as exc:
        found = {"host": host, "interfaces": [], "bgp": [], "error": str(exc)}
    found["rollout"] = config.rollouts(host) if config.rollouts else None
    expr = quote(f'{{host="{host}"}}')
    found["prometheus"] = f"{base_url(config.prometheus)}/graph?g0.expr={expr}&g0.tab=1"
    return found


STYLE = """
body{margin:0;font-family:"WenQuanYi Micro Hei",sans-serif;display:flex;height:100vh}
#map{flex:1;overflow:auto;background:#fafafa}
#map svg{min-width:100%;height:auto}
#side{width:340px;overflow:auto;border-left:1px solid #ccc;padding:8px;font-size:13px}
h1{font-size:15px;margin:4px 0}h2{font-size:14px;margin:10px 0 4px}
#summary span{display:inline-block;margin-right:8px}
g.node{cursor:pointer}
g.node[data-state=up] path,g.node[data-state=up] polygon{fill:#8fd18f}
g.node[data-state=down] path,g.node[data-state=down] polygon{fill:#ef6b6b}
g.node[data-state=degraded] path,g.node[data-state=degraded] polygon{fill:#f2c14e}
g.node[data-state=unknown] path,g.node[data-state=unknown] polygon{fill:#d0d0d0}
g.node[data-tier=internet] ellipse{fill:#fff}
g.link[data-state=up] path{stroke:#2e8b2e}
g.link[data-state=down] path{stroke:#d62020;stroke-width:3}
g.link[data-state=degraded] path{stroke:#e0a000;stroke-width:2.5}
g.node.selected path,g.node.selected polygon{stroke:#000;stroke-width:3}
g.alert-badge circle{fill:#d62020;stroke:#fff}
g.alert-badge text{fill:#fff;font-size:10px;font-weight:bold}
#alerts li{margin:2px 0;cursor:pointer}.critical{color:#b00}.warning{color:#a60}
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:1px 4px;text-align:left}
.err{color:#b00}
"""

SCRIPT = Path(__file__).with_name("noc.js").read_text(encoding="utf-8")
"""The page's script, kept as a file of its own so that it reads (and lints) as JavaScript."""


def page(config: NocConfig) -> str:
    """The whole page, self-contained: no stylesheet, script or font from elsewhere."""
    prometheus = base_url(config.prometheus)
    script = SCRIPT.replace("__REFRESH__", json.dumps(config.refresh))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>NOC: {html.escape(config.title)}</title><style>{STYLE}</style></head><body>"
        f'<div id="map">{config.svg}</div>'
        f'<div id="side"><h1>NOC: {html.escape(config.title)}</h1>'
        f'<div id="summary"></div><small>updated <span id="updated">never</span> · every '
        f"{config.refresh:g}s · "
        f'<a id="prometheus" href="{html.escape(prometheus)}/alerts">Prometheus alerts</a>'
        '</small><div id="errors" class="err"></div>'
        '<h2>Firing alerts</h2><ul id="alerts"></ul><div id="detail"></div></div>'
        f"<script>{script}</script></body></html>\n"
    )


class _Handler(BaseHTTPRequestHandler):
    server: NocServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        """Quiet: a page polled every few seconds would fill the terminal."""

    def _send(self, body: bytes, content_type: str, code: int = 200) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, document: Any, code: int = 200) -> None:
        self._send(json.dumps(document, ensure_ascii=False).encode(), "application/json", code)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        config = self.server.config
        if url.path == "/":
            self._send(self.server.page_bytes, "text/html; charset=utf-8")
        elif url.path == "/api/status":
            self._json(status(config))
        elif url.path == "/api/node":
            host = parse_qs(url.query).get("host", [""])[0]
            if host not in config.hosts:
                self._json({"error": f"no host {host!r} in the inventory"}, 404)
            else:
                self._json(detail(config, host))
        elif url.path == "/map.svg":
            self._send(config.svg.encode(), "image/svg+xml")
        elif url.path == "/healthz":
            self._send(b"ok\n", "text/plain")
        else:
            self._send(b"not found\n", "text/plain", 404)


class NocServer(ThreadingHTTPServer):
    """The page's HTTP server; `serve_forever` or `start` (a daemon thread, for tests)."""

    daemon_threads = True

    def __init__(self, config: NocConfig, address: tuple[str, int] = ("127.0.0.1", NOC_PORT)):
        super().__init__(address, _Handler)
        self.config = config
        self.page_bytes = page(config).encode()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="noc", daemon=True)
        thread.start()
        return thread
