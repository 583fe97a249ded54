"""The lab's DNS around the extranet: what real `named` processes the lab runs, and with
which files, beside the inventory's own DNS (`egovnet dns render`).

The simulated internet behind each exit gets a tiny authoritative server for one test
internet name (`INTERNET_NAME`, on the internet server's address, inside 198.18.0.0/15), so
that public-zone resolution through the exit is real end to end: the exit's forwarder (in
the exit's first department of its internet zone, the DMZ) forwards every question to it,
through the exit's NAT like any public traffic. Nothing is ever asked of a real root server:
the forwarder is `forward only`, the internet server answers for its zone and refuses the
rest.

Pure (model in, file texts out): `topology.clab.dns_hosts` names the hosts, writes each
host's folder beside the topology file, binds it at `NAMED_DIR` and starts `named` there.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from egovnet.model import Department, Network, Node

INTERNET_DOMAIN = "internet.test"
"""RFC 6761's `.test`: never delegated, so no real resolver is ever asked."""
INTERNET_NAME = f"www.{INTERNET_DOMAIN}"
NAMED_DIR = "/etc/bind"
"""Where a DNS host's files are bound (the Debian and ISC images' config folder)."""
NAMED_CONF = f"{NAMED_DIR}/named.conf"
RUNTIME_DIRS = ("/var/cache/bind", "/run/named")
"""named's working and pid folders: a tmpfs of the host's own, so no lab `named` writes into
the machine's."""


def _options(listen: IPv4Address, body: str) -> str:
    return (
        "options {\n"
        '    directory "/var/cache/bind";\n'
        '    pid-file "/run/named/named.pid";\n'
        f"    listen-on {{ {listen}; }};\n"
        "    listen-on-v6 { none; };\n"
        "    dnssec-validation no;\n"
        f"{body}"
        "};\n"
        "controls { };\n"
    )


def internet_named(server: IPv4Address) -> dict[str, str]:
    """named.conf and the zone file of the simulated internet's authoritative server."""
    conf = _options(server, "    recursion no;\n    allow-query { any; };\n") + (
        f'zone "{INTERNET_DOMAIN}" {{\n'
        "    type primary;\n"
        f'    file "{NAMED_DIR}/db.{INTERNET_DOMAIN}";\n'
        "};\n"
    )
    zone = (
        "$TTL 300\n"
        f"@ IN SOA ns.{INTERNET_DOMAIN}. hostmaster.{INTERNET_DOMAIN}. 1 3600 600 86400 300\n"
        f"@ IN NS ns.{INTERNET_DOMAIN}.\n"
        f"ns IN A {server}\n"
        f"www IN A {server}\n"
    )
    return {"named.conf": conf, f"db.{INTERNET_DOMAIN}": zone}


def exit_forwarder(network: Network, node: Node) -> Department | None:
    """The department of an exit whose host runs the unified exit's DNS forwarder: its first
    department of its internet zone (the sample's `dmz`); None if it has none."""
    if node.internet is None:
        return None
    zone = node.internet.zone
    return next((d for d in node.departments if d.zone == zone), None)


def forwarder_named(network: Network, node: Node, server: IPv4Address) -> dict[str, str] | None:
    """named.conf of the exit's forwarder: recursion for its own zone's pool only, everything
    forwarded (`forward only`) to the internet's server."""
    dept = exit_forwarder(network, node)
    if dept is None or node.internet is None:
        return None
    # the zone's departments, and the service zone's resolvers that forward to it
    clients = [network.pool(node.internet.zone)]
    if network.service_zone is not None:
        clients.append(network.service_zone.pool)
    allowed = " ".join(f"{net};" for net in clients)
    body = (
        "    recursion yes;\n"
        f"    allow-query {{ {allowed} }};\n"
        f"    allow-recursion {{ {allowed} }};\n"
        f"    forwarders {{ {server}; }};\n"
        "    forward only;\n"
    )
    return {"named.conf": _options(dept.host.ip, body)}


def named_exec() -> list[str]:
    """A DNS host's commands after its address: private runtime folders, then named."""
    return [
        *(f"mount -t tmpfs egovnet-lab {folder}" for folder in RUNTIME_DIRS),
        f"named -4 -c {NAMED_CONF}",
    ]
