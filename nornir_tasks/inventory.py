"""A Nornir inventory made from the `Network` model: no second parser of the YAML files.

Nornir's SimpleInventory could read `inventory/hosts.yaml` itself, but it would not know the
allocated management addresses, tiers or waves; the model does. Each host gets its
management address as `hostname`, its platform, and the model's facts in `data`.
Credentials never come from the inventory: `Credentials` carries them from the secrets
store or the environment, and they reach the driver through Nornir's connection plugin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from nornir.core import Nornir
from nornir.core.configuration import Config, LoggingConfig
from nornir.core.inventory import (
    ConnectionOptions,
    Defaults,
    Groups,
    Host,
    Hosts,
    Inventory,
)
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.plugins.runners import ThreadedRunner

from egovnet import platforms
from egovnet.model import Network, Node
from egovnet.render.services import packet_filter_netns
from nornir_tasks.drivers.base import ConfigDriver
from nornir_tasks.drivers.registry import driver_for
from nornir_tasks.drivers.ssh import SshParams

CONNECTION = "egovnet"
"""The connection plugin's name: its entry point in pyproject.toml names `DriverConnection`."""


@dataclass(frozen=True)
class Credentials:
    """How the operator logs into devices. Repr hides the password."""

    username: str
    password: str | None = None
    key_file: str | None = None
    timeout: float = 20.0

    def __repr__(self) -> str:
        secret = "***" if self.password else None
        return f"Credentials({self.username!r}, password={secret}, key_file={self.key_file!r})"


class DriverConnection:
    """Nornir connection plugin: `host.get_connection("egovnet", config)` is the driver."""

    def __init__(self) -> None:
        self._driver: ConfigDriver | None = None

    def open(
        self,
        hostname: str | None,
        username: str | None,
        password: str | None,
        port: int | None,
        platform: str | None,
        extras: dict[str, Any] | None = None,
        configuration: Config | None = None,
    ) -> None:
        extras = extras or {}
        params = SshParams(
            host=str(extras["host"]),
            address=str(hostname),
            username=str(username),
            password=password,
            key_file=extras.get("key_file"),
            port=port or 22,
            timeout=float(extras.get("timeout", 20.0)),
            packet_filter_netns=extras.get("packet_filter_netns"),
        )
        driver = driver_for(str(platform), params)
        driver.open()
        self._driver = driver

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    @property
    def connection(self) -> ConfigDriver:
        if self._driver is None:
            raise RuntimeError("connection not open")
        return self._driver


def host_data(network: Network, node: Node) -> dict[str, Any]:
    """What tasks and the rollout engine read about a host, from the model."""
    return {
        "tier": node.tier,
        "level": node.level,
        "parent": node.parent,
        "uplinks": list(node.uplinks),
        "province": node.province,
        "city": node.city,
        "county": node.county,
        "loopback": str(node.loopback),
        "network": network.name,
    }


def build_inventory(
    network: Network, credentials: Credentials, platform: str | None = None
) -> Inventory:
    """Every node as a Nornir host; `platform` overrides every node's (the lab runs FRR).
    An unknown `platform` is refused here (`UnknownPlatformError`), before any host runs."""
    if platform is not None:
        platforms.platform(platform)
    hosts = Hosts()
    for node in network.nodes:
        options = ConnectionOptions(
            extras={
                "host": node.name,
                "key_file": credentials.key_file,
                "timeout": credentials.timeout,
                "packet_filter_netns": packet_filter_netns(network, node),
            }
        )
        hosts[node.name] = Host(
            name=node.name,
            hostname=str(node.management.ip),
            port=node.port or 22,
            username=node.username or credentials.username,
            password=credentials.password,
            platform=platform or node.platform,
            data=host_data(network, node),
            connection_options={CONNECTION: options},
        )
    return Inventory(hosts=hosts, groups=Groups(), defaults=Defaults())


# With its logging off, Nornir's failed-task tracebacks would still reach Python's
# last-resort handler on stderr; the engine reports failures itself, secrets masked.
logging.getLogger("nornir").addHandler(logging.NullHandler())
logging.getLogger("nornir").propagate = False


def build_nornir(
    network: Network,
    credentials: Credentials,
    *,
    workers: int = 20,
    platform: str | None = None,
) -> Nornir:
    """A Nornir over the network with a threaded runner of `workers` threads; the connection
    plugin found by its entry point (`nornir.plugins.connections` in pyproject.toml), as
    `InitNornir` finds it, not registered by importing this module."""
    ConnectionPluginRegister.auto_register()
    return Nornir(
        inventory=build_inventory(network, credentials, platform),
        runner=ThreadedRunner(num_workers=workers),
        # Nornir logs every failed task with its traceback to stderr; the engine reports
        # failures itself, host by host, with the secrets masked.
        config=Config(logging=LoggingConfig(enabled=False)),
    )
