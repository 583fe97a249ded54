"""The compliance check: every selected host against every rule of its protection level.

`check_hosts(network, evidence)` reads only the evidence it is given (intended, running or
live: `compliance.evidence`) and the model's derived facts (level, topology, services); it
does no I/O. Each host and rule gets one `RuleResult`:

- `pass`: every check held; the evidence lines that prove it are attached;
- `fail`: a check did not hold; the offending lines (or the section that lacks a line) and
  the platform's remediation are attached;
- `not_applicable`: the rule is not for the host's level, or the platform cannot express it
  (`not_checkable`, its reason in the message);
- `accepted_exception`: it failed, but the inventory explicitly allows it (SNMPv2c on a
  host of `services.snmp.v2c.hosts`);
- `unverified`: the evidence a check needs is absent, unreadable or of another platform
  than the host's. It never counts as passing: the report's exit code is 1 (fail closed).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from compliance.evidence import CONFIG, HostEvidence
from compliance.rules import (
    LIST_PLACEHOLDERS,
    PLACEHOLDER,
    Check,
    PlatformRule,
    Rule,
    RuleSet,
    Status,
    default_rules,
)
from egovnet import platforms
from egovnet.addressing import dotted_mask
from egovnet.configs.parse import detect
from egovnet.model import Network, Node

NODE_PLACEHOLDERS = frozenset({"mgmt_address"})
"""Placeholders whose value is the node's own: their expansions are not shared."""
PASSING: frozenset[str] = frozenset({"pass", "not_applicable", "accepted_exception"})
"""Statuses that do not make the check exit 1; `unverified` is not among them."""


@dataclass(frozen=True)
class EvidenceLine:
    """One line of evidence: which text, where it came from, its line number and text.

    >>> EvidenceLine("config", "running/zhengding.cfg", 12, "line vty")
    EvidenceLine(evidence='config', origin='running/zhengding.cfg', line=12, text='line vty')
    """

    evidence: str
    origin: str
    line: int | None
    text: str


@dataclass(frozen=True)
class RuleResult:
    """One host against one rule: status, why, the evidence lines, and the remediation
    lines for the host's platform (set on every applicable result, so a report can show
    what would repair a failure)."""

    host: str
    tier: str
    level: int
    platform: str
    rule: str
    family: str
    clause: str
    title: str
    status: Status
    message: str
    evidence: tuple[EvidenceLine, ...] = ()
    remediation: tuple[str, ...] = ()

    @property
    def passing(self) -> bool:
        """Whether this result lets the check exit 0."""
        return self.status in PASSING


