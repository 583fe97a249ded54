"""The model as inventories other tools load as they are: Nornir's SimpleInventory, Ansible's.

`inventory/` is written for egovnet: it carries no management addresses (the model allocates
them) and names platforms in egovnet's words (`frr`, `huawei_vrp`), so stock plugins could
not connect from it. These files are what `InitNornir(SimpleInventory)` with `nornir_netmiko`
or `nornir_napalm`, and `ansible-playbook -i DIR`, read: every node with its allocated
management address, the platform in each tool's own name (netmiko's `device_type`, NAPALM's
driver, `ansible_network_os`) from the platform registry, groups by tier, province and city.

No secret is written. Credentials are references, as `egovnet.secrets` keeps them: the user
name, the SSH key's *path*, and the environment variable that holds a device password
(`EGOVNET_SECRET_DEVICE_PASSWORD`); Ansible reads that one with its `env` lookup at run time.

Group names are ASCII identifiers (Ansible refuses `-` in a group name): a tier is its own
name (`city`), a province or a city is named after the node that first carries its region
label (`city_shijiazhuang`), its display name (`石家庄市`) in the group's `region` variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from egovnet import platforms
from egovnet.model import Network, Node
from egovnet.render.services import packet_filter_netns
from egovnet.secrets import env_name

Format = Literal["nornir", "ansible"]
FORMATS: tuple[Format, ...] = ("nornir", "ansible")

DEVICE_PASSWORD = "device-password"  # noqa: S105 - a secret's name, not its value
"""The secret that holds a device password, when devices take one (the key is the default)."""

ANSIBLE_CONNECTION = "ansible.netcommon.network_cli"
"""A login lands in the device's CLI (vtysh on FRR): Ansible drives it as a network device."""

PACKET_FILTER_COMMAND = "egovnet-nft"
"""The one command an FRR router's login runs besides its CLI: `egovnet-nft NETNS
list|apply`, the packet filter of a zone (the lab's `lab.runner.LOGIN`; on a production box
a sudo rule for the same two commands). The playbooks run it over a one-shot SSH command."""


@dataclass(frozen=True)
class Login:
    """How the tools log in, by reference only. `key_file` is a path, never key material."""

    username: str = "root"
    key_file: str | None = None


def _ident(text: str) -> str:
    """A group-name fragment Ansible accepts.

    >>> _ident("hebei-core-1")
    'hebei_core_1'
    """
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


@dataclass(frozen=True)
class Grouping:
    """Every node's tier, province and city groups, and each group's region label."""

    of_host: Mapping[str, tuple[str, ...]]
    regions: Mapping[str, str]
    parents: Mapping[str, str]
    """city group -> its province group (Ansible's children)."""


def grouping(network: Network) -> Grouping:
    """Groups by tier, province and city, named after the first node of each region.

    >>> from egovnet.loader import load_network
    >>> from pathlib import Path
    >>> g = grouping(load_network(Path("inventory")))
    >>> g.of_host["shijiazhuang"], g.regions["city_shijiazhuang"]
    (('city', 'province_hebei_core_1', 'city_shijiazhuang'), '石家庄市')
    """
    first: dict[tuple[str, str], str] = {}
    for node in network.nodes:
        for tier, label in (("province", node.province), ("city", node.city)):
            if label is not None and node.tier == tier:
                first.setdefault((tier, label), f"{tier}_{_ident(node.name)}")
    of_host: dict[str, tuple[str, ...]] = {}
    regions = {name: label for (_tier, label), name in first.items()}
    parents: dict[str, str] = {}
    for node in network.nodes:
        province = first.get(("province", node.province or ""))
        city = first.get(("city", node.city or ""))
        if province and city:
            parents[city] = province
        of_host[node.name] = tuple(g for g in (node.tier, province, city) if g)
    return Grouping(of_host, regions, parents)


def _platform(node: Node, override: str | None) -> platforms.PlatformRecord:
    return platforms.platform(override or node.platform)


def _facts(network: Network, node: Node) -> dict[str, Any]:
    """The model's facts a playbook or a task reads about a host (as Nornir's `data`)."""
    return {
        "tier": node.tier,
        "level": node.level,
        "parent": node.parent,
        "uplinks": list(node.uplinks),
        "region": node.region,
        "asn": node.asn,
        "loopback": str(node.loopback),
        "inventory_platform": node.platform,
        "network": network.name,
    }


def _dump(document: object) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)


