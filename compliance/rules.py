"""Graded-protection rules as data: `compliance/rules/<family>.yaml`, one file per control
family of GB/T 22239-2019, loaded and validated here.

A rule says which levels it applies to, the clause it serves at each, and for every platform
of the registry either the checks that prove it on that platform's evidence and the lines
that repair it, or `not_checkable` with the reason (the platform cannot express it). A
check is one of:

- `{in: config, require: REGEX, section: REGEX?, every_section: bool?, at_most: N?,
  at_least: N?}`: a line of evidence text `in` (inside a section whose header matches
  `section`, in each such section with `every_section`) matches; `at_most`/`at_least`
  bound the number its first group captures;
- `{in: sshd, require: REGEX, equals: mgmt_address}`: its first group equals that fact;
- `{in: config, forbid: REGEX, section: REGEX?}`: no line matches;
- `{topology: upstreams, min: N, min_top: N}`: the node has at least `min` distinct
  upstream neighbours (`min_top` for a core with no parent: its peers);
- `{inventory: syslog_retention_days, min: N}` / `{inventory: aaa_two_factor, min: 1}`:
  what the inventory states (a retention in days; whether the AAA servers ask for a second
  factor, 1 for yes).

Regexes may name inventory facts as `{{name}}` (`PLACEHOLDERS`); a list-valued one makes
the check apply to each value (every syslog server must be configured). A broken rule file
is a `RuleError` naming file, rule and field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from egovnet import platforms
from egovnet.errors import EgovnetError, ProblemList
from egovnet.yamlio import LineDict, line_of, load_yaml_file

RULES_DIR = Path(__file__).resolve().parent / "rules"
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
PLACEHOLDERS = {
    "syslog": "each syslog server of `services.syslog`",
    "ntp": "each NTP server of `services.ntp`",
    "aaa": "each AAA server of `services.aaa.servers`",
    "snmp_user": "each SNMPv3 user name of `services.snmp.users`",
    "idle_timeout": "`services.ssh.idle_timeout_minutes`",
    "idle_seconds": "the idle timeout in seconds",
    "login_attempts": "`services.ssh.login_attempts`",
    "lockout_minutes": "`services.ssh.lockout_minutes`",
    "lockout_seconds": "the lockout in seconds",
    "mgmt_address": "the node's own management address",
    "mgmt_network": "the management subnet's network address",
    "mgmt_prefixlen": "the management subnet's prefix length",
    "mgmt_mask": "the management subnet's dotted mask",
    "mgmt_wildcard": "the management subnet's wildcard (inverse) mask",
    "local_admin": "the break-glass account's name (`services.local_admin.name`)",
}
"""Inventory facts a rule's regex may name, and what each stands for (docs/compliance.md)."""
LIST_PLACEHOLDERS = frozenset({"syslog", "ntp", "aaa", "snmp_user"})
Status = Literal["pass", "fail", "not_applicable", "accepted_exception", "unverified"]


class RuleError(EgovnetError, ValueError):
    """A rule file that cannot be used; the message names file, rule and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Check(_Strict):
    """One check of a rule on one platform (see the module docstring for the kinds)."""

    in_: str | None = Field(default=None, alias="in")
    require: str | None = None
    forbid: str | None = None
    section: str | None = None
    every_section: bool = False
    at_most: int | None = None
    at_least: int | None = None
    topology: Literal["upstreams"] | None = None
    inventory: Literal["syslog_retention_days", "aaa_two_factor"] | None = None
    min: int | None = None
    min_top: int | None = None
    equals: str | None = None
    """With `require`: its first group must equal this inventory fact (a placeholder's
    name): per-node values (`mgmt_address`) compared, not compiled into a regex per node."""
    why: str = ""
    """What a failure of this check means, in the report's words."""
    sources: list[Literal["intended", "running", "live"]] | None = None
    """The evidence sources this check reads (None: all). `[live]` for what only a running
    device shows (its listening sockets); the check is skipped on other evidence."""

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        kinds = [k for k in ("require", "forbid", "topology", "inventory") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                "a check needs exactly one of require, forbid, topology, inventory"
                + (f" (has {', '.join(kinds)})" if kinds else "")
            )
        text = self.require is not None or self.forbid is not None
        if text and not self.in_:
            raise ValueError("a require/forbid check needs `in` (the evidence text it reads)")
        if not text and (self.in_ or self.section):
            raise ValueError("`in` and `section` belong to require/forbid checks")
        if (self.topology or self.inventory) and self.min is None:
            raise ValueError("a topology/inventory check needs `min`")
        if (self.at_most is not None or self.at_least is not None) and not self.require:
            raise ValueError("at_most/at_least bound what a `require` captures")
        if self.equals is not None and (not self.require or self.equals not in PLACEHOLDERS):
            raise ValueError("equals: a placeholder name, with `require` capturing the value")
        for name in ("require", "forbid", "section"):
            pattern = getattr(self, name)
            if pattern is None:
                continue
            unknown = sorted(set(PLACEHOLDER.findall(pattern)) - set(PLACEHOLDERS))
            if unknown:
                raise ValueError(f"{name}: unknown placeholder {{{{{unknown[0]}}}}}")
            if name == "section" and PLACEHOLDER.search(pattern):
                raise ValueError("section: placeholders belong in require/forbid")
            try:
                compiled = re.compile(PLACEHOLDER.sub("x", pattern))
            except re.error as exc:
                raise ValueError(f"{name}: bad regex {pattern!r}: {exc}") from None
            if name == "require" and self.at_most is not None and compiled.groups < 1:
                raise ValueError("require: at_most/at_least need a group capturing a number")
        return self

    def placeholders(self) -> list[str]:
        """The list-valued placeholders the check names (it applies to each value)."""
        names = PLACEHOLDER.findall((self.require or "") + (self.forbid or ""))
        return [n for n in dict.fromkeys(names) if n in LIST_PLACEHOLDERS]


