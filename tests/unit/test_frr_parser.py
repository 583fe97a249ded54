"""FRR's own parser accepts what we render: `vtysh -C -f FILE` from Debian's frr package.

No daemon runs: dry-run mode only checks that every line is a command FRR knows, in a
context where it is valid. The sample province and a generated 150-node province are both
rendered for FRR and checked file by file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.engine import render_network, write_configs
from egovnet.secrets import SecretStore, SharedSecrets, env_name, secret_names

ROOT = Path(__file__).resolve().parents[2]
VTYSH = shutil.which("vtysh") or "/usr/bin/vtysh"


def _require_vtysh() -> None:
    if not Path(VTYSH).exists():
        if os.environ.get("CI"):
            pytest.fail("vtysh is missing in CI: ./run must install Debian's frr package")
        pytest.skip("vtysh (Debian package frr) is not installed")


def _fake(network: Network) -> SharedSecrets:
    environ = {env_name(name): "fake" for name in secret_names(network)}
    return SharedSecrets.resolve(network, SecretStore(environ=environ))


def _rejected(directory: Path) -> dict[str, str]:
    def check(path: Path) -> tuple[str, int, str]:
        proc = subprocess.run(
            [VTYSH, "-C", "-f", str(path)], capture_output=True, text=True, check=False
        )
        return path.name, proc.returncode, proc.stdout + proc.stderr

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(check, sorted(directory.glob("*.cfg"))))
    assert results, f"no configs rendered into {directory}"
    return {name: output for name, rc, output in results if rc != 0}


def _render_frr(network: Network, directory: Path) -> None:
    write_configs(render_network(network, _fake(network), "frr"), directory)


def test_vtysh_rejects_a_broken_config(tmp_path: Path) -> None:
    """The check itself can fail: a misspelt command must be caught."""
    _require_vtysh()
    (tmp_path / "bad.cfg").write_text("hostname x\nrouter bgp 65000\n neighbour 10.0.0.1\n")
    assert "bad.cfg" in _rejected(tmp_path)


def test_sample_frr_configs_pass_vtysh(tmp_path: Path) -> None:
    _require_vtysh()
    network = load_network(ROOT / "inventory")
    _render_frr(network, tmp_path)
    assert _rejected(tmp_path) == {}


def test_generated_150_node_province_passes_vtysh(tmp_path: Path) -> None:
    _require_vtysh()
    inventory = tmp_path / "inventory"
    write_inventory(generate_inventory(1, 11, 13, 4), inventory)
    network = load_network(inventory)
    assert 150 <= len(network.nodes) <= 160
    _render_frr(network, tmp_path / "configs")
    assert _rejected(tmp_path / "configs") == {}
