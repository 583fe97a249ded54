"""The service zone of network.yaml: what the model gives every part, and what it refuses.

Each test writes a `service_zone:` block into a copy of the sample (replacing the sample's
own) and loads it; a mistake must come back naming file, field and line, exit 2 on the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path

import pytest
from typer.testing import Result

from egovnet.errors import InventoryError
from egovnet.generate import PROVINCES, generate_inventory, write_inventory
from egovnet.loader import load_network

RunCli = Callable[[Sequence[str]], Result]

BLOCK = """\
service_zone:
  name: services
  pool: 10.112.0.0/16
  domain: hebei.egov
  ports: [udp/53, tcp/53]
  access: [private, public]
  hosts:
    dns1: {node: hebei-core-1, roles: [authoritative, resolver]}
    dns2: {node: shijiazhuang, roles: [secondary, resolver]}
"""


def with_service_zone(inventory: Path, block: str) -> int:
    """network.yaml with `block` as its service zone (the sample's own dropped); returns the
    line on which the block starts."""
    path = inventory / "network.yaml"
    kept: list[str] = []
    skipping = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("service_zone:"):
            skipping = True
            continue
        if skipping and line and not line.startswith((" ", "#")):
            skipping = False
        if not skipping:
            kept.append(line)
    path.write_text("\n".join(kept) + "\n" + block, encoding="utf-8")
    return len(kept) + 1


def problems_of(inventory: Path) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        load_network(inventory)
    return [str(p) for p in caught.value.problems]


def test_service_hosts_get_subnet_gateway_and_address_from_the_pool(inventory_copy: Path) -> None:
    with_service_zone(inventory_copy, BLOCK)
    zone = load_network(inventory_copy).service_zone
    assert zone is not None
    assert (zone.name, zone.domain) == ("services", "hebei.egov")
    assert [str(p) for p in zone.ports] == ["udp/53", "tcp/53"]
    assert zone.access == ("private", "public")
    dns1, dns2 = zone.hosts
    assert (dns1.node, dns1.roles) == ("hebei-core-1", ("authoritative", "resolver"))
    assert dns1.prefix == IPv4Network("10.112.0.0/29")
    assert dns1.gateway == IPv4Interface("10.112.0.1/29")
    assert dns1.address == IPv4Interface("10.112.0.2/29")
    assert dns2.prefix == IPv4Network("10.112.0.8/29")
    assert dns1.vlan != dns2.vlan
    assert zone.nodes == ("hebei-core-1", "shijiazhuang")
    assert zone.fqdn(dns2) == "dns2.hebei.egov"
    assert [h.name for h in zone.with_role("resolver")] == ["dns1", "dns2"]


def test_access_defaults_to_every_zone_and_a_written_slot_holds(inventory_copy: Path) -> None:
    block = BLOCK.replace("  access: [private, public]\n", "").replace(
        "roles: [secondary, resolver]}", "roles: [secondary, resolver], slot: 5}"
    )
    with_service_zone(inventory_copy, block)
    network = load_network(inventory_copy)
    zone = network.service_zone
    assert zone is not None
    assert zone.access == tuple(z.name for z in network.zones)
    assert zone.hosts[1].prefix == IPv4Network("10.112.0.40/29")


def test_without_a_service_zone_the_model_has_none(inventory_copy: Path) -> None:
    with_service_zone(inventory_copy, "")
    assert load_network(inventory_copy).service_zone is None


@pytest.mark.parametrize(
    ("old", "new", "needle", "field", "words"),
    [
        (
            "node: shijiazhuang",
            "node: nowhere",
            "dns2:",
            "service_zone.hosts.dns2.node",
            "no host 'nowhere' in hosts.yaml",
        ),
        (
            "access: [private, public]",
            "access: [private, police]",
            "access:",
            "service_zone.access.1",
            "unknown zone 'police'",
        ),
        (
            "dns2: {",
            "baoding: {",
            "baoding: {",
            "service_zone.hosts.baoding",
            "has the name of a node",
        ),
        (
            "ports: [udp/53, tcp/53]",
            "ports: [udp/53, tcp:53]",
            "ports:",
            "service_zone.ports.1",
            "bad port 'tcp:53'",
        ),
        (
            "ports: [udp/53, tcp/53]",
            "ports: [udp/53, udp/53]",
            "ports:",
            "service_zone.ports.1",
            "listed twice",
        ),
        (
            "roles: [secondary, resolver]",
            "roles: [authoritative, resolver]",
            "dns2:",
            "service_zone.hosts.dns2.roles",
            "'dns1' is already the primary",
        ),
        (
            "name: services",
            "name: private",
            "name: private",
            "service_zone.name",
            "already a routing instance",
        ),
    ],
)
def test_a_mistake_names_file_field_and_line(
    inventory_copy: Path,
    run_cli: RunCli,
    old: str,
    new: str,
    needle: str,
    field: str,
    words: str,
) -> None:
    start = with_service_zone(inventory_copy, BLOCK.replace(old, new))
    offset = (
        BLOCK.replace(old, new)
        .splitlines()
        .index(next(line for line in BLOCK.replace(old, new).splitlines() if needle in line))
    )
    line = start + offset
    found = problems_of(inventory_copy)
    expected = f"{inventory_copy / 'network.yaml'}:{line}: {field}: "
    assert any(p.startswith(expected) and words in p for p in found), found
    result = run_cli(["-i", str(inventory_copy), "inventory", "validate"])
    assert result.exit_code == 2
    assert words in result.output


def test_a_pool_overlapping_a_zone_pool_is_refused_naming_both(inventory_copy: Path) -> None:
    start = with_service_zone(inventory_copy, BLOCK.replace("10.112.0.0/16", "10.80.128.0/17"))
    found = problems_of(inventory_copy)
    words = f"overlaps service_zone.pool (10.80.128.0/17, line {start + 2})"
    assert any("zones.private.pool" in p and words in p for p in found), found


def test_a_generated_national_inventory_has_dns_at_every_province(tmp_path: Path) -> None:
    write_inventory(generate_inventory(3, 2, 1, 2), tmp_path)
    network = load_network(tmp_path)
    zone = network.service_zone
    assert zone is not None
    assert zone.domain == "nation.egov"
    nodes = {host.node for host in zone.hosts}
    for stem, _region in PROVINCES[:3]:
        assert {f"{stem}-core-1", f"{stem}-c01"} <= nodes
    assert len(zone.with_role("authoritative")) == 1
    assert len(zone.with_role("secondary")) == len(zone.hosts) - 1
    assert not any(zone.pool.overlaps(z.pool) for z in network.zones)
