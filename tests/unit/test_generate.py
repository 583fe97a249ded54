"""Generated inventories load, are deterministic, and grow without moving what exists."""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path

import pytest
import yaml

from egovnet.generate import (
    NATIONAL_HOST,
    PRIVATE_SPACE,
    RESERVED,
    generate_inventory,
    pack,
    plan_addresses,
    write_inventory,
)
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.engine import render_network
from egovnet.secrets import SecretStore, SharedSecrets, env_name, secret_names

SIZES = [(1, 1, 1, 1), (1, 3, 3, 2), (1, 11, 13, 4), (2, 3, 2, 3), (1, 0, 0, 0)]


def expected_counts(provinces: int, cities: int, counties: int) -> dict[str, int]:
    counts = {
        "national": 1 if provinces > 1 else 0,
        "province": 2 * provinces,
        "exit": provinces,
        "city": provinces * cities,
        "county": provinces * cities * counties,
    }
    return {tier: n for tier, n in counts.items() if n}


def load(files: dict[str, str], directory: Path) -> Network:
    write_inventory(files, directory)
    return load_network(directory)


def render(network: Network) -> dict[str, str]:
    store = SecretStore(environ={env_name(n): "x" for n in secret_names(network)})
    return render_network(network, SharedSecrets.resolve(network, store), "frr")


def addresses(network: Network) -> dict[str, object]:
    """Every address a node owns, keyed by node: what must never move."""
    result: dict[str, object] = {}
    for node in network.nodes:
        result[node.name] = (
            node.loopback,
            node.management,
            node.asn,
            tuple((d.name, d.zone, d.prefix, d.gateway, d.vlan) for d in node.departments),
            dict(node.blocks),
            node.internet,
        )
    for link in network.links:
        key = f"link {link.upper.host} - {link.lower.host}"
        result[key] = (link.upper.port, link.lower.port, link.kind, dict(link.subnets))
    return result


def insert_department(hosts: str, host: str, line: str) -> str:
    """Add a department line at the end of `host`'s entry (its departments list is last)."""
    start = hosts.index(f"\n{host}:\n") + 1
    end = hosts.find("\n", start)
    while end != -1 and hosts[end + 1 : end + 2] == " ":
        end = hosts.find("\n", end + 1)
    end = len(hosts) if end == -1 else end + 1
    return hosts[:end] + line + hosts[end:]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "x".join(map(str, s)))
def test_generated_inventory_loads_with_expected_tiers(
    tmp_path: Path, size: tuple[int, int, int, int]
) -> None:
    provinces, cities, counties, _ = size
    files = generate_inventory(*size)
    network = load(files, tmp_path)
    assert network.tier_counts() == expected_counts(provinces, cities, counties)
    hosts = yaml.safe_load(files["hosts.yaml"])
    assert [node.name for node in network.nodes] == list(hosts)
    for node in network.nodes:
        assert len(node.departments) == len(hosts[node.name]["data"].get("departments", []))
        if node.tier == "exit":
            assert {d.zone for d in node.departments} <= {"public"}
            assert node.internet is not None
        if node.tier == "city":
            assert len(node.uplinks) == 1  # dual-homed: parent core plus the other core


def test_generated_hosts_all_have_slots_and_departments_alternate() -> None:
    hosts = yaml.safe_load(generate_inventory(1, 3, 2, 4)["hosts.yaml"])
    assert all("slot" in entry["data"] for entry in hosts.values())
    city = hosts["hebei-c01"]["data"]
    assert [(d["name"], d["zone"]) for d in city["departments"]] == [
        ("dept01", "private"),
        ("dept02", "public"),
        ("dept03", "private"),
        ("dept04", "public"),
    ]
    assert [d["name"] for d in hosts["hebei-exit"]["data"]["departments"]] == ["dept02", "dept04"]
    assert hosts["hebei-c01"]["data"]["parent"] == "hebei-core-1"
    assert hosts["hebei-c01"]["data"]["uplinks"] == ["hebei-core-2"]
    assert hosts["hebei-c02"]["data"]["parent"] == "hebei-core-2"
    assert hosts["hebei-c02"]["data"]["uplinks"] == ["hebei-core-1"]


def test_national_root(tmp_path: Path) -> None:
    network = load(generate_inventory(3, 2, 1, 2), tmp_path)
    roots = network.children(None)
    assert [node.name for node in roots] == [NATIONAL_HOST]
    assert roots[0].tier == "national"
    cores = network.children(NATIONAL_HOST)
    assert [node.name for node in cores] == [
        "hebei-core-1",
        "hebei-core-2",
        "shanxi-core-1",
        "shanxi-core-2",
        "neimenggu-core-1",
        "neimenggu-core-2",
    ]
    assert network.node("shanxi-core-2").uplinks == ("shanxi-core-1",)
    peers = [link for link in network.links if link.kind == "peer"]
    assert len(peers) == 3


def test_national_inventory_loads(tmp_path: Path) -> None:
    """31 provinces x 11 cities x 9 counties: the benchmark's 3,504-node size (a few seconds)."""
    network = load(generate_inventory(31, 11, 9, 4), tmp_path)
    assert network.tier_counts() == expected_counts(31, 11, 9)
    assert len(network.nodes) == 1 + 31 * (3 + 11 * (1 + 9)) == 3504
    assert len({node.loopback for node in network.nodes}) == len(network.nodes)


