"""The service zone as FRR in the lab builds it (egovnet/render/services.py): service links
between each granted zone's namespace and the service zone's, the routes over them, the
filter that lets only the service ports to the service hosts, and the topology that wires
it. What the lab proves live is in tests/lab/test_services_lab.py."""

from __future__ import annotations

import shutil
import subprocess
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from egovnet.configs.frr import parse_nft
from egovnet.configs.model import AddressMatch, DeviceConfig, Flow
from egovnet.configs.parse import parse_for
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.engine import render_network
from egovnet.render.packet_filter import ruleset_in_place, split
from egovnet.render.services import packet_filter_netns
from isolation.sources import NO_SECRETS
from tests.unit.test_service_zone import BLOCK, with_service_zone
from topology.clab import clab_topology, dns_hosts
from topology.dns import INTERNET_DOMAIN


def _network(inventory: Path) -> Network:
    with_service_zone(inventory, BLOCK)
    return load_network(inventory)


def test_a_service_node_links_each_granted_zone_and_routes_only_the_service_prefix(
    inventory_copy: Path,
) -> None:
    network = _network(inventory_copy)
    text = render_network(network, NO_SECRETS, "frr")["hebei-core-1"]
    routing, section = split(text)
    assert section is not None
    assert section.netns == "services"
    lines = [line.strip() for line in routing.splitlines()]
    # the granted zones' ends and the service zone's, each in its own VRF
    assert "interface svc100 vrf private" in lines
    assert "interface zone100 vrf services" in lines
    assert "interface svc200 vrf public" in lines
    assert "interface dept3900 vrf services" in lines
    # in each zone: the local service host's subnet over its link, originated into BGP
    assert "ip route 10.112.0.0/29 169.254.0.1" in lines
    assert "ip route 10.112.0.0/29 169.254.0.3" in lines
    assert lines.count("network 10.112.0.0/29") == 2
    # in the service VRF: the granted pools back, the other service host over a zone
    assert "ip route 10.80.0.0/16 169.254.0.0" in lines
    assert "ip route 10.96.0.0/16 169.254.0.2" in lines
    assert "ip route 10.112.0.8/29 169.254.0.0" in lines
    assert "router bgp 4200000000 vrf services" not in lines  # static routes only
    # every zone session passes the service prefixes, exactly (no `le`)
    assert "ip prefix-list PRIVATE-TO-DOWN seq 20 permit 10.112.0.0/29" in lines


def test_the_service_filter_admits_the_service_ports_and_no_zone_to_zone_flow(
    inventory_copy: Path,
) -> None:
    network = _network(inventory_copy)
    text = render_network(network, NO_SECRETS, "frr")["hebei-core-1"]
    config: DeviceConfig = parse_for(split(text)[0], "hebei-core-1", "frr", "core.cfg")
    parse_nft(ruleset_in_place(text), config, "core.cfg")
    dns1 = AddressMatch.of(IPv4Network("10.112.0.2/32"))
    inbound = config.filters["nft:zone100"]
    assert inbound.admits(Flow(destination=dns1, protocol="udp", destination_port=53))
    assert inbound.admits(Flow(destination=dns1, protocol="tcp", destination_port=53))
    assert not inbound.admits(Flow(destination=dns1, protocol="tcp", destination_port=22))
    assert not inbound.admits(
        Flow(
            destination=AddressMatch.of(IPv4Network("10.96.0.0/16")),
            protocol="tcp",
            destination_port=53,
        )
    )


def test_the_topology_wires_service_links_hosts_and_the_lab_dns(inventory_copy: Path) -> None:
    network = _network(inventory_copy)
    topology = clab_topology(network)["topology"]
    endpoints = [link["endpoints"] for link in topology["links"]]
    assert ["hebei-core-1:svc100", "hebei-core-1:zone100"] in endpoints
    assert ["hebei-core-1:dept3900", "hebei-core-1-dns1:eth1"] in endpoints
    core = topology["nodes"]["hebei-core-1"]["exec"]
    assert "ip link set zone100 netns services" in core
    assert "ip link set svc100 netns private" in core
    assert any("ip netns exec services nft -f -" in c for c in core)
    # the simulated internet answers for its test name, the exit's DMZ forwards to it
    internet = topology["nodes"]["internet-hebei-exit"]
    assert internet["binds"] == ["dns/internet-hebei-exit:/etc/bind"]
    assert internet["exec"][-1] == "named -4 -c /etc/bind/named.conf"
    dmz = topology["nodes"]["hebei-exit-dmz"]["binds"]
    assert dmz == ["dns/resolv/public.conf:/etc/resolv.conf", "dns/hebei-exit-dmz:/etc/bind"]


@pytest.mark.skipif(shutil.which("named-checkconf") is None, reason="bind9-utils not installed")
def test_the_labs_own_named_files_pass_binds_checkers(inventory_copy: Path, tmp_path: Path) -> None:
    network = _network(inventory_copy)
    for host, files in dns_hosts(network).items():
        for name, text in files.items():
            (tmp_path / host).mkdir(exist_ok=True)
            (tmp_path / host / name).write_text(text)
        conf = tmp_path / host / "named.conf"
        done = subprocess.run(
            ["named-checkconf", str(conf)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{host}: {done.stdout}{done.stderr}"
    zone = tmp_path / "internet-hebei-exit" / f"db.{INTERNET_DOMAIN}"
    done = subprocess.run(
        ["named-checkzone", INTERNET_DOMAIN, str(zone)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_service_nodes_filter_namespace_is_what_the_drivers_read_and_apply(
    inventory_copy: Path,
) -> None:
    network = _network(inventory_copy)
    by_node = {node.name: packet_filter_netns(network, node) for node in network.nodes}
    assert by_node["hebei-exit"] == "public"  # the exit's internet zone
    assert by_node["hebei-core-1"] == by_node["shijiazhuang"] == "services"
    assert by_node["zhengding"] is None
