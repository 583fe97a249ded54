"""Score what `egovnet config parse --json` read of a config against its hand-checked facts.

The corpus (tests/corpus/<platform>/NAME.cfg) keeps beside every config a NAME.facts.yaml
written by a person reading the config line by line (docs: tests/corpus/README.md, the
format: the FACTS document of issue 13). This module turns both the expected document and
one parsed FILEDOC into the same flat list of facts and compares them, so a test or a
benchmark can say, per platform, how much of what matters for isolation was read right,
and, above all, whether anything was misread *silently*.

Counting (FACTS "Scoring"):

* right: the parse produced the fact, equal;
* reported: the fact is wrong or missing, but the parse said it did not understand the line
  (an `unparsed` or `unmodelled` entry on that line, or, when the line is not known, one
  whose text carries the fact's anchor: its address, name or prefix);
* silent: wrong or missing and nothing said so: the case that makes an audit lie;
* phantom: the parse produced a fact the config does not state.

A line listed in `expect_unmodelled` (a construct the model cannot represent) must be in the
parse's `unparsed` or `unmodelled` list; one that is not is counted as a silent miss too,
since an audit would then reason as if the construct were not there.

Everything here is a pure function of plain dicts, so the scorer itself is unit-tested on
small hand-made documents (tests/unit/test_corpus_score.py).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: keys a facts file may hold (FACTS: "the keys above from platform to nat"), plus the
#: corpus-only `expect_unmodelled`.
FACT_KEYS = (
    "platform",
    "platform_given",
    "hostname",
    "vrfs",
    "interfaces",
    "static_routes",
    "bgp",
    "filters",
    "nat",
)
EXTRA_KEYS = ("expect_unmodelled",)
PLATFORMS = ("frr", "huawei_vrp", "h3c_comware", "cisco_ios")
INTERFACE_KEYS = ("name", "vrf", "addresses", "shutdown", "filters")
ROUTE_KEYS = ("vrf", "prefix", "next_hop", "interface", "preference", "target_vrf")
NEIGHBOR_KEYS = ("address", "remote_as", "import", "export")
RULE_KEYS = (
    "action",
    "protocol",
    "source",
    "destination",
    "source_port",
    "destination_port",
    "established",
)
NAT_KEYS = ("kind", "interface", "acl", "pool")
NAT_KINDS = ("outbound", "inside_source", "static", "server", "policy", "masquerade")


class FactsError(ValueError):
    """A facts document that does not follow the FACTS format (names the file and field)."""


@dataclass(frozen=True)
class Fact:
    """One leaf of the facts: `key` says which thing it is, `value` what it should be.

    Facts whose identity is their whole value (a VRF name, an address, a static route, a
    rule's position aside, a NAT entry) are compared as a multiset; keyed facts (an
    interface's VRF, a neighbour by address) can be right, wrong or missing.
    """

    kind: str
    key: str
    value: Any
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mismatch:
    """A fact the parse got wrong, missed or invented, with the line that explains it."""

    verdict: str  # "wrong" | "missing" | "phantom" | "unreported-unmodelled"
    kind: str
    key: str
    expected: Any
    actual: Any
    reported: bool
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line is not None else ""
        how = "reported" if self.reported else "SILENT"
        return (
            f"{self.verdict} {how}{where}: {self.key}: "
            f"expected {self.expected!r}, got {self.actual!r}"
        )


@dataclass
class Score:
    """The counts of one comparison (or a sum of several: `Score.add`)."""

    facts: int = 0
    right: int = 0
    reported: int = 0
    silent: int = 0
    phantom: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def share_right(self) -> float:
        """Facts read right over expected facts (1.0 for a document with none)."""
        return self.right / self.facts if self.facts else 1.0

    def add(self, other: Score) -> None:
        """Fold another file's score into this one (per-platform totals)."""
        self.facts += other.facts
        self.right += other.right
        self.reported += other.reported
        self.silent += other.silent
        self.phantom += other.phantom
        self.mismatches.extend(other.mismatches)


# ----------------------------------------------------------------------------- loading


def load_expected(path: Path | str) -> dict[str, Any]:
    """Read and schema-check one NAME.facts.yaml; errors name the file and the field."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FactsError(f"{path}: {exc}") from exc
    if not isinstance(document, dict):
        raise FactsError(f"{path}: a facts file is a mapping, got {type(document).__name__}")
    problems = schema_problems(document)
    if problems:
        raise FactsError(f"{path}: " + "; ".join(problems))
    return document


def schema_problems(document: Mapping[str, Any]) -> list[str]:
    """Every way `document` departs from the FACTS format of an expected-facts file."""
    problems: list[str] = []
    allowed = set(FACT_KEYS) | set(EXTRA_KEYS)
    problems += [f"unknown key {key!r}" for key in document if key not in allowed]
    problems += [f"missing key {key!r}" for key in FACT_KEYS if key not in document]
    if document.get("platform") not in PLATFORMS:
        problems.append(f"platform: {document.get('platform')!r} is not one of {PLATFORMS}")
    if document.get("hostname") is not None and not isinstance(document["hostname"], str):
        problems.append("hostname: a string or null")
    vrfs = document.get("vrfs")
    if not isinstance(vrfs, list) or not all(isinstance(v, str) for v in vrfs):
        problems.append("vrfs: a list of names")
    elif vrfs != sorted(vrfs):
        problems.append("vrfs: sorted")
    problems += _list_problems(document, "interfaces", INTERFACE_KEYS, _interface_problems)
    problems += _list_problems(document, "static_routes", ROUTE_KEYS, _route_problems)
    problems += _bgp_problems(document.get("bgp"))
    problems += _filter_problems(document.get("filters"))
    problems += _list_problems(document, "nat", NAT_KEYS, _nat_problems)
    lines = document.get("expect_unmodelled", [])
    if not isinstance(lines, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in lines
    ):
        problems.append("expect_unmodelled: a list of line numbers")
    return problems


def _list_problems(
    document: Mapping[str, Any],
    name: str,
    keys: Sequence[str],
    more: Any,
) -> list[str]:
    items = document.get(name)
    if not isinstance(items, list):
        return [f"{name}: a list"]
    problems: list[str] = []
    for index, item in enumerate(items):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: a mapping")
            continue
        if set(item) != set(keys):
            problems.append(f"{where}: keys {sorted(item)} are not {sorted(keys)}")
            continue
        problems += [f"{where}.{p}" for p in more(item)]
    return problems


def _is_prefix(text: Any) -> bool:
    try:
        ipaddress.ip_network(str(text), strict=True)
    except ValueError:
        return False
    return "/" in str(text)


def _is_interface_address(text: Any) -> bool:
    try:
        ipaddress.IPv4Interface(str(text))
    except ValueError:
        return False
    return "/" in str(text)


def _interface_problems(item: Mapping[str, Any]) -> list[str]:
    problems = []
    if not isinstance(item["name"], str):
        problems.append("name: a string")
    if not isinstance(item["vrf"], str):
        problems.append("vrf: a string ('global' for the public instance)")
    addresses = item["addresses"]
    if not isinstance(addresses, list) or not all(_is_interface_address(a) for a in addresses):
        problems.append(f"addresses: IPv4 interface forms, got {addresses!r}")
    if not isinstance(item["shutdown"], bool):
        problems.append("shutdown: true or false")
    filters = item["filters"]
    if not isinstance(filters, dict) or set(filters) != {"in", "out"}:
        problems.append("filters: {in, out}")
    elif not all(v is None or isinstance(v, str) for v in filters.values()):
        problems.append("filters: names as strings or null")
    return problems


def _route_problems(item: Mapping[str, Any]) -> list[str]:
    problems = []
    if not isinstance(item["vrf"], str):
        problems.append("vrf: a string")
    if not _is_prefix(item["prefix"]):
        problems.append(f"prefix: {item['prefix']!r} is not a network prefix")
    if item["next_hop"] is not None:
        try:
            ipaddress.IPv4Address(str(item["next_hop"]))
        except ValueError:
            problems.append(f"next_hop: {item['next_hop']!r} is not an IPv4 address")
    if item["interface"] is not None and not isinstance(item["interface"], str):
        problems.append("interface: a string or null")
    preference = item["preference"]
    if preference is not None and (isinstance(preference, bool) or not isinstance(preference, int)):
        problems.append("preference: an integer or null")
    if item["target_vrf"] is not None and not isinstance(item["target_vrf"], str):
        problems.append("target_vrf: a string or null")
    return problems


def _bgp_problems(bgp: Any) -> list[str]:
    if bgp is None:
        return []
    if not isinstance(bgp, dict) or set(bgp) != {"asn", "instances"}:
        return ["bgp: null or {asn, instances}"]
    problems = []
    if isinstance(bgp["asn"], bool) or not isinstance(bgp["asn"], int):
        problems.append("bgp.asn: an asplain integer")
    if not isinstance(bgp["instances"], list):
        return [*problems, "bgp.instances: a list"]
    for index, instance in enumerate(bgp["instances"]):
        where = f"bgp.instances[{index}]"
        if not isinstance(instance, dict) or set(instance) != {"vrf", "networks", "neighbors"}:
            problems.append(f"{where}: {{vrf, networks, neighbors}}")
            continue
        if not all(_is_prefix(n) for n in instance["networks"]):
            problems.append(f"{where}.networks: prefixes")
        for n_index, neighbor in enumerate(instance["neighbors"]):
            if not isinstance(neighbor, dict) or set(neighbor) != set(NEIGHBOR_KEYS):
                problems.append(f"{where}.neighbors[{n_index}]: keys {list(NEIGHBOR_KEYS)}")
            elif isinstance(neighbor["remote_as"], bool) or not isinstance(
                neighbor["remote_as"], int | None
            ):
                problems.append(f"{where}.neighbors[{n_index}].remote_as: an integer")
    return problems


def _filter_problems(filters: Any) -> list[str]:
    if not isinstance(filters, list):
        return ["filters: a list"]
    problems = []
    for index, acl in enumerate(filters):
        where = f"filters[{index}]"
        if not isinstance(acl, dict) or set(acl) != {"name", "rules"}:
            problems.append(f"{where}: {{name, rules}}")
            continue
        if not isinstance(acl["name"], str):
            problems.append(f'{where}.name: a string (quote numbers: "3000")')
        for r_index, rule in enumerate(acl["rules"]):
            if not isinstance(rule, dict) or set(rule) != set(RULE_KEYS):
                problems.append(f"{where}.rules[{r_index}]: keys {list(RULE_KEYS)}")
            elif rule["action"] not in ("permit", "deny"):
                problems.append(f"{where}.rules[{r_index}].action: permit or deny")
            elif not isinstance(rule["established"], bool):
                problems.append(f"{where}.rules[{r_index}].established: true or false")
    return problems


def _nat_problems(item: Mapping[str, Any]) -> list[str]:
    if item["kind"] not in NAT_KINDS:
        return [f"kind: {item['kind']!r} is not one of {NAT_KINDS}"]
    return []


# ----------------------------------------------------------------------------- facts


def _norm_address(text: Any) -> Any:
    """One spelling for equal addresses/prefixes ('10.1.1.1/24'), anything else as is."""
    if not isinstance(text, str) or "/" not in text:
        return text
    try:
        return str(ipaddress.ip_interface(text))
    except ValueError:
        return text


def _norm_mapping(item: Mapping[str, Any], keys: Sequence[str]) -> tuple[tuple[str, Any], ...]:
    return tuple((key, _norm_address(item.get(key))) for key in keys)


def _host(text: Any) -> str | None:
    """The address part of a prefix or 'A.B.C.D W.X.Y.Z' form, the anchor of a fact."""
    if not isinstance(text, str) or text == "any":
        return None
    return text.split("/")[0].split()[0]


def facts_of(document: Mapping[str, Any]) -> list[Fact]:
    """The flat list of facts of an expected facts file or of one parsed FILEDOC."""
    facts = [
        Fact("platform", "platform", document.get("platform")),
        Fact("hostname", "hostname", document.get("hostname"), _anchors(document.get("hostname"))),
    ]
    facts += [Fact("vrf", f"vrf {name}", name, (name,)) for name in document.get("vrfs") or []]
    for interface in document.get("interfaces") or []:
        name = interface.get("name")
        facts.append(
            Fact(
                "interface.vrf",
                f"interface {name} vrf",
                interface.get("vrf"),
                _anchors(name, interface.get("vrf")),
            )
        )
        for address in interface.get("addresses") or []:
            value = _norm_address(address)
            facts.append(
                Fact(
                    "interface.address",
                    f"interface {name} address {value}",
                    value,
                    _anchors(_host(address), name),
                )
            )
        facts.append(
            Fact(
                "interface.shutdown",
                f"interface {name} shutdown",
                interface.get("shutdown"),
                _anchors(name, "shutdown"),
            )
        )
        filters = interface.get("filters") or {}
        for direction in ("in", "out"):
            value = filters.get(direction)
            facts.append(
                Fact(
                    f"interface.filters.{direction}",
                    f"interface {name} filter {direction}",
                    value,
                    _anchors(name, value),
                )
            )
    for route in document.get("static_routes") or []:
        value = _norm_mapping(route, ROUTE_KEYS)
        facts.append(
            Fact(
                "static_route",
                f"static route {dict(value)}",
                value,
                _anchors(_host(route.get("prefix")), route.get("next_hop")),
            )
        )
    bgp = document.get("bgp")
    if bgp:
        facts.append(Fact("bgp.asn", "bgp asn", bgp.get("asn"), ("bgp",)))
        for instance in bgp.get("instances") or []:
            vrf = instance.get("vrf")
            for network in instance.get("networks") or []:
                value = _norm_address(network)
                facts.append(
                    Fact(
                        "bgp.network", f"bgp {vrf} network {value}", value, _anchors(_host(network))
                    )
                )
            for neighbor in instance.get("neighbors") or []:
                address = neighbor.get("address")
                facts.append(
                    Fact(
                        "bgp.neighbor",
                        f"bgp {vrf} neighbor {address}",
                        _norm_mapping(neighbor, NEIGHBOR_KEYS),
                        _anchors(address),
                    )
                )
    for acl in document.get("filters") or []:
        name = acl.get("name")
        for index, rule in enumerate(acl.get("rules") or []):
            facts.append(
                Fact(
                    "filter.rule",
                    f"filter {name} rule #{index + 1}",
                    _norm_mapping(_rule_shape(rule), RULE_KEYS),
                    _anchors(_host(rule.get("source")), _host(rule.get("destination"))),
                )
            )
    for entry in document.get("nat") or []:
        facts.append(
            Fact(
                "nat",
                f"nat {dict(_norm_mapping(entry, NAT_KEYS))}",
                _norm_mapping(entry, NAT_KEYS),
                _anchors(entry.get("acl"), entry.get("pool"), entry.get("interface")),
            )
        )
    return facts


def _rule_shape(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule with its protocol as text: FACTS writes `50` or `"50"` alike for ESP."""
    shaped = dict(rule)
    if shaped.get("protocol") is not None:
        shaped["protocol"] = str(shaped["protocol"])
    return shaped


def _anchors(*texts: Any) -> tuple[str, ...]:
    return tuple(str(t) for t in texts if t not in (None, ""))


# ----------------------------------------------------------------------------- scoring

#: facts compared by identity of their whole value; the rest are keyed (right/wrong/missing)
_MULTISET_KINDS = frozenset({"vrf", "interface.address", "static_route", "bgp.network", "nat"})


def _reported_line(fact: Fact, actual: Mapping[str, Any]) -> int | None:
    """The unparsed/unmodelled line of `actual` that owns up to this fact, if any."""
    for entry in [*(actual.get("unparsed") or []), *(actual.get("unmodelled") or [])]:
        text = str(entry.get("text", ""))
        for anchor in fact.anchors:
            if re.search(rf"(?<![\w.:/-]){re.escape(anchor)}(?![\w.:/-])", text):
                line = entry.get("line")
                return line if isinstance(line, int) else 0
    return None


def _reported_lines(actual: Mapping[str, Any]) -> set[int]:
    lines: set[int] = set()
    for entry in [*(actual.get("unparsed") or []), *(actual.get("unmodelled") or [])]:
        if isinstance(entry.get("line"), int):
            lines.add(entry["line"])
    return lines


def score(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> Score:
    """Compare one expected facts document with one parsed FILEDOC (FACTS "Scoring")."""
    want = facts_of(expected)
    got = facts_of(actual)
    result = Score(facts=len(want))

    def miss(fact: Fact, verdict: str, got_value: Any) -> None:
        line = _reported_line(fact, actual)
        reported = line is not None
        if reported:
            result.reported += 1
        else:
            result.silent += 1
        result.mismatches.append(
            Mismatch(verdict, fact.kind, fact.key, fact.value, got_value, reported, line or None)
        )

    got_keyed = {f.key: f for f in got if f.kind not in _MULTISET_KINDS}
    got_multi = Counter((f.kind, _freeze(f.value)) for f in got if f.kind in _MULTISET_KINDS)
    matched_keys: set[str] = set()
    for fact in want:
        if fact.kind in _MULTISET_KINDS:
            token = (fact.kind, _freeze(fact.value))
            if got_multi[token] > 0:
                got_multi[token] -= 1
                result.right += 1
            else:
                miss(fact, "missing", None)
            continue
        other = got_keyed.get(fact.key)
        if other is None:
            miss(fact, "missing", None)
            continue
        matched_keys.add(fact.key)
        if _freeze(other.value) == _freeze(fact.value):
            result.right += 1
        else:
            miss(fact, "wrong", other.value)
    for fact in got:
        extra = False
        if fact.kind in _MULTISET_KINDS:
            token = (fact.kind, _freeze(fact.value))
            if got_multi[token] > 0:
                got_multi[token] -= 1
                extra = True
        elif fact.key not in matched_keys:
            extra = True
        if extra:
            result.phantom += 1
            result.mismatches.append(
                Mismatch("phantom", fact.kind, fact.key, None, fact.value, reported=False)
            )
    reported = _reported_lines(actual)
    for line in expected.get("expect_unmodelled") or []:
        result.facts += 1
        if line in reported:
            result.right += 1
        else:
            result.silent += 1
            result.mismatches.append(
                Mismatch(
                    "unreported-unmodelled",
                    "unmodelled",
                    f"line {line}",
                    "reported unparsed or unmodelled",
                    None,
                    reported=False,
                    line=line,
                )
            )
    return result


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


# ----------------------------------------------------------------------------- corpus

CORPUS = Path(__file__).resolve().parent / "corpus"


@dataclass(frozen=True)
class CorpusFile:
    """One config of the corpus and the files kept beside it."""

    config: Path
    platform: str

    @property
    def facts(self) -> Path:
        return self.config.with_name(self.config.stem + ".facts.yaml")

    @property
    def source(self) -> Path:
        return self.config.with_name(self.config.stem + ".source.md")


def corpus_files(root: Path = CORPUS) -> list[CorpusFile]:
    """Every NAME.cfg under tests/corpus/<platform>/, sorted."""
    return [
        CorpusFile(config, config.parent.name)
        for config in sorted(root.glob("*/*.cfg"))
        if config.parent.name in PLATFORMS
    ]


def totals(scores: Iterable[tuple[str, Score]]) -> dict[str, Score]:
    """Per-platform sums of (platform, score) pairs."""
    summed: dict[str, Score] = {}
    for platform, one in scores:
        summed.setdefault(platform, Score()).add(one)
    return summed
