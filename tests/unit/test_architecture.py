"""The import contract of docs/architecture.md, read from the source (AST, no import).

- the core (`egovnet/` but its CLI and its wiring) imports none of the parts;
- each part imports the core and no other part (so the lab does not import the topology);
- nothing imports the CLI but the console script (and the tests that drive its app).
The wiring (`egovnet.wiring`), the one place that joins parts, is outside the core: it may
import every part, and only the CLI, the tests and the benchmarks import it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("isolation", "nornir_tasks", "exporters", "lab", "topology", "compliance", "playbooks")
CLI, WIRING = "egovnet.cli", "egovnet.wiring"
CONSOLE_SCRIPT = "egovnet.cli.app"


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line} imports {self.module}"


def _module_of(file: Path) -> str:
    parts = list(file.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(file: Path) -> Iterator[Import]:
    """Every module `file` imports, anywhere in it (functions and TYPE_CHECKING blocks too);
    `from a import b` yields both `a` and `a.b`, since `b` may be a module."""
    tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
    package = _module_of(file).split(".")
    if file.name != "__init__.py":
        package.pop()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(file, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield Import(file, node.lineno, base)
            for alias in node.names:
                yield Import(file, node.lineno, f"{base}.{alias.name}")


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def part_of(module: str) -> str | None:
    return next((part for part in PARTS if within(module, part)), None)


def core_files() -> list[Path]:
    return [
        p
        for p in sources("egovnet")
        if not within(_module_of(p), CLI) and not within(_module_of(p), WIRING)
    ]


def test_the_contract_sees_the_code_it_guards() -> None:
    """A scan that found no files would pass every rule: the layers must be there."""
    core = {_module_of(p) for p in core_files()}
    assert {"egovnet.model", "egovnet.workflows.enforce", "egovnet.workflows.ports"} <= core
    for part in ("isolation", "nornir_tasks", "exporters", "lab", "topology", "compliance"):
        assert sources(part), part
    found = {i.module for i in imports_in(ROOT / "egovnet" / "wiring" / "lab.py")}
    assert {"lab.runner", "isolation.access", "egovnet.model"} <= found


def test_the_core_imports_no_part_nor_the_cli_or_the_wiring() -> None:
    wrong = [
        str(i)
        for p in core_files()
        for i in imports_in(p)
        if part_of(i.module) or within(i.module, CLI) or within(i.module, WIRING)
    ]
    assert wrong == []


@pytest.mark.parametrize("part", PARTS)
def test_a_part_imports_the_core_and_no_other_part(part: str) -> None:
    wrong = [
        str(i)
        for p in sources(part)
        for i in imports_in(p)
        if part_of(i.module) not in {None, part}
        or within(i.module, CLI)
        or within(i.module, WIRING)
    ]
    assert wrong == []


def test_nothing_imports_the_cli_but_the_console_script() -> None:
    """The CLI's own modules import each other; the tests drive the console script's app;
    nothing else reaches into the CLI."""
    everything = sources("egovnet", *PARTS, "tests", "benchmarks")
    wrong = []
    for p in everything:
        here = _module_of(p)
        if within(here, CLI):
            continue
        for i in imports_in(p):
            if not within(i.module, CLI):
                continue
            if within(here, "tests") and within(i.module, CONSOLE_SCRIPT):
                continue
            wrong.append(str(i))
    assert wrong == []