def test_single_province_has_two_core_roots(tmp_path: Path) -> None:
    network = load(generate_inventory(1, 2, 1, 1), tmp_path)
    assert [node.name for node in network.children(None)] == ["hebei-core-1", "hebei-core-2"]


def test_generation_is_deterministic() -> None:
    assert generate_inventory(2, 5, 4, 3) == generate_inventory(2, 5, 4, 3)
    assert generate_inventory(1, 3, 3, 2, platform="cisco_ios") != generate_inventory(1, 3, 3, 2)


def test_network_yaml_names_secrets_and_uses_the_management_station() -> None:
    network = yaml.safe_load(generate_inventory(1, 3, 3, 2)["network.yaml"])
    services = network["services"]
    station = str(IPv4Network(network["address_plan"]["management"]).network_address + 1)
    assert services["ntp"] == services["syslog"] == services["aaa"]["servers"] == [station]
    assert services["aaa"]["key"] == {"secret": "aaa-key"}
    assert services["ntp_auth"]["key"] == {"secret": "ntp-key"}
    user = services["snmp"]["users"][0]
    assert user["auth_key"] == {"secret": "snmp-noc-auth"}
    assert user["priv_key"] == {"secret": "snmp-noc-priv"}


@pytest.mark.parametrize("size", [(1, 1, 1, 1), (31, 11, 9, 4), (31, 11, 28, 2)])
def test_pools_avoid_reserved_ranges_and_each_other(size: tuple[int, int, int, int]) -> None:
    plan = plan_addresses(*size)
    pools = [plan.loopbacks, plan.links, plan.management, *(zone.pool for zone in plan.zones)]
    for i, pool in enumerate(pools):
        assert pool.subnet_of(PRIVATE_SPACE)
        assert not any(pool.overlaps(reserved) for reserved in RESERVED)
        assert not any(pool.overlaps(other) for other in pools[i + 1 :])
    assert plan.internet.subnet_of(IPv4Network("198.18.0.0/15"))
    # one free child slot under every parent
    provinces, cities, counties, _ = size
    assert plan.fanout["city"] > counties
    assert plan.fanout["province"] > (cities + 1) // 2 + 1
    assert plan.fanout["national"] > (2 * provinces if provinces > 1 else -1)


def test_pack_refuses_what_does_not_fit() -> None:
    assert pack([("a", 8)]) is None  # would hold 10.255.0.0/16
    placed = pack([("small", 24), ("big", 9)])
    assert placed == {"small": IPv4Network("10.128.0.0/24"), "big": IPv4Network("10.0.0.0/9")}


def test_invalid_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="provinces"):
        generate_inventory(32, 1, 1, 1)
    with pytest.raises(ValueError, match="platform"):
        generate_inventory(1, 1, 1, 1, platform="junos")
    with pytest.raises(ValueError, match="counties"):
        generate_inventory(1, 1, -1, 1)


@pytest.mark.parametrize("at_top", [False, True], ids=["appended", "inserted-at-top"])
def test_adding_a_county_changes_only_it_and_its_parent(tmp_path: Path, at_top: bool) -> None:
    files = generate_inventory(1, 3, 3, 2)
    before = load(files, tmp_path / "before")
    rendered_before = render(before)
    new_host = (
        "hebei-c02-k99:\n"
        "  groups: [county]\n"
        "  data:\n"
        "    region: 新增县\n"
        "    parent: hebei-c02\n"
        "    departments:\n"
        "      - {name: dept01, zone: private}\n"
        "      - {name: dept02, zone: public}\n"
    )
    hosts = files["hosts.yaml"]
    hosts = new_host + hosts if at_top else hosts + new_host
    after = load({**files, "hosts.yaml": hosts}, tmp_path / "after")
    rendered_after = render(after)

    assert set(rendered_after) == {*rendered_before, "hebei-c02-k99"}
    changed = {host for host, text in rendered_after.items() if rendered_before.get(host) != text}
    assert changed == {"hebei-c02-k99", "hebei-c02"}
    old, new = addresses(before), addresses(after)
    assert {key: new[key] for key in old} == old
    assert after.node("hebei-c02-k99").slot == 4  # the first free slot under the city


def test_adding_a_department_changes_only_that_node(tmp_path: Path) -> None:
    files = generate_inventory(1, 3, 3, 2)
    before = load(files, tmp_path / "before")
    rendered_before = render(before)
    for host, zone in (("hebei-c01-k02", "private"), ("hebei-exit", "public")):
        hosts = insert_department(
            files["hosts.yaml"], host, f"      - {{name: dept99, zone: {zone}}}\n"
        )
        after = load({**files, "hosts.yaml": hosts}, tmp_path / host)
        rendered_after = render(after)
        changed = {h for h, text in rendered_after.items() if rendered_before[h] != text}
        assert changed == {host}
        node_before, node_after = before.node(host), after.node(host)
        assert node_after.departments[: len(node_before.departments)] == node_before.departments
        assert node_after.departments[-1].name == "dept99"
        old, new = addresses(before), addresses(after)
        assert {k: v for k, v in new.items() if k != host} == {
            k: v for k, v in old.items() if k != host
        }
