"""The built model: allocation, summarisation, inheritance, and Nornir compatibility."""

from __future__ import annotations

import shutil
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from nornir.plugins.inventory.simple import SimpleInventory

from egovnet.loader import load_network
from egovnet.model import GLOBAL, BgpSession, Network

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample() -> Network:
    return load_network(ROOT / "inventory")


def test_every_block_sits_inside_its_parents_block(sample: Network) -> None:
    """What makes summarisation work: a subtree is one prefix in every instance."""
    for node in sample.nodes:
        if node.parent is None:
            continue
        parent = sample.node(node.parent)
        for instance, block in node.blocks.items():
            assert block.subnet_of(parent.blocks[instance]), (node.name, instance)
            assert block != parent.blocks[instance]


def test_sibling_blocks_are_disjoint(sample: Network) -> None:
    for parent in [None, *(n.name for n in sample.nodes)]:
        children = sample.children(parent)
        for instance in sample.instances():
            blocks = [c.blocks[instance] for c in children if instance in c.blocks]
            for i, first in enumerate(blocks):
                assert not any(first.overlaps(other) for other in blocks[i + 1 :])


def test_own_addresses_fall_in_own_block(sample: Network) -> None:
    for node in sample.nodes:
        assert node.loopback in node.blocks[GLOBAL]
        for dept in node.departments:
            assert dept.prefix.subnet_of(node.blocks[dept.zone])
            assert dept.gateway.ip == dept.prefix.network_address + 1


def test_sample_allocation_is_the_documented_one(sample: Network) -> None:
    """docs/routing.md quotes these; a change to the plan must be deliberate."""
    core = sample.node("hebei-core-1")
    sjz = sample.node("shijiazhuang")
    zd = sample.node("zhengding")
    assert core.blocks["private"] == IPv4Network("10.80.0.0/18")
    assert sjz.blocks["private"] == IPv4Network("10.80.8.0/21")
    assert zd.blocks["private"] == IPv4Network("10.80.9.0/24")
    assert zd.blocks["gongan"] == IPv4Network("10.104.9.0/24")
    assert [str(d.prefix) for d in zd.departments] == [
        "10.80.9.0/26",
        "10.96.9.0/26",
        "10.104.9.0/26",
    ]
    assert sjz.loopback == IPv4Address("10.64.0.8")
    assert sjz.management.ip == IPv4Address("10.64.8.10")


def test_links_come_from_parent_and_uplinks(sample: Network) -> None:
    pairs = {(link.lower.host, link.upper.host, link.kind) for link in sample.links}
    assert ("shijiazhuang", "hebei-core-1", "parent") in pairs
    assert ("shijiazhuang", "hebei-core-2", "uplink") in pairs
    assert ("hebei-core-2", "hebei-core-1", "peer") in pairs
    expected = sum((1 if n.parent else 0) + len(n.uplinks) for n in sample.nodes)
    assert len(sample.links) == expected


def test_link_ends_use_the_two_addresses_of_one_slash31(sample: Network) -> None:
    seen: set[IPv4Network] = set()
    for link in sample.links:
        for instance, subnet in link.subnets.items():
            assert subnet.prefixlen == 31
            assert subnet not in seen
            seen.add(subnet)
            upper = link.address(link.upper.host, instance)
            lower = link.address(link.lower.host, instance)
            assert {upper.ip, lower.ip} == set(subnet)


def test_ports_are_unique_per_node(sample: Network) -> None:
    for node in sample.nodes:
        ports = [
            (link.upper if link.upper.host == node.name else link.lower).port
            for link in sample.links_of(node.name)
        ]
        if node.internet:
            ports.append(node.internet.port)
        assert len(ports) == len(set(ports)), node.name


def test_exit_carries_only_internet_zones(sample: Network) -> None:
    exit_node = sample.node("hebei-exit")
    assert exit_node.zones == ("public",)
    for link in sample.links_of("hebei-exit"):
        assert set(link.subnets) == {GLOBAL, "public"}
    assert exit_node.internet is not None
    assert exit_node.internet.address.ip in IPv4Network("198.18.0.0/15")


