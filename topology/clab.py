"""A containerlab topology (`.clab.yml`) from the network model.

One file, two runners: users with containerlab deploy it there; egovnet's own namespace
runner (`lab/`, being built) is to deploy the same file on machines without Docker. So the
file says everything a runner needs and nothing only one of them understands:

* one `linux` node per router, FRR image, its rendered FRR config bound as the startup config,
  its management address, and labels naming tier, region and the platform it stands in for;
* one node per department host and one for the simulated internet, with no management
  interface at all (`network-mode: none`): a management bridge to them would be a second path
  past the routers and would make isolation tests pass falsely;
* links with the interface names the rendered configs use: one veth per link and routing
  instance, named as the lab's platform names them in the registry (`egovnet.platforms.LAB`:
  `ethN` for the underlay, `ethN.VLAN` per zone); `exec` commands move each zone's
  interfaces into the zone's namespace (FRR's netns VRF backend).

`clab_topology` is pure (model in, plain data out); `write_clab` writes YAML.
"""

from __future__ import annotations

from ipaddress import IPv4Interface
from pathlib import Path
from typing import Any

import yaml

from egovnet import platforms
from egovnet.model import GLOBAL, Network, Node
from egovnet.render.packet_filter import PREFIX
from egovnet.render.services import service_at
from egovnet.secret_files import private_directory
from topology.dns import NAMED_DIR, forwarder_named, internet_named, named_exec

FRR_IMAGE = "quay.io/frrouting/frr:8.4.4"
"""The FRR release Debian 12 ships, so both runners run the same routing code."""
HOST_IMAGE = "alpine:3.20"
INTERNET_NODE = "internet"
INTERNET_SERVER = IPv4Interface("198.19.255.254/32")
"""A host 'on the internet' for reachability probes: inside 198.18.0.0/15, the benchmarking
range the lab uses as its simulated internet, never routed off this machine."""
DAEMONS_FILE = "daemons"
DAEMONS = """\
# FRR daemons for egovnet lab routers (written by `egovnet topology clab`)
zebra=yes
bgpd=yes
staticd=yes
vtysh_enable=yes
zebra_options="  -A 127.0.0.1 -s 90000000 -n"
bgpd_options="   -A 127.0.0.1"
staticd_options="-A 127.0.0.1"
"""
CONFIG_DIR = "configs"
"""Where the rendered FRR configs sit, relative to the topology file."""
DNS_DIR = "dns"
"""Where each DNS host's named files sit (`dns/<host>/`), relative to the topology file."""
RESOLV_DIR = "resolv"
"""`dns/resolv/<zone>.conf`: bound over a department host's /etc/resolv.conf."""
LAB_SERIAL = 1
"""The SOA serial of the lab's zones: every lab starts from its own fresh copy."""
DNS_IMAGE = "internetsystemsconsortium/bind9:9.18"
"""BIND 9.18, the release Debian 12 ships, for DNS hosts under containerlab."""


def department_host(node: Node, department: str) -> str:
    """The topology name of a department's host.

    >>> from types import SimpleNamespace
    >>> department_host(SimpleNamespace(name="zhengding"), "caizhengju")  # type: ignore[arg-type]
    'zhengding-caizhengju'
    """
    return f"{node.name}-{department}"


def _labels(node: Node) -> dict[str, str]:
    labels = {
        "egovnet-role": "router",
        "egovnet-tier": node.tier,
        "egovnet-region": node.region,
        "egovnet-platform": node.platform,
    }
    for key in ("province", "city", "county"):
        value = getattr(node, key)
        if value:
            labels[f"egovnet-{key}"] = value
    return labels


def _zone_setup(network: Network, node: Node) -> list[str]:
    """Commands that put a router's zone interfaces into its zone namespaces (FRR's netns VRF
    backend: a VRF is a namespace named after the zone), then restart FRR so that its
    config, loaded before the namespaces existed, binds them."""
    naming = platforms.lab_platform().naming
    moved: dict[str, list[str]] = {zone: [] for zone in node.zones}
    for link in network.links_of(node.name):
        port = link.upper.port if link.upper.host == node.name else link.lower.port
        for instance in link.subnets:
            if instance != GLOBAL:
                vlan = network.zone(instance).vlan
                moved[instance].append(naming.subinterface_name(naming.port_name(port), vlan))
    for dept in node.departments:
        moved[dept.zone].append(naming.department_name(dept.vlan))
    if node.internet is not None:  # the exit's internet port sits in the internet zone's VRF
        moved[node.internet.zone].append(naming.port_name(node.internet.port))
    service = service_at(network, node)
    if service is not None:  # the service zone's own namespace, and one veth per granted zone
        moved[service.vrf] = [naming.department_name(host.vlan) for host in service.hosts]
        for service_link in service.links:
            moved[service_link.zone].append(service_link.zone_interface)
            moved[service.vrf].append(service_link.service_interface)
    commands: list[str] = []
    for zone, interfaces in moved.items():
        commands.append(f"ip netns add {zone}")
        commands += [f"ip link set {name} netns {zone}" for name in sorted(interfaces)]
        commands.append(f"ip netns exec {zone} ip link set lo up")
        commands += [f"ip netns exec {zone} ip link set {name} up" for name in sorted(interfaces)]
        commands.append(f"ip netns exec {zone} sysctl -qw net.ipv4.ip_forward=1")
    if node.internet is not None:
        commands += _exit_firewall(node.internet.zone)
    elif service is not None:
        commands += _exit_firewall(service.vrf)
    if commands:
        commands.append("/usr/lib/frr/frrinit.sh restart")
    return commands


