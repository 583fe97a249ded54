"""No platform name is written in code outside the registry.

A platform's facts live in `egovnet/platforms.py`; a part that writes `"huawei_vrp"` (a
comparison, a dict key, a tuple to test membership, an argument choosing a platform) keeps
a copy of them that nothing holds to the registry. This test reads the source of every part
(egovnet, nornir_tasks, isolation, exporters, topology, lab; not tests, templates or the
registry itself) and fails on any string constant that is exactly a platform name.

Exactly: `"frr"` is also FRR's Unix user and a path component (`/usr/lib/frr`,
`/etc/frr/frr.conf`); paths and f-strings are not a platform name and are not flagged. A
docstring may name platforms (its examples do). Every other occurrence needs an entry in
`ALLOWED` saying why it decides nothing about platforms.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from egovnet.platforms import platform_names

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("egovnet", "nornir_tasks", "isolation", "exporters", "topology", "lab")
REGISTRY = ROOT / "egovnet" / "platforms.py"

ALLOWED: dict[tuple[str, str], str] = {
    ("lab/runner.py", "frr"): "the Unix user and group FRR's daemons run as (Debian's frr "
    "package), in `install -o frr -g frr` and the daemons' `-u frr -g frr`",
    ("egovnet/configs/frr.py", "frr"): "the parser labels what it read with its platform; "
    "test_platforms holds the label to the name the registry gives the parser",
    ("egovnet/configs/ios.py", "cisco_ios"): "as for configs/frr.py",
    ("egovnet/configs/vrp.py", "huawei_vrp"): "as for configs/frr.py (the VRP dialect's label)",
    (
        "egovnet/configs/vrp.py",
        "h3c_comware",
    ): "as for frr.py (the Comware dialect's label)",
}
"""(file, literal) -> why it is not a platform decision."""


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (module, class, function) or the
    bare string after an assignment that documents it."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for statement in body:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                found.add(id(statement.value))
    return found


def f_string_parts(tree: ast.AST) -> set[int]:
    """ids of the literal pieces of f-strings: part of a longer string, never a name alone."""
    return {
        id(value)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for value in node.values
        if isinstance(value, ast.Constant)
    }


def platform_literals(path: Path) -> list[tuple[int, str]]:
    """(line, literal) of every string constant in `path` that is exactly a platform name."""
    names = set(platform_names())
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = docstrings(tree) | f_string_parts(tree)
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in names
        and id(node) not in skip
    )


@cache
def scan() -> tuple[tuple[str, int, str], ...]:
    """(file, line, literal) over every part's source (the registry and templates left out)."""
    paths = sorted(
        path
        for part in PARTS
        for path in (ROOT / part).rglob("*.py")
        if path != REGISTRY and "templates" not in path.parts
    )
    return tuple(
        (path.relative_to(ROOT).as_posix(), line, literal)
        for path in paths
        for line, literal in platform_literals(path)
    )


def test_no_platform_name_decides_behaviour_outside_the_registry() -> None:
    found = [
        f"{file}:{line}: {literal!r}"
        for file, line, literal in scan()
        if (file, literal) not in ALLOWED
    ]
    assert found == [], "platform names outside egovnet/platforms.py:\n" + "\n".join(found)


def test_every_allowed_literal_is_still_there() -> None:
    """An allowance whose literal is gone is removed, so the list only ever shrinks."""
    present = {(file, literal) for file, _line, literal in scan()}
    assert set(ALLOWED) - present == set()


def test_the_scan_sees_a_platform_decision(tmp_path: Path) -> None:
    """The scan flags what it is for: comparisons, keys, members, arguments; not paths,
    not docstrings."""
    sample = tmp_path / "part.py"
    sample.write_text(
        '"""frr"""\n'
        'A = {"frr": 1}\n'
        'B = x == "cisco_ios"\n'
        'C = y in ("huawei_vrp", "h3c_comware")\n'
        'D = render(network, "frr")\n'
        'E = "/usr/lib/frr"\n'
        'F = f"{n}frr"\n',
        encoding="utf-8",
    )
    assert platform_literals(sample) == [
        (2, "frr"),
        (3, "cisco_ios"),
        (4, "h3c_comware"),
        (4, "huawei_vrp"),
        (5, "frr"),
    ]
