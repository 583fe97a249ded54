"""One scrape of one target: modules walked concurrently, answers turned into metric families.

The result is plain data (`Scrape`), written out per request (`exporters.exposition`, or
this module's prometheus-client collector on a fresh `CollectorRegistry`): no global
registry, nothing shared between two scrapes running at once (STYLE.md: registries passed
in, not reached for).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from exporters.modules import IndexPart, Module, Table, parse_oid
from exporters.snmp import ERROR_KINDS, ErrorKind, Missing, Session, SnmpError, Value
from exporters.targets import Target
from exporters.walk import Rows, WalkLimits, WalkMemory, walk_columns


@dataclass
class Family:
    """One metric family of a scrape: its samples as (labels, value)."""

    name: str
    kind: str
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)


@dataclass
class Scrape:
    """What one `/snmp` request collected, and how it went."""

    target: Target
    modules: tuple[str, ...]
    families: list[Family] = field(default_factory=list)
    errors: list[tuple[str, ErrorKind, str]] = field(default_factory=list)
    """(module, kind, message) of every module that failed."""
    durations: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def up(self) -> bool:
        """True when every module was read without error."""
        return not self.errors


def _index_labels(parts: Sequence[IndexPart], suffix: tuple[int, ...]) -> dict[str, str] | None:
    labels: dict[str, str] = {}
    position = 0
    for part in parts:
        chunk = suffix[position : position + part.length]
        if len(chunk) != part.length:
            return None
        labels[part.label] = ".".join(map(str, chunk))
        position += part.length
    return labels if position == len(suffix) else None


def _label_text(value: Value) -> str:
    if isinstance(value, Missing):
        return ""
    if isinstance(value, tuple):
        return ".".join(map(str, value))
    return str(value)


def _number(value: Value) -> float | None:
    if isinstance(value, int):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def table_families(table: Table, columns: dict[tuple[int, ...], Rows]) -> list[Family]:
    """The metric families of one walked table, every series labelled by its row."""
    label_rows = {c.label: columns.get(parse_oid(c.oid), {}) for c in table.labels}
    # a row's labels (index and label columns), worked out once for all its metrics
    row_labels: dict[tuple[int, ...], dict[str, str] | None] = {}

    def labels_of(suffix: tuple[int, ...]) -> dict[str, str] | None:
        if suffix not in row_labels:
            labels = _index_labels(table.index, suffix)
            if labels is not None:
                for label, rows in label_rows.items():
                    labels[label] = _label_text(rows.get(suffix, Missing.NO_SUCH_INSTANCE))
            row_labels[suffix] = labels
        return row_labels[suffix]

    families = []
    for metric in table.metrics:
        family = Family(metric.name, metric.type, metric.help)
        multiplier = columns.get(parse_oid(metric.multiply_by), {}) if metric.multiply_by else {}
        for suffix, raw in columns.get(parse_oid(metric.oid), {}).items():
            value = _number(raw)
            labels = labels_of(suffix)
            if value is None or labels is None:
                continue
            if metric.multiply_by:
                factor = _number(multiplier.get(suffix, Missing.NO_SUCH_INSTANCE))
                if factor is None:
                    continue
                value *= factor
            family.samples.append((dict(labels), value * metric.scale))
        families.append(family)
    return families


async def scrape_module(
    module: Module, session: Session, limits: WalkLimits, memory: WalkMemory | None = None
) -> list[Family]:
    """GET the module's scalars and walk its tables, concurrently."""
    columns = [parse_oid(oid) for table in module.tables for oid in table.columns()]
    scalar_oids = [parse_oid(scalar.oid) for scalar in module.scalars]

    async def scalars() -> list[tuple[tuple[int, ...], Value]]:
        return await session.get(scalar_oids) if scalar_oids else []

    async def tables() -> dict[tuple[int, ...], Rows]:
        return await walk_columns(session, columns, limits, memory)

    got, walked = await asyncio.gather(scalars(), tables())
    families = []
    values = dict(got)
    for scalar in module.scalars:
        value = values.get(parse_oid(scalar.oid), Missing.NO_SUCH_OBJECT)
        if isinstance(value, Missing):
            continue
        if scalar.type == "info":
            assert scalar.label is not None  # noqa: S101 - validated by the module model
            families.append(
                Family(scalar.name, "gauge", scalar.help, [({scalar.label: _label_text(value)}, 1)])
            )
            continue
        number = _number(value)
        if number is not None:
            families.append(
                Family(scalar.name, scalar.type, scalar.help, [({}, number * scalar.scale)])
            )
    for table in module.tables:
        families += table_families(table, walked)
    return families


