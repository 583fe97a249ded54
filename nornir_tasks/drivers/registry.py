"""Drivers found by platform name: the platform registry names each platform's driver
(`PlatformRecord.driver`, "module:attribute"), resolved here on first use."""

from __future__ import annotations

from collections.abc import Callable

from egovnet import platforms
from egovnet.platforms import PlatformRecord
from nornir_tasks.drivers.base import ConfigDriver
from nornir_tasks.drivers.ssh import SshParams

DriverFactory = Callable[[SshParams, PlatformRecord], ConfigDriver]
"""What a record's `driver` reference names: a class or function taking the session's
parameters and the platform's record."""


def driver_for(platform: str, params: SshParams) -> ConfigDriver:
    """A new, unopened driver for `platform` (`UnknownPlatformError` when unknown)."""
    record = platforms.platform(platform)
    factory: DriverFactory = platforms.load_reference(record.driver)
    return factory(params, record)
