"""The service zone at one node, as FRR in the lab builds it: decisions made once here.

Vendor gear joins a granted zone's VPN instance to the service zone's with route targets
and route policies: routes are imported across instances and the forwarding plane follows
them. FRR can do the same in BGP (`import vrf`, with route maps), but not in the lab's
netns VRF backend: there a VRF is a network namespace, and a route whose next hop lives in
another namespace cannot be installed in the kernel (zebra: "Nexthop has invalid gateway",
"Route install failed"; bgpd shows the imported path as best all the same). There is no
kernel path between namespaces. So the lab wires what the kernel can forward
(docs/services.md, "In the lab"):

* a **service link** per granted zone at each service node: a veth between the zone's
  namespace (`svc<zone vlan>`) and the service zone's (`zone<zone vlan>`), a /31 from
  `SERVICE_LINKS` (link-local space: never announced, meaningful on the node only);
* in the zone's VRF a static route to each local service host's subnet over the link,
  originated into the zone's BGP (`network`): the zone's routers learn the service prefixes
  and nothing else of the service zone (every zone's prefix lists pass them, exactly);
* in the service VRF the granted zones' pools routed back over their links, and the other
  service nodes' host subnets over the first granted zone's link (zone transfers and
  NOTIFY between primary and secondary ride that zone);
* an nftables ruleset in the service zone's namespace, carried as the config's packet-filter
  section: from a service link only the service ports to the service addresses (and replies);
  nothing from one service link to another, so no zone reaches another through the service
  zone; the service hosts themselves may open flows (a resolver asks the exit's forwarder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from egovnet.errors import EgovnetError
from egovnet.model import Network, Node, ServiceHost

SERVICE_LINKS = IPv4Network("169.254.0.0/24")
"""Service-link /31s, by granted zone: zone end `.2i`, service end `.2i+1`."""
ZONE_END = "svc{vlan}"
SERVICE_END = "zone{vlan}"
TABLE = "egovnet_services"


@dataclass(frozen=True)
class ServiceLink:
    """One granted zone's veth to the service zone at a node."""

    zone: str
    zone_interface: str
    zone_address: IPv4Interface
    service_interface: str
    service_address: IPv4Interface


@dataclass
class ServiceAtNode:
    """What a service node configures for the service zone (see the module docstring)."""

    vrf: str
    hosts: list[ServiceHost]
    links: list[ServiceLink]
    zone_statics: dict[str, list[tuple[IPv4Network, IPv4Address]]] = field(default_factory=dict)
    """Granted zone -> (local service subnet, next hop on its service link)."""
    service_statics: list[tuple[IPv4Network, IPv4Address]] = field(default_factory=list)
    """In the service VRF: granted pools and remote service subnets, over a service link."""
    ruleset: str = ""


def link_of(network: Network, zone: str) -> tuple[IPv4Interface, IPv4Interface]:
    """(zone end, service end) addresses of `zone`'s service link, the same at every node.

    >>> from types import SimpleNamespace as S
    >>> net = S(service_zone=S(access=("private", "public")))
    >>> [str(a) for a in link_of(net, "public")]  # type: ignore[arg-type]
    ['169.254.0.2/31', '169.254.0.3/31']
    """
    service = network.service_zone
    assert service is not None  # noqa: S101 - only asked at service nodes
    index = service.access.index(zone)
    base = int(SERVICE_LINKS.network_address) + 2 * index
    return IPv4Interface((base, 31)), IPv4Interface((base + 1, 31))


def granted_at(network: Network, node: Node) -> list[str]:
    """The granted zones present at `node`, in `access` order."""
    service = network.service_zone
    if service is None:
        return []
    return [zone for zone in service.access if zone in node.zones]


def service_at(network: Network, node: Node) -> ServiceAtNode | None:
    """The service zone's construct at `node`; None where it holds no service host."""
    service = network.service_zone
    if service is None or node.name not in service.nodes:
        return None
    if node.internet is not None:
        raise EgovnetError(
            f"{node.name}: service hosts at the internet exit are not supported on FRR "
            "(the exit's namespace filter is the config's one packet-filter section)"
        )
    hosts = list(service.hosts_at(node.name))
    vlans = {zone.name: zone.vlan for zone in network.zones}
    links: list[ServiceLink] = []
    built = ServiceAtNode(service.name, hosts, links)
    for zone in granted_at(network, node):
        zone_end, service_end = link_of(network, zone)
        links.append(
            ServiceLink(
                zone,
                ZONE_END.format(vlan=vlans[zone]),
                zone_end,
                SERVICE_END.format(vlan=vlans[zone]),
                service_end,
            )
        )
        built.zone_statics[zone] = [(host.prefix, service_end.ip) for host in hosts]
        built.service_statics.append((network.pool(zone), zone_end.ip))
    if links:
        local = {host.prefix for host in hosts}
        built.service_statics += [
            (host.prefix, links[0].zone_address.ip)
            for host in service.hosts
            if host.prefix not in local
        ]
    built.ruleset = ruleset(network, built)
    return built


def ruleset(network: Network, at: ServiceAtNode) -> str:
    """The service zone namespace's filter, as `nft list ruleset` prints it."""
    service = network.service_zone
    assert service is not None  # noqa: S101 - built for a service node only
    lines = [
        f"table inet {TABLE} {{",
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy drop;",
        "\t\tct state established,related accept",
    ]
    for link in at.links:
        for host in at.hosts:  # a remote service host is reached over the zone's own routes
            for port in service.ports:
                lines.append(
                    f'\t\tiifname "{link.service_interface}" ip daddr {host.address.ip} '
                    f"{port.protocol} dport {port.port} accept"
                )
    for host in at.hosts:
        lines.append(f'\t\tiifname "{_host_interface(host)}" accept')
    lines += ["\t}", "}"]
    return "\n".join(lines) + "\n"


def _host_interface(host: ServiceHost) -> str:
    """A service host's gateway interface on the lab platform (a department's naming)."""
    from egovnet import platforms  # noqa: PLC0415 - the registry imports render lazily

    return platforms.lab_platform().naming.department_name(host.vlan)


def packet_filter_netns(network: Network, node: Node) -> str | None:
    """The namespace whose nftables ruleset is an FRR node's packet-filter section: the
    exit's internet zone, a service node's service zone; None for other nodes. What the
    FRR driver reads and applies (backup, rollout, enforce over SSH)."""
    if node.internet_zone is not None:
        return node.internet_zone
    service = network.service_zone
    return service.name if service is not None and node.name in service.nodes else None
