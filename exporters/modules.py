"""Exporter modules: what to ask a device over SNMP, and how answers become `egov_` series.

A module is data, one YAML file per module in `exporters/modules/` (or a directory given to
the exporter): scalars (one GET each scrape) and tables (columns walked with GETBULK, rows
keyed by their index). Adding a vendor MIB is a new file, not new code, in the way scrapli
keeps platform differences as data. Every file is validated when the exporter starts: a
malformed module stops it at once with the file and the field named, rather than turning
into missing series hours later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from egovnet.errors import EgovnetError

MODULE_DIR = Path(__file__).resolve().parent / "modules"
OID_PATTERN = r"^1(\.(0|[1-9][0-9]*)){2,127}$"
METRIC_NAME = r"^egov_[a-z][a-z0-9_]*$"
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
RESERVED_LABELS = frozenset(
    {"host", "tier", "province", "city", "county", "module", "role", "neighbor", "vrf"}
)
"""Labels the exporter sets itself; a module may not define them."""

Oid = Annotated[str, Field(pattern=OID_PATTERN)]


class ModuleError(EgovnetError, ValueError):
    """A module file is malformed; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scalar(_Strict):
    """One object read with GET (its OID ends in `.0`).

    `info` turns a text value into the label `label` of a series whose value is 1.
    """

    name: Annotated[str, Field(pattern=METRIC_NAME)]
    oid: Oid
    type: Literal["gauge", "counter", "info"]
    help: Annotated[str, Field(min_length=1)]
    scale: float = 1.0
    label: Annotated[str, Field(pattern=LABEL_NAME)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Scalar:
        _check_counter_name(self.name, self.type)
        if (self.type == "info") != (self.label is not None):
            raise ValueError("`label` is required for type info and only allowed there")
        if self.label in RESERVED_LABELS:
            raise ValueError(f"label '{self.label}' is set by the exporter itself")
        return self


class IndexPart(_Strict):
    """One component of a table's index: an integer (one sub-identifier) or an IPv4 address
    (four), turned into a label of every series of the row."""

    label: Annotated[str, Field(pattern=LABEL_NAME)]
    type: Literal["integer", "ipv4"]

    @property
    def length(self) -> int:
        return 4 if self.type == "ipv4" else 1


class LabelColumn(_Strict):
    """A column whose value (text, address or OID) labels the row's series."""

    label: Annotated[str, Field(pattern=LABEL_NAME)]
    oid: Oid


class MetricColumn(_Strict):
    """A numeric column: one series per row. `multiply_by` names a column of the same row to
    multiply with (storage units); `scale` a constant factor (Mbit/s to bit/s)."""

    name: Annotated[str, Field(pattern=METRIC_NAME)]
    oid: Oid
    type: Literal["gauge", "counter"]
    help: Annotated[str, Field(min_length=1)]
    scale: float = 1.0
    multiply_by: Oid | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MetricColumn:
        _check_counter_name(self.name, self.type)
        return self


class Table(_Strict):
    """Columns sharing one index, walked together."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    index: Annotated[list[IndexPart], Field(min_length=1)]
    labels: list[LabelColumn] = Field(default_factory=list)
    metrics: Annotated[list[MetricColumn], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_labels(self) -> Table:
        names = [part.label for part in self.index] + [column.label for column in self.labels]
        reserved = RESERVED_LABELS.intersection(names)
        if reserved:
            raise ValueError(f"labels {sorted(reserved)} are set by the exporter itself")
        if len(set(names)) != len(names):
            raise ValueError(f"label names repeat: {names}")
        return self

    def columns(self) -> list[str]:
        """Every OID walked for this table: label columns, metrics and their multipliers."""
        oids = [column.oid for column in self.labels]
        for metric in self.metrics:
            oids.append(metric.oid)
            if metric.multiply_by:
                oids.append(metric.multiply_by)
        return list(dict.fromkeys(oids))


class Module(_Strict):
    """One module file."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    description: Annotated[str, Field(min_length=1)]
    scalars: list[Scalar] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Module:
        if not self.scalars and not self.tables:
            raise ValueError("a module needs at least one scalar or table")
        return self

    def metric_names(self) -> list[str]:
        return [s.name for s in self.scalars] + [
            m.name for table in self.tables for m in table.metrics
        ]


def _check_counter_name(name: str, kind: str) -> None:
    if (kind == "counter") != name.endswith("_total"):
        raise ValueError(f"'{name}': counters and only counters end in _total")


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_module(path: Path) -> Module:
    """Read and validate one module file (ModuleError naming file and field)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ModuleError(f"{path}: cannot read the module: {exc}") from exc
    if not isinstance(document, dict):
        raise ModuleError(f"{path}: a module is a mapping (name, description, scalars, tables)")
    try:
        module = Module.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ModuleError(f"{path}: {problems}") from exc
    if module.name != path.stem:
        raise ModuleError(f"{path}: name: '{module.name}' must match the file name '{path.stem}'")
    return module


def load_modules(directories: Iterable[Path] = (MODULE_DIR,)) -> dict[str, Module]:
    """Every `*.yaml` module of the directories, by name; a metric name may appear in one
    module only, so that one scrape of several modules never repeats a metric family.

    >>> sorted(load_modules())
    ['bgp', 'h3c', 'host_resources', 'huawei', 'if_mib', 'ospf', 'system']
    """
    modules: dict[str, Module] = {}
    owner: dict[str, Path] = {}
    for directory in directories:
        files = sorted(directory.glob("*.yaml"))
        if not files:
            raise ModuleError(f"{directory}: no module files (*.yaml) there")
        for path in files:
            module = load_module(path)
            if module.name in modules:
                raise ModuleError(f"{path}: name: module '{module.name}' is defined twice")
            for metric in module.metric_names():
                if metric in owner:
                    raise ModuleError(
                        f"{path}: metrics: '{metric}' is already defined in {owner[metric]}"
                    )
                owner[metric] = path
            modules[module.name] = module
    return modules


def parse_oid(text: str) -> tuple[int, ...]:
    """A dotted OID as a tuple of integers, the form compared while walking.

    >>> parse_oid("1.3.6.1.2.1.1.5.0")
    (1, 3, 6, 1, 2, 1, 1, 5, 0)
    """
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        raise ValueError(f"not a dotted OID: {text!r}")
    return tuple(int(part) for part in text.split("."))
