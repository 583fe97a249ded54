"""NAPALM's test double for the FRR driver: vtysh output replayed from `mocked_data/`.

The folders follow NAPALM's shared driver tests (`napalm.base.test.getters`):
`mocked_data/<test>/<case>/` holds one file per vtysh command (its name from the command,
as `BaseTestDouble.sanitize_text` makes it) and `expected_result.json`. They were recorded
from a real FRR router of a lab by `record.py` beside this file; see its docstring.
"""

from __future__ import annotations

from typing import Any

from napalm.base.test.double import BaseTestDouble

from nornir_tasks.drivers.napalm_frr import EgovnetFrrDriver


class FakeFrrSession(BaseTestDouble):
    """Stands in for the netmiko session into vtysh: each command answers from its file."""

    def send_command(self, command: str, **_kwargs: Any) -> str:
        path = self.find_file(f"{self.sanitize_text(command)}.txt")
        return str(self.read_txt_file(path))

    def find_prompt(self) -> str:
        return "router#"

    def disconnect(self) -> None:
        """Nothing to close."""


class PatchedEgovnetFrrDriver(EgovnetFrrDriver):
    """The real driver over `FakeFrrSession` (NAPALM's `patched_driver` convention)."""

    def __init__(
        self,
        hostname: str,
        username: str,
        password: str,
        timeout: int = 60,
        optional_args: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(hostname, username, password, timeout, optional_args)
        self.patched_attrs = ["device"]
        self.device = FakeFrrSession()

    def open(self) -> None:
        """The session is the double, already there."""

    def close(self) -> None:
        """Nothing to close."""
