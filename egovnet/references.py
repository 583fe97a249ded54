"""Cross-references of `network.yaml`'s services to the hosts and addresses of the network.

The shapes are pydantic's; what only the whole network can tell is checked here, once the
nodes are allocated, so that every part can trust the model: the exporter polls with v2c
only hosts that exist, an SNMP user name means one user, and a service address is a server's
(a router's own address as the NTP, syslog or AAA server would loop a device onto itself).
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address

from egovnet.drafts import NETWORK, LoadContext
from egovnet.model import Node
from egovnet.schema import NetworkSpec
from egovnet.yamlio import line_of


def check_services(loader: LoadContext, spec: NetworkSpec, nodes: Iterable[Node]) -> None:
    """Report services entries naming a host that does not exist, an SNMP user twice, or a
    router's address as a server."""
    document = loader.docs.get(NETWORK)
    file = loader.file(NETWORK)
    services = spec.services

    def add(path: tuple[str | int, ...], message: str) -> None:
        field = ".".join(str(p) for p in ("services", *path))
        loader.problems.add(file, field, message, line=line_of(document, ("services", *path)))

    nodes = list(nodes)
    names = {node.name for node in nodes}
    if services.snmp.v2c is not None:
        for index, host in enumerate(services.snmp.v2c.hosts):
            if host not in names:
                add(("snmp", "v2c", "hosts", index), f"no host '{host}' in hosts.yaml")
    seen: set[str] = set()
    for index, user in enumerate(services.snmp.users):
        if user.name in seen:
            add(("snmp", "users", index, "name"), f"SNMP user '{user.name}' is defined twice")
        seen.add(user.name)
    routers = _router_addresses(nodes)
    plan = spec.address_plan
    servers: list[tuple[tuple[str | int, ...], IPv4Address]] = [
        *((("ntp", i), a) for i, a in enumerate(services.ntp)),
        *((("syslog", i), a) for i, a in enumerate(services.syslog)),
        *((("aaa", "servers", i), a) for i, a in enumerate(services.aaa.servers)),
    ]
    for path, address in servers:
        owner = routers.get(address)
        if owner is None and (address in plan.loopbacks or address in plan.links):
            pool = "loopbacks" if address in plan.loopbacks else "links"
            owner = f"in address_plan.{pool}, which only routers use"
        if owner is not None:
            add(path, f"{address} is a router's address ({owner}): name a server's address")


def _router_addresses(nodes: Iterable[Node]) -> dict[IPv4Address, str]:
    """Every address a router answers on outside its links -> what it is, for messages."""
    owners: dict[IPv4Address, str] = {}
    for node in nodes:
        owners[node.loopback] = f"loopback of {node.name}"
        owners[node.management.ip] = f"management address of {node.name}"
        for dept in node.departments:
            owners[dept.gateway.ip] = f"gateway of {node.name}'s department {dept.name}"
        if node.internet is not None:
            owners[node.internet.address.ip] = f"internet uplink of {node.name}"
    return owners