def test_tier_is_inherited_from_groups_and_regions_label_ancestors(sample: Network) -> None:
    zd = sample.node("zhengding")
    assert zd.tier == "county"
    assert (zd.province, zd.city, zd.county) == ("河北省", "石家庄市", "正定县")


def test_hand_written_addresses_win(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventory", inventory)
    hosts = inventory / "hosts.yaml"
    text = hosts.read_text(encoding="utf-8").replace(
        "baoding:\n  groups: [city]\n",
        "baoding:\n  groups: [city]\n  hostname: 10.64.8.200\n",
    )
    text = text.replace("    region: 保定市\n", "    region: 保定市\n    loopback: 10.64.0.250\n")
    hosts.write_text(text, encoding="utf-8")
    network = load_network(inventory)
    baoding = network.node("baoding")
    assert baoding.management.ip == IPv4Address("10.64.8.200")
    assert baoding.loopback == IPv4Address("10.64.0.250")
    assert network.node("shijiazhuang").loopback == IPv4Address("10.64.0.8")


def test_model_is_immutable(sample: Network) -> None:
    with pytest.raises(ValueError, match="frozen"):
        sample.node("baoding").slot = 5  # type: ignore[misc]  # the point: it must refuse


def test_nornir_reads_the_sample_as_a_simple_inventory() -> None:
    """The inventory stays a valid Nornir SimpleInventory, so Nornir tools can use it as is."""
    directory = ROOT / "inventory"
    inventory = SimpleInventory(
        host_file=str(directory / "hosts.yaml"),
        group_file=str(directory / "groups.yaml"),
        defaults_file=str(directory / "defaults.yaml"),
    ).load()
    assert inventory.hosts["zhengding"]["tier"] == "county"
    assert inventory.hosts["hebei-core-1"].platform == "huawei_vrp"
    assert inventory.hosts["zhengding"].platform == "frr"


def test_derived_facts_are_in_the_model(sample: Network) -> None:
    """What parts used to work out for themselves, each from the one place it comes from."""
    assert sample.node("hebei-exit").internet_zone == "public"
    assert sample.node("hebei-core-1").internet_zone is None
    assert sample.management_station == IPv4Address("10.64.8.1")
    assert sample.management_station in sample.management_subnet
    assert all(n.management.ip != sample.management_station for n in sample.nodes)
    for node in sample.nodes:
        for dept in node.departments:
            assert dept.host.ip == dept.gateway.ip + 1, (node.name, dept.name)
            assert dept.host.network == dept.prefix


def link_subnet(network: Network, session: BgpSession) -> IPv4Network:
    """The /31 of the link a session runs on, from the links themselves."""
    for link in network.links_of(session.host):
        if link.other(session.host).host == session.peer and session.instance in link.subnets:
            return link.subnets[session.instance]
    raise AssertionError(f"no link for {session}")


def test_every_link_instance_is_one_session_at_each_end(sample: Network) -> None:
    """Both ends agree on a session: addresses swapped, each other's AS, one per instance."""
    sessions = {
        (s.host, s.peer, s.instance): s for n in sample.nodes for s in sample.sessions_of(n.name)
    }
    assert len(sessions) == 2 * sum(len(link.subnets) for link in sample.links)
    for (host, peer, instance), mine in sessions.items():
        theirs = sessions[(peer, host, instance)]
        assert (mine.local, mine.peer_address) == (theirs.peer_address, theirs.local)
        assert IPv4Network(f"{mine.local}/31", strict=False) == link_subnet(sample, mine)
        assert (mine.peer_asn, theirs.peer_asn) == (sample.node(peer).asn, sample.node(host).asn)
        assert {mine.role, theirs.role} in ({"uplink", "downlink"}, {"peer"})
    core = sample.sessions_of("hebei-core-1")
    assert [s.port for s in core] == sorted(s.port for s in core)
    assert {s.vrf for s in core} == {"default", "private", "public", "gongan"}
