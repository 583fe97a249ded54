"""The inventory's YAML reader builds exactly what PyYAML's constructor builds.

`egovnet.yamlio` builds documents straight from the composed nodes (`_Builder`) and leaves
anything outside an inventory's plain YAML to PyYAML's own constructor. These tests hold the
result, the lines it remembers and the problems it reports to that constructor's, on the
sample inventory, a generated national-size one and YAML written to hit every corner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from egovnet import yamlio
from egovnet.errors import ProblemList
from egovnet.generate import generate_inventory, write_inventory

ROOT = Path(__file__).resolve().parents[2]

CORNERS = {
    "scalars": "a: 1\nb: 0x1f\nc: 1_000\nd: 1:30\ne: 1.5e3\nf: .inf\ng: ~\nh: null\n"
    "i: yes\nj: Off\nk: TRUE\nl: '007'\nm: 2026-12-02\nn: 2026-12-02 10:00:00\n"
    "o: !!binary aGVsbG8=\np: !!str 12\nq: !!int '12'\nr: -0o17\ns: 0b101\n",
    "nesting": "hosts:\n  - name: a\n    tags: [x, y]\n    more: {k: v, n: [1, {z: 2}]}\n"
    "  - []\n  - {}\n  -\n",
    "aliases": "base: &b {x: 1, y: [1, 2]}\none: *b\ntwo: *b\nlist: &l [a, b]\nagain: *l\n",
    "merge": "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n",
    "merge list": "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n",
    "set": "s: !!set {a, b}\n",
    "omap": "o: !!omap [a: 1, b: 2]\n",
    "pairs": "p: !!pairs [a: 1, a: 2]\n",
    "non-string keys": "1: one\ntrue: yes\n~: none\n[a, b]: seq\n{k: v}: map\n2.5: f\n",
    "duplicate host": "a:\n  tier: county\nb: {}\na:\n  tier: city\n",
    "duplicate nested": "a:\n  x: 1\n  y: 2\n  x: 3\n",
    "duplicate after coercion": "1: a\n'1': b\n",
    "recursive": "a: &a [*a]\n",
    "unknown tag": "a: !thing 1\n",
    "bad timestamp": "a: !!timestamp not-a-time\n",
    "bad int": "a: !!int twelve\n",
    "bad bool": "a: !!bool maybe\n",
    "tagged map as str": "a: !!str {x: 1}\n",
    "value key": "a:\n  =: 1\n",
    "syntax error": "a: [1, 2\nb: 3\n",
    "empty": "",
    "comment only": "# nothing\n",
    "scalar document": "just text\n",
    "sequence document": "- 1\n- two\n",
    "unicode": "名称: 石家庄\nregion: 河北\n",
}


@contextmanager
def pyyaml_constructor() -> Iterator[None]:
    """`_LineLoader` with PyYAML's own document construction (the path before `_Builder`)."""

    def construct(loader: Any, node: yaml.Node) -> Any:
        loader.root = node
        return yaml.constructor.BaseConstructor.construct_document(loader, node)

    fast = yamlio._LineLoader.construct_document
    yamlio._LineLoader.construct_document = construct  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        yamlio._LineLoader.construct_document = fast  # type: ignore[method-assign]


def shape(value: Any) -> Any:
    """Everything a document holds, lines of every mapping and types of every value."""
    if isinstance(value, yamlio.LineDict):
        items = [(key, shape(inner)) for key, inner in value.items()]
        return ("LineDict", value.line, dict(value.lines), items)
    if isinstance(value, dict):
        return ("dict", [(shape(k), shape(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple, set)):
        inner = sorted(map(repr, value)) if isinstance(value, set) else [shape(v) for v in value]
        return (type(value).__name__, inner)
    return (type(value).__name__, repr(value))


def outcome(text: str, file: str) -> Any:
    """What parsing `text` gives: the document's shape and the problems, or the exception
    (PyYAML lets a few bad scalars, `!!int twelve`, out as plain Python errors)."""
    problems = ProblemList()
    try:
        document = yamlio.parse_yaml_text(text, file, problems)
    except Exception as exc:  # noqa: BLE001 - the same exception either way is the point
        return ("raised", type(exc).__name__, str(exc))
    return shape(document), problems.problems


def both(text: str, file: str = "x.yaml") -> tuple[Any, Any]:
    fast = outcome(text, file)
    with pyyaml_constructor():
        slow = outcome(text, file)
    return fast, slow


@pytest.mark.parametrize("name", sorted(CORNERS))
def test_corner_is_built_as_pyyaml_builds_it(name: str) -> None:
    fast, slow = both(CORNERS[name])
    assert fast == slow


def test_duplicate_host_is_still_reported_with_both_lines() -> None:
    (_, problems), _ = both(CORNERS["duplicate host"], "inventory/hosts.yaml")
    assert [(p.line, p.message) for p in problems] == [
        (4, "duplicate host name: 'a' is defined again here (first on line 1)")
    ]


def test_aliases_stay_one_object() -> None:
    document = yamlio.parse_yaml_text(CORNERS["aliases"], "x.yaml", ProblemList())
    assert document["one"] is document["two"]
    assert document["list"] is document["again"]


def inventory_files(tmp_path: Path) -> list[Path]:
    generated = tmp_path / "generated"
    write_inventory(generate_inventory(3, 4, 3, 2), generated)
    return sorted([*(ROOT / "inventory").rglob("*.yaml"), *generated.rglob("*.yaml")])


def test_inventories_are_built_as_pyyaml_builds_them(tmp_path: Path) -> None:
    files = inventory_files(tmp_path)
    assert len(files) >= 8
    for path in files:
        fast, slow = both(path.read_text(encoding="utf-8"), str(path))
        assert fast == slow, path
