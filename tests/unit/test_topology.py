"""The containerlab topology: valid against containerlab's own schema, and the same network."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import regex
import yaml

from egovnet.loader import load_network
from egovnet.model import GLOBAL, Network
from egovnet.render.engine import render_network
from egovnet.render.packet_filter import exit_ruleset, normalize
from egovnet.secrets import SharedSecrets
from topology.clab import FRR_IMAGE, clab_topology, render_clab

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "topology" / "schema" / "clab.schema.json"
FAKE_SECRETS = SharedSecrets(aaa_key="-", snmp_users=[], local_admin=None)


@pytest.fixture(scope="module")
def sample() -> Network:
    return load_network(ROOT / "inventory")


@pytest.fixture(scope="module")
def topology(sample: Network) -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load(render_clab(sample))
    return parsed


def _unicode_pattern(
    validator: jsonschema.protocols.Validator, pattern: str, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    """`pattern` with the `regex` engine: the schema's address patterns use Unicode classes
    (`\\p{L}`), which ECMAScript and Go support and Python's `re` does not."""
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def clab_validator() -> jsonschema.protocols.Validator:
    """containerlab's schema (draft-07), with patterns matched as containerlab matches them."""
    validator_class = jsonschema.validators.extend(  # type: ignore[no-untyped-call]  # untyped in the stubs
        jsonschema.Draft7Validator, {"pattern": _unicode_pattern}
    )
    validator: jsonschema.protocols.Validator = validator_class(
        json.loads(SCHEMA.read_text(encoding="utf-8"))
    )
    return validator


def test_passes_containerlabs_schema(topology: dict[str, Any]) -> None:
    errors = [error.message for error in clab_validator().iter_errors(topology)]
    assert errors == []


def test_schema_check_can_fail(topology: dict[str, Any]) -> None:
    """The schema is strict enough to catch a typo a hand edit would make."""
    broken = json.loads(json.dumps(topology))
    broken["topology"]["nodes"]["zhengding"]["knd"] = "linux"
    broken["topology"]["nodes"]["luancheng"]["mgmt-ipv4"] = "10.64.8.300"
    messages = " ".join(_messages(clab_validator().iter_errors(broken)))
    assert "'knd' was unexpected" in messages
    assert "'10.64.8.300' does not match" in messages


def _messages(errors: Iterable[jsonschema.ValidationError]) -> Iterator[str]:
    """Every message, including those inside `oneOf` (a node is null or a node config)."""
    for error in errors:
        yield error.message
        yield from _messages(error.context or [])


def test_every_router_is_an_frr_node_with_its_management_address(
    sample: Network, topology: dict[str, Any]
) -> None:
    nodes = topology["topology"]["nodes"]
    for node in sample.nodes:
        entry = nodes[node.name]
        assert entry["image"] == FRR_IMAGE
        assert entry["mgmt-ipv4"] == str(node.management.ip)
        assert f"configs/{node.name}.cfg:/etc/frr/frr.conf" in entry["binds"]
        assert entry["labels"]["egovnet-platform"] == node.platform
    assert topology["mgmt"]["ipv4-subnet"] == str(sample.management_subnet)


def test_links_are_the_models_links_plus_departments_and_internet(
    sample: Network, topology: dict[str, Any]
) -> None:
    links = {tuple(link["endpoints"]) for link in topology["topology"]["links"]}
    for link in sample.links:
        for instance in link.subnets:
            suffix = "" if instance == GLOBAL else f".{sample.zone(instance).vlan}"
            upper = f"{link.upper.host}:eth{link.upper.port}{suffix}"
            assert (upper, f"{link.lower.host}:eth{link.lower.port}{suffix}") in links
    per_instance = sum(len(link.subnets) for link in sample.links)
    departments = sum(len(n.departments) for n in sample.nodes)
    exits = sum(1 for n in sample.nodes if n.internet)
    service = sample.service_zone
    assert service is not None
    # each service host behind its node; one service link per granted zone at its node
    service_hosts = len(service.hosts)
    service_links = sum(len(set(service.access) & set(sample.node(n).zones)) for n in service.nodes)
    assert len(links) == per_instance + departments + exits + service_hosts + service_links
    assert ("hebei-core-1:eth3.100", "shijiazhuang:eth1.100") in links
    assert ("zhengding:dept1000", "zhengding-caizhengju:eth1") in links
    assert ("hebei-exit:eth3", "internet-hebei-exit:eth1") in links