def _exit_firewall(zone: str) -> list[str]:
    """Load the node's packet filter into a zone's namespace: the exit's firewall and NAT
    into its internet zone, a service node's filter into the service zone. The ruleset is
    the config's packet-filter section (`egovnet.render.packet_filter`), loaded by one
    `nft -f`. A bare config has none, and the node then has no ruleset until a rollout
    brings it."""
    pick = f"sed -n 's/^{PREFIX.rstrip()} \\{{0,1\\}}//p' /etc/frr/frr.conf 2>/dev/null"
    return [f'sh -c "{pick} | ip netns exec {zone} nft -f -"']


def _host_node(commands: list[str], labels: dict[str, str]) -> dict[str, Any]:
    """A plain host: no management interface, set up by `exec` commands."""
    return {
        "kind": "linux",
        "image": HOST_IMAGE,
        "network-mode": "none",
        "labels": labels,
        "exec": commands,
    }


def dns_hosts(network: Network) -> dict[str, dict[str, str]]:
    """Host node -> {file name: text} of every host that runs named in the lab: each service
    host with what `egovnet dns render` makes for it, and per exit the simulated internet's
    authoritative server and the exit's forwarder (topology/dns.py)."""
    files: dict[str, dict[str, str]] = {}
    service = network.service_zone
    if service is not None:
        from egovnet.render.dns import render_dns  # noqa: PLC0415 - jinja only when needed

        rendered = render_dns(network, LAB_SERIAL, NAMED_DIR)
        for host in service.hosts:
            if host.name in rendered:
                files[department_host(network.node(host.node), host.name)] = rendered[host.name]
    for node in network.nodes:
        if node.internet is None:
            continue
        files[f"{INTERNET_NODE}-{node.name}"] = internet_named(INTERNET_SERVER.ip)
        forwarder = forwarder_named(network, node, INTERNET_SERVER.ip)
        dept = next((d for d in node.departments if d.zone == node.internet.zone), None)
        if forwarder is not None and dept is not None:
            files[department_host(node, dept.name)] = forwarder
    return files


def _with_named(entry: dict[str, Any], host: str) -> dict[str, Any]:
    """A host node that also runs named: its files bound at NAMED_DIR, named started last."""
    return entry | {
        "image": DNS_IMAGE,
        "binds": [*entry.get("binds", []), f"{DNS_DIR}/{host}:{NAMED_DIR}"],
        "exec": [*entry["exec"], *named_exec()],
    }


def resolv_confs(network: Network) -> dict[str, str]:
    """Granted zone -> the resolv.conf of its department hosts: the service zone's
    resolvers, in inventory order (probes name their server; this is for a person's `dig`)."""
    service = network.service_zone
    if service is None:
        return {}
    servers = "".join(f"nameserver {h.address.ip}\n" for h in service.with_role("resolver"))
    text = f"# the extranet's resolvers (egovnet topology clab)\nsearch {service.domain}\n"
    return dict.fromkeys(service.access, text + servers)


