"""The assessor's report of a compliance check: one self-contained HTML page and the same
data as JSON, grouped by control family (GB/T 22239-2019) and by tier, with the evidence
lines, the date, the inventory commit and who ran it.

Self-contained means an assessor can mail the file or open it on a machine with no network:
the style is inline, there is no script, no font, no image, no link leaving the page. Every
text from a device or the inventory is HTML-escaped (a config line is data, never markup).
The JSON is what the page shows, field for field, for the assessor's own tools.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from compliance.engine import ComplianceReport, RuleResult
from egovnet.workflows.backup import Provenance

HTML_NAME, JSON_NAME = "compliance.html", "compliance.json"
STATUSES = ("fail", "unverified", "pass", "accepted_exception", "not_applicable")
TIERS = ("province", "exit", "city", "county", "township")
"""The order tiers are shown in: the ones graded protection level 3 covers first."""


@dataclass(frozen=True)
class ReportMeta:
    """What the report says about its own making.

    Example: ``ReportMeta(network="河北省电子政务外网", generated="2026-12-02T16:50:00Z",
    provenance=Provenance("zhang.wei", "inventory", "62723f6"))``
    """

    network: str
    generated: str
    provenance: Provenance

    @classmethod
    def now(cls, network: str, provenance: Provenance) -> ReportMeta:
        stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return cls(network, stamp, provenance)


def title_of(meta: ReportMeta) -> str:
    return f"Graded protection (等级保护 2.0) compliance report: {meta.network}"


def _tier_order(tier: str) -> tuple[int, str]:
    return (TIERS.index(tier) if tier in TIERS else len(TIERS), tier)


def report_data(
    report: ComplianceReport, meta: ReportMeta, mask: Callable[[str], str] = lambda t: t
) -> dict[str, Any]:
    """The report as data: what `compliance.json` holds and the HTML page shows. `mask`
    hides secret values in evidence lines and messages (the wiring's secret masker)."""
    results = [_masked(r, mask) for r in report.results]
    by_family: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        by_family.setdefault(result["family"], []).append(result)
    by_tier: dict[str, dict[str, Any]] = {}
    for tier in sorted({r["tier"] for r in results}, key=_tier_order):
        here = [r for r in results if r["tier"] == tier]
        by_tier[tier] = {
            "levels": sorted({r["level"] for r in here}),
            "hosts": list(dict.fromkeys(r["host"] for r in here)),
            "counts": dict(Counter(r["status"] for r in here)),
            "failing": [r for r in here if r["status"] in ("fail", "unverified")],
        }
    return {
        "title": title_of(meta),
        "network": meta.network,
        "generated": meta.generated,
        "operator": meta.provenance.operator,
        "inventory": meta.provenance.inventory,
        "inventory_commit": meta.provenance.inventory_commit,
        "source": report.source,
        "ok": report.exit_code == 0,
        "hosts": list(report.hosts),
        "counts": report.counts(),
        "families": {
            family: {"name": report.families.get(family, family), "results": rows}
            for family, rows in by_family.items()
        },
        "tiers": by_tier,
    }


def _masked(result: RuleResult, mask: Callable[[str], str]) -> dict[str, Any]:
    row = asdict(result)
    row["message"] = mask(row["message"])
    for line in row["evidence"]:
        line["text"] = mask(line["text"])
        line["origin"] = mask(line["origin"])
    return row


STYLE = """
body { font: 14px/1.45 "Noto Sans CJK SC", "Noto Sans", sans-serif; margin: 2em; color: #1d232a; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 2px solid #334; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #c8ccd2; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #eef1f4; }
.fail, .unverified { background: #fde2e1; } .pass { background: #e3f5e6; }
.accepted_exception { background: #fff4d6; } .not_applicable { color: #68707a; }
.status { font-weight: bold; white-space: nowrap; }
pre { margin: 0; font: 12px/1.35 monospace; white-space: pre-wrap; }
.verdict-ok { color: #17692c; } .verdict-fail { color: #b3261e; }
"""


def _cell(text: object, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<td{attribute}>{escape(str(text))}</td>"


def _evidence(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    lines = []
    for line in rows:
        where = f"{line['origin']}:{line['line']}" if line["line"] else line["origin"]
        lines.append(f"{where}: {line['text']}")
    return "<pre>" + escape("\n".join(lines)) + "</pre>"


def _result_row(row: dict[str, Any], with_rule: bool) -> str:
    status = row["status"]
    first = (_cell(f"{row['rule']} ({row['clause']})") if with_rule else _cell(row["host"])) + (
        _cell(row["host"]) if with_rule else ""
    )
    remediation = (
        "<pre>" + escape("\n".join(row["remediation"])) + "</pre>"
        if status in ("fail", "unverified") and row["remediation"]
        else ""
    )
    return (
        f'<tr class="{escape(status)}">{first}{_cell(row["tier"])}{_cell(row["level"])}'
        f"{_cell(status, 'status')}<td>{escape(row['message'])}{_evidence(row['evidence'])}</td>"
        f"<td>{remediation}</td></tr>"
    )


def render_html(data: Mapping[str, Any]) -> str:
    """The page of `report_data`'s data: summary, by tier (what fails), by family (all)."""
    ok = data["ok"]
    verdict = (
        '<p class="verdict-ok">Every host passes every rule of its level.</p>'
        if ok
        else '<p class="verdict-fail">Rules fail or could not be verified: see below.</p>'
    )
    counts = "".join(f"<tr>{_cell(s, s)}{_cell(data['counts'].get(s, 0))}</tr>" for s in STATUSES)
    meta = "".join(
        f"<tr><th>{escape(k)}</th>{_cell(v)}</tr>"
        for k, v in (
            ("network", data["network"]),
            ("date (UTC)", data["generated"]),
            ("run by", data["operator"]),
            ("inventory", data["inventory"]),
            ("inventory commit", data["inventory_commit"]),
            ("evidence source", data["source"]),
            ("hosts checked", len(data["hosts"])),
        )
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(data['title'])}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(data['title'])}</h1>",
        verdict,
        f"<table>{meta}</table>",
        f"<table><tr><th>status</th><th>results</th></tr>{counts}</table>",
        '<h2 id="by-tier">By tier</h2>',
    ]
    header = "<tr><th>{}</th><th>host</th><th>tier</th><th>level</th><th>status</th>"
    for tier, block in data["tiers"].items():
        levels = "/".join(str(n) for n in block["levels"])
        parts.append(
            f"<h3>{escape(tier)} (level {escape(levels)}): {len(block['hosts'])} host(s), "
            f"{len(block['failing'])} failing result(s)</h3>"
        )
        if block["failing"]:
            parts.append(
                "<table>"
                + header.format("rule")
                + "<th>why, with evidence</th><th>remediation</th></tr>"
                + "".join(_result_row(r, with_rule=True) for r in block["failing"])
                + "</table>"
            )
    parts.append('<h2 id="by-family">By control family</h2>')
    for family, block in data["families"].items():
        parts.append(f'<h3 id="family-{escape(family)}">{escape(block["name"])}</h3>')
        rules: dict[str, list[dict[str, Any]]] = {}
        for row in block["results"]:
            rules.setdefault(row["rule"], []).append(row)
        for rule, rows in rules.items():
            shown = Counter(r["status"] for r in rows)
            summary = ", ".join(f"{n} {s}" for s, n in sorted(shown.items()))
            parts.append(
                f"<h4>{escape(rule)}: {escape(rows[0]['title'])} "
                f"({escape(rows[0]['clause'])}): {escape(summary)}</h4>"
            )
            parts.append(
                "<table><tr><th>host</th><th>tier</th><th>level</th><th>status</th>"
                "<th>why, with evidence</th><th>remediation</th></tr>"
                + "".join(_result_row(r, with_rule=False) for r in rows)
                + "</table>"
            )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    directory: Path,
    report: ComplianceReport,
    meta: ReportMeta,
    mask: Callable[[str], str] = lambda t: t,
) -> tuple[Path, Path]:
    """`compliance.html` and `compliance.json` in `directory` (made if need be)."""
    directory.mkdir(parents=True, exist_ok=True)
    data = report_data(report, meta, mask)
    html_path, json_path = directory / HTML_NAME, directory / JSON_NAME
    html_path.write_text(render_html(data), encoding="utf-8")
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return html_path, json_path
