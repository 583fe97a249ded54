"""How much of the public config corpus does `egovnet config parse` read right, and how fast?

Parses every tests/corpus/<platform>/*.cfg with `egovnet config parse --json` (one run per
platform, so the time is that platform's) and scores it against the hand-checked facts
(tests/corpus_score.py). Prints per platform: files, facts, right %, reported, silent,
phantom, lines/s, beside the floor the unit test holds (95 % right, 0 silent). Figures are
printed, never asserted.

Run: ``.venv/bin/python benchmarks/parsing_corpus.py [--details]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

if not __package__:
    # run as a file: this folder must not shadow the packages it measures
    HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(HERE.parent))

from tests.corpus_score import Score, corpus_files, load_expected, score

FLOOR = 0.95
EGOVNET = Path(sys.executable).with_name("egovnet")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--details", action="store_true", help="print every mismatch")
    args = parser.parse_args()
    files = corpus_files()
    platforms = sorted({f.platform for f in files})
    print(
        f"{'platform':12} {'files':>5} {'facts':>6} {'right':>7} {'reported':>8} "
        f"{'silent':>6} {'phantom':>7} {'lines/s':>9}   floor: {FLOOR:.0%} right, 0 silent"
    )
    for platform in platforms:
        mine = [f for f in files if f.platform == platform]
        lines = sum(len(f.config.read_bytes().splitlines()) for f in mine)
        started = time.perf_counter()
        run = subprocess.run(
            [str(EGOVNET), "config", "parse", "--json", *(str(f.config) for f in mine)],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        try:
            docs = {Path(d["file"]).resolve(): d for d in json.loads(run.stdout)["files"]}
        except (json.JSONDecodeError, KeyError, TypeError):
            print(
                f"{platform:12} no JSON document (exit {run.returncode}): "
                f"{run.stderr.strip()[:200]}"
            )
            continue
        total = Score()
        per_file: list[tuple[str, Score]] = []
        for item in mine:
            doc = docs.get(item.config.resolve())
            scored = score(load_expected(item.facts), doc or {})
            per_file.append((item.config.name, scored))
            total.add(scored)
        print(
            f"{platform:12} {len(mine):5} {total.facts:6} {total.share_right:7.1%} "
            f"{total.reported:8} {total.silent:6} {total.phantom:7} {lines / elapsed:9.0f}"
        )
        if args.details:
            for name, scored in per_file:
                if scored.mismatches:
                    print(f"  {name}")
                for mismatch in scored.mismatches:
                    print(f"    {mismatch}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