def clab_topology(network: Network) -> dict[str, Any]:
    """The containerlab topology of `network` as plain data (see the module docstring)."""
    management = network.management_subnet
    nodes: dict[str, Any] = {}
    links: list[dict[str, Any]] = []
    for node in network.nodes:
        entry: dict[str, Any] = {
            "kind": "linux",
            "image": FRR_IMAGE,
            "mgmt-ipv4": str(node.management.ip),
            "binds": [
                f"{CONFIG_DIR}/{node.name}.cfg:/etc/frr/frr.conf",
                f"{CONFIG_DIR}/{DAEMONS_FILE}:/etc/frr/daemons",
            ],
            "labels": _labels(node),
        }
        setup = _zone_setup(network, node)
        if setup:
            entry["exec"] = setup
        nodes[node.name] = entry
    naming = platforms.lab_platform().naming
    named = dns_hosts(network)
    resolv = resolv_confs(network)

    def interface(port: int, instance: str) -> str:
        name = naming.port_name(port)
        if instance == GLOBAL:
            return name
        return naming.subinterface_name(name, network.zone(instance).vlan)

    for link in network.links:
        # one veth per routing instance: the physical port for the underlay, `ethN.VLAN` for
        # each zone (802.1Q on real gear; a veth of its own in the lab, whose kernels may
        # lack 802.1Q, and which can then live in the zone's namespace)
        for instance in link.subnets:
            links.append(
                {
                    "endpoints": [
                        f"{link.upper.host}:{interface(link.upper.port, instance)}",
                        f"{link.lower.host}:{interface(link.lower.port, instance)}",
                    ]
                }
            )
    for node in network.nodes:
        service = service_at(network, node)
        for service_link in service.links if service else ():
            # both ends on the node: the exec commands move them into their namespaces
            links.append(
                {
                    "endpoints": [
                        f"{node.name}:{service_link.zone_interface}",
                        f"{node.name}:{service_link.service_interface}",
                    ]
                }
            )
        for host_spec in service.hosts if service else ():
            host = department_host(node, host_spec.name)
            commands = [
                f"ip address add {host_spec.address} dev eth1",
                f"ip route add default via {host_spec.gateway.ip}",
            ]
            labels = {
                "egovnet-role": "service",
                "egovnet-zone": service.vrf if service else "",
                "egovnet-node": node.name,
            }
            nodes[host] = _host_node(commands, labels)
            if host in named:
                nodes[host] = _with_named(nodes[host], host)
            router_end = f"{node.name}:{naming.department_name(host_spec.vlan)}"
            links.append({"endpoints": [router_end, f"{host}:eth1"]})
        for dept in node.departments:
            host = department_host(node, dept.name)
            labels = {
                "egovnet-role": "department",
                "egovnet-zone": dept.zone,
                "egovnet-node": node.name,
            }
            commands = [
                f"ip address add {dept.host} dev eth1",
                f"ip route add default via {dept.gateway.ip}",
            ]
            nodes[host] = _host_node(commands, labels)
            if dept.zone in resolv:
                nodes[host]["binds"] = [f"{DNS_DIR}/{RESOLV_DIR}/{dept.zone}.conf:/etc/resolv.conf"]
            if host in named:
                nodes[host] = _with_named(nodes[host], host)
            router_end = f"{node.name}:{naming.department_name(dept.vlan)}"
            links.append({"endpoints": [router_end, f"{host}:eth1"]})
        if node.internet is not None:
            name = f"{INTERNET_NODE}-{node.name}"
            # The internet knows nothing of the extranet: only the /31 it shares with the exit
            # (the exit NATs public-zone traffic to its own address on that /31).
            commands = [
                f"ip address add {IPv4Interface((int(node.internet.next_hop), 31))} dev eth1",
                f"ip address add {INTERNET_SERVER} dev lo",
            ]
            nodes[name] = _host_node(
                commands, {"egovnet-role": "internet", "egovnet-node": node.name}
            )
            if name in named:
                nodes[name] = _with_named(nodes[name], name)
            router_end = f"{node.name}:{naming.port_name(node.internet.port)}"
            links.append({"endpoints": [router_end, f"{name}:eth1"]})
    # the inventory's lab name: the lab runner marks everything it creates with it
    return {
        "name": network.lab_name,
        "mgmt": {
            "network": f"{network.lab_name}-mgmt",
            "ipv4-subnet": str(management),
            "ipv4-gw": str(network.management_station),
        },
        "topology": {"nodes": nodes, "links": links},
    }


def render_clab(network: Network) -> str:
    """The topology as YAML text, stable from run to run."""
    header = (
        f"# containerlab topology of {network.name}, generated by `egovnet topology clab`\n"
        f"# from {network.source}; edit the inventory, not this file.\n"
    )
    return header + yaml.safe_dump(
        clab_topology(network), allow_unicode=True, sort_keys=False, width=120
    )


def write_clab(network: Network, path: Path) -> Path:
    """Write the topology file, the FRR daemons file it binds (`<its folder>/configs/`) and
    the named files of its DNS hosts (`<its folder>/dns/<host>/`).

    The router configs themselves are written by the renderer into the same folder, which
    is therefore made private (0700): configs may hold secrets.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    private_directory(path.parent / CONFIG_DIR)
    (path.parent / CONFIG_DIR / DAEMONS_FILE).write_text(DAEMONS, encoding="utf-8")
    for host, files in dns_hosts(network).items():
        folder = path.parent / DNS_DIR / host
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    for zone, text in resolv_confs(network).items():
        (path.parent / DNS_DIR / RESOLV_DIR).mkdir(parents=True, exist_ok=True)
        (path.parent / DNS_DIR / RESOLV_DIR / f"{zone}.conf").write_text(text, encoding="utf-8")
    path.write_text(render_clab(network), encoding="utf-8")
    return path
