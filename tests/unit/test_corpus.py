"""`egovnet config parse` reads the public corpus truthfully: per platform >= 95 % of the
hand-checked facts right and not one silent miss.

The corpus (tests/corpus/) holds real configs published by vendors and other projects,
not egovnet's renderings. A silent miss (a fact misread or dropped while the parse claims
to have understood the line) is what would let the isolation audit say "no findings"
about a network it did not understand, so it is not tolerated at all; a fact the parse
*reports* as unparsed or unmodelled costs share but keeps the audit honest.

`benchmarks/parsing_corpus.py` prints the figures (per platform: right, reported, silent,
phantom) and, with `--details`, every mismatch by file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_score import CorpusFile, Score, corpus_files, load_expected, score

FILES = corpus_files()
PLATFORMS = sorted({item.platform for item in FILES})
FLOOR = 0.95
EGOVNET = Path(sys.executable).with_name("egovnet")


@cache
def parse_all() -> tuple[int, dict[str, Any]]:
    """One `egovnet config parse --json` over the whole corpus: (exit code, document)."""
    run = subprocess.run(
        [str(EGOVNET), "config", "parse", "--json", *(str(f.config) for f in FILES)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    try:
        document = json.loads(run.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"exit {run.returncode}, stdout is not JSON ({exc}); stderr:\n{run.stderr}")
    return run.returncode, document


def filedoc(item: CorpusFile) -> dict[str, Any]:
    _, document = parse_all()
    by_file = {Path(doc["file"]).resolve(): doc for doc in document["files"]}
    assert item.config.resolve() in by_file, f"no FILEDOC for {item.config}"
    found: dict[str, Any] = by_file[item.config.resolve()]
    return found


def test_the_corpus_parses_without_a_crash() -> None:
    code, document = parse_all()
    assert code in (0, 1, 2), f"exit {code}"
    assert len(document["files"]) == len(FILES)


def test_every_corpus_file_is_read_without_a_platform_given() -> None:
    code, document = parse_all()
    assert code in (0, 1), f"exit {code}: something was unreadable"
    assert not [doc["file"] for doc in document["files"] if doc.get("error")]


@pytest.mark.parametrize(
    "item",
    FILES,
    ids=lambda item: f"{item.platform}/{item.config.name}",
)
def test_the_platform_is_detected_from_the_text(item: CorpusFile) -> None:
    assert filedoc(item)["platform"] == item.platform


@pytest.mark.parametrize("platform", PLATFORMS)
def test_facts_are_read_right_and_never_silently_wrong(platform: str) -> None:
    total = Score()
    for item in FILES:
        if item.platform == platform:
            total.add(score(load_expected(item.facts), filedoc(item)))
    silent = [f"{m}" for m in total.mismatches if not m.reported and m.verdict != "phantom"]
    phantoms = [f"{m}" for m in total.mismatches if m.verdict == "phantom"]
    assert not silent, f"{platform}: {len(silent)} silent misses:\n" + "\n".join(silent)
    assert total.share_right >= FLOOR, (
        f"{platform}: {total.right}/{total.facts} facts right "
        f"({total.share_right:.1%} < {FLOOR:.0%}); phantoms: {phantoms}"
    )