async def scrape(
    target: Target,
    modules: Sequence[Module],
    session: Session,
    limits: WalkLimits,
    memory: WalkMemory | None = None,
) -> Scrape:
    """Scrape `modules` of `target` concurrently; a failing module is recorded, and the
    others' series are still returned. `memory` is the target's, kept between scrapes."""
    result = Scrape(target, tuple(m.name for m in modules))
    started = time.perf_counter()

    async def one(module: Module) -> list[Family]:
        begun = time.perf_counter()
        try:
            return await scrape_module(module, session, limits, memory)
        except SnmpError as exc:
            result.errors.append((module.name, exc.kind, str(exc)))
            return []
        finally:
            result.durations[module.name] = time.perf_counter() - begun

    for families in await asyncio.gather(*(one(module) for module in modules)):
        result.families += families
    for family in result.families:
        for labels, _ in family.samples:
            _add_topology(target, labels)
    result.seconds = time.perf_counter() - started
    return result


def _add_topology(target: Target, labels: dict[str, str]) -> None:
    """Label interface and BGP peer rows with what the inventory says they connect to."""
    if labels.get("ifName") in target.interfaces:
        labels["role"], labels["neighbor"] = target.interfaces[labels["ifName"]]
    elif labels.get("peer") in target.peers:
        labels["neighbor"], labels["vrf"] = target.peers[labels["peer"]]


ERRORS_NAME = "egov_snmp_scrape_errors"
ERRORS_HELP = "Module reads that failed in this scrape, by kind."


def error_counts(result: Scrape) -> dict[str, float]:
    """Failed module reads of one scrape per error kind, in the order of `ERROR_KINDS`
    (only kinds that occurred: a healthy scrape has none)."""
    counts = dict.fromkeys(ERROR_KINDS, 0.0)
    for _module, kind, _message in result.errors:
        counts[kind] += 1
    return {kind: count for kind, count in counts.items() if count}


class ScrapeCollector(Collector):
    """Exposes one `Scrape`: the device's series with the target's inventory labels, and
    `egov_snmp_up` / `egov_snmp_scrape_duration_seconds` / `egov_snmp_scrape_errors{kind}`
    for this scrape. These per-target series exist here only, never in the exporter's own
    `/metrics`: Prometheus then holds one `egov_snmp_up` per device, with the inventory
    labels that alert routing matches on.

    `/snmp` answers with `exporters.exposition.render_scrape`, which writes the same text
    several times faster; this collector is the prometheus-client form of it (for a
    registry of one's own) and the reference that writer is tested against."""

    def __init__(self, result: Scrape) -> None:
        self._result = result

    def collect(self) -> Iterator[Metric]:
        result = self._result
        base = result.target.labels
        up = GaugeMetricFamily(
            "egov_snmp_up",
            "1 if every requested module was read from the device, else 0.",
            labels=list(base),
        )
        up.add_metric(list(base.values()), 1.0 if result.up else 0.0)
        yield up
        duration = GaugeMetricFamily(
            "egov_snmp_scrape_duration_seconds",
            "Seconds this scrape took, per module.",
            labels=[*base, "module"],
        )
        for module, seconds in sorted(result.durations.items()):
            duration.add_metric([*base.values(), module], seconds)
        yield duration
        errors = GaugeMetricFamily(ERRORS_NAME, ERRORS_HELP, labels=[*base, "kind"])
        for kind, count in error_counts(result).items():
            errors.add_metric([*base.values(), kind], count)
        yield errors
        for family in result.families:
            names = sorted({key for labels, _ in family.samples for key in labels})
            metric: GaugeMetricFamily | CounterMetricFamily
            if family.kind == "counter":
                metric = CounterMetricFamily(family.name, family.help, labels=[*base, *names])
            else:
                metric = GaugeMetricFamily(family.name, family.help, labels=[*base, *names])
            for labels, value in family.samples:
                metric.add_metric([*base.values(), *(labels.get(n, "") for n in names)], value)
            yield metric
