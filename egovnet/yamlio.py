"""Reading the inventory's YAML files with line numbers, strict UTF-8 and duplicate-key checks.

PyYAML silently keeps the last of two equal keys, which would hide a host defined twice in
`hosts.yaml`; and its plain dicts forget where each key was written. `load_yaml_file` keeps
PyYAML's C parser for speed (a national inventory has thousands of hosts) and swaps in a
constructor that builds `LineDict`s: ordinary dicts that also remember each key's line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from egovnet.errors import ProblemList

try:  # the C parser is ~10x faster; PyYAML wheels ship it, source builds may not
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class LineDict(dict[str, Any]):
    """A dict that remembers the 1-based line on which each of its keys was written."""

    __slots__ = ("line", "lines")

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}
        self.line: int = 0


class _DuplicateKeyError(Exception):
    def __init__(self, key: object, line: int, first_line: int, top_level: bool) -> None:
        super().__init__(key, line, first_line)
        self.key, self.line, self.first_line = key, line, first_line
        self.top_level = top_level


class _LineLoader(_BaseLoader):
    """SafeLoader whose mappings are `LineDict`s and which refuses duplicate keys."""

    root: yaml.Node | None = None
    _resolved: dict[tuple[str, bool, bool], str]

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> Any:
        # Keys and enumerations ('data', 'tier', 'private', 'frr') repeat thousands of times in
        # a national inventory; PyYAML's resolver runs its regexes on each one. Cache scalars.
        if kind is yaml.ScalarNode:
            key = (value, implicit[0], implicit[1])
            try:
                return self._resolved[key]
            except AttributeError:
                self._resolved = {}
            except KeyError:
                pass
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]  # stubs leave it untyped
            self._resolved[key] = tag
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]  # same

    def construct_document(self, node: yaml.Node) -> Any:
        self.root = node  # so a duplicate key can tell a duplicate host from a nested one
        try:
            return _Builder(self).build(node)
        except Exception:  # noqa: BLE001, S110 - whatever it is, PyYAML's own path decides
            pass  # (a merge key, a set, a recursive alias, a bad scalar, a duplicate key)
        return super().construct_document(node)


_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
_FLAT_KEYS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
"""Key tags `flatten_mapping` rewrites: a mapping with one is left to PyYAML."""
_SCALARS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("null", "bool", "int", "float", "binary", "timestamp", "str")
)
"""Scalar tags whose SafeConstructor function the builder calls as PyYAML would."""


class _FallbackError(Exception):
    """The document has something the builder leaves to PyYAML's constructor."""


class _Builder:
    """The documents of an inventory built straight from the composed nodes.

    PyYAML's constructor goes through a generator per mapping and sequence and several
    calls per scalar (`construct_object`, its caches, `flatten_mapping`): about a third of
    loading a national inventory. This builds the same objects in one recursive pass for
    the YAML an inventory is written in (mappings, sequences, the plain scalar types, each
    scalar by the very function PyYAML's SafeConstructor uses for its tag, aliases to the
    same object); anything else raises `_FallbackError` (or whatever went wrong) and the caller
    lets PyYAML's own constructor build the document from scratch, errors and all.
    `tests/unit/test_yamlio.py` holds it to PyYAML's path.
    """

    def __init__(self, loader: _LineLoader) -> None:
        self.loader = loader
        self.constructors = loader.yaml_constructors
        self.built: dict[int, Any] = {}
        self.building: set[int] = set()

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            tag = node.tag
            if tag == _STR:
                return node.value
            if tag not in _SCALARS:
                raise _FallbackError(tag)
            return self.constructors[tag](self.loader, node)
        key = id(node)
        if key in self.built:
            return self.built[key]
        if key in self.building:
            raise _FallbackError("recursive")
        self.building.add(key)
        result: Any
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            result = self._mapping(node)
        elif isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            result = [self.build(item) for item in node.value]
        else:
            raise _FallbackError(node.tag)
        self.building.discard(key)
        self.built[key] = result
        return result

    def _mapping(self, node: yaml.MappingNode) -> LineDict:
        """`_construct_mapping`, for a mapping without merge keys."""
        result = LineDict()
        result.line = node.start_mark.line + 1
        lines = result.lines
        for key_node, value_node in node.value:
            if key_node.tag in _FLAT_KEYS:
                raise _FallbackError(key_node.tag)
            key_text = str(self.build(key_node))
            if key_text in lines:
                raise _FallbackError("duplicate key")
            result[key_text] = self.build(value_node)
            lines[key_text] = key_node.start_mark.line + 1
        return result


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        key_text = str(key)
        if key_text in result.lines:
            raise _DuplicateKeyError(key_text, line, result.lines[key_text], node is loader.root)
        result[key_text] = loader.construct_object(value_node, deep=True)
        result.lines[key_text] = line
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml_text(text: str, file: str, problems: ProblemList) -> Any:
    """Parse YAML text; on failure record a problem naming the file and line, return None."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except _DuplicateKeyError as dup:
        if dup.top_level and file.endswith("hosts.yaml"):
            problems.add(
                file,
                "",
                f"duplicate host name: '{dup.key}' is defined again here "
                f"(first on line {dup.first_line})",
                host=str(dup.key),
                line=dup.line,
            )
        else:
            problems.add(
                file,
                str(dup.key),
                f"duplicate key '{dup.key}' (first written on line {dup.first_line})",
                line=dup.line,
            )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = exc.problem or exc.context or "invalid YAML"
        problems.add(file, "", f"YAML syntax error: {reason}", line=line)
    except yaml.YAMLError as exc:
        problems.add(file, "", f"YAML syntax error: {exc}")
    return None


def load_yaml_file(path: Path, problems: ProblemList, *, required: bool = True) -> Any:
    """Read one inventory file: strict UTF-8, YAML, duplicate keys refused.

    Returns the parsed document, or None after recording why it could not be read.
    An empty file is a problem when `required`, since an empty `hosts.yaml` is almost
    always a mistake (a failed checkout, a truncated copy), never an intended network.
    """
    if not path.exists():
        if required:
            problems.add(path, "", "file is missing")
        return None
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.add(
            path,
            "",
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8 (region names are Chinese text)",
            line=line,
        )
        return None
    before = len(problems.problems)
    document = parse_yaml_text(text, str(path), problems)
    if document is None and len(problems.problems) == before and required:
        problems.add(path, "", "file is empty (no YAML document in it)")
    return document


def line_of(document: Any, path: tuple[str | int, ...]) -> int | None:
    """The line of the deepest key along `path` in a document built by this module.

    >>> doc = parse_yaml_text("a:\\n  b:\\n    c: 1\\n", "x", ProblemList())
    >>> line_of(doc, ("a", "b", "c")), line_of(doc, ("a", "zz"))
    (3, 1)
    """
    best: int | None = None
    node: Any = document
    for step in path:
        if isinstance(node, LineDict) and isinstance(step, str) and step in node:
            best = node.lines.get(step, best)
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            inner = node[step]
            if isinstance(inner, LineDict):
                best = inner.line
            node = inner
        else:
            break
    return best