def nornir_files(network: Network, login: Login, platform: str | None = None) -> dict[str, str]:
    """hosts.yaml, groups.yaml and defaults.yaml for Nornir's SimpleInventory.

    A host's `platform` is egovnet's name; `connection_options` give netmiko's device type
    and, where the registry names one, the NAPALM driver, which `nornir_netmiko` and
    `nornir_napalm` take over the host's own. `platform` overrides every node's (the lab
    runs FRR whatever a node stands in for).
    """
    groups = grouping(network)
    hosts: dict[str, Any] = {}
    for node in network.nodes:
        record = _platform(node, platform)
        options: dict[str, Any] = {"netmiko": {"platform": record.netmiko_type}}
        if record.napalm is not None:
            # the driver's own settings, as nornir_napalm passes them (`optional_args`): the
            # node's name and the key's path, never key material
            optional = {
                "host": node.name,
                **({"key_file": login.key_file} if login.key_file else {}),
            }
            options["napalm"] = {
                "platform": record.napalm.driver,
                "extras": {"optional_args": optional},
            }
        hosts[node.name] = {
            "hostname": str(node.management.ip),
            "port": node.port or 22,
            **({"username": node.username} if node.username else {}),
            "platform": record.name,
            "groups": list(groups.of_host[node.name]),
            "connection_options": options,
            "data": _facts(network, node),
        }
    tiers = sorted({node.tier for node in network.nodes})
    group_doc: dict[str, Any] = {tier: {"data": {"tier": tier}} for tier in tiers}
    for name, region in groups.regions.items():
        group_doc[name] = {"data": {"region": region}}
    credentials: dict[str, Any] = {"password_env": env_name(DEVICE_PASSWORD)}
    if login.key_file:
        credentials["key_file"] = login.key_file
    defaults = {"username": login.username, "data": {"credentials": credentials}}
    return {
        "hosts.yaml": _dump(hosts),
        "groups.yaml": _dump(group_doc),
        "defaults.yaml": _dump(defaults),
    }


def ansible_files(network: Network, login: Login, platform: str | None = None) -> dict[str, str]:
    """One YAML inventory, `hosts.yml`: tier groups, and province groups whose children are
    their city groups. Connection variables sit on each host; the credentials are
    references (`ansible_user`, the key file's path, the password's environment variable)."""
    groups = grouping(network)
    members: dict[str, dict[str, Any]] = {}
    for node in network.nodes:
        for group in groups.of_host[node.name]:
            members.setdefault(group, {})[node.name] = None
    hostvars: dict[str, Any] = {}
    tiers = {node.name: node.tier for node in network.nodes}
    for node in network.nodes:
        record = _platform(node, platform)
        sessions = [
            {
                "vrf": s.vrf,
                "address": str(s.peer_address),
                "peer": s.peer,
                "peer_tier": tiers[s.peer],
            }
            for s in network.sessions_of(node.name)
        ]
        # FRR: nftables (the exit's internet zone, a service node's service zone)
        netns = packet_filter_netns(network, node) if record.exit_acls is None else None
        # no network_os where the ansible package ships no collection for the platform:
        # Ansible then names the host it cannot drive, rather than driving it wrongly
        os_name = {"ansible_network_os": record.ansible_network_os}
        hostvars[node.name] = {
            "ansible_host": str(node.management.ip),
            "ansible_port": node.port or 22,
            "ansible_user": node.username or login.username,
            **(os_name if record.ansible_network_os else {}),
            "ansible_connection": ANSIBLE_CONNECTION,
            "egovnet_platform": record.name,
            **{f"egovnet_{k}": v for k, v in _facts(network, node).items() if k != "network"},
            "egovnet_bgp_sessions": sessions,
            **({"egovnet_packet_filter_netns": netns} if netns else {}),
        }
    children: dict[str, Any] = {}
    for tier in sorted({node.tier for node in network.nodes}):
        children[tier] = {"hosts": dict(members[tier]), "vars": {"tier": tier}}
    provinces = {p for p in groups.regions if p.startswith("province_")}
    for province in sorted(provinces):
        cities = sorted(c for c, p in groups.parents.items() if p == province)
        direct = {
            host: None
            for host in members.get(province, {})
            if not any(host in members.get(city, {}) for city in cities)
        }
        entry: dict[str, Any] = {"vars": {"region": groups.regions[province]}}
        if direct:
            entry["hosts"] = direct
        if cities:
            entry["children"] = {
                city: {"hosts": members[city], "vars": {"region": groups.regions[city]}}
                for city in cities
            }
        children[province] = entry
    all_vars: dict[str, Any] = {
        "egovnet_network": network.name,
        # a reference: Ansible reads the variable at run time, nothing is written here
        "egovnet_password_env": env_name(DEVICE_PASSWORD),
    }
    key = ["-i", login.key_file] if login.key_file else []
    if login.key_file:
        all_vars["ansible_ssh_private_key_file"] = login.key_file
    # a one-shot command on the node's login, from the controller (templated per host)
    all_vars["egovnet_ssh"] = [
        "ssh", *key, "-p", "{{ ansible_port | string }}", "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR", "{{ ansible_user }}@{{ ansible_host }}", PACKET_FILTER_COMMAND,
    ]  # fmt: skip
    document = {"all": {"vars": all_vars, "hosts": hostvars, "children": children}}
    return {"hosts.yml": _dump(document)}


def export_inventory(
    network: Network, fmt: Format, login: Login, platform: str | None = None
) -> dict[str, str]:
    """The files (name -> text) of `network`'s inventory in `fmt`. Pure: nothing is written.
    An unknown `platform` is `UnknownPlatformError` before anything is built."""
    if platform is not None:
        platforms.platform(platform)
    if fmt == "nornir":
        return nornir_files(network, login, platform)
    return ansible_files(network, login, platform)
