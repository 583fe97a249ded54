"""The Nornir connection plugin is found by name through its entry point, as Nornir finds
any plugin, and importing egovnet's Nornir code registers nothing (STYLE.md: no registries
filled at import time).

Each check runs in a fresh interpreter: this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FOUND_BY_INIT_NORNIR = """
import json, sys
from nornir import InitNornir
from nornir.core.plugins.connections import ConnectionPluginRegister

before = sorted(m for m in sys.modules if m.split(".")[0] in {"egovnet", "nornir_tasks"})
InitNornir(
    inventory={"plugin": "SimpleInventory", "options": {"host_file": sys.argv[1]}},
    logging={"enabled": False},
)
plugin = ConnectionPluginRegister.get_plugin("egovnet")
print(json.dumps({"before": before, "plugin": f"{plugin.__module__}:{plugin.__qualname__}"}))
"""

IMPORTS_REGISTER_NOTHING = """
import importlib, json, pkgutil
import nornir_tasks
from nornir.core.plugins.connections import ConnectionPluginRegister

names = [m.name for m in pkgutil.walk_packages(nornir_tasks.__path__, "nornir_tasks.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "registered": sorted(ConnectionPluginRegister.available)}))
"""


def _run(script: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_init_nornir_finds_the_connection_plugin_with_no_egovnet_module_imported(
    tmp_path: Path,
) -> None:
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text("{}\n", encoding="utf-8")
    found = _run(FOUND_BY_INIT_NORNIR, str(hosts))
    assert found["before"] == []
    assert found["plugin"] == "nornir_tasks.inventory:DriverConnection"


def test_importing_nornir_tasks_registers_no_plugin() -> None:
    result = _run(IMPORTS_REGISTER_NOTHING)
    imported = result["imported"]
    assert isinstance(imported, list)
    assert "nornir_tasks.inventory" in imported
    assert result["registered"] == []
