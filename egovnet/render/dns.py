"""The extranet's DNS as BIND 9 files, from the model: a pure function, texts out.

Per service host (`network.service_zone.hosts`) a `named.conf` and, on the primary, the zone
files; `egovnet dns render` writes them. The layout (docs/services.md, "DNS"):

* view `private` matches the granted zones without internet (and the service pool, the
  management network and the loopbacks: the service hosts themselves, the NOC, routers). It
  holds the extranet zone and the reverse zones and has `recursion no`: an internet name is
  REFUSED at once, nothing is forwarded and no query leaves for the internet.
* view `public` matches the granted internet zones. It shares the same zones (`in-view`, one
  copy per server) and recurses for everything else only through the forwarders at the
  unified exit (`forward only`: never toward the root servers).
* the primary (`authoritative`) holds the zone files, notifies the secondaries and lets
  only them transfer; a `secondary` transfers from the primary only and lets nobody
  transfer from it.

The extranet zone names every node's loopback (`<node>.<domain>`) and management address
(`<node>.mgmt.<domain>`), every department's host (`<dept>.<node>.<domain>`) and the service
hosts (`dns1.<domain>`); the reverse zones (in-addr.arpa, cut on octet boundaries) give the
same names back for the loopback, management, zone and service pools.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network

from egovnet.errors import EgovnetError
from egovnet.model import Network, ServiceHost, ServiceZone
from egovnet.render.engine import environment

DEFAULT_CONF_DIR = "/etc/bind"
"""Where the files are installed on a service host (Debian's bind9 folder)."""
CACHE_DIR = "/var/cache/bind"
"""named's working folder: where a secondary keeps its transferred copies."""
TTL = 300
SOA_TIMERS = (3600, 600, 1209600, 300)
"""refresh, retry, expire, negative TTL: a secondary checks hourly, keeps answering for two
weeks without its primary (RFC 1912 2.2 ranges)."""
PRIVATE_VIEW, PUBLIC_VIEW = "private", "public"


@dataclass(frozen=True)
class Record:
    """One resource record; `name` relative to the zone's origin (`@` for the apex)."""

    name: str
    kind: str
    value: str


@dataclass
class ZoneData:
    """One zone the primary serves, with its records (SOA and NS are added by the template)."""

    origin: str
    file: str
    records: list[Record] = field(default_factory=list)


@dataclass(frozen=True)
class ZoneRef:
    """A zone statement in a view: `primary` with its file, or `secondary` of `primaries`."""

    name: str
    kind: str
    file: str
    primaries: tuple[str, ...] = ()
    transfer_to: tuple[str, ...] = ()
    """Primary: the secondaries it notifies and lets transfer."""
    in_view: str | None = None


@dataclass(frozen=True)
class View:
    name: str
    clients: tuple[str, ...]
    recursion: bool
    forwarders: tuple[str, ...]
    zones: tuple[ZoneRef, ...]


@dataclass(frozen=True)
class HostConf:
    """What one service host's `named.conf` says."""

    host: ServiceHost
    listen: str
    views: tuple[View, ...]


def label(name: str) -> str:
    """A host or department name as a DNS label: `_` is not allowed in host names (RFC 952,
    BIND's check-names), so it becomes `-`.

    >>> label("she_bao")
    'she-bao'
    """
    return name.replace("_", "-")


def reverse_zones(pool: IPv4Network) -> list[IPv4Network]:
    """The in-addr.arpa zones of a pool: cut on the next octet boundary (a /14 is four /16
    zones); a pool smaller than a /24 lives in its /24's zone.

    >>> [str(n) for n in reverse_zones(IPv4Network("10.132.192.0/23"))]
    ['10.132.192.0/24', '10.132.193.0/24']
    """
    boundary = min(max(-(-pool.prefixlen // 8) * 8, 8), 24)
    if pool.prefixlen > boundary:
        return [pool.supernet(new_prefix=boundary)]
    return list(pool.subnets(new_prefix=boundary))


def reverse_name(net: IPv4Network) -> str:
    """`IPv4Network("10.80.0.0/16")` -> `80.10.in-addr.arpa`."""
    octets = str(net.network_address).split(".")[: net.prefixlen // 8]
    return ".".join(reversed(octets)) + ".in-addr.arpa"


def _ptr_owner(address: IPv4Address, zone: IPv4Network) -> str:
    octets = str(address).split(".")[zone.prefixlen // 8 :]
    return ".".join(reversed(octets))


def _names(network: Network, service: ServiceZone) -> Iterator[tuple[str, IPv4Address]]:
    """(name relative to the domain, address) of every name the extranet zone holds."""
    seen: dict[str, str] = {}

    def unique(name: str, what: str) -> str:
        if name in seen:
            raise EgovnetError(
                f"DNS name '{name}.{service.domain}' is both {seen[name]} and {what}"
            )
        seen[name] = what
        return name

    for host in service.hosts:
        yield unique(label(host.name), f"service host {host.name}"), host.address.ip
    for node in network.nodes:
        node_label = label(node.name)
        yield unique(node_label, f"the loopback of {node.name}"), node.loopback
        yield unique(f"{node_label}.mgmt", f"the management of {node.name}"), node.management.ip
        for dept in node.departments:
            name = f"{label(dept.name)}.{node_label}"
            yield unique(name, f"department {dept.name} of {node.name}"), dept.host.ip


def zones_of(network: Network) -> list[ZoneData]:
    """The extranet zone and its reverse zones, records in a stable order."""
    service = network.service_zone
    if service is None:
        raise EgovnetError("network.yaml has no service_zone: there is no DNS to render")
    forward = ZoneData(service.domain, f"db.{service.domain}")
    pools = [network.loopback_pool, network.management_subnet]
    pools += [zone.pool for zone in network.zones]
    pools.append(service.pool)
    reverse: dict[IPv4Network, ZoneData] = {}
    for pool in pools:
        for net in reverse_zones(pool):
            name = reverse_name(net)
            reverse.setdefault(net, ZoneData(name, f"db.{name}"))
    ordered = sorted(reverse, key=lambda n: (int(n.network_address), n.prefixlen))
    index = {(int(net.network_address), net.prefixlen): net for net in ordered}
    for name, address in _names(network, service):
        forward.records.append(Record(name, "A", str(address)))
        zone = _reverse_of(address, index)
        if zone is not None:
            reverse[zone].records.append(
                Record(_ptr_owner(address, zone), "PTR", f"{name}.{service.domain}.")
            )
    return [forward, *(reverse[net] for net in ordered)]


def _reverse_of(
    address: IPv4Address, zones: dict[tuple[int, int], IPv4Network]
) -> IPv4Network | None:
    """The most specific reverse zone holding `address` (zones keyed by integer network and
    prefix length: a national zone has tens of thousands of addresses to place)."""
    value = int(address)
    for prefixlen in (24, 16, 8):
        net = zones.get((value >> (32 - prefixlen) << (32 - prefixlen), prefixlen))
        if net is not None:
            return net
    return None


def host_confs(network: Network, zones: list[ZoneData]) -> list[HostConf]:
    """Every service host's views (see the module docstring)."""
    service = network.service_zone
    assert service is not None  # noqa: S101 - zones_of refused a network without one
    primary = next(iter(service.with_role("authoritative")), None)
    secondaries = tuple(str(h.address.ip) for h in service.with_role("secondary"))
    granted = [network.zone(name) for name in service.access]
    private_clients = [str(z.pool) for z in granted if not z.internet]
    private_clients += [str(service.pool), str(network.management_subnet)]
    private_clients.append(str(network.loopback_pool))
    public_clients = tuple(str(z.pool) for z in granted if z.internet)
    forwarders = tuple(str(a) for a in service.forwarders)
    confs = []
    for host in service.hosts:
        if not ({"authoritative", "secondary"} & set(host.roles)):
            continue  # a resolver only: room for one; today every host serves the zone
        refs = []
        for zone in zones:
            if "authoritative" in host.roles:
                refs.append(ZoneRef(zone.origin, "primary", zone.file, transfer_to=secondaries))
            else:
                assert primary is not None  # noqa: S101 - the loader refuses a lone secondary
                refs.append(
                    ZoneRef(zone.origin, "secondary", zone.file, (str(primary.address.ip),))
                )
        views = [View(PRIVATE_VIEW, tuple(private_clients), False, (), tuple(refs))]
        if public_clients and "resolver" in host.roles:
            shared = tuple(ZoneRef(r.name, "in-view", r.file, in_view=PRIVATE_VIEW) for r in refs)
            views.append(View(PUBLIC_VIEW, public_clients, bool(forwarders), forwarders, shared))
        confs.append(HostConf(host, str(host.address.ip), tuple(views)))
    return confs


def render_dns(
    network: Network, serial: int, conf_dir: str = DEFAULT_CONF_DIR
) -> dict[str, dict[str, str]]:
    """{service host: {file name: text}}: `named.conf` for every host that serves the zone,
    the zone files beside it on the primary. `conf_dir` is where the files will be installed
    (the paths inside `named.conf`); `serial` the zones' SOA serial (increase it on change).
    """
    if not 1 <= serial <= 0xFFFFFFFF:
        raise EgovnetError(f"SOA serial {serial} is not a 32-bit unsigned number")
    service = network.service_zone
    zones = zones_of(network)
    assert service is not None  # noqa: S101 - zones_of refused a network without one
    env = environment()
    conf_template = env.get_template("dns/named.conf.j2")
    zone_template = env.get_template("dns/zone.j2")
    servers = [h for h in service.hosts if {"authoritative", "secondary"} & set(h.roles)]
    primary = next(iter(service.with_role("authoritative")), None)
    soa_host = f"{label(primary.name)}.{service.domain}." if primary else "."
    out: dict[str, dict[str, str]] = {}
    for conf in host_confs(network, zones):
        files = {
            "named.conf": conf_template.render(
                c=conf, conf_dir=conf_dir.rstrip("/"), cache_dir=CACHE_DIR, network=network
            )
        }
        if "authoritative" in conf.host.roles:
            for zone in zones:
                files[zone.file] = zone_template.render(
                    zone=zone,
                    ttl=TTL,
                    soa_host=soa_host,
                    contact=f"hostmaster.{service.domain}.",
                    serial=serial,
                    timers=SOA_TIMERS,
                    ns=[f"{label(h.name)}.{service.domain}." for h in servers],
                )
        out[conf.host.name] = files
    return out