def test_hosts_have_no_management_path(topology: dict[str, Any]) -> None:
    """A management interface on a host would be a path around the routers."""
    for name, entry in topology["topology"]["nodes"].items():
        if entry["labels"]["egovnet-role"] != "router":
            assert entry["network-mode"] == "none", name
            assert "mgmt-ipv4" not in entry


def test_zone_interfaces_move_into_their_zone_namespace(
    sample: Network, topology: dict[str, Any]
) -> None:
    commands = topology["topology"]["nodes"]["zhengding"]["exec"]
    for zone, moved in (
        ("private", ["dept1000", "eth1.100"]),
        ("public", ["dept2000", "eth1.200"]),
    ):
        assert f"ip netns add {zone}" in commands
        for name in moved:
            assert f"ip link set {name} netns {zone}" in commands
        assert f"ip netns exec {zone} sysctl -qw net.ipv4.ip_forward=1" in commands
    assert commands[-1] == "/usr/lib/frr/frrinit.sh restart"
    exit_commands = topology["topology"]["nodes"]["hebei-exit"]["exec"]
    assert "ip netns add private" not in exit_commands  # the exit carries no private zone
    assert "ip link set eth3 netns public" in exit_commands  # its internet port


def test_department_host_sits_behind_its_gateway(sample: Network, topology: dict[str, Any]) -> None:
    node = sample.node("zhengding")
    dept = node.departments[0]
    host = topology["topology"]["nodes"][f"zhengding-{dept.name}"]
    assert host["exec"] == [
        f"ip address add {dept.gateway.ip + 1}/{dept.prefix.prefixlen} dev eth1",
        f"ip route add default via {dept.gateway.ip}",
    ]


def test_rendering_is_stable(sample: Network) -> None:
    assert render_clab(sample) == render_clab(load_network(ROOT / "inventory"))


def test_clab_topology_is_plain_data(sample: Network) -> None:
    """What `--json` or another runner would read: nothing but dicts, lists and strings."""
    assert json.loads(json.dumps(clab_topology(sample), ensure_ascii=False))["name"] == "egovnet"


def test_the_exit_loads_its_configs_packet_filter(
    topology: dict[str, Any], sample: Network, tmp_path: Path
) -> None:
    """The exit's exec line takes the ruleset out of the config it is bound and loads it into
    the public zone's namespace: run here (the zone namespace replaced by a scratch one),
    nftables then holds exactly the rendered firewall and NAT."""
    commands = topology["topology"]["nodes"]["hebei-exit"]["exec"]
    [load] = [c for c in commands if "nft" in c]
    assert "/etc/frr/frr.conf" in load
    assert "ip netns exec public nft -f -" in load
    assert not any("nft" in c for c in topology["topology"]["nodes"]["zhengding"]["exec"])
    if os.geteuid() != 0:
        pytest.skip("loading a ruleset needs root (CI runs as root)")
    config = tmp_path / "frr.conf"
    config.write_text(render_network(sample, FAKE_SECRETS, "frr")["hebei-exit"])
    inner = shlex.split(load)[2].replace("/etc/frr/frr.conf", str(config))
    inner = inner.replace("ip netns exec public nft -f -", "nft -f - && nft list ruleset")
    done = subprocess.run(
        ["unshare", "--net", "sh", "-c", inner],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert normalize(done.stdout) == normalize(exit_ruleset("eth3"))
    assert 'oifname "eth3" masquerade' in done.stdout
