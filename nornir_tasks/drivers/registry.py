"""Drivers found by platform name, as Nornir finds its plugins: a table, not a class tree."""

from __future__ import annotations

from collections.abc import Callable

from nornir_tasks.drivers.base import ConfigDriver
from nornir_tasks.drivers.frr import FrrDriver
from nornir_tasks.drivers.ssh import SshParams
from nornir_tasks.drivers.vendor import VendorCliDriver

DriverFactory = Callable[[SshParams], ConfigDriver]

DRIVERS: dict[str, DriverFactory] = {
    "frr": FrrDriver,
    "huawei_vrp": lambda params: VendorCliDriver(params, "huawei_vrp"),
    "h3c_comware": lambda params: VendorCliDriver(params, "h3c_comware"),
    "cisco_ios": lambda params: VendorCliDriver(params, "cisco_ios"),
}


def driver_for(platform: str, params: SshParams) -> ConfigDriver:
    """A new, unopened driver for `platform` (KeyError names the platform when unknown)."""
    try:
        factory = DRIVERS[platform]
    except KeyError:
        raise KeyError(f"no driver for platform {platform!r} (known: {sorted(DRIVERS)})") from None
    return factory(params)
