"""Every platform of the registry is complete, and its parts agree with each other.

A platform is one record in `egovnet.platforms`; the parts only look it up. So what could
drift is inside a record: a template directory without its template, a reference to code
that was renamed, an SNMP module the exporter has no file for, a parser that reads the
platform's own rendered configs with other interface names than the renderer gave them, a
detection signature the platform's configs do not carry. Each is checked here, for every
platform, on the sample inventory rendered for it.
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from netmiko.ssh_dispatcher import CLASS_MAPPER
from netutils.config.compliance import parser_map

from egovnet import platforms
from egovnet.configs.parse import detect, detect_platform, parser_for
from egovnet.loader import load_network
from egovnet.model import GLOBAL, Network
from egovnet.platforms import LAB, PlatformRecord, UnknownPlatformError
from egovnet.render.engine import TEMPLATE_DIR, render_network
from egovnet.schema import HostSpec
from exporters.modules import load_modules
from isolation.sources import NO_SECRETS
from nornir_tasks.drivers.base import ConfigDriver
from nornir_tasks.drivers.registry import driver_for
from nornir_tasks.drivers.ssh import SshParams

ROOT = Path(__file__).resolve().parents[2]
NAMES = platforms.platform_names()
DRIVER_METHODS = [
    name for name in vars(ConfigDriver) if not name.startswith("_") and name != "host"
]


@pytest.fixture(scope="module")
def sample() -> Network:
    return load_network(ROOT / "inventory")


@cache
def rendered(platform: str) -> dict[str, str]:
    """The sample rendered for `platform` (no secrets: only the structure is read)."""
    return render_network(load_network(ROOT / "inventory"), NO_SECRETS, platform)


def unset_fields(value: Any, path: str) -> list[str]:
    """Required fields of a record (and of the records inside it) left empty ("" or ()).
    A field with a default is optional by design (its docstring says what None means)."""
    missing = []
    for item in dataclasses.fields(value):
        field_value = getattr(value, item.name)
        where = f"{path}.{item.name}"
        required = item.default is dataclasses.MISSING
        if dataclasses.is_dataclass(field_value):
            missing += unset_fields(field_value, where)
        elif required and field_value in ("", ()):
            missing.append(where)
    return missing


def test_names_are_unique_and_in_registry_order() -> None:
    assert len(set(NAMES)) == len(NAMES)
    assert [record.name for record in platforms.platforms()] == list(NAMES)
    assert all(platforms.platform(name).name == name for name in NAMES)


def test_an_unknown_platform_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(UnknownPlatformError, match=r"unknown platform 'junos': expected one of"):
        platforms.platform("junos")
    with pytest.raises(UnknownPlatformError, match="frr, huawei_vrp"):
        driver_for("junos", SshParams("a", "10.0.0.1", "noc"))
    with pytest.raises(UnknownPlatformError):
        parser_for("junos")
    with pytest.raises(UnknownPlatformError):
        detect_platform("hostname a\n", "junos")


@pytest.mark.parametrize("name", NAMES)
def test_every_field_is_set(name: str) -> None:
    assert unset_fields(platforms.platform(name), name) == []


@pytest.mark.parametrize("name", NAMES)
def test_template_directory_holds_the_node_template(name: str) -> None:
    record = platforms.platform(name)
    assert (TEMPLATE_DIR / record.templates / "node.j2").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_driver_reference_resolves_to_a_driver_of_the_contract(name: str) -> None:
    record = platforms.platform(name)
    driver = driver_for(name, SshParams("zunhua", "10.64.8.76", "noc"))  # not opened
    missing = [m for m in DRIVER_METHODS if not callable(getattr(driver, m, None))]
    assert missing == [], f"{record.driver} lacks {missing}"
    assert record.netmiko_type in CLASS_MAPPER
    if record.netutils_os is not None:
        assert record.netutils_os in parser_map
    if record.shut_unknown_ports is not None:
        assert callable(platforms.load_reference(record.shut_unknown_ports))
        assert callable(getattr(driver, "list_interfaces", None)), "enforce lists its ports"


@pytest.mark.parametrize("name", NAMES)
def test_command_patterns_compile_with_the_groups_drivers_read(name: str) -> None:
    commands = platforms.platform(name).commands
    assert re.compile(commands.version_pattern).groups >= 1
    re.compile(commands.error_pattern, re.MULTILINE)
    if commands.bgp_peer_pattern is not None:
        groups = set(re.compile(commands.bgp_peer_pattern).groupindex)
        assert {"address", "asn", "state"} <= groups


@pytest.mark.parametrize("name", NAMES)
def test_snmp_modules_exist_in_the_exporter(name: str) -> None:
    known = load_modules()
    assert set(platforms.platform(name).snmp_modules) <= set(known)
    assert set(LAB.snmp_modules) <= set(known)


def test_the_lab_runs_a_registered_platform_with_an_interface_per_department() -> None:
    lab = platforms.lab_platform()
    assert lab.name == LAB.platform
    # the lab cables each department as a veth of its own (topology/clab.py), no trunk
    assert lab.naming.department_trunk is None


@pytest.mark.parametrize("name", NAMES)
def test_parser_reads_the_platform_rendered_sample_by_its_naming(
    name: str, sample: Network
) -> None:
    """What the renderer names an interface, the parser finds under that name, with the
    address and VRF the model gave it; and the parser labels its result with the platform."""
    record: PlatformRecord = platforms.platform(name)
    naming = record.naming
    parse = parser_for(name)
    for node in sample.nodes:
        config = parse(rendered(name)[node.name], node.name, f"{node.name}.cfg")
        assert config.platform == name
        assert config.asn == node.asn
        interfaces = config.interfaces
        loopback = interfaces[naming.loopback].address
        assert loopback is not None
        assert loopback.ip == node.loopback
        assert interfaces[naming.management].address == node.management
        for link in sample.links_of(node.name):
            mine = link.upper if link.upper.host == node.name else link.lower
            port = naming.port_name(mine.port)
            for instance in link.subnets:
                vlan = None if instance == GLOBAL else sample.zone(instance).vlan
                iface = port if vlan is None else naming.subinterface_name(port, vlan)
                assert interfaces[iface].address == link.address(node.name, instance), iface
                assert interfaces[iface].vrf == instance, iface
        for dept in node.departments:
            iface = naming.department_name(dept.vlan)
            assert interfaces[iface].address == dept.gateway
            assert interfaces[iface].vrf == dept.zone
        if node.internet is not None:
            assert interfaces[naming.port_name(node.internet.port)].address == node.internet.address


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("inventory_says", NAMES)
def test_detection_recognises_the_platform_whatever_the_inventory_says(
    name: str, inventory_says: str, sample: Network
) -> None:
    """A backup of a device is read as what wrote it, even where the inventory names another
    platform (the lab's FRR standing in for a Huawei core)."""
    assert platforms.platform(name).detection.matches(rendered(name)[sample.nodes[0].name])
    for node in sample.nodes:
        assert detect_platform(rendered(name)[node.name], inventory_says) == name, node.name


def test_schema_accepts_exactly_the_registry_platforms() -> None:
    for name in NAMES:
        assert HostSpec.model_validate({"platform": name}).platform == name
    with pytest.raises(ValueError, match="literal_error"):
        HostSpec.model_validate({"platform": "junos"})


@pytest.mark.parametrize(
    ("text", "given", "expected", "told"),
    [
        # a VRP router excerpt with no sysname: only its `undo shutdown` tells
        ("#\ninterface GigabitEthernet0/1/1\n undo shutdown\n ip address 1.1.1.1 24\n", None,
         "huawei_vrp", True),
        ("#\nsysname D\n#\nvlan batch 10 20\n#\ninterface G0/1/0\n traffic-policy tp1 inbound\n",
         None, "huawei_vrp", True),
        # Oxidized keeps `display version` above a Comware config as comments
        ("# HPE Comware Software, Version 7.1.070\n#\ninterface G1/0/43\n port link-mode bridge\n",
         "huawei_vrp", "h3c_comware", True),
        ("!\nhostname r1\n!\nbanner login ^C\nhi\n^C\n", None, "cisco_ios", True),
        # hostname alone: IOS with nothing given, but it must not overrule the inventory
        ("!\nhostname r1\n!\nrouter bgp 1.2\n", None, "cisco_ios", False),
        ("!\nhostname r1\n!\nrouter bgp 1.2\n", "frr", "frr", False),
    ],
)  # fmt: skip
def test_detection_reads_short_excerpts_and_keeps_the_inventory_when_the_text_is_silent(
    text: str, given: str | None, expected: str, told: bool
) -> None:
    found = detect(text, given)
    assert (found.platform, found.markers > 0) == (expected, told)
    assert found.disagrees == (told and given is not None and given != expected)
