"""NAPALM's own shared driver tests (`napalm.base.test.getters.BaseTestGetters`) for the FRR
driver, on vtysh output recorded from a real lab router (tests/unit/napalm_frr/).

Every getter the driver offers is held to NAPALM's typed models and to the result recorded
beside its output; getters it does not offer are skipped by NAPALM's suite itself
(NotImplementedError). NAPALM's name lookup and the driver's own contract follow.
"""

from __future__ import annotations

from pathlib import Path

import napalm
import pytest
from napalm.base.test import conftest as napalm_conftest
from napalm.base.test.getters import BaseTestGetters

from nornir_tasks.drivers.napalm_device import NapalmDevice
from nornir_tasks.drivers.napalm_frr import EgovnetFrrDriver
from nornir_tasks.drivers.registry import driver_for
from nornir_tasks.drivers.ssh import SshParams
from tests.unit import napalm_frr
from tests.unit.napalm_frr import FakeFrrSession, PatchedEgovnetFrrDriver

MOCKED = Path(napalm_frr.__file__).resolve()


@pytest.fixture(scope="class")
def set_device_parameters(request: pytest.FixtureRequest) -> None:
    """NAPALM's fixture: the class's driver, its patched twin, then an opened device."""
    request.cls.driver = EgovnetFrrDriver
    request.cls.patched_driver = PatchedEgovnetFrrDriver
    request.cls.vendor = "egovnet_frr"
    napalm_conftest.set_device_parameters(request)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per case folder under mocked_data/<test>/ (NAPALM's own generator)."""
    napalm_conftest.pytest_generate_tests(metafunc, str(MOCKED))


@pytest.mark.usefixtures("set_device_parameters")
class TestEgovnetFrrGetters(BaseTestGetters):
    """NAPALM's getter tests, unchanged."""


def test_napalm_finds_the_driver_by_name() -> None:
    assert napalm.get_network_driver("egovnet_frr") is EgovnetFrrDriver


def test_the_default_vrf_keeps_its_loopback_beside_a_vrf_of_the_same_name() -> None:
    """FRR 8.4's `vrf all` JSON loses the default VRF's `lo` to a netns VRF's: the driver
    asks per VRF, so the router's loopback address is there."""
    device = PatchedEgovnetFrrDriver("192.0.2.1", "root", "")
    session = device.device
    assert isinstance(session, FakeFrrSession)
    session.current_test, session.current_test_case = "test_get_interfaces_ip", "normal"
    found = device.get_interfaces_ip()
    assert found["lo"]["ipv4"]  # the router's loopback, a /32
    assert all(entry["prefix_length"] == 32 for entry in found["lo"]["ipv4"].values())


def test_a_commit_timer_is_refused_rather_than_promised() -> None:
    device = PatchedEgovnetFrrDriver("192.0.2.1", "root", "")
    with pytest.raises(NotImplementedError, match="no commit timer"):
        device.commit_config(revert_in=60)


def test_the_rollout_reaches_frr_through_this_driver() -> None:
    """The registry's FRR driver is the NAPALM session over `egovnet_frr`, its commits held
    for `confirm_commit` (the save after the gates)."""
    session = driver_for("frr", SshParams("zunhua", "192.0.2.1", "root"))
    assert isinstance(session, NapalmDevice)
    assert isinstance(session.driver, EgovnetFrrDriver)
    assert session.driver.confirm


def test_the_gates_read_each_session_state_in_the_models_vrf_names() -> None:
    device = PatchedEgovnetFrrDriver("192.0.2.1", "root", "")
    session = device.device
    assert isinstance(session, FakeFrrSession)
    session.current_test, session.current_test_case = "test_get_bgp_neighbors_detail", "normal"
    peers = NapalmDevice("shijiazhuang", device).get_bgp_neighbors()
    assert {p["vrf"] for p in peers} == {"default", "private", "public"}
    assert peers
    assert all(p["state"] == "Established" for p in peers)
