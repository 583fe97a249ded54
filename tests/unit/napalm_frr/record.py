"""Record `mocked_data/` from a real FRR router: what each getter test's commands print,
and what the real driver returns from that router, at the same moment.

    sudo .venv/bin/python -m tests.unit.napalm_frr.record ADDRESS KEY_FILE

ADDRESS is a lab router's management address (a test lab's, never the demo's: make one with
tests/labkit.py), KEY_FILE the lab's SSH key. Every case folder is written afresh.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from napalm.base.test.double import BaseTestDouble

from nornir_tasks.drivers.napalm_frr import EgovnetFrrDriver

HERE = Path(__file__).resolve().parent / "mocked_data"
CASE = "normal"


class Recording:
    """The real session, keeping every command's output for the case being recorded."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.outputs: dict[str, str] = {}

    def send_command(self, command: str, **kwargs: Any) -> str:
        output = str(self.session.send_command(command, **kwargs))
        self.outputs[command] = output
        return output

    def find_prompt(self) -> str:
        return str(self.session.find_prompt())


def record(driver: EgovnetFrrDriver, test: str, call: Any) -> None:
    real = driver.device
    recording = Recording(real)
    driver.device = recording
    try:
        result = json.loads(json.dumps(call(driver)))
    finally:
        driver.device = real
    folder = HERE / test / CASE
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for command, output in recording.outputs.items():
        name = BaseTestDouble.sanitize_text(command)
        (folder / f"{name}.txt").write_text(output, encoding="utf-8")
    text = json.dumps(result, indent=2, sort_keys=True) + "\n"
    (folder / "expected_result.json").write_text(text, encoding="utf-8")


GETTERS = {
    "test_get_facts": lambda d: d.get_facts(),
    "test_get_interfaces": lambda d: d.get_interfaces(),
    "test_get_interfaces_ip": lambda d: d.get_interfaces_ip(),
    "test_get_bgp_neighbors": lambda d: d.get_bgp_neighbors(),
    "test_get_bgp_neighbors_detail": lambda d: d.get_bgp_neighbors_detail(),
    "test_get_network_instances": lambda d: d.get_network_instances(),
    "test_get_config": lambda d: d.get_config(),
    "test_get_config_filtered": lambda d: [
        d.get_config(retrieve=r) for r in ("running", "startup", "candidate")
    ][-1],
    "test_get_config_sanitized": lambda d: d.get_config(sanitized=True),
    "test_get_config_sanitized_filtered": lambda d: {
        "running": d.get_config(retrieve="running", sanitized=True)["running"],
        "startup": d.get_config(retrieve="startup", sanitized=True)["startup"],
        "candidate": "",
    },
    "test_is_alive": lambda d: {"is_alive": True},
}


def main(address: str, key_file: str) -> None:
    driver = EgovnetFrrDriver(address, "root", "", optional_args={"key_file": key_file})
    driver.open()
    try:
        for test, call in GETTERS.items():
            record(driver, test, call)
    finally:
        driver.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
