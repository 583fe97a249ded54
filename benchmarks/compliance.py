"""How long does the graded-protection check take on a nation's intended configs?

A generated national inventory (31 provinces x 11 cities x 9 counties, 4 departments:
about 3,500 nodes), every node on one platform at a time (the generator's `platform`;
FRR nodes bring their sshd and snmpd configs as evidence too). Stages timed separately:

* load: `load_network`;
* evidence: every node rendered (config, and on FRR sshd + snmpd) with secrets hidden;
* check: `check_hosts`, every rule of each node's level, with its evidence lines.

Beside the check, its floor: a bare regex scan of the same texts, each text searched once
by every require/forbid regex of the rules for its platform (placeholders as `\\S+`), with
no sections, bounds, results or evidence: what any regex-based check must at least spend.
Both wall and CPU seconds are printed (the machine is shared: CPU time is the steadier
figure). Figures are printed, never asserted; the goal is a few seconds for the check.

Run: ``.venv/bin/python benchmarks/compliance.py [--provinces N] [--platform P]``
(or ``-m benchmarks.compliance``).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

if not __package__:
    # run as a file, this file's folder comes first on sys.path, and this very file would
    # stand in for the `compliance` package it measures
    HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from compliance.engine import check_hosts
from compliance.evidence import HostEvidence, intended_evidence
from compliance.rules import PLACEHOLDER, RuleSet, default_rules
from egovnet import platforms
from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network

T = TypeVar("T")


def timed(label: str, work: Callable[[], T], nodes: int) -> tuple[T, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rate = nodes / cpu if cpu else float("inf")
    print(f"  {label:<12} {wall:7.2f} s wall {cpu:7.2f} s cpu  {rate:8.0f} nodes/s (cpu)")
    return result, cpu


def floor_scan(evidence: dict[str, HostEvidence], rules: RuleSet) -> int:
    """Every text searched by every regex of its platform's rules; the matches counted."""
    patterns: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for rule in rules:
        for platform, spec in rule.platforms.items():
            for check in spec.checks:
                regex = check.require or check.forbid
                if regex is not None and check.in_ is not None:
                    compiled = re.compile(PLACEHOLDER.sub(r"\\S+", regex), re.MULTILINE)
                    patterns.setdefault(platform, []).append((check.in_, compiled))
    found = 0
    for host in evidence.values():
        for name, pattern in patterns.get(host.platform, []):
            text = host.texts.get(name)
            if text is not None:
                found += sum(1 for _ in pattern.finditer(text.text))
    return found


def run(provinces: int, platform: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_inventory(generate_inventory(provinces, 11, 9, 4, platform=platform), Path(tmp))
        print(f"compliance check, generated inventory of {provinces} province(s), {platform}:")
        network, _ = timed("load", lambda: load_network(tmp), 1)
        nodes = len(network.nodes)
        evidence, _ = timed("evidence", lambda: intended_evidence(network), nodes)
        rules = default_rules()
        report, check_cpu = timed("check", lambda: check_hosts(network, evidence, rules), nodes)
        _, floor_cpu = timed("floor (scan)", lambda: floor_scan(evidence, rules), nodes)
        failing = len(report.failing())
        print(
            f"  {nodes} nodes, {len(report.results)} results, {failing} failing; "
            f"check / floor (cpu): {check_cpu / floor_cpu if floor_cpu else 0:.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provinces", type=int, default=31)
    parser.add_argument(
        "--platform",
        choices=platforms.platform_names(),
        action="append",
        help="repeat for several (default: every platform of the registry)",
    )
    args = parser.parse_args()
    for platform in args.platform or platforms.platform_names():
        run(args.provinces, platform)


if __name__ == "__main__":
    main()