class PlatformRule(_Strict):
    """How a rule is checked and repaired on one platform, or why it cannot be."""

    checks: list[Check] = Field(default_factory=list)
    remediation: list[str] = Field(default_factory=list)
    not_checkable: str | None = None
    not_live: str | None = None
    """Why the platform does not show this on a live device (FRR keeps its banner but
    prints it in no running-config): then live evidence makes it `not_applicable` with this
    reason, and it is judged on rendered and recorded configs only."""

    @model_validator(mode="after")
    def _checks_or_reason(self) -> PlatformRule:
        if self.not_checkable is not None:
            if self.checks or self.remediation:
                raise ValueError("not_checkable excludes checks and remediation")
            if not self.not_checkable.strip():
                raise ValueError("not_checkable: say why the platform cannot express it")
        elif not self.checks:
            raise ValueError("needs checks (with remediation) or not_checkable: why")
        elif not self.remediation:
            raise ValueError("remediation: the lines that repair it on this platform")
        return self


Level = Literal[2, 3]


class Rule(_Strict):
    """One graded-protection requirement, per platform."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")]
    title: str
    clause: dict[Annotated[int, Field(ge=2, le=3)], str]
    """The GB/T 22239-2019 clause it serves at each level (7.x: level 2, 8.x: level 3)."""
    levels: list[Level] = Field(min_length=1)
    exception: Literal["snmp_v2c"] | None = None
    """`snmp_v2c`: a failure on a host `services.snmp.v2c.hosts` lists is an accepted
    exception (the inventory says that device cannot do v3)."""
    platforms: dict[str, PlatformRule]
    family: str = ""
    family_name: str = ""
    file: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        missing = [level for level in self.levels if level not in self.clause]
        if missing:
            raise ValueError(f"clause: no clause for level {missing[0]}")
        known = platforms.platform_names()
        unknown = sorted(set(self.platforms) - set(known))
        if unknown:
            raise ValueError(f"platforms: unknown platform '{unknown[0]}'")
        absent = [name for name in known if name not in self.platforms]
        if absent:
            raise ValueError(f"platforms: no entry for {absent[0]} (checks or not_checkable)")
        return self


class RuleFile(_Strict):
    """One control family's file."""

    family: Annotated[str, Field(pattern=r"^[a-z_]+$")]
    name: str
    """The family's name in GB/T 22239-2019 (身份鉴别, ...)."""
    rules: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class RuleSet:
    """Every rule, in file then rule order, and the families they came from."""

    rules: tuple[Rule, ...]
    families: Mapping[str, str]
    """family id -> its GB/T 22239-2019 name."""

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def rule(self, rule_id: str) -> Rule:
        """The rule called `rule_id` (KeyError if none)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def _where(error: Any) -> str:
    """The field of a pydantic error, as `a.b.0: ` (empty for a rule-wide check, whose
    message starts with its field)."""
    field_name = ".".join(str(p) for p in error["loc"])
    return f"{field_name}: " if field_name else ""


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load_rule_file(path: Path) -> list[Rule]:
    """The rules of one family file (`RuleError` naming file:line, rule and field)."""
    problems = ProblemList()
    document = load_yaml_file(path, problems)
    if problems:
        raise RuleError(str(problems.problems[0]))
    try:
        family = RuleFile.model_validate(_plain(document))
    except ValidationError as exc:
        first = exc.errors()[0]
        line = line_of(document, tuple(first["loc"]))
        where = f"{path}:{line}" if line else str(path)
        raise RuleError(f"{where}: {_where(first)}{first['msg']}") from None
    entries = document["rules"]
    rules = []
    for index, entry in enumerate(family.rules):
        rule_id = entry.get("id", f"#{index + 1}")
        try:
            rule = Rule.model_validate(
                {**entry, "family": family.family, "family_name": family.name, "file": str(path)}
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            message = str(first["msg"]).removeprefix("Value error, ")
            raw = entries[index]
            line = line_of(raw, tuple(first["loc"])) if isinstance(raw, LineDict) else None
            where = f"{path}:{line or getattr(raw, 'line', 0) or '?'}"
            raise RuleError(f"{where}: rule {rule_id}: {_where(first)}{message}") from None
        rules.append(rule)
    return rules


def load_rules(directory: Path = RULES_DIR) -> RuleSet:
    """Every `*.yaml` of `directory`, sorted by name; rule ids must be unique."""
    rules: list[Rule] = []
    families: dict[str, str] = {}
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        for rule in load_rule_file(path):
            if rule.id in seen:
                raise RuleError(f"{path}: rule {rule.id}: id: already defined in {seen[rule.id]}")
            seen[rule.id] = str(path)
            families[rule.family] = rule.family_name
            rules.append(rule)
    if not rules:
        raise RuleError(f"{directory}: no rule files (*.yaml)")
    return RuleSet(tuple(rules), families)


@cache
def default_rules() -> RuleSet:
    """The rules shipped with egovnet, loaded once per process."""
    return load_rules()
