"""The exporter process: `/snmp?target=HOST&module=a,b` for devices, `/metrics` for itself.

HTTP is served by the standard library's threading server; all SNMP runs on one asyncio
event loop in a thread of its own (pysnmp's engine lives there), and each request hands
its scrape to that loop. A dead, slow or wrongly-credentialed target costs its own request
its timeout and nothing else: the loop keeps serving every other scrape meanwhile, and no
exception of one target reaches the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from egovnet.snmp_loop import SnmpLoop
from exporters.collect import Scrape, scrape
from exporters.engine import make_engine
from exporters.exposition import render_scrape
from exporters.modules import Module
from exporters.snmp import ERROR_KINDS, Counters, PysnmpSession, Session
from exporters.targets import Target
from exporters.walk import WalkLimits, WalkMemory

DEADLINE_MARGIN = 0.25
"""Seconds kept back from Prometheus's scrape timeout to answer before it gives up."""
DEFAULT_DEADLINE = 10.0
T = TypeVar("T")


class BadRequestError(ValueError):
    """A request the exporter refuses before sending any packet (HTTP 400)."""


@dataclass
class TargetStats:
    """What the exporter remembers about one target between scrapes (for `/metrics`)."""

    counters: Counters = field(default_factory=Counters)
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_KINDS, 0))
    scrapes: int = 0
    up: float = float("nan")
    seconds: float = float("nan")


class Exporter:
    """Targets, modules and the SNMP machinery; `scrape()` is safe to call from any thread."""

    def __init__(
        self,
        targets: dict[str, Target],
        modules: dict[str, Module],
        *,
        limits: WalkLimits | None = None,
        max_in_flight: int = 64,
        route_check: Callable[[str], bool] | None = None,
    ) -> None:
        self.targets = targets
        self.route_check = route_check
        """With one, a target whose address it refuses gets no packet (a lab exporter
        sends only over the lab's management bridge, never out of this machine)."""
        self.modules = modules
        self.limits = limits or WalkLimits()
        self.stats = {name: TargetStats() for name in targets}
        self._lock = threading.Lock()
        self._max_in_flight = max_in_flight
        self._sessions: dict[str, Session] = {}
        self._memory = {name: WalkMemory() for name in targets}
        self._snmp = SnmpLoop("snmp", make_engine)
        self._limit = self._snmp.run(self._make_limit(), 5.0)

    async def _make_limit(self) -> asyncio.Semaphore:
        return asyncio.Semaphore(self._max_in_flight)  # bound to the SNMP loop, made on it

    def close(self) -> None:
        """Stop the SNMP loop (the engine's sockets close with it)."""
        self._snmp.close()

    def resolve(self, target: str | None, modules: str | None) -> tuple[Target, list[Module]]:
        """The target and modules a request names, or BadRequestError saying what is wrong."""
        if not target:
            raise BadRequestError("missing parameter 'target' (an inventory host name)")
        if target not in self.targets:
            raise BadRequestError(f"unknown target '{target}': not a host of the inventory")
        found = self.targets[target]
        names = [m for m in (modules or "").split(",") if m] or list(found.default_modules)
        unknown = [m for m in names if m not in self.modules]
        if unknown:
            raise BadRequestError(
                f"unknown module(s) {', '.join(unknown)} (have: {', '.join(sorted(self.modules))})"
            )
        return found, [self.modules[m] for m in dict.fromkeys(names)]

    def _session(self, target: Target) -> Session:
        if target.name not in self._sessions:
            self._sessions[target.name] = PysnmpSession(
                self._snmp.engine,
                target.address,
                target.port,
                target.credentials,
                timeout=target.timeout,
                retries=target.retries,
                counters=self.stats[target.name].counters,
                limit=self._limit,
            )
        return self._sessions[target.name]

    async def _scrape(self, target: Target, modules: Sequence[Module], deadline: float) -> Scrape:
        session = self._session(target)
        try:
            return await asyncio.wait_for(
                scrape(target, modules, session, self.limits, self._memory[target.name]), deadline
            )
        except TimeoutError:
            failed = Scrape(target, tuple(m.name for m in modules), seconds=deadline)
            failed.errors.append(("*", "deadline", f"scrape exceeded {deadline:g}s"))
            return failed

    def scrape(
        self, target: Target, modules: Sequence[Module], deadline: float = DEFAULT_DEADLINE
    ) -> Scrape:
        """Scrape on the SNMP loop, at most `deadline` seconds; record the outcome."""
        try:
            if self.route_check is not None and not self.route_check(target.address):
                result = Scrape(target, tuple(m.name for m in modules))
                result.errors.append(
                    ("*", "unroutable", f"{target.address} is not reached through the lab")
                )
            else:
                result = self._snmp.run(self._scrape(target, modules, deadline), deadline + 5.0)
        except FutureTimeout:
            result = Scrape(target, tuple(m.name for m in modules), seconds=deadline)
            result.errors.append(("*", "deadline", f"scrape exceeded {deadline:g}s"))
        with self._lock:
            stats = self.stats[target.name]
            stats.scrapes += 1
            stats.up = 1.0 if result.up else 0.0
            stats.seconds = result.seconds
            for _module, kind, _message in result.errors:
                stats.errors[kind] += 1
        return result

    def snapshot(self) -> dict[str, TargetStats]:
        """A copy of the per-target statistics, taken under the lock."""
        with self._lock:
            return {
                name: TargetStats(
                    Counters(s.counters.sent, s.counters.retried),
                    dict(s.errors),
                    s.scrapes,
                    s.up,
                    s.seconds,
                )
                for name, s in self.stats.items()
            }


