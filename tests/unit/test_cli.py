"""The command line as a user meets it: the real console script in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.console import EGOVNET, ROOT, egovnet


def test_help_names_the_commands_a_newcomer_needs() -> None:
    result = egovnet("--help")
    assert result.returncode == 0
    for word in ("inventory", "render", "--inventory"):
        assert word in result.stdout


def test_render_writes_one_file_per_host_then_nothing_on_rerun(tmp_path: Path) -> None:
    out = tmp_path / "configs"
    first = egovnet("render", "-o", str(out), "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["nodes"] == 13
    assert report["written"] == 13
    assert report["platforms"] == {"cisco_ios": 1, "frr": 10, "h3c_comware": 1, "huawei_vrp": 1}
    assert sorted(p.name for p in out.glob("*.cfg"))[:2] == ["baoding.cfg", "dingzhou.cfg"]
    second = json.loads(egovnet("render", "-o", str(out), "--json").stdout)
    assert (second["written"], second["unchanged"]) == (0, 13)


def test_platform_override_renders_the_whole_network_for_one_platform(tmp_path: Path) -> None:
    result = egovnet("render", "--platform", "h3c_comware", "-o", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["platforms"] == {"h3c_comware": 13}
    assert "sysname zhengding" in (tmp_path / "zhengding.cfg").read_text(encoding="utf-8")


def test_unknown_platform_is_bad_input(tmp_path: Path) -> None:
    result = egovnet("render", "--platform", "junos", "-o", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "unknown platform 'junos'" in result.stderr
    assert not (tmp_path / "x").exists()


def test_render_removes_configs_of_hosts_that_are_gone(tmp_path: Path) -> None:
    out = tmp_path / "configs"
    (out).mkdir()
    (out / "keep-me.txt").write_text("not ours")
    (out / ".egovnet-render.json").write_text('["old-host.cfg"]')
    (out / "old-host.cfg").write_text("stale")
    result = egovnet("render", "-o", str(out), "--json")
    assert json.loads(result.stdout)["removed"] == ["old-host.cfg"]
    assert not (out / "old-host.cfg").exists()
    assert (out / "keep-me.txt").exists()


def test_missing_secrets_stop_render_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "configs"
    inventory = str(ROOT / "inventory")
    result = egovnet("-i", inventory, "render", "-o", str(out), secrets=False, cwd=tmp_path)
    assert result.returncode == 2
    assert "secrets not set: aaa-key ($EGOVNET_SECRET_AAA_KEY)" in result.stderr
    assert not out.exists()


def test_secrets_file_must_not_be_readable_by_others(tmp_path: Path) -> None:
    secrets = tmp_path / "s.yaml"
    secrets.write_text("aaa-key: x\n")
    secrets.chmod(0o644)
    result = egovnet("render", "--secrets", str(secrets), "-o", str(tmp_path / "o"), secrets=False)
    assert result.returncode == 2
    assert "readable by others" in result.stderr
    assert "chmod 600" in result.stderr


def test_secrets_init_then_render_and_no_secret_in_json(tmp_path: Path) -> None:
    secrets = tmp_path / "lab.yaml"
    init = egovnet("secrets", "init", "-o", str(secrets), secrets=False)
    assert init.returncode == 0, init.stderr
    assert oct(secrets.stat().st_mode & 0o777) == "0o600"
    values = [line.split(": ", 1)[1] for line in secrets.read_text().splitlines()]
    shown = egovnet("inventory", "show", "--json", secrets=False)
    assert shown.returncode == 0
    model = json.loads(shown.stdout)
    assert len(model["nodes"]) == 13
    assert model["management_station"] == "10.64.8.1"
    assert model["policy"]["exits"] == ["hebei-exit"]
    assert model["services"]["snmp"]["users"][0]["auth_key"] == {"secret": "snmp-noc-auth"}
    assert not any(value in shown.stdout for value in values)
    render = egovnet("render", "--secrets", str(secrets), "-o", str(tmp_path / "o"), secrets=False)
    assert render.returncode == 0, render.stderr
    assert not any(value in render.stdout + render.stderr for value in values)


def test_inventory_option_and_environment_variable(tmp_path: Path) -> None:
    assert egovnet("-i", str(tmp_path), "inventory", "validate").returncode == 2
    env_run = subprocess.run(
        [str(EGOVNET), "inventory", "validate", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "EGOVNET_INVENTORY": str(ROOT / "inventory")},
        cwd=tmp_path,
        check=False,
    )
    assert env_run.returncode == 0
    assert json.loads(env_run.stdout)["nodes"] == 13


@pytest.mark.parametrize("command", [["inventory", "show"], ["inventory", "validate"]])
def test_human_output_names_the_network(command: list[str]) -> None:
    result = egovnet(*command)
    assert result.returncode == 0
    assert "河北省电子政务外网" in result.stdout


def test_render_into_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "configs"
    blocker.write_text("a file where the output directory should be")
    result = egovnet("render", "-o", str(blocker))
    assert result.returncode == 2
    assert f"cannot write configs into {blocker}" in result.stderr
    assert "Traceback" not in result.stderr


def test_generate_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    args = ("inventory", "generate", "--cities", "2", "--counties", "2", "-o", str(tmp_path))
    first = egovnet(*args, "--departments", "1")
    assert first.returncode == 0, first.stderr
    again = egovnet(*args, "--departments", "1")
    assert again.returncode == 2
    assert "pass --force to overwrite" in again.stderr
    forced = egovnet(*args, "--departments", "1", "--force", "--json")
    assert forced.returncode == 0
    assert json.loads(forced.stdout)["nodes"] == 2 + 1 + 2 + 4
    assert egovnet("-i", str(tmp_path), "inventory", "validate").returncode == 0


def test_validate_notes_nodes_whose_addresses_follow_file_order(tmp_path: Path) -> None:
    """A node without `slot:` is valid, but its addresses would move if a sibling were
    inserted before it: validate says so, by name."""
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventory", inventory)
    hosts = inventory / "hosts.yaml"
    text = hosts.read_text(encoding="utf-8")
    hosts.write_text(text.replace("    parent: tangshan\n    slot: 2\n", "    parent: tangshan\n"))
    result = egovnet("-i", str(inventory), "inventory", "validate")
    assert result.returncode == 0, result.stderr
    assert "note: 1 node(s) have no slot (zunhua)" in result.stdout
    report = json.loads(egovnet("-i", str(inventory), "inventory", "validate", "--json").stdout)
    assert report["unpinned"] == ["zunhua"]
    assert json.loads(egovnet("inventory", "validate", "--json").stdout)["unpinned"] == []


def test_topology_clab_writes_the_file_and_the_configs_it_binds(tmp_path: Path) -> None:
    target = tmp_path / "lab" / "egovnet.clab.yml"
    result = egovnet("topology", "clab", "-o", str(target), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["nodes"] == 13 + 24 + 2 + 1  # routers, department hosts, DNS hosts, internet
    assert "-n" in (target.parent / "configs" / "daemons").read_text()  # netns VRF backend
    configs = target.parent / "configs"
    assert sorted(p.stem for p in configs.glob("*.cfg"))[:3] == [
        "baoding",
        "dingzhou",
        "hebei-core-1",
    ]
    assert len(list(configs.glob("*.cfg"))) == 13
    assert "zebra=yes" in (configs / "daemons").read_text()
    assert "hostname hebei-core-1" in (configs / "hebei-core-1.cfg").read_text(encoding="utf-8")
