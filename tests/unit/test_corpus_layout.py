"""Every corpus config keeps its source note and its facts, in the FACTS format, indexed.

A config without its facts would silently drop out of the per-platform figures; one
without its source note would be data of unknown origin and licence in the repository.
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.corpus_score import CORPUS, PLATFORMS, CorpusFile, corpus_files, schema_problems

FILES = corpus_files()


def ids(item: CorpusFile) -> str:
    return f"{item.platform}/{item.config.name}"


def test_the_corpus_has_configs_of_every_vendor_platform() -> None:
    platforms = {item.platform for item in FILES}
    assert platforms == {"huawei_vrp", "h3c_comware", "cisco_ios"}


def test_no_stray_files_in_the_corpus() -> None:
    allowed = re.compile(r".+\.(cfg|facts\.yaml|source\.md)$")
    for folder in CORPUS.iterdir():
        if folder.is_file():
            assert folder.name == "README.md", folder
            continue
        assert folder.name in PLATFORMS, folder
        for path in folder.iterdir():
            assert allowed.fullmatch(path.name), path
            stem = path.name.split(".")[0]
            assert (folder / f"{stem}.cfg").exists(), f"{path} belongs to no config"


@pytest.mark.parametrize("item", FILES, ids=ids)
def test_each_config_has_its_source_note_and_facts(item: CorpusFile) -> None:
    assert item.source.exists(), f"{item.config} has no {item.source.name}"
    assert item.facts.exists(), f"{item.config} has no {item.facts.name}"
    note = item.source.read_text(encoding="utf-8")
    for field in ("Licence", "Date retrieved", "Changes"):
        assert field in note, f"{item.source}: no {field}"


@pytest.mark.parametrize("item", FILES, ids=ids)
def test_each_facts_file_follows_the_facts_format(item: CorpusFile) -> None:
    document = yaml.safe_load(item.facts.read_text(encoding="utf-8"))
    assert isinstance(document, dict), item.facts
    assert schema_problems(document) == [], item.facts
    assert document["platform"] == item.platform, f"{item.facts}: in the wrong folder"
    raw = item.config.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    lines = text.splitlines()
    for number in document.get("expect_unmodelled") or []:
        assert 1 <= number <= len(lines), f"{item.facts}: line {number} is past the end"
        content = lines[number - 1].strip()
        assert content not in ("", "#", "!", "return"), (
            f"{item.facts}: expected-unmodelled line {number} has no construct: {content!r}"
        )


def test_the_readme_indexes_every_config() -> None:
    index = (CORPUS / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w./-]+\.cfg)\)", index))
    assert linked == {f"{item.platform}/{item.config.name}" for item in FILES}
