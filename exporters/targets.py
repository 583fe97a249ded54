"""Scrape targets from the inventory: address, credentials, labels and default modules.

Prometheus asks `/snmp?target=HOST` with an inventory host name, never an address, so the
exporter only ever talks to devices of the inventory (an unknown name is refused before any
packet) and labels every series with where the device sits: `host`, `tier`, `province`,
`city`, `county`, from the same `Network` that rendered its config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from egovnet import platforms
from egovnet.errors import Problem, ProblemList
from egovnet.model import Network, Node
from egovnet.secrets import SecretStore, SnmpCredentials, snmp_credentials


@dataclass(frozen=True)
class Target:
    """One device the exporter may scrape."""

    name: str
    address: str
    port: int
    platform: str
    labels: dict[str, str]
    credentials: SnmpCredentials
    timeout: float = 2.0
    retries: int = 2
    interfaces: dict[str, tuple[str, str]] = field(default_factory=dict)
    """ifName -> (role, neighbour host): `uplink` towards the parent or a further uplink,
    `downlink` towards a child, `internet` the exit's internet port."""
    peers: dict[str, tuple[str, str]] = field(default_factory=dict)
    """BGP peer address -> (neighbour host, routing instance: `global` or a zone)."""

    @property
    def default_modules(self) -> tuple[str, ...]:
        """Modules scraped when a request names none: what the platform answers (the
        registry's `snmp_modules`; an unknown platform is an error, not a guess)."""
        return platforms.platform(self.platform).snmp_modules


def node_labels(node: Node) -> dict[str, str]:
    """The inventory labels of a node, omitting region levels that do not apply.

    An empty label is the same as none to Prometheus, so a province core simply has no
    `city` label rather than `city=""`.
    """
    labels = {"host": node.name, "tier": node.tier}
    for key in ("province", "city", "county"):
        value = getattr(node, key)
        if value:
            labels[key] = value
    return labels


def links_of(
    network: Network, node: Node, naming: Literal["device", "lab"]
) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """The node's link interfaces by the name its platform gives them (in the lab every
    node runs FRR: `ethN`), with their role and far end; and its BGP peers by address, with
    the routing instance of the session (FRR's BGP4-MIB lists the zones' sessions too).

    This is what lets an alert say "uplink down" rather than "some interface down".
    """
    record = platforms.lab_platform() if naming == "lab" else platforms.platform(node.platform)
    ports = record.naming.port
    interfaces: dict[str, tuple[str, str]] = {}
    peers: dict[str, tuple[str, str]] = {}
    for session in network.sessions_of(node.name):
        # a same-level peer link counts as an uplink at the end that asked for it
        upward = session.role == "uplink" or (
            session.role == "peer" and session.peer in node.uplinks
        )
        role = "uplink" if upward else "downlink"
        interfaces[ports.format(n=session.port)] = (role, session.peer)
        peers[str(session.peer_address)] = (session.peer, session.instance)
    if node.internet is not None:
        interfaces[ports.format(n=node.internet.port)] = ("internet", "internet")
    return interfaces, peers


def build_targets(
    network: Network,
    store: SecretStore,
    *,
    user: str | None = None,
    timeout: float = 2.0,
    retries: int = 2,
    port: int = 161,
    naming: Literal["device", "lab"] = "device",
) -> dict[str, Target]:
    """Every node of the network as a target, with SNMPv3 authPriv credentials of the
    inventory's SNMP user (the first, or `user`), or v2c for the hosts `services.snmp.v2c`
    lists. Secrets are resolved now, so a missing one stops the exporter at start.
    `naming="lab"` names interfaces as the lab's FRR does, whatever the node's platform."""
    snmp = network.services.snmp
    users = {u.name: u for u in snmp.users}
    chosen = users.get(user) if user else snmp.users[0]
    if chosen is None:
        raise_problem("services.snmp.users", f"no SNMP user '{user}' (have: {sorted(users)})")
    assert chosen is not None  # noqa: S101 - raise_problem never returns; for mypy
    v3 = snmp_credentials(chosen, store)
    # `inventory validate` has checked that every v2c host exists
    v2c_hosts = set(snmp.v2c.hosts) if snmp.v2c is not None else set()
    v2c = snmp_credentials(snmp.v2c, store) if snmp.v2c is not None else None
    targets = {}
    for node in network.nodes:
        credentials = v2c if (v2c is not None and node.name in v2c_hosts) else v3
        interfaces, peers = links_of(network, node, naming)
        targets[node.name] = Target(
            node.name,
            str(node.management.ip),
            port,
            node.platform,
            node_labels(node),
            credentials,
            timeout,
            retries,
            interfaces,
            peers,
        )
    return targets


def raise_problem(field: str, message: str) -> None:
    """Raise an inventory error about the SNMP user asked for."""
    problems = ProblemList()
    problems.problems.append(Problem("network.yaml", field, message))
    problems.raise_if_any()
