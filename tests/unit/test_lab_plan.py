"""Reading the containerlab file into the lab's plan: the same network, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from egovnet.loader import load_network
from egovnet.model import Network
from lab.plan import TopologyError, read_plan
from topology.clab import write_clab

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample() -> Network:
    return load_network(ROOT / "inventory")


@pytest.fixture
def clab_file(sample: Network, tmp_path: Path) -> Path:
    return write_clab(sample, tmp_path / "egovnet.clab.yml")


def test_plan_is_the_network_of_the_inventory(sample: Network, clab_file: Path) -> None:
    plan = read_plan(clab_file)
    assert {n.name for n in plan.routers()} == {n.name for n in sample.nodes}
    for node in sample.nodes:
        lab_node = plan.nodes[node.name]
        assert lab_node.management == node.management.ip
        assert lab_node.config == clab_file.parent / "configs" / f"{node.name}.cfg"
    assert plan.management == sample.management_subnet
    hosts = [n for n in plan.nodes.values() if n.role != "router"]
    assert all(n.management is None for n in hosts)
    underlay = {
        frozenset({(lk.upper.host, f"eth{lk.upper.port}"), (lk.lower.host, f"eth{lk.lower.port}")})
        for lk in sample.links
    }
    assert underlay <= {frozenset({link.a, link.b}) for link in plan.links}
    # a DNS host's named files are bound into it; a department host gets its resolv.conf
    dns1 = plan.nodes["hebei-core-1-dns1"]
    assert dns1.mounts == ((clab_file.parent / "dns" / "hebei-core-1-dns1", "/etc/bind"),)
    assert (clab_file.parent / "dns" / "hebei-core-1-dns1" / "named.conf").is_file()
    resolv = plan.nodes["zhengding-caizhengju"].mounts
    assert resolv == ((clab_file.parent / "dns" / "resolv" / "private.conf", "/etc/resolv.conf"),)


def _edit(clab_file: Path, change: str) -> Path:
    document = yaml.safe_load(clab_file.read_text(encoding="utf-8"))
    links = document["topology"]["links"]
    if change == "unknown node":
        links[0]["endpoints"][1] = "nowhere:eth1"
    elif change == "reused end":
        links[1]["endpoints"][0] = "hebei-core-1:eth3"
        links[0]["endpoints"][0] = "hebei-core-1:eth3"
    elif change == "long name":
        links[0]["endpoints"][0] = "hebei-core-1:a-very-long-ifname"
    elif change == "no mgmt":
        del document["mgmt"]
    elif change == "mgmt outside":
        document["topology"]["nodes"]["zhengding"]["mgmt-ipv4"] = "10.99.0.1"
    elif change == "bind missing":
        document["topology"]["nodes"]["hebei-core-1-dns1"]["binds"] = ["dns/nowhere:/etc/bind"]
    clab_file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return clab_file


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown node", "link 1: endpoint 'nowhere:eth1' names no node of the topology"),
        ("reused end", "link 2: hebei-core-1:eth3 is already used by link 1"),
        ("long name", "link 1: interface 'a-very-long-ifname' is not a valid Linux name"),
        ("no mgmt", "mgmt.ipv4-subnet and mgmt.ipv4-gw are required"),
        ("mgmt outside", "node zhengding: mgmt-ipv4 10.99.0.1 is not usable in 10.64.8.0/24"),
        (
            "bind missing",
            "node hebei-core-1-dns1: bind 'dns/nowhere:/etc/bind': {dir}/dns/nowhere "
            "missing or target not absolute",
        ),
    ],
)
def test_undeployable_files_are_refused_by_name(clab_file: Path, change: str, message: str) -> None:
    with pytest.raises(TopologyError) as caught:
        read_plan(_edit(clab_file, change))
    assert str(caught.value) == f"{clab_file}: {message.format(dir=clab_file.parent)}"