class ExporterCollector(Collector):
    """The exporter's own health, over all its targets: failed module reads by kind, packets
    sent and retried, scrapes served.

    Nothing here is per target. A device's `egov_snmp_up` and scrape durations are in its
    `/snmp` answer, with its inventory labels; had `/metrics` a copy of them too (it once
    had, labelled `host` and `tier` only), Prometheus would hold two `egov_snmp_up` per
    device and `EgovDeviceUnreachable` would fire twice, once without the `city` label that
    Alertmanager routes a city's NOC on. Per target figures stay in `Exporter.snapshot()`."""

    def __init__(self, exporter: Exporter) -> None:
        self._exporter = exporter

    def collect(self) -> Iterator[Metric]:
        stats = self._exporter.snapshot().values()
        errors = CounterMetricFamily(
            "egov_snmp_errors", "Failed module reads by kind, over all targets.", labels=["kind"]
        )
        for kind in ERROR_KINDS:
            errors.add_metric([kind], sum(s.errors[kind] for s in stats))
        yield errors
        yield CounterMetricFamily(
            "egov_snmp_packets_sent",
            "SNMP requests sent, over all targets.",
            value=sum(s.counters.sent for s in stats),
        )
        yield CounterMetricFamily(
            "egov_snmp_packets_retried",
            "SNMP requests sent again after a timeout, over all targets.",
            value=sum(s.counters.retried for s in stats),
        )
        yield CounterMetricFamily(
            "egov_snmp_scrapes",
            "Scrapes served, over all targets.",
            value=sum(s.scrapes for s in stats),
        )
        yield GaugeMetricFamily(
            "egov_snmp_targets", "Inventory hosts the exporter can scrape.", value=len(stats)
        )


def render(*collectors: Collector) -> bytes:
    """The text exposition of the collectors, on a registry made for this request only."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


def make_handler(
    exporter: Exporter, extra: Sequence[Collector] = ()
) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to `exporter`; `extra` collectors are served on
    `/metrics` beside the exporter's own (the last compliance check's state)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "egovnet-exporter"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
            return  # one line per scrape would drown the log; errors are in /metrics

        def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path == "/metrics":
                body = render(ExporterCollector(exporter), *extra)
                self._send(HTTPStatus.OK, body, CONTENT_TYPE_LATEST)
                return
            if url.path != "/snmp":
                text = "egovnet SNMP exporter: /snmp?target=HOST&module=a,b and /metrics\n"
                status = HTTPStatus.OK if url.path == "/" else HTTPStatus.NOT_FOUND
                self._send(status, text.encode(), "text/plain; charset=utf-8")
                return
            try:
                target, modules = exporter.resolve(
                    (query.get("target") or [""])[0], ",".join(query.get("module", []))
                )
            except BadRequestError as exc:
                self._send(HTTPStatus.BAD_REQUEST, f"{exc}\n".encode(), "text/plain; charset=utf-8")
                return
            deadline = DEFAULT_DEADLINE
            header = self.headers.get("X-Prometheus-Scrape-Timeout-Seconds")
            if header:
                with contextlib.suppress(ValueError):  # a bad header: keep the default
                    deadline = max(0.5, float(header) - DEADLINE_MARGIN)
            result = exporter.scrape(target, modules, deadline)
            self._send(HTTPStatus.OK, render_scrape(result), CONTENT_TYPE_LATEST)

    return Handler


def serve(
    exporter: Exporter, host: str, port: int, extra: Sequence[Collector] = ()
) -> ThreadingHTTPServer:
    """An HTTP server for `exporter` (and the `extra` collectors on `/metrics`), bound and
    ready; the caller runs `serve_forever()`."""
    server = ThreadingHTTPServer((host, port), make_handler(exporter, extra))
    server.daemon_threads = True
    return server


def via_device(device: str, ttl: float = 5.0) -> Callable[[str], bool]:
    """A route check: True for an address this machine routes through `device` (asked of
    the kernel with `ip route get`, remembered for `ttl` seconds)."""
    seen: dict[str, tuple[float, bool]] = {}
    lock = threading.Lock()

    def check(address: str) -> bool:
        now = time.monotonic()
        with lock:
            if address in seen and now - seen[address][0] < ttl:
                return seen[address][1]
        shown = subprocess.run(  # noqa: S603 - the address comes from the inventory model
            ["ip", "-j", "route", "get", address],  # noqa: S607 - iproute2, by name
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            routes = json.loads(shown.stdout or "[]")
        except ValueError:
            routes = []
        allowed = bool(routes) and all(route.get("dev") == device for route in routes)
        with lock:
            seen[address] = (now, allowed)
        return allowed

    return check
