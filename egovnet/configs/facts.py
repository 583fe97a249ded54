"""What a parsed configuration says, as the facts document of `egovnet config parse --json`
(notes: the FACTS format shared with the corpus's expected facts).

A pure function of the parsed config and the text it came from, so that the CLI, the corpus
tests and the benchmarks all compare the same thing. Coverage is the share of content lines
understood: every line that is not blank or a separator (`#`, `!`, `return`, `end`), minus
the unparsed ones and the unmodelled ones with the view they open (the lines indented under
an unmodelled header say what the model does not represent either).
"""

from __future__ import annotations

from typing import Any

from egovnet.configs.model import DeviceConfig, FilterRule
from egovnet.model import GLOBAL

SEPARATORS = frozenset({"#", "!", "return", "end"})


def content_lines(text: str) -> list[int]:
    """Numbers (1-based) of the lines that carry configuration.

    >>> content_lines("#\\nsysname A\\n\\n!\\n! a comment\\nreturn\\n")
    [2]
    """
    return [
        number
        for number, raw in enumerate(text.splitlines(), 1)
        if (line := raw.strip()) and line not in SEPARATORS and not line.startswith("!")
    ]


def not_understood_lines(config: DeviceConfig, text: str) -> set[int]:
    """Lines the parse did not understand: unparsed ones, unmodelled ones and the lines
    indented under an unmodelled header."""
    lines = text.splitlines()
    missed = {u.where.line for u in config.unparsed}
    for entry in config.unmodelled:
        number = entry.where.line
        missed.add(number)
        raw = lines[number - 1] if 0 < number <= len(lines) else ""
        indent = len(raw) - len(raw.lstrip(" "))
        for following in range(number, len(lines)):
            body = lines[following]
            stripped = body.strip()
            if not stripped:
                continue
            if len(body) - len(body.lstrip(" ")) <= indent:
                break
            if stripped not in SEPARATORS:
                missed.add(following + 1)
    return missed


def coverage_counts(config: DeviceConfig, text: str) -> tuple[int, int]:
    """(understood content lines, content lines)."""
    content = content_lines(text)
    missed = not_understood_lines(config, text)
    return sum(1 for n in content if n not in missed), len(content)


def _rule(rule: FilterRule) -> dict[str, Any]:
    return {
        "action": "permit" if rule.permit else "deny",
        "protocol": rule.protocol,
        "source": str(rule.source),
        "destination": str(rule.destination),
        "source_port": rule.source_port.text if rule.source_port else None,
        "destination_port": rule.destination_port.text if rule.destination_port else None,
        "established": rule.established,
    }


def config_facts(
    config: DeviceConfig,
    text: str,
    *,
    file: str,
    platform_given: str | None = None,
    encoding: str = "utf-8",
) -> dict[str, Any]:
    """The FILEDOC of the facts format for one parsed file (keys in the format's order)."""
    understood, content = coverage_counts(config, text)
    interfaces = [i for i in config.interfaces.values() if i.where is not None]
    bgp: dict[str, Any] | None = None
    if config.asn is not None or config.bgp:
        bgp = {
            "asn": config.asn,
            "instances": [
                {
                    "vrf": vrf,
                    "networks": [str(prefix) for prefix, _ in instance.networks],
                    "neighbors": [
                        {
                            "address": str(n.address),
                            "remote_as": n.remote_as,
                            "import": n.import_list,
                            "export": n.export_list,
                        }
                        for n in instance.neighbors.values()
                    ],
                }
                for vrf, instance in config.bgp.items()
            ],
        }
    return {
        "file": file,
        "platform": config.platform,
        "platform_given": platform_given,
        "encoding": encoding,
        "hostname": config.hostname,
        "vrfs": sorted(config.vrfs() | {GLOBAL}),
        "interfaces": [
            {
                "name": i.name,
                "vrf": i.vrf,
                "addresses": [str(a) for a in i.addresses],
                "shutdown": i.shutdown,
                "filters": {"in": i.inbound_filter, "out": i.outbound_filter},
            }
            for i in interfaces
        ],
        "static_routes": [
            {
                "vrf": s.vrf,
                "prefix": str(s.prefix),
                "next_hop": str(s.next_hop) if s.next_hop else None,
                "interface": s.interface,
                "preference": s.preference,
                "target_vrf": s.target_vrf,
            }
            for s in config.statics
        ],
        "bgp": bgp,
        "filters": [
            {"name": f.name, "rules": [_rule(r) for r in f.ordered()]}
            for f in config.filters.values()
        ],
        "nat": [
            {"kind": n.kind, "interface": n.interface, "acl": n.acl, "pool": n.pool}
            for n in config.nat
        ],
        "unparsed": [
            {"line": u.where.line, "text": u.where.text, "reason": u.reason}
            for u in config.unparsed
        ],
        "unmodelled": [
            {"line": u.where.line, "text": u.where.text, "construct": u.construct}
            for u in config.unmodelled
        ],
        "coverage": round(understood / content, 4) if content else 0.0,
    }
