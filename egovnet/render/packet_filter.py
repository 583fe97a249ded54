"""The unified exit's packet filter on FRR: an nftables ruleset, carried inside the config.

An FRR router is a Linux host: its routing lives in FRR, its firewall and NAT in the
kernel's nftables. For the exit, both are the node's intended state, so both travel in one
document: the FRR config, and after it the ruleset of the exit's internet-zone namespace as
comment lines (`!| `) that FRR itself ignores. One document means the rollout engine's
backup, diff, push and rollback handle the firewall exactly as they handle routing; the
FRR driver splits the two and applies the ruleset with one atomic `nft -f`.

The ruleset is written in the form `nft list ruleset` prints it, so the running ruleset
and the intended one compare line by line (`normalize` drops counters and handles).
Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TABLE = "egovnet_exit"
HEADER = "! egovnet packet filter: nftables ruleset of netns "
PREFIX = "!| "
_COUNTER = re.compile(r"counter packets \d+ bytes \d+")
_HANDLE = re.compile(r"\s*# handle \d+$")


def exit_ruleset(port: str) -> str:
    """The exit's firewall and NAT on its internet port `port`: public-zone traffic leaves
    source-NATed to the exit's own address; from the internet only replies come in."""
    return (
        f"table ip {TABLE} {{\n"
        "\tchain forward {\n"
        "\t\ttype filter hook forward priority filter; policy accept;\n"
        f'\t\tiifname "{port}" ct state established,related accept\n'
        f'\t\tiifname "{port}" counter drop\n'
        "\t}\n"
        "\n"
        "\tchain postrouting {\n"
        "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
        f'\t\toifname "{port}" masquerade\n'
        "\t}\n"
        "}\n"
    )


def embed(netns: str, ruleset: str) -> str:
    """The ruleset as the config's packet-filter section (FRR comment lines)."""
    lines = [HEADER + netns]
    lines += [(PREFIX + line).rstrip() for line in ruleset.splitlines()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class PacketFilter:
    """The packet-filter section of a config: which namespace, which ruleset."""

    netns: str
    ruleset: str

    def script(self) -> str:
        """An `nft -f` script that makes the namespace's ruleset this one, atomically: nft
        applies a file as one transaction, so there is never a moment without a filter."""
        return "flush ruleset\n" + self.ruleset


def split(config: str) -> tuple[str, PacketFilter | None]:
    """The FRR part of a config and its packet-filter section (None when it has none).

    >>> routing, pf = split("hostname x\\n" + embed("public", "table ip t {\\n}\\n"))
    >>> routing, pf.netns, pf.ruleset
    ('hostname x\\n', 'public', 'table ip t {\\n}\\n')
    """
    routing: list[str] = []
    netns: str | None = None
    ruleset: list[str] = []
    for line in config.splitlines(keepends=True):
        if line.startswith(HEADER):
            netns = line[len(HEADER) :].strip()
        elif line.startswith(PREFIX.rstrip()) and netns is not None:
            ruleset.append(line[len(PREFIX) :] if line.startswith(PREFIX) else "\n")
        else:
            routing.append(line)
    if netns is None:
        return config, None
    return "".join(routing), PacketFilter(netns, "".join(ruleset))


def ruleset_in_place(config: str) -> str:
    """The section's ruleset with every other line of the config blanked: a parser of the
    ruleset then reports the config file's own line numbers.

    >>> ruleset_in_place("hostname x\\n" + embed("public", "table ip t {\\n}\\n")).splitlines()
    ['', '', 'table ip t {', '}']
    """
    marker = PREFIX.rstrip()
    return "\n".join(
        line[len(PREFIX) :] if line.startswith(marker) else "" for line in config.splitlines()
    )


def normalize(ruleset: str, *, keep_layout: bool = False) -> list[str]:
    """The lines that make a ruleset what it is: no counters' values, handles or blank
    lines (with `keep_layout`, the indentation and blank lines between chains stay, so a
    backed-up ruleset reads as `nft list ruleset` prints it).

    >>> normalize('\\tiifname "eth3" counter packets 9 bytes 612 drop # handle 4\\n\\n')
    ['iifname "eth3" counter drop']
    """
    lines = []
    for raw in ruleset.splitlines():
        line = _HANDLE.sub("", _COUNTER.sub("counter", raw)).rstrip()
        if keep_layout:
            lines.append(line)
        elif line.strip():
            lines.append(line.strip())
    while keep_layout and lines and not lines[-1]:
        lines.pop()
    return lines
