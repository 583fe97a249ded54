"""The shared service zone of `network.yaml`, checked against the network and allocated.

`schema.ServiceZoneSpec` is what a person writes; `build_service_zone` makes the
`model.ServiceZone` the loader puts in the model: every host with its slot, subnet, gateway,
address and VLAN, the granted zones filled in (default: every zone), the ports typed. What
only the whole network can tell is checked here, each problem naming file, field and line:
a host at a node that does not exist, a zone granted that does not exist, a name taken twice
(a service host called like a node would be two records of one DNS name), a subnet slot out
of the pool or taken twice, a VLAN that a zone or its departments already use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Interface

from egovnet.addressing import nth_subnet
from egovnet.drafts import NETWORK, LoadContext
from egovnet.model import GLOBAL, Node, ServiceHost, ServicePort, ServiceZone
from egovnet.schema import NetworkSpec, ServiceZoneSpec
from egovnet.yamlio import line_of

FIELD = "service_zone"


def check_service_zone(loader: LoadContext, spec: NetworkSpec, nodes: Sequence[Node]) -> None:
    """Report what the service zone names that does not exist or collides with the network.

    Pool overlaps with the other pools are checked with them (`allocation.check_pools`)."""
    service = spec.service_zone
    if service is None:
        return
    document = loader.docs.get(NETWORK)
    file = loader.file(NETWORK)

    def add(path: tuple[str | int, ...], message: str) -> None:
        field = ".".join(str(p) for p in (FIELD, *path))
        loader.problems.add(file, field, message, line=line_of(document, (FIELD, *path)))

    _check_names(add, spec, service)
    _check_hosts(add, service, {node.name for node in nodes}, loader.invalid_hosts)
    _check_vlans(add, spec, service, nodes)


Add = Callable[[tuple[str | int, ...], str], None]


def _check_names(add: Add, spec: NetworkSpec, service: ServiceZoneSpec) -> None:
    if service.name in spec.zones or service.name == GLOBAL:
        add(
            ("name",),
            f"'{service.name}' is already a routing instance: name the service zone apart",
        )
    for index, zone in enumerate(service.access or []):
        if zone not in spec.zones:
            add(("access", index), f"unknown zone '{zone}' (zones: {', '.join(spec.zones)})")
        elif zone in (service.access or [])[:index]:
            add(("access", index), f"zone '{zone}' is granted twice")
    seen_ports: set[str] = set()
    for index, port in enumerate(service.ports):
        if port in seen_ports:
            add(("ports", index), f"port '{port}' is listed twice")
        seen_ports.add(port)


def _check_hosts(
    add: Add, service: ServiceZoneSpec, node_names: set[str], invalid: set[str]
) -> None:
    cap = _slots(service)
    taken: dict[int, str] = {}
    primaries = [name for name, host in service.hosts.items() if "authoritative" in host.roles]
    for name, host in service.hosts.items():
        if host.node not in node_names and host.node not in invalid:
            add(("hosts", name, "node"), f"no host '{host.node}' in hosts.yaml")
        if name in node_names:
            add(
                ("hosts", name),
                f"service host '{name}' has the name of a node: "
                f"both would be '{name}.{service.domain}'",
            )
        if len(set(host.roles)) != len(host.roles):
            add(("hosts", name, "roles"), "a role is listed twice")
        if "authoritative" in host.roles and "secondary" in host.roles:
            add(
                ("hosts", name, "roles"),
                "a host is the primary (authoritative) or a secondary, not both",
            )
        if "secondary" in host.roles and not primaries:
            add(
                ("hosts", name, "roles"),
                "a secondary needs a primary: no host has role 'authoritative'",
            )
        if host.slot is not None:
            if host.slot >= cap:
                add(
                    ("hosts", name, "slot"),
                    f"slot {host.slot} is out of range 0..{cap - 1} (/{service.host_prefixlen}s "
                    f"in {service.pool})",
                )
            elif host.slot in taken:
                add(
                    ("hosts", name, "slot"),
                    f"slot {host.slot} is also taken by '{taken[host.slot]}'",
                )
            else:
                taken[host.slot] = name
    for name in primaries[1:]:
        add(("hosts", name, "roles"), f"'{primaries[0]}' is already the primary (authoritative)")
    free = cap - len(taken)
    if sum(1 for host in service.hosts.values() if host.slot is None) > free:
        add(("hosts",), f"pool exhausted: {service.pool} holds {cap} /{service.host_prefixlen}s")
    if service.host_prefixlen < service.pool.prefixlen:
        add(
            ("host_prefixlen",), f"/{service.host_prefixlen} is larger than the pool {service.pool}"
        )


def _check_vlans(
    add: Add, spec: NetworkSpec, service: ServiceZoneSpec, nodes: Sequence[Node]
) -> None:
    used_vlans = {zone.vlan: f"zones.{name}.vlan" for name, zone in spec.zones.items()}
    for node in nodes:
        for dept in node.departments:
            used_vlans.setdefault(dept.vlan, f"department '{dept.name}' of {node.name}")
    order = {slot: name for name, slot in _assign(service).items()}
    for slot, name in sorted(order.items()):
        vlan = service.vlan_base + slot
        if vlan > 4094:
            add(("hosts", name), f"VLAN {vlan} is past 4094: lower service_zone.vlan_base")
        elif vlan in used_vlans:
            add(
                ("hosts", name),
                f"VLAN {vlan} is already used by {used_vlans[vlan]}: move vlan_base",
            )


def _slots(service: ServiceZoneSpec) -> int:
    """How many host subnets the pool holds (1 when the prefix length is impossible)."""
    return max(1 << max(service.host_prefixlen - service.pool.prefixlen, 0), 1)


def _assign(service: ServiceZoneSpec) -> dict[str, int]:
    """Each host's slot: the written one, else the lowest free one in file order (as
    departments get theirs), so adding a host never moves one that is written first."""
    used = {host.slot for host in service.hosts.values() if host.slot is not None}
    free = (slot for slot in range(1 << 24) if slot not in used)
    return {
        name: host.slot if host.slot is not None else next(free)
        for name, host in service.hosts.items()
    }


def forwarders(nodes: Sequence[Node], exits: Sequence[str]) -> tuple[IPv4Address, ...]:
    """Each unified exit's forwarder: the host of the exit's first department in its internet
    zone (the sample's `dmz`); an exit without one has none."""
    by_name = {node.name: node for node in nodes}
    found: list[IPv4Address] = []
    for name in exits:
        node = by_name.get(name)
        if node is None or node.internet is None:
            continue
        zone = node.internet.zone
        dept = next((d for d in node.departments if d.zone == zone), None)
        if dept is not None:
            found.append(dept.host.ip)
    return tuple(found)


def build_service_zone(
    spec: NetworkSpec, nodes: Sequence[Node], exits: Sequence[str]
) -> ServiceZone | None:
    """The model's service zone (None without `service_zone:`); run after the checks."""
    service = spec.service_zone
    if service is None:
        return None
    slots = _assign(service)
    hosts: list[ServiceHost] = []
    for name, host in service.hosts.items():
        slot = slots[name]
        prefix = nth_subnet(service.pool, service.host_prefixlen, slot)
        base = int(prefix.network_address)
        hosts.append(
            ServiceHost(
                name=name,
                node=host.node,
                roles=tuple(host.roles),
                slot=slot,
                prefix=prefix,
                gateway=IPv4Interface((base + 1, prefix.prefixlen)),
                address=IPv4Interface((base + 2, prefix.prefixlen)),
                vlan=service.vlan_base + slot,
                description=host.description,
            )
        )
    granted = service.access if service.access is not None else list(spec.zones)
    ports = []
    for text in service.ports:
        protocol, port = text.split("/")
        ports.append(ServicePort(protocol="tcp" if protocol == "tcp" else "udp", port=int(port)))
    return ServiceZone(
        name=service.name,
        description=service.description,
        domain=service.domain,
        pool=service.pool,
        ports=tuple(ports),
        access=tuple(zone for zone in spec.zones if zone in granted),
        hosts=tuple(hosts),
        forwarders=forwarders(nodes, exits),
    )
