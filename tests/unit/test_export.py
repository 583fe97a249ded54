"""`egovnet inventory export`: the files load in stock Nornir and in real `ansible-inventory`,
with every node's management address, platform names and groups, and no secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from nornir import InitNornir
from typer.testing import CliRunner

from egovnet import platforms
from egovnet.cli.app import app
from egovnet.errors import ProblemList
from egovnet.export import Login, export_inventory, grouping
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.platforms import UnknownPlatformError
from egovnet.secrets import find_plaintext_secrets
from playbooks.filter_plugins.egovnet import bgp_down

INVENTORY = Path(__file__).resolve().parents[2] / "inventory"
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(INVENTORY)


def export(tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / fmt
    result = CliRunner().invoke(
        app,
        ["-i", str(INVENTORY), "inventory", "export", "--format", fmt, "-o", str(out),
         "--ssh-key", "/keys/id_ed25519", *extra],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def expected_groups(network: Network) -> dict[str, set[str]]:
    """What each host must belong to: its tier, its province's and its city's group."""
    return {name: set(groups) for name, groups in grouping(network).of_host.items()}


def test_groups_name_tier_province_and_city(network: Network) -> None:
    groups = grouping(network)
    county = next(n for n in network.nodes if n.tier == "county")
    tier, province, city = groups.of_host[county.name]
    assert tier == "county"
    assert groups.regions[province] == county.province
    assert groups.regions[city] == county.city
    assert groups.parents[city] == province


def test_nornir_export_loads_in_stock_simple_inventory(tmp_path: Path, network: Network) -> None:
    out = export(tmp_path, "nornir")
    nornir = InitNornir(
        inventory={
            "plugin": "SimpleInventory",
            "options": {
                "host_file": str(out / "hosts.yaml"),
                "group_file": str(out / "groups.yaml"),
                "defaults_file": str(out / "defaults.yaml"),
            },
        },
        logging={"enabled": False},
    )
    hosts = nornir.inventory.hosts
    assert set(hosts) == {node.name for node in network.nodes}
    wanted = expected_groups(network)
    for node in network.nodes:
        host = hosts[node.name]
        record = platforms.platform(node.platform)
        assert host.hostname == str(node.management.ip)
        assert {g.name for g in host.groups} == wanted[node.name]
        assert host.platform == node.platform
        assert host.get_connection_parameters("netmiko").platform == record.netmiko_type
        napalm = host.get_connection_parameters("napalm").platform
        assert napalm == (record.napalm.driver if record.napalm else node.platform)
        assert host["tier"] == node.tier  # the group's data, inherited
        assert host.username == "root"
        assert host.password is None


def test_nornir_export_with_the_lab_platform(tmp_path: Path, network: Network) -> None:
    out = export(tmp_path, "nornir", "--platform", "frr")
    hosts = yaml.safe_load((out / "hosts.yaml").read_text(encoding="utf-8"))
    frr = platforms.platform("frr")
    for node in network.nodes:
        assert hosts[node.name]["platform"] == "frr"
        options = hosts[node.name]["connection_options"]
        assert options["netmiko"]["platform"] == frr.netmiko_type
        assert ("napalm" in options) == (frr.napalm is not None)
        assert hosts[node.name]["data"]["inventory_platform"] == node.platform


@pytest.mark.skipif(not ANSIBLE_INVENTORY.exists(), reason="ansible is not installed")
def test_ansible_export_loads_in_ansible_inventory(tmp_path: Path, network: Network) -> None:
    out = export(tmp_path, "ansible", "--platform", "frr")
    env = {**os.environ, "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "ANSIBLE_HOME": str(tmp_path)}
    listed = subprocess.run(
        [str(ANSIBLE_INVENTORY), "-i", str(out), "--list"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert "WARNING" not in listed.stderr, listed.stderr
    document = json.loads(listed.stdout)
    hostvars = document["_meta"]["hostvars"]
    assert set(hostvars) == {node.name for node in network.nodes}
    members: dict[str, set[str]] = {}

    def collect(group: str) -> set[str]:
        """A group's hosts, its children's included, as Ansible resolves them."""
        entry = document.get(group, {})
        found = set(entry.get("hosts", []))
        for child in entry.get("children", []):
            found |= collect(child)
        return found

    for group in document:
        if group != "_meta":
            members[group] = collect(group)
    for node in network.nodes:
        variables = hostvars[node.name]
        assert variables["ansible_host"] == str(node.management.ip)
        assert variables["ansible_network_os"] == platforms.platform("frr").ansible_network_os
        assert variables["ansible_connection"] == "ansible.netcommon.network_cli"
        assert variables["ansible_ssh_private_key_file"] == "/keys/id_ed25519"
        assert variables["egovnet_tier"] == node.tier
        assert {g for g, hosts in members.items() if node.name in hosts} == {
            "all",
            *expected_groups(network)[node.name],
        }


def test_ansible_export_leaves_out_an_os_the_package_cannot_drive(network: Network) -> None:
    files = export_inventory(network, "ansible", Login())
    hostvars = yaml.safe_load(files["hosts.yml"])["all"]["hosts"]
    for node in network.nodes:
        record = platforms.platform(node.platform)
        assert hostvars[node.name].get("ansible_network_os") == record.ansible_network_os


@pytest.mark.parametrize("fmt", ["nornir", "ansible"])
def test_export_writes_no_secret(fmt: str, network: Network) -> None:
    files = export_inventory(network, fmt, Login("ops", "/keys/k"))  # type: ignore[arg-type]
    for name, text in files.items():
        problems = ProblemList()
        assert (
            find_plaintext_secrets(yaml.safe_load(text), name, problems, references=False) == set()
        )
    # the password only by the name of the variable that holds it
    assert "EGOVNET_SECRET_DEVICE_PASSWORD" in "".join(files.values())


def test_export_refuses_an_unknown_platform(network: Network) -> None:
    with pytest.raises(UnknownPlatformError):
        export_inventory(network, "nornir", Login(), platform="junos")


def test_export_command_says_bad_platform_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["-i", str(INVENTORY), "inventory", "export", "--format", "nornir",
         "-o", str(tmp_path), "--platform", "junos"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "junos" in result.output


def test_playbook_command_refuses_an_unknown_playbook_exit_2() -> None:
    result = CliRunner().invoke(app, ["-i", str(INVENTORY), "playbook", "reboot-all"])
    assert result.exit_code == 2
    assert "unknown playbook 'reboot-all'" in result.output


def test_bgp_gate_filter_waits_for_every_session_but_later_tiers() -> None:
    summary = json.dumps(
        {
            "default": {"ipv4Unicast": {"peers": {"10.0.0.1": {"state": "Established"}}}},
            "private": {"ipv4Unicast": {"peers": {"10.0.0.3": {"state": "Connect"}}}},
        }
    )
    sessions = [
        {"vrf": "default", "address": "10.0.0.1", "peer": "up", "peer_tier": "province"},
        {"vrf": "private", "address": "10.0.0.3", "peer": "down", "peer_tier": "county"},
        {"vrf": "public", "address": "10.0.0.5", "peer": "gone", "peer_tier": "province"},
    ]
    assert bgp_down(summary, sessions, []) == [
        "10.0.0.3 (private, down): Connect",
        "10.0.0.5 (public, gone): missing",
    ]
    assert bgp_down(summary, sessions, ["county"]) == ["10.0.0.5 (public, gone): missing"]
