"""Which hosts a rollout touches and in what order: `--limit` terms and tier waves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from egovnet.loader import load_network
from egovnet.model import Network
from nornir_tasks.rollout import LimitError, plan_waves, select_hosts


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(Path(__file__).resolve().parents[2] / "inventory")


def test_no_limit_takes_every_host_in_inventory_order(network: Network) -> None:
    assert select_hosts(network, None) == [node.name for node in network.nodes]


def test_limit_terms_unite_names_globs_tiers_and_subtrees(network: Network) -> None:
    assert select_hosts(network, "zunhua") == ["zunhua"]
    assert select_hosts(network, "hebei-*") == ["hebei-core-1", "hebei-core-2", "hebei-exit"]
    assert select_hosts(network, "tier:exit") == ["hebei-exit"]
    assert select_hosts(network, "under:baoding") == ["baoding", "zhuozhou", "dingzhou"]
    # united, in inventory order, each host once
    assert select_hosts(network, "zunhua, under:baoding, baoding") == [
        "baoding",
        "zhuozhou",
        "dingzhou",
        "zunhua",
    ]


@pytest.mark.parametrize("term", ["nosuchhost", "tier:township", "under:nowhere", "xian-*"])
def test_a_limit_term_matching_nothing_is_an_error_naming_it(network: Network, term: str) -> None:
    with pytest.raises(LimitError, match=re.escape(f"'{term}' matches no host")):
        select_hosts(network, f"zunhua,{term}")


def test_waves_go_province_then_cities_then_counties_with_the_exit_first(
    network: Network,
) -> None:
    waves = plan_waves(network, select_hosts(network, None))
    assert [name for name, _ in waves] == ["province", "cities", "counties"]
    assert waves[0][1] == ["hebei-core-1", "hebei-core-2", "hebei-exit"]
    assert waves[1][1] == ["shijiazhuang", "baoding", "tangshan"]
    assert len(waves[2][1]) == 7


def test_empty_waves_are_left_out(network: Network) -> None:
    hosts = select_hosts(network, "zunhua,qianan")
    assert plan_waves(network, hosts) == [("counties", ["qianan", "zunhua"])]
