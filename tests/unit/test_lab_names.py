"""A lab's own name, from the inventory to everything the lab marks with it, and the sandboxed
copies that test runs and benchmarks bring up beside a user's lab."""

from __future__ import annotations

import shutil
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from egovnet.errors import InventoryError
from egovnet.loader import load_network
from lab.names import bridge, guard_metric, guard_table, interface_prefix, management_veth
from lab.plan import LINUX_IFNAME
from lab.sandbox import pools_of, sandbox_inventory
from tests.labkit import SAMPLE, SAMPLE_SPACE
from topology.clab import clab_topology

DEMO_POOLS = SAMPLE_SPACE


def with_lab_block(inventory: Path, block: str) -> Path:
    network_yaml = inventory / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8")
    assert "lab:\n  name: egovnet" in text
    network_yaml.write_text(text.replace("lab:\n  name: egovnet", block), encoding="utf-8")
    return inventory


def test_the_sample_is_lab_egovnet_and_its_topology_says_so() -> None:
    sample = load_network(SAMPLE)
    assert sample.lab_name == "egovnet"
    topology = clab_topology(sample)
    assert topology["name"] == "egovnet"
    assert topology["mgmt"]["network"] == "egovnet-mgmt"


def test_an_inventory_without_a_lab_block_is_lab_egovnet(inventory_copy: Path) -> None:
    network_yaml = inventory_copy / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8")
    network_yaml.write_text(text.split("\nlab:\n")[0] + "\n", encoding="utf-8")
    assert load_network(inventory_copy).lab_name == "egovnet"


def test_the_inventorys_lab_name_names_the_topology(inventory_copy: Path) -> None:
    network = load_network(with_lab_block(inventory_copy, "lab:\n  name: egvt-mine"))
    topology = clab_topology(network)
    assert (topology["name"], topology["mgmt"]["network"]) == ("egvt-mine", "egvt-mine-mgmt")


@pytest.mark.parametrize("name", ["Egov", "egov_net", "1egov", "egovnet-is-too-long", ""])
def test_a_lab_name_that_cannot_mark_a_process_is_refused(inventory_copy: Path, name: str) -> None:
    with_lab_block(inventory_copy, f'lab:\n  name: "{name}"')
    with pytest.raises(InventoryError) as raised:
        load_network(inventory_copy)
    assert any("lab.name" in str(problem) for problem in raised.value.problems), str(raised.value)


@pytest.mark.parametrize("lab", ["egovnet", "egvt-isolation-l", "a", "z" * 16])
def test_root_namespace_names_are_linux_names_of_the_labs_own(lab: str) -> None:
    names = [bridge(lab), management_veth(lab, 0), management_veth(lab, 99999)]
    assert all(LINUX_IFNAME.match(name) for name in names), names
    assert all(name.startswith(interface_prefix(lab)) for name in names)


def test_two_labs_share_no_name_or_mark() -> None:
    demo, test = "egovnet", "egvt-lab-cli"
    assert not bridge(test).startswith(interface_prefix(demo))
    assert not management_veth(test, 1).startswith(interface_prefix(demo))
    assert guard_table(test) != guard_table(demo)
    assert guard_metric(test) != guard_metric(demo)


def test_a_sandboxed_copy_is_the_same_network_at_addresses_of_its_own(tmp_path: Path) -> None:
    source = load_network(SAMPLE)
    copy = sandbox_inventory(SAMPLE, tmp_path / "copy", "egvt-copy", DEMO_POOLS)
    assert copy.lab_name == "egvt-copy"
    assert [n.name for n in copy.nodes] == [n.name for n in source.nodes]
    assert len(copy.links) == len(source.links)
    pools = [copy.pool(instance) for instance in copy.instances()]
    pools.append(copy.spec.address_plan.management)
    for pool in pools:
        assert not any(
            pool.overlaps(space) for space in (*DEMO_POOLS, IPv4Network("10.255.0.0/16"))
        )
    # the management station moved with the management pool
    management = copy.spec.address_plan.management
    assert copy.spec.services.ntp == [management.network_address + 1]
    assert all(node.management.ip in management for node in copy.nodes)


def test_a_sandboxed_copy_keeps_clear_of_what_it_is_told_to_avoid(tmp_path: Path) -> None:
    first = sandbox_inventory(SAMPLE, tmp_path / "first", "egvt-first", DEMO_POOLS)
    taken = [first.pool(i) for i in first.instances()] + [first.spec.address_plan.management]
    second = sandbox_inventory(SAMPLE, tmp_path / "second", "egvt-second", [*DEMO_POOLS, *taken])
    for pool in [second.pool(i) for i in second.instances()]:
        assert not any(pool.overlaps(other) for other in taken), pool


def test_a_sandboxed_copy_moves_hand_written_addresses_too(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(SAMPLE, source)
    hosts = source / "hosts.yaml"
    text = hosts.read_text(encoding="utf-8")
    hosts.write_text(
        text.replace("    region: 保定市\n", "    region: 保定市\n    loopback: 10.64.0.250\n"),
        encoding="utf-8",
    )
    pools = pools_of({"address_plan": {"loopbacks": "10.64.0.0/24", "links": "10.64.16.0/20",
                                       "management": "10.64.8.0/24"}, "zones": {}})  # fmt: skip
    assert pools["loopbacks"] == IPv4Network("10.64.0.0/24")
    copy = sandbox_inventory(source, tmp_path / "copy", "egvt-hand", DEMO_POOLS)
    loopbacks = copy.spec.address_plan.loopbacks
    assert copy.node("baoding").loopback == loopbacks.network_address + 250
    assert copy.node("baoding").loopback != IPv4Address("10.64.0.250")
