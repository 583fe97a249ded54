"""The service zone's rules on device configs: hub and spoke, service ports only.

* `service-no-transit`: the service zone's routing instance holds routes to the granted
  zones' pools and the service hosts' subnets only (and runs no BGP of its own), and a
  zone's instance routes nothing but the service subnets into the service zone: any other
  route there is a way from one zone to another (or to the underlay) through it;
* `service-ports-only`: what enters the service zone from a zone (FRR in the lab: a service
  link, `zone<vlan>`) meets a filter that admits new flows to the service hosts on the
  service ports and nothing else.

Read from the parsed configs (`egovnet.configs.model`); the lab's construct is that of
`egovnet.render.services`. Vendor configs carry the service zone as route-target imports,
which the model does not read yet: at their nodes these rules see nothing to judge.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from ipaddress import IPv4Address, IPv4Network

from egovnet.configs.model import AddressMatch, DeviceConfig, Flow
from egovnet.model import Network
from egovnet.render.services import SERVICE_END, SERVICE_LINKS, ZONE_END
from isolation.findings import Finding

SOURCE = "config"
OTHER_PORTS = (("tcp", 22), ("tcp", 80), ("tcp", 443), ("tcp", 8080), ("udp", 161), ("udp", 123))
"""Ports a service host may listen on that no zone may reach (unless they are service
ports): SSH, web, SNMP, NTP; and any protocol (`ip`) is asked too."""


def _inside(prefix: IPv4Network, allowed: list[IPv4Network]) -> bool:
    return any(prefix.subnet_of(net) for net in allowed)


def service_findings(network: Network, configs: Mapping[str, DeviceConfig]) -> Iterator[Finding]:
    """Both rules at every service node whose config is at hand."""
    service = network.service_zone
    if service is None:
        return
    granted = [network.pool(zone) for zone in service.access]
    prefixes = list(service.prefixes)
    allowed = [*granted, *prefixes, SERVICE_LINKS]
    ports: set[tuple[str, int]] = {(p.protocol, p.port) for p in service.ports}
    for name in service.nodes:
        config = configs.get(name)
        if config is None:
            continue
        yield from _routes(config, service.name, allowed, prefixes)
        yield from _filters(config, service.name, [h.address.ip for h in service.hosts_at(name)],
                            ports)  # fmt: skip


def _routes(
    config: DeviceConfig, vrf: str, allowed: list[IPv4Network], prefixes: list[IPv4Network]
) -> Iterator[Finding]:
    links = {
        str(i.address.ip)
        for i in config.interfaces.values()
        if i.vrf == vrf and i.address is not None and i.address.ip in SERVICE_LINKS
    }
    for route in config.statics:
        if route.vrf == vrf and not _inside(route.prefix, allowed):
            yield Finding(
                "service-no-transit",
                config.host,
                vrf,
                str(route.prefix),
                f"{route.where}: the service zone routes {route.prefix}, beyond the granted "
                "zones' pools and the service hosts",
                SOURCE,
            )
        elif (
            route.vrf != vrf
            and str(route.next_hop) in links
            and not _inside(route.prefix, prefixes)
        ):
            yield Finding(
                "service-no-transit",
                config.host,
                route.vrf,
                str(route.prefix),
                f"{route.where}: zone {route.vrf} routes {route.prefix} into the service zone",
                SOURCE,
            )
    instance = config.bgp.get(vrf)
    if instance is not None and (instance.neighbors or instance.redistribute):
        yield Finding(
            "service-no-transit",
            config.host,
            vrf,
            f"bgp vrf {vrf}",
            f"{config.file}: BGP in the service zone may learn any zone's routes",
            SOURCE,
        )


def _filters(
    config: DeviceConfig, vrf: str, hosts: list[IPv4Address], ports: set[tuple[str, int]]
) -> Iterator[Finding]:
    for interface in config.interfaces.values():
        if interface.vrf != vrf or not _is_service_end(interface.name):
            continue
        packet_filter = config.filters.get(interface.inbound_filter or "")
        for host in hosts:
            target = AddressMatch.of(IPv4Network(host))
            asked = [(p, n) for p, n in OTHER_PORTS if (p, n) not in ports]
            flows = [Flow(destination=target, protocol=p, destination_port=n) for p, n in asked]
            flows.append(Flow(destination=target, protocol="icmp"))
            for flow in flows:
                verdict = packet_filter.admits(flow) if packet_filter else True
                if verdict is None or verdict is False:
                    continue
                what = f"{flow.protocol}/{flow.destination_port or 'any'}"
                evidence = (
                    f"{verdict.where}" if verdict is not True and verdict.where else
                    f"{config.file}: {interface.name}: "
                    + ("no filter" if packet_filter is None else "the filter's default")
                )  # fmt: skip
                yield Finding(
                    "service-ports-only",
                    config.host,
                    vrf,
                    f"{interface.name} -> {host} {what}",
                    f"{evidence}: admits {what} to service host {host}",
                    SOURCE,
                )
                break  # one finding per interface and host is enough to repair it


def _is_service_end(name: str) -> bool:
    """`zone<vlan>`: the service zone's end of a service link."""
    head = SERVICE_END.split("{", 1)[0]
    return name.startswith(head) and name[len(head) :].isdigit() and ZONE_END != SERVICE_END