@dataclass(frozen=True)
class ComplianceReport:
    """Every host's result for every rule, in host then rule order."""

    source: str
    hosts: tuple[str, ...]
    results: tuple[RuleResult, ...]
    families: Mapping[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 when every result passes (or is not applicable / accepted), else 1."""
        return 0 if all(r.passing for r in self.results) else 1

    def failing(self) -> list[RuleResult]:
        """The results that make the check fail: `fail` and `unverified`."""
        return [r for r in self.results if not r.passing]

    def hosts_to_repair(self) -> list[str]:
        """Hosts with a failing or unverified rule, in inventory order: what `compliance
        enforce` rolls the intended state out to."""
        return list(dict.fromkeys(r.host for r in self.results if not r.passing))

    def counts(self) -> dict[str, int]:
        """How many results of each status."""
        return dict(Counter(r.status for r in self.results))

    def as_dict(self) -> dict[str, Any]:
        """The report as `--json` prints it: the dataclasses as they are, plus totals."""
        return {
            "source": self.source,
            "ok": self.exit_code == 0,
            "hosts": list(self.hosts),
            "counts": self.counts(),
            "hosts_to_repair": self.hosts_to_repair(),
            "families": dict(self.families),
            "results": [asdict(r) for r in self.results],
        }


# ----- reading texts ------------------------------------------------------------------


class _Text:
    """An evidence text with its line starts, for line numbers and sections."""

    __slots__ = ("_sections", "evidence", "starts", "text")

    def __init__(self, evidence: str, text: str) -> None:
        self.evidence = evidence
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._sections: dict[str, list[tuple[int, int, int]]] = {}

    def line_at(self, offset: int) -> int:
        """1-based line number of `offset`."""
        return bisect_right(self.starts, offset)

    def line_text(self, number: int) -> str:
        start = self.starts[number - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)]

    def sections(self, header: str) -> list[tuple[int, int, int]]:
        """(header line, body start offset, body end offset) of every section whose header
        line matches `header`: the body is the following lines indented deeper (blank
        lines inside it included)."""
        found = self._sections.get(header)
        if found is not None:
            return found
        found = []
        text = self.text
        for match in matches(_compiled(header), _literal(header), text, 0, len(text)):
            number = self.line_at(match.start())
            head_start = self.starts[number - 1]
            head_end = text.find("\n", head_start)
            if head_end < 0:
                found.append((number, len(text), len(text)))
                continue
            head = text[head_start:head_end]
            indent = len(head) - len(head.lstrip())
            body = _body(indent).match(text, head_end)
            found.append((number, head_end + 1, body.end() if body else head_end))
        self._sections[header] = found
        return found


@lru_cache(maxsize=64)
def _body(indent: int) -> re.Pattern[str]:
    """The lines after a header indented deeper than `indent` (or blank), from its `\n`."""
    deeper = indent + 1
    return re.compile(rf"(?:\n(?:[ \t]{{{deeper},}}\S[^\n]*|[ \t]*(?=\n|\Z)))*")


def matches(
    regex: re.Pattern[str], literal: str | None, text: str, start: int, end: int
) -> Iterator[re.Match[str]]:
    """`regex.finditer(text, start, end)` for a `^`-anchored pattern, run only at the
    starts of lines holding `literal` (found with `str.find`, C speed) when there is one:
    Python's `re` would try the anchor at every character. A match is reported at the line
    of its literal (never at a blank line `\\s*` crossed before it)."""
    if literal is None:
        yield from regex.finditer(text, start, end)
        return
    tried = -1
    at = text.find(literal, start, end)
    while at >= 0:
        line = text.rfind("\n", 0, at) + 1
        if line > tried and line >= start:
            tried = line
            found = regex.match(text, line, end)
            if found is not None:
                yield found
        next_line = text.find("\n", at)
        if next_line < 0:
            return
        at = text.find(literal, next_line + 1, end)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


_LEAD = re.compile(r"^\^(?:\\s[*+])?")
_LITERAL = re.compile(r"[A-Za-z0-9_ :/\-]+")


@lru_cache(maxsize=4096)
def _literal(pattern: str) -> str | None:
    r"""Text every match of `pattern` contains, found with `in` before any regex runs.

    Python's `re` tries a `^`-anchored MULTILINE pattern at every character of the text;
    most checks look for lines a config does not have, so a substring test (C speed) that
    fails settles them. Only a pattern with no top-level `|` and no inline flag qualifies,
    and only the literal run right after `^` (and `\s*`), at least 4 characters.

    >>> _literal(r"^\s*local-user \S+ password (cipher|simple)\s")
    'local-user '
    >>> _literal(r"^(ftp|tftp) server") is None, _literal(r"(?i)^\s*maxauthtries") is None
    (True, True)
    """
    if pattern.startswith("(?") or not pattern.startswith("^"):
        return None
    depth = 0
    previous = ""
    for char in pattern:
        if previous != "\\":
            depth += {"(": 1, ")": -1}.get(char, 0)
            if char == "|" and depth == 0:
                return None
        previous = "" if previous == "\\" else char
    rest = pattern[_LEAD.match(pattern).end() :]  # type: ignore[union-attr]
    run = _LITERAL.match(rest)
    if run is None:
        return None
    text = run.group()
    # a quantifier after the run applies to its last character only
    if rest[len(text) : len(text) + 1] in ("*", "?", "{"):
        text = text[:-1]
    return text if len(text) >= 4 else None


# ----- facts a rule names ---------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """The inventory values rules name as `{{placeholder}}`, escaped for regexes."""

    values: Mapping[str, tuple[str, ...]]
    cache: dict[tuple[str, bool], list[str]] = field(default_factory=dict, compare=False)
    """Expansions already made: the network-wide ones are shared by every host."""

    @classmethod
    def of(cls, network: Network) -> _Facts:
        services = network.services
        ssh = services.ssh
        mgmt = network.management_subnet
        wildcard = str(mgmt.hostmask)
        admin = services.local_admin
        plain = {
            "syslog": [str(a) for a in services.syslog],
            "ntp": [str(a) for a in services.ntp],
            "aaa": [str(a) for a in services.aaa.servers],
            "snmp_user": [u.name for u in services.snmp.users],
            "idle_timeout": [str(ssh.idle_timeout_minutes)],
            "idle_seconds": [str(ssh.idle_timeout_minutes * 60)],
            "login_attempts": [str(ssh.login_attempts)],
            "lockout_minutes": [str(ssh.lockout_minutes)],
            "lockout_seconds": [str(ssh.lockout_minutes * 60)],
            "mgmt_network": [str(mgmt.network_address)],
            "mgmt_prefixlen": [str(mgmt.prefixlen)],
            "mgmt_mask": [dotted_mask(mgmt.prefixlen)],
            "mgmt_wildcard": [wildcard],
            "local_admin": [admin.name if admin else "egov-admin"],
        }
        return cls({k: tuple(v) for k, v in plain.items()})

    def of_node(self, node: Node) -> _Facts:
        """These facts plus the node's own (`mgmt_address`)."""
        return _Facts({**self.values, "mgmt_address": (str(node.management.ip),)}, self.cache)

    def expand(self, pattern: str, escape: bool = True) -> list[str]:
        """`pattern` once per value of its list placeholder (or once), values filled in."""
        known = self.cache.get((pattern, escape))
        if known is not None:
            return known
        names = PLACEHOLDER.findall(pattern)
        if not names:
            self.cache[pattern, escape] = [pattern]
            return [pattern]
        listed = next((n for n in names if n in LIST_PLACEHOLDERS), None)
        variants = self.values[listed] if listed else ("",)

        def fill(value: str) -> str:
            def one(match: re.Match[str]) -> str:
                name = match.group(1)
                text = value if name == listed else self.values[name][0]
                return re.escape(text) if escape else text

            return PLACEHOLDER.sub(one, pattern)

        filled = [fill(v) for v in variants]
        if not any(name in NODE_PLACEHOLDERS for name in names):
            self.cache[pattern, escape] = filled
        return filled


# ----- the check ------------------------------------------------------------------------


@dataclass
class _Outcome:
    status: Status
    message: str
    lines: list[EvidenceLine]


class _HostCheck:
    """One host's evidence, read once, checked against each rule."""

    def __init__(self, network: Network, node: Node, evidence: HostEvidence, facts: _Facts):
        self.network = network
        self.node = node
        self.evidence = evidence
        self.facts = facts.of_node(node)
        self.texts = {name: _Text(name, t.text) for name, t in evidence.texts.items()}
        self.origins = {name: t.origin for name, t in evidence.texts.items()}
        self.blocked = self._blocked()

    def _blocked(self) -> str | None:
        """Why nothing of this host's evidence can be trusted (None: it can)."""
        ev = self.evidence
        if ev.platform not in platforms.platform_names():
            return f"evidence of unknown platform '{ev.platform}'"
        expected = {self.node.platform, platforms.lab_platform().name}
        if ev.platform not in expected:
            return f"the evidence is for {ev.platform}, the inventory says {self.node.platform}"
        config = ev.texts.get(CONFIG)
        if config is None:
            return None  # each check needing it says so
        detection = detect(config.text, ev.platform)
        if detection.disagrees:
            shown = platforms.platform(detection.platform).display
            return (
                f"{config.origin}: the config text is {shown}'s ({detection.platform}), "
                f"not {ev.platform}'s: not checked"
            )
        if detection.markers == 0:
            return (
                f"{config.origin}: the text carries none of {ev.platform}'s config markers "
                "(empty, truncated or not a config): not checked"
            )
        return None

    def check(self, rule: Rule) -> RuleResult:
        node = self.node
        level = node.protection_level
        platform = self.evidence.platform
        clause = rule.clause.get(level) or next(iter(rule.clause.values()))

        def result(
            status: Status,
            message: str,
            evidence: tuple[EvidenceLine, ...] = (),
            remediation: tuple[str, ...] = (),
        ) -> RuleResult:
            return RuleResult(
                node.name,
                node.tier,
                level,
                platform,
                rule.id,
                rule.family,
                clause,
                rule.title,
                status,
                message,
                evidence,
                remediation,
            )

        if level not in rule.levels:
            levels = "/".join(str(n) for n in rule.levels)
            return result("not_applicable", f"level {levels} only; {node.name} is level {level}")
        spec = rule.platforms.get(platform)
        if spec is None:
            return result("unverified", f"no checks for platform {platform}")
        checks, why_not = self._applicable(spec, platform)
        if why_not:
            return result("not_applicable", why_not)
        remediation = tuple(
            line for text in spec.remediation for line in self.facts.expand(text, escape=False)
        )
        if self.blocked is not None:
            return result("unverified", self.blocked, remediation=remediation)
        outcomes = [self._run(check) for check in checks]
        status: Status = "pass"
        if any(o.status == "unverified" for o in outcomes):
            status = "unverified"
        elif any(o.status == "fail" for o in outcomes):
            status = "fail"
        shown = [o for o in outcomes if o.status == status] if status != "pass" else outcomes
        message = "; ".join(dict.fromkeys(o.message for o in shown if o.message))
        if status == "fail" and rule.exception == "snmp_v2c" and self._v2c_allowed():
            status = "accepted_exception"
            message = f"services.snmp.v2c.hosts allows SNMPv2c on {node.name}: {message}"
        lines = tuple(line for o in shown for line in o.lines)
        return result(status, message, lines, remediation)

    def _applicable(self, spec: PlatformRule, platform: str) -> tuple[list[Check], str]:
        """The platform's checks that read this host's evidence source, or why none does
        (the platform cannot express the rule, or does not show it on this source)."""
        source = self.evidence.source
        if spec.not_checkable is not None:
            return [], f"not checkable on {platform}: {spec.not_checkable}"
        if spec.not_live is not None and source == "live":
            return [], f"not shown live on {platform}: {spec.not_live}"
        checks = [c for c in spec.checks if c.sources is None or source in c.sources]
        if not checks:
            return [], f"on {platform} read from other evidence than {source}"
        return checks, ""

    def _v2c_allowed(self) -> bool:
        v2c = self.network.services.snmp.v2c
        return v2c is not None and self.node.name in v2c.hosts

    def _run(self, check: Check) -> _Outcome:
        if check.topology is not None:
            return self._topology(check)
        if check.inventory is not None:
            return self._inventory(check)
        name = check.in_ or CONFIG
        text = self.texts.get(name)
        if text is None:
            unreadable = [p for p in self.evidence.problems if p]
            why = f"; {unreadable[0]}" if unreadable else ""
            return _Outcome("unverified", f"no '{name}' evidence for {self.node.name}{why}", [])
        outcomes = [self._text(check, text, pattern) for pattern in self._patterns(check)]
        failed = [o for o in outcomes if o.status != "pass"]
        if failed:
            return _Outcome(
                "fail",
                "; ".join(o.message for o in failed),
                [line for o in failed for line in o.lines],
            )
        return _Outcome("pass", "", [line for o in outcomes for line in o.lines])

    def _patterns(self, check: Check) -> list[str]:
        return self.facts.expand(check.require or check.forbid or "")

    def _line(self, text: _Text, number: int) -> EvidenceLine:
        return EvidenceLine(
            text.evidence, self.origins[text.evidence], number, text.line_text(number)
        )

    def _scopes(self, check: Check, text: _Text) -> list[tuple[int | None, int, int]] | None:
        if check.section is None:
            return [(None, 0, len(text.text))]
        found = text.sections(check.section)
        if not found:
            return None
        return [(head, start, end) for head, start, end in found]

    def _text(self, check: Check, text: _Text, pattern: str) -> _Outcome:
        regex = _compiled(pattern)
        literal = _literal(pattern)
        absent = literal is not None and literal not in text.text
        if absent and check.forbid is not None:
            return _Outcome("pass", "", [])
        scopes = self._scopes(check, text)
        if scopes is None:
            if check.forbid is not None:
                return _Outcome("pass", "", [])
            why = _why(check, pattern)
            return _Outcome("fail", f"{why}: no section /{check.section}/ in {text.evidence}", [])
        if check.forbid is not None:
            bad = [
                self._line(text, text.line_at(m.start()))
                for _head, start, end in scopes
                for m in matches(regex, literal, text.text, start, end)
            ]
            if not bad:
                return _Outcome("pass", "", [])
            return _Outcome("fail", f"{_why(check, pattern)}{_where(check, text)}", bad)
        return self._required(check, text, (regex, literal), scopes, pattern, absent)

    def _required(
        self,
        check: Check,
        text: _Text,
        search: tuple[re.Pattern[str], str | None],
        scopes: list[tuple[int | None, int, int]],
        pattern: str,
        absent: bool,
    ) -> _Outcome:
        good: list[EvidenceLine] = []
        bad_lines: list[EvidenceLine] = []
        lacking: list[EvidenceLine] = []
        for head, start, end in scopes:
            hits = [] if absent else list(matches(*search, text.text, start, end))
            in_bounds = []
            for m in hits:
                line = self._line(text, text.line_at(m.start()))
                if self._bounded(check, m):
                    in_bounds.append(line)
                else:
                    bad_lines.append(line)
            good += in_bounds
            if not in_bounds and head is not None:
                lacking.append(self._line(text, head))
        if good and not bad_lines and not (check.every_section and lacking):
            return _Outcome("pass", "", good)
        why, where = _why(check, pattern), _where(check, text)
        if bad_lines:
            facts = self.facts.values
            bounds = _bounds(check)
            wanted = f"not {facts[check.equals][0]}" if check.equals else f"outside {bounds}"
            return _Outcome("fail", f"{why}: value {wanted}{where}", bad_lines)
        if not good:
            return _Outcome("fail", f"{why}: no line matches{where}", lacking)
        return _Outcome("fail", f"{why}: missing in a section{where}", lacking)

    def _bounded(self, check: Check, match: re.Match[str]) -> bool:
        if check.equals is not None:
            return match.group(1) == self.facts.values[check.equals][0]
        if check.at_most is None and check.at_least is None:
            return True
        try:
            value = int(match.group(1))
        except (IndexError, TypeError, ValueError):
            return False
        if check.at_most is not None and value > check.at_most:
            return False
        return not (check.at_least is not None and value < check.at_least)

    def _topology(self, check: Check) -> _Outcome:
        upstreams = self.network.upstreams(self.node.name)
        top = self.node.parent is None
        need = check.min_top if top and check.min_top is not None else check.min or 0
        named = ", ".join(upstreams) or "none"
        what = "core peers" if top else "upstream neighbours (parent and uplinks)"
        message = f"{len(upstreams)} {what}: {named}; needs {need}"
        line = EvidenceLine("inventory", self.network.source, None, f"upstreams: {named}")
        if len(upstreams) >= need:
            return _Outcome("pass", "", [line])
        return _Outcome("fail", check.why + (": " if check.why else "") + message, [line])

    def _inventory(self, check: Check) -> _Outcome:
        if check.inventory == "aaa_two_factor":
            two = self.network.services.aaa.two_factor
            line = EvidenceLine(
                "inventory", self.network.source, None, f"services.aaa.two_factor: {two}"
            )
            if two:
                return _Outcome("pass", "", [line])
            return _Outcome("fail", check.why or "services.aaa.two_factor is not true", [line])
        days = self.network.services.syslog_retention_days
        line = EvidenceLine(
            "inventory", self.network.source, None, f"services.syslog_retention_days: {days}"
        )
        if days is None:
            return _Outcome("fail", "services.syslog_retention_days is not stated", [line])
        if days < (check.min or 0):
            return _Outcome(
                "fail", f"syslog retention {days} days is below {check.min} days", [line]
            )
        return _Outcome("pass", "", [line])


def _why(check: Check, pattern: str) -> str:
    """What a failed check means: its own words, else the regex it wanted or refused."""
    return check.why or (f"requires /{pattern}/" if check.require else f"forbids /{pattern}/")


def _where(check: Check, text: _Text) -> str:
    return f" in {text.evidence}" + (f" section /{check.section}/" if check.section else "")


def _bounds(check: Check) -> str:
    low = check.at_least if check.at_least is not None else "-"
    high = check.at_most if check.at_most is not None else "-"
    return f"[{low}, {high}]"


def check_hosts(
    network: Network,
    evidence: Mapping[str, HostEvidence],
    rules: RuleSet | None = None,
    *,
    hosts: Iterable[str] | None = None,
) -> ComplianceReport:
    """Every host of `evidence` (or of `hosts`: one without evidence is `unverified` on
    every rule it has) against every rule of its level, in inventory order."""
    ruleset = rules or default_rules()
    facts = _Facts.of(network)
    wanted = set(hosts) if hosts is not None else set(evidence)
    results: list[RuleResult] = []
    names: list[str] = []
    source = next(iter(evidence.values())).source if evidence else "none"
    for node in network.nodes:
        if node.name not in wanted:
            continue
        names.append(node.name)
        shown = evidence.get(node.name)
        if shown is None:
            shown = HostEvidence(
                node.name, node.platform, source, {}, (f"no evidence for {node.name}",)
            )
        host = _HostCheck(network, node, shown, facts)
        results.extend(host.check(rule) for rule in ruleset)
    return ComplianceReport(source, tuple(names), tuple(results), dict(ruleset.families))
