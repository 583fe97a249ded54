"""Stock `nornir_napalm` against the real lab through egovnet's FRR NAPALM driver.

A NAPALM user's Nornir: an inventory whose hosts are the model's management addresses with
platform `egovnet_frr` (NAPALM's name for egovnet's FRR driver), nornir_napalm's `napalm`
connection plugin found by its entry point, and its tasks `napalm_get` and
`napalm_configure`, unchanged. The lab is this module's own (tests/labkit.py).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from napalm.base import models
from napalm.base.test import helpers
from nornir import InitNornir
from nornir.core import Nornir
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir_napalm.plugins.tasks import napalm_configure, napalm_get

from egovnet.model import Network
from egovnet.render.engine import render_network
from egovnet.secrets import SecretStore, SharedSecrets
from lab.keys import lab_key
from tests.console import FAKE_SECRETS
from tests.labkit import TestLab

KIT: list[TestLab] = []


@pytest.fixture(scope="module")
def lab(test_lab: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    workdir = tmp_path_factory.mktemp("napalm")
    KIT[:] = [test_lab]
    try:
        result = test_lab.egovnet("lab", "up", "--json", cwd=workdir, timeout=400)
        assert result.returncode == 0, result.stdout + result.stderr
        yield test_lab.network
    finally:
        down = test_lab.down(workdir)
        assert down.returncode == 0, down.stderr


def napalm_nornir(network: Network) -> Nornir:
    """A stock Nornir over what `egovnet inventory export --format nornir --platform frr`
    writes: SimpleInventory files whose hosts carry the management address, the NAPALM driver
    `egovnet_frr` and its `optional_args` (the lab key's path), loaded by `InitNornir`."""
    ConnectionPluginRegister.auto_register()
    directory = Path(tempfile.mkdtemp(prefix="egovnet-napalm-export-"))
    try:
        result = KIT[0].egovnet(
            "inventory", "export", "--format", "nornir", "--platform", "frr",
            "--ssh-key", str(lab_key()), "-o", str(directory), cwd=directory,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        nornir = InitNornir(
            runner={"plugin": "threaded", "options": {"num_workers": len(network.nodes)}},
            inventory={
                "plugin": "SimpleInventory",
                "options": {
                    "host_file": str(directory / "hosts.yaml"),
                    "group_file": str(directory / "groups.yaml"),
                    "defaults_file": str(directory / "defaults.yaml"),
                },
            },
            logging={"enabled": False},
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    assert sorted(nornir.inventory.hosts) == sorted(node.name for node in network.nodes)
    return nornir


def running(node: str) -> str:
    """A router's running config read from inside its namespaces, not through NAPALM."""
    holder = KIT[0].holders()[node]
    result = subprocess.run(
        [
            "nsenter",
            "-t",
            str(holder.pid),
            "-m",
            "-u",
            "-n",
            "-p",
            "vtysh",
            "-N",
            node,
            "-c",
            "show running-config no-header",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_napalm_get_returns_napalm_shaped_data_for_every_router(lab: Network) -> None:
    nornir = napalm_nornir(lab)
    try:
        results = nornir.run(task=napalm_get, getters=["facts", "interfaces", "bgp_neighbors"])
    finally:
        nornir.close_connections()
    assert sorted(results) == sorted(node.name for node in lab.nodes)
    assert not results.failed, {h: str(r[0].exception) for h, r in results.items() if r.failed}
    for node in lab.nodes:
        got = results[node.name][0].result
        assert helpers.test_model(models.FactsDict, got["facts"])
        assert got["facts"]["hostname"] == node.name
        assert got["interfaces"]
        for interface in got["interfaces"].values():
            assert helpers.test_model(models.InterfaceDict, interface)
        assert got["interfaces"]["lo"]["is_up"]
        bgp = got["bgp_neighbors"]
        for vrf in bgp.values():
            for peer in vrf["peers"].values():
                assert helpers.test_model(models.PeerDict, peer)
        # every session the model gives the router is there, in NAPALM's VRF names, and up
        for session in lab.sessions_of(node.name):
            vrf = "global" if session.vrf == "default" else session.vrf
            peer = bgp[vrf]["peers"][str(session.peer_address)]
            assert peer["is_up"], (node.name, session)


def test_napalm_configure_dry_run_shows_the_diff_and_changes_nothing(lab: Network) -> None:
    store = SecretStore(None, environ=FAKE_SECRETS)
    intended = render_network(lab, SharedSecrets.resolve(lab, store), "frr")
    host = lab.nodes[3].name  # a city router: no packet filter beside its routing config
    session = lab.sessions_of(host)[0]
    peer = str(session.peer_address)
    changed = intended[host].replace(
        f" neighbor {peer} description ", f" neighbor {peer} description napalm dry run ", 1
    )
    assert changed != intended[host]
    before = running(host)
    nornir = napalm_nornir(lab).filter(name=host)
    try:
        results = nornir.run(
            task=napalm_configure, configuration=changed, replace=True, dry_run=True
        )
    finally:
        nornir.close_connections()
    result = results[host][0]
    assert not result.failed, result.exception
    assert result.changed
    assert "napalm dry run" in result.diff
    assert running(host) == before
