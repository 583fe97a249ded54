"""The corpus scorer counts right, reported, silent and phantom facts as FACTS.md says.

These documents are small and hand-made, so each count can be checked by eye: if the
scorer miscounted, the per-platform figures of tests/unit/test_corpus.py would be wrong in
ways no corpus file would show.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_score import FactsError, facts_of, load_expected, schema_problems, score

RULE = {
    "action": "deny",
    "protocol": "ip",
    "source": "10.0.0.0/8",
    "destination": "any",
    "source_port": None,
    "destination_port": None,
    "established": False,
}


def expected_doc() -> dict[str, Any]:
    """One interface with one address, one static route, one ACL rule: 10 facts."""
    return {
        "platform": "huawei_vrp",
        "platform_given": None,
        "hostname": "AR1",
        "vrfs": ["global"],
        "interfaces": [
            {
                "name": "GigabitEthernet0/0/1",
                "vrf": "global",
                "addresses": ["202.1.1.1/30"],
                "shutdown": False,
                "filters": {"in": "3000", "out": None},
            }
        ],
        "static_routes": [
            {
                "vrf": "global",
                "prefix": "0.0.0.0/0",
                "next_hop": "202.1.1.2",
                "interface": None,
                "preference": None,
                "target_vrf": None,
            }
        ],
        "bgp": None,
        "filters": [{"name": "3000", "rules": [dict(RULE)]}],
        "nat": [],
    }


def parsed(**changes: Any) -> dict[str, Any]:
    """A FILEDOC as `config parse` prints it, equal to expected_doc() but for `changes`."""
    document = copy.deepcopy(expected_doc())
    document.update(file="ar1.cfg", encoding="utf-8", unparsed=[], unmodelled=[], coverage=1.0)
    document.update(changes)
    return document


def test_the_facts_of_a_document_are_its_leaves() -> None:
    kinds = [fact.kind for fact in facts_of(expected_doc())]
    assert kinds == [
        "platform",
        "hostname",
        "vrf",
        "interface.vrf",
        "interface.address",
        "interface.shutdown",
        "interface.filters.in",
        "interface.filters.out",
        "static_route",
        "filter.rule",
    ]


def test_a_parse_equal_to_the_facts_is_all_right() -> None:
    result = score(expected_doc(), parsed())
    assert (result.facts, result.right, result.reported, result.silent, result.phantom) == (
        10,
        10,
        0,
        0,
        0,
    )
    assert result.share_right == 1.0
    assert result.mismatches == []


def test_a_wrong_fact_nobody_reported_is_a_silent_miss() -> None:
    wrong_rule = dict(RULE, source="any")  # the anti-spoofing deny read as deny-all
    result = score(expected_doc(), parsed(filters=[{"name": "3000", "rules": [wrong_rule]}]))
    assert (result.right, result.silent, result.reported) == (9, 1, 0)
    # a rule is keyed by its position: a misread rule is wrong, not missing plus phantom
    assert result.phantom == 0
    (miss,) = result.mismatches
    assert (miss.verdict, miss.kind, miss.reported) == ("wrong", "filter.rule", False)
    assert "SILENT" in str(miss)


def test_a_missing_fact_whose_line_was_reported_unparsed_is_reported() -> None:
    actual = parsed(
        static_routes=[],
        unparsed=[
            {"line": 12, "text": "ip route-static 0.0.0.0 0 202.1.1.2", "reason": "?"},
        ],
    )
    result = score(expected_doc(), actual)
    assert (result.right, result.reported, result.silent) == (9, 1, 0)
    (miss,) = result.mismatches
    assert (miss.verdict, miss.reported, miss.line) == ("missing", True, 12)


def test_a_missing_fact_nothing_owned_up_to_is_silent() -> None:
    # an unrelated unmodelled line does not excuse the lost address
    actual = parsed(
        unmodelled=[{"line": 40, "text": "ospf 1", "construct": "ospf"}],
    )
    actual["interfaces"][0]["addresses"] = []
    result = score(expected_doc(), actual)
    assert (result.right, result.reported, result.silent) == (9, 0, 1)
    assert result.mismatches[0].kind == "interface.address"


def test_a_fact_the_config_does_not_state_is_a_phantom() -> None:
    extra_route = {
        "vrf": "global",
        "prefix": "10.0.0.0/8",
        "next_hop": None,
        "interface": "NULL0",
        "preference": None,
        "target_vrf": None,
    }
    actual = parsed()
    actual["static_routes"].append(extra_route)
    actual["vrfs"] = ["global", "vpna"]
    result = score(expected_doc(), actual)
    assert (result.right, result.phantom, result.silent) == (10, 2, 0)
    assert {m.kind for m in result.mismatches} == {"static_route", "vrf"}


def test_equal_addresses_compare_equal_whatever_their_spelling() -> None:
    actual = parsed()
    actual["filters"][0]["rules"][0]["source"] = "10.0.0.0/8"
    actual["interfaces"][0]["addresses"] = ["202.1.1.1/30"]
    assert score(expected_doc(), actual).right == 10


def test_an_expected_unmodelled_line_the_parse_kept_quiet_about_is_silent() -> None:
    expected = expected_doc()
    expected["expect_unmodelled"] = [40]
    quiet = score(expected, parsed())
    assert (quiet.facts, quiet.right, quiet.silent) == (11, 10, 1)
    told = score(expected, parsed(unmodelled=[{"line": 40, "text": "ospf 1", "construct": "x"}]))
    assert (told.right, told.silent) == (11, 0)


def test_duplicate_entries_are_counted_one_by_one() -> None:
    entry = {"kind": "static", "interface": None, "acl": None, "pool": None}
    expected = expected_doc()
    expected["nat"] = [dict(entry), dict(entry)]
    result = score(expected, parsed(nat=[dict(entry)]))
    assert (result.facts, result.right, result.silent) == (12, 11, 1)


def test_the_schema_check_names_each_departure() -> None:
    document = expected_doc()
    document["vrfs"] = ["vpna", "global"]
    document["interfaces"][0]["addresses"] = ["202.1.1.1 255.255.255.252"]
    document["colour"] = "blue"
    del document["nat"]
    problems = schema_problems(document)
    assert "unknown key 'colour'" in problems
    assert "missing key 'nat'" in problems
    assert "vrfs: sorted" in problems
    assert any(p.startswith("interfaces[0].addresses") for p in problems)
    assert schema_problems(expected_doc()) == []


def test_load_expected_names_the_file_of_a_bad_facts_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.facts.yaml"
    path.write_text("platform: junos\n", encoding="utf-8")
    with pytest.raises(FactsError, match=r"bad\.facts\.yaml: .*platform"):
        load_expected(path)
