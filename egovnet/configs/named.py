"""What a BIND 9 `named.conf` says about where a resolver sends its questions.

The DNS leak rules of the isolation audit ask one thing of a resolver's configuration: may a
client of a view get an answer from the internet (recursion toward the root servers, or a
forwarder), and to which addresses does it forward? This module reads `named.conf` into a
small model of exactly that (options, views, zones; recursion, forwarders, forward mode,
zone types) and keeps every statement it read but does not model as `unmodelled`, and every
line it could not read at all as `unparsed`: a check over a config that holds either must
fail closed (say so), never call it clean. `include` is one of those: the reader sees one
file, and a statement it cannot see could open recursion.

The grammar is BIND's: statements end in `;`, blocks are `{ ... };`, strings are quoted,
comments are `//`, `#` and `/* */`.

>>> config = parse_named('''
... options { directory "/var/cache/bind"; recursion no; };
... view "private" { match-clients { 10.80.0.0/16; }; recursion yes;
...   zone "hebei.egov" { type primary; file "db.hebei.egov"; }; };
... ''')
>>> [(v.name, v.recursion, v.forwarders) for v in config.views]
[('private', True, ())]
>>> config.views[0].zones[0].kind
'primary'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from ipaddress import AddressValueError, IPv4Address

from egovnet.configs.model import Unmodelled, Unparsed, Where

_TOKEN = re.compile(r'\s+|//[^\n]*|#[^\n]*|/\*.*?\*/|"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+', re.DOTALL)

# statements read and modelled, or read and known to say nothing about where answers come
# from (logging, listen addresses, file names): anything else is unmodelled
_HARMLESS_OPTIONS = frozenset(
    {
        "directory",
        "pid-file",
        "listen-on",
        "listen-on-v6",
        "dnssec-validation",
        "auth-nxdomain",
        "allow-query",
        "allow-query-cache",
        "allow-transfer",
        "also-notify",
        "notify",
        "empty-zones-enable",
        "minimal-responses",
        "querylog",
        "version",
        "hostname",
        "server-id",
        "session-keyfile",
        "managed-keys-directory",
        "statistics-file",
        "dump-file",
        "max-cache-size",
        "qname-minimization",
        "allow-recursion",
        "allow-query-on",
        "match-recursive-only",
        "masterfile-format",
        "check-names",
    }
)
_ZONE_KINDS = {"master": "primary", "slave": "secondary"}
_HARMLESS_ZONE = frozenset(
    {
        "file",
        "allow-query",
        "allow-transfer",
        "allow-notify",
        "also-notify",
        "notify",
        "masterfile-format",
    }
)


@dataclass(frozen=True)
class Statement:
    """One statement: its words, its block (None if it has none) and where it starts."""

    words: tuple[str, ...]
    block: tuple[Statement, ...] | None
    where: Where

    @property
    def keyword(self) -> str:
        return self.words[0] if self.words else ""


@dataclass(frozen=True)
class Zone:
    """A zone statement: name, type (primary, secondary, forward, hint, ...), forwarders."""

    name: str
    kind: str
    file: str | None
    forwarders: tuple[IPv4Address, ...]
    forward: str | None
    primaries: tuple[IPv4Address, ...]
    where: Where


@dataclass(frozen=True)
class View:
    """A view (or the implicit one of a config without views): who it serves and whether it
    asks the world on their behalf."""

    name: str
    match_clients: tuple[str, ...]
    recursion: bool | None
    """As written in the view; None: inherited from options (BIND's default is yes)."""
    forwarders: tuple[IPv4Address, ...]
    forward: str | None
    zones: tuple[Zone, ...]
    where: Where | None


@dataclass
class NamedConfig:
    """A named.conf as the DNS leak rules read it."""

    file: str
    recursion: bool | None = None
    """options { recursion ...; }: None when not written (BIND then recurses)."""
    forwarders: tuple[IPv4Address, ...] = ()
    forward: str | None = None
    views: list[View] = field(default_factory=list)
    acls: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """`acl NAME { ... };`: address match lists that match-clients may name."""
    unparsed: list[Unparsed] = field(default_factory=list)
    unmodelled: list[Unmodelled] = field(default_factory=list)

    def view(self, name: str) -> View | None:
        return next((v for v in self.views if v.name == name), None)

    def recurses(self, view: View) -> bool:
        """Whether clients of `view` get recursion: the view's own setting, else the
        options', else BIND's default (yes)."""
        if view.recursion is not None:
            return view.recursion
        return self.recursion is not False

    def forwarders_of(self, view: View) -> tuple[IPv4Address, ...]:
        """Where `view` forwards what it does not hold: its own forwarders, else options',
        and every forward zone's (BIND inherits options' forwarders into views)."""
        own = view.forwarders or self.forwarders
        zoned = tuple(a for z in view.zones if z.kind == "forward" for a in z.forwarders)
        return own + zoned

    def roots(self, view: View) -> bool:
        """Whether `view` can recurse to the internet's root servers: recursion on and not
        `forward only` (BIND has built-in root hints, so no hint zone is needed)."""
        if not self.recurses(view):
            return False
        forward = view.forward or self.forward
        return not (forward == "only" and self.forwarders_of(view))


def _unquote(word: str) -> str:
    return word[1:-1] if len(word) >= 2 and word[0] == word[-1] == '"' else word


def _statements(text: str, file: str, problems: list[Unparsed]) -> tuple[Statement, ...]:
    tokens: list[tuple[str, int]] = []
    line = 1
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or (
            match.group(0).startswith("/*") and not match.group(0).endswith("*/")
        ):  # an unterminated string or comment: the rest is unreadable
            problems.append(
                Unparsed(Where(file, line, text[position:].split("\n", 1)[0]), "unterminated")
            )
            break
        token = match.group(0)
        if not token.isspace() and not token.startswith(("//", "#", "/*")):
            tokens.append((token, line))
        line += token.count("\n")
        position = match.end()
    lines = text.splitlines()

    def where(number: int) -> Where:
        return Where(file, number, lines[number - 1] if 0 < number <= len(lines) else "")

    index = 0

    def block() -> tuple[Statement, ...]:
        nonlocal index
        result: list[Statement] = []
        words: list[str] = []
        start = 0
        while index < len(tokens):
            piece, number = tokens[index]
            index += 1
            if not words and piece not in "{};":
                start = number
            if piece == "}":
                if words:
                    problems.append(Unparsed(where(start), "statement without ';'"))
                return tuple(result)
            if piece == ";":
                if words:
                    result.append(Statement(tuple(words), None, where(start)))
                words = []
            elif piece == "{":
                inner = block()
                if index < len(tokens) and tokens[index][0] == ";":
                    index += 1
                else:
                    problems.append(Unparsed(where(start or number), "block without '};'"))
                result.append(Statement(tuple(words), inner, where(start or number)))
                words = []
            else:
                words.append(piece)
        if words:
            problems.append(Unparsed(where(start), "statement without ';'"))
        return tuple(result)

    top = block()
    if index < len(tokens):
        problems.append(Unparsed(where(tokens[index - 1][1]), "unbalanced '}'"))
    return top


def _addresses(statement: Statement, config: NamedConfig) -> tuple[IPv4Address, ...]:
    found: list[IPv4Address] = []
    for item in statement.block or ():
        word = item.words[0] if item.words else ""
        try:
            found.append(IPv4Address(word))
        except AddressValueError:
            config.unmodelled.append(
                Unmodelled(item.where, f"{statement.keyword} entry {' '.join(item.words)}")
            )
    return tuple(found)


def _yes(statement: Statement, config: NamedConfig) -> bool | None:
    value = statement.words[1] if len(statement.words) == 2 else ""
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    config.unparsed.append(Unparsed(statement.where, f"{statement.keyword} needs yes or no"))
    return None


def _zone(statement: Statement, config: NamedConfig) -> Zone | None:
    if len(statement.words) < 2 or statement.block is None:
        config.unparsed.append(Unparsed(statement.where, "zone needs a name and a block"))
        return None
    kind = ""
    file = forward = None
    forwarders: tuple[IPv4Address, ...] = ()
    primaries: tuple[IPv4Address, ...] = ()
    for item in statement.block:
        if item.keyword == "type" and len(item.words) == 2:
            kind = _ZONE_KINDS.get(item.words[1], item.words[1])
        elif item.keyword == "file" and len(item.words) == 2:
            file = _unquote(item.words[1])
        elif item.keyword == "forwarders":
            forwarders = _addresses(item, config)
        elif item.keyword == "forward" and len(item.words) == 2:
            forward = item.words[1]
        elif item.keyword in ("primaries", "masters"):
            primaries = _addresses(item, config)
        elif item.keyword == "in-view" and len(item.words) == 2:
            kind = "in-view"  # the same zone as another view's: that view's statement rules
        elif item.keyword not in _HARMLESS_ZONE:
            config.unmodelled.append(Unmodelled(item.where, f"zone {item.keyword}"))
    if kind not in ("primary", "secondary", "forward", "hint", "in-view"):  # stubs: not modelled
        config.unmodelled.append(Unmodelled(statement.where, f"zone type {kind or 'missing'}"))
    return Zone(
        _unquote(statement.words[1]), kind, file, forwarders, forward, primaries, statement.where
    )


def _view_body(
    name: str, statements: tuple[Statement, ...], where: Where | None, config: NamedConfig
) -> View:
    match: tuple[str, ...] = ()
    recursion: bool | None = None
    forwarders: tuple[IPv4Address, ...] = ()
    forward: str | None = None
    zones: list[Zone] = []
    for item in statements:
        if item.keyword == "match-clients":
            match = tuple(" ".join(i.words) for i in item.block or ())
        elif item.keyword == "recursion":
            recursion = _yes(item, config)
        elif item.keyword == "forwarders":
            forwarders = _addresses(item, config)
        elif item.keyword == "forward" and len(item.words) == 2:
            forward = item.words[1]
        elif item.keyword == "zone":
            zone = _zone(item, config)
            if zone is not None:
                zones.append(zone)
        elif item.keyword not in _HARMLESS_OPTIONS:
            config.unmodelled.append(Unmodelled(item.where, f"view {item.keyword}"))
    return View(name, match, recursion, forwarders, forward, tuple(zones), where)


def parse_named(text: str, file: str = "named.conf") -> NamedConfig:
    """Read a named.conf (see the module docstring); never raises on bad input."""
    config = NamedConfig(file)
    top = _statements(text, file, config.unparsed)
    loose: list[Statement] = []
    for statement in top:
        if statement.keyword == "options" and statement.block is not None:
            for item in statement.block:
                if item.keyword == "recursion":
                    config.recursion = _yes(item, config)
                elif item.keyword == "forwarders":
                    config.forwarders = _addresses(item, config)
                elif item.keyword == "forward" and len(item.words) == 2:
                    config.forward = item.words[1]
                elif item.keyword not in _HARMLESS_OPTIONS:
                    config.unmodelled.append(Unmodelled(item.where, f"options {item.keyword}"))
        elif statement.keyword == "view" and len(statement.words) >= 2:
            config.views.append(
                _view_body(
                    _unquote(statement.words[1]),
                    statement.block or (),
                    statement.where,
                    config,
                )
            )
        elif statement.keyword == "zone":
            loose.append(statement)
        elif statement.keyword == "acl" and len(statement.words) == 2:
            config.acls[_unquote(statement.words[1])] = tuple(
                " ".join(item.words) for item in statement.block or ()
            )
        elif statement.keyword in ("logging", "controls", "key"):
            continue  # where named logs and who may control it: nothing about answers
        else:
            config.unmodelled.append(Unmodelled(statement.where, statement.keyword or "?"))
    if loose:
        if config.views:  # BIND refuses zones outside views once there are views
            for statement in loose:
                config.unparsed.append(Unparsed(statement.where, "zone outside a view"))
        else:
            config.views.append(_view_body("_default", tuple(loose), None, config))
    if not config.views:
        config.views.append(View("_default", ("any",), None, (), None, (), None))
    return config
