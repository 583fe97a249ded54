"""Rendered configs hold the TACACS key, the local admin password and the SNMPv3 keys in
clear: they are written 0600 in a 0700 directory, as `.secrets/secrets.yaml` itself is 0600
(they were 0644 in a 0755 directory, readable by every user of the machine)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from egovnet.loader import load_network
from egovnet.render.host_services import render_snmpd_conf
from egovnet.secret_files import write_private
from egovnet.secrets import SnmpCredentials
from lab.runner import SNMP_DIR, Holder
from lab.runner import _start_snmpd as start_snmpd
from tests.console import FAKE_SECRETS, egovnet
from tests.unit.conftest import SAMPLE


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: modes must not depend on the user's."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


def assert_private_configs(directory: Path, count: int, *, secrets: bool = True) -> None:
    configs = sorted(directory.glob("*.cfg"))
    assert len(configs) == count
    assert {p.name: mode(p) for p in configs} == {p.name: 0o600 for p in configs}
    if secrets:  # the point: the vendor configs hold the keys in clear
        text = "".join(p.read_text(encoding="utf-8") for p in configs)
        assert all(value in text for value in FAKE_SECRETS.values())
    assert not list(directory.glob(".*.tmp"))


def test_render_writes_private_configs_in_a_private_directory(tmp_path: Path) -> None:
    out = tmp_path / "build" / "configs"
    done = egovnet("render", "-o", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert mode(out) == 0o700
    assert_private_configs(out, 13)


def test_an_older_world_readable_render_is_narrowed_even_when_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "configs"
    assert egovnet("render", "-o", str(out)).returncode == 0
    out.chmod(0o755)
    for config in out.glob("*.cfg"):
        config.chmod(0o644)  # as an older egovnet left them
    again = egovnet("render", "-o", str(out), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["unchanged"] == 13
    assert mode(out) == 0o700
    assert_private_configs(out, 13)


def test_a_directory_the_user_already_had_keeps_its_modes_and_gets_private_files(
    tmp_path: Path,
) -> None:
    """`render -o .` must not lock the user out of their own working directory's sharing;
    the configs in it are 0600 all the same."""
    mine = tmp_path / "shared"
    mine.mkdir(mode=0o755)
    mine.chmod(0o755)
    assert egovnet("render", "-o", str(mine)).returncode == 0
    assert mode(mine) == 0o755
    assert_private_configs(mine, 13)


def test_the_topologys_configs_are_private(tmp_path: Path) -> None:
    target = tmp_path / "lab" / "egovnet.clab.yml"
    done = egovnet("topology", "clab", "-o", str(target))
    assert done.returncode == 0, done.stderr
    configs = target.parent / "configs"
    assert mode(configs) == 0o700
    assert_private_configs(configs, 13, secrets=False)  # FRR configs: none today, private anyway


@pytest.mark.usefixtures("open_umask")
def test_a_private_file_is_0600_from_its_first_byte_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "snmpd.conf"
    path.write_text("old, world-readable\n")
    path.chmod(0o644)
    write_private(path, 'createUser noc SHA "k" AES "k"\n')
    assert mode(path) == 0o600
    assert path.read_text() == 'createUser noc SHA "k" AES "k"\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snmpd.conf"]


class RecordingHolder(Holder):
    """A lab node whose mount namespace is a folder: commands are recorded, not run."""

    def __init__(self, root: Path) -> None:
        super().__init__("unit", "zhengding", 0)
        self.root = root
        self.commands: list[tuple[str, ...]] = []

    def enter(self, *argv: str, check: bool = True, stdin: str | None = None) -> str:
        self.commands.append(argv)
        if argv[:3] == ("install", "-d", "-m"):
            for folder in argv[4:]:
                self.path(folder).mkdir(parents=True, mode=int(argv[3], 8))
        return ""

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")


@pytest.mark.usefixtures("open_umask")
def test_a_lab_nodes_snmpd_conf_with_the_keys_is_private(tmp_path: Path) -> None:
    holder = RecordingHolder(tmp_path)
    network = load_network(SAMPLE)
    user = SnmpCredentials("v3", "noc", auth_key="fake-auth-key", priv_key="fake-priv-key")
    start_snmpd(holder, render_snmpd_conf(network, network.node("zhengding"), [user]))
    conf = holder.path(f"{SNMP_DIR}/snmpd.conf")
    assert "fake-priv-key" in conf.read_text()
    assert mode(conf) == 0o600
    assert mode(conf.parent) == 0o700
    assert any("/usr/sbin/snmpd" in command for command in holder.commands)
