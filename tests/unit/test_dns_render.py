"""`egovnet dns render`: BIND 9 files that BIND's own checkers accept, for the sample and a
generated national inventory, whose names and addresses are the model's, and whose views
keep private zones off the internet.

named-checkconf / named-checkzone come from Debian's bind9-utils: without them the checker
tests skip, and fail under CI=true (./run installs the package there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from typer.testing import Result

from egovnet.configs.named import parse_named
from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.dns import render_dns, reverse_name, reverse_zones

RunCli = Callable[[Sequence[str]], Result]
ROOT = Path(__file__).resolve().parents[2]
SERIAL = 2026120201


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI: ./run must install Debian's bind9-utils")
        pytest.skip(f"{name} (Debian package bind9-utils) is not installed")
    return path


@pytest.fixture(scope="module")
def sample() -> Network:
    return load_network(ROOT / "inventory")


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Network:
    directory = tmp_path_factory.mktemp("national")
    write_inventory(generate_inventory(4, 3, 2, 4), directory)
    return load_network(directory)


def write(network: Network, directory: Path) -> dict[str, Path]:
    """Render with the paths inside named.conf pointing at each host's folder."""
    placeholder = str(directory / "HOST")
    folders = {}
    for name, texts in render_dns(network, SERIAL, placeholder).items():
        folder = folders[name] = directory / name
        folder.mkdir(parents=True)
        for file_name, text in texts.items():
            (folder / file_name).write_text(text.replace(placeholder, str(folder)))
    return folders


def check_all(network: Network, directory: Path) -> int:
    """Run BIND's checkers over every rendered file; the number of zones loaded."""
    checkconf, checkzone = tool("named-checkconf"), tool("named-checkzone")
    loaded = 0
    for folder in write(network, directory).values():
        conf = folder / "named.conf"
        done = subprocess.run(
            [checkconf, "-z", str(conf)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        loaded += done.stdout.count(": loaded serial ")
        for zone_file in sorted(folder.glob("db.*")):
            origin = zone_file.name.removeprefix("db.")
            done = subprocess.run(
                [checkzone, origin, str(zone_file)], capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, done.stdout + done.stderr
    return loaded


def test_the_samples_files_pass_bind_s_checkers(sample: Network, tmp_path: Path) -> None:
    # the primary loads the forward zone and one reverse zone per octet-cut pool
    zones = 1 + sum(
        len(reverse_zones(p))
        for p in (
            sample.loopback_pool,
            sample.management_subnet,
            *(z.pool for z in sample.zones),
            sample.service_zone.pool if sample.service_zone else sample.loopback_pool,
        )
    )
    assert check_all(sample, tmp_path) == zones


def test_a_national_inventorys_files_pass_bind_s_checkers(
    national: Network, tmp_path: Path
) -> None:
    assert check_all(national, tmp_path) > 1


def dump(zone_file: Path, origin: str) -> dict[tuple[str, str], set[str]]:
    """The zone as named-checkzone reads it: (owner, type) -> values, names absolute."""
    done = subprocess.run(
        [tool("named-checkzone"), "-q", "-D", "-o", "-", origin, str(zone_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    records: dict[tuple[str, str], set[str]] = {}
    for line in done.stdout.splitlines():
        owner, _ttl, _class, kind, *value = line.split()
        records.setdefault((owner.lower(), kind), set()).add(" ".join(value))
    return records


@pytest.mark.parametrize("which", ["sample", "national"])
def test_names_and_addresses_are_the_models(
    which: str, sample: Network, national: Network, tmp_path: Path
) -> None:
    network = sample if which == "sample" else national
    service = network.service_zone
    assert service is not None
    [primary] = service.with_role("authoritative")
    folder = write(network, tmp_path)[primary.name]
    domain = service.domain
    forward = dump(folder / f"db.{domain}", domain)
    expected: dict[str, IPv4Address] = {f"{h.name}.{domain}.": h.address.ip for h in service.hosts}
    for node in network.nodes:
        expected[f"{node.name}.{domain}."] = node.loopback
        expected[f"{node.name}.mgmt.{domain}."] = node.management.ip
        for dept in node.departments:
            expected[f"{dept.name}.{node.name}.{domain}.".replace("_", "-")] = dept.host.ip
    got = {owner: values for (owner, kind), values in forward.items() if kind == "A"}
    assert got == {name: {str(address)} for name, address in expected.items()}
    servers = [h for h in service.hosts if {"authoritative", "secondary"} & set(h.roles)]
    assert forward[(f"{domain}.", "NS")] == {f"{h.name}.{domain}." for h in servers}
    [soa] = forward[(f"{domain}.", "SOA")]
    assert soa.split()[:3] == [f"{primary.name}.{domain}.", f"hostmaster.{domain}.", str(SERIAL)]
    # every name comes back from its address
    ptr: dict[str, set[str]] = {}
    for zone_file in folder.glob("db.*.in-addr.arpa"):
        for (owner, kind), values in dump(zone_file, zone_file.name[3:]).items():
            if kind == "PTR":
                ptr[owner] = values
    for name, address in expected.items():
        owner = ".".join(reversed(str(address).split("."))) + ".in-addr.arpa."
        assert ptr.get(owner) == {name}, (name, address)


def test_private_zones_never_ask_the_internet_public_ones_only_the_exit(sample: Network) -> None:
    service = sample.service_zone
    assert service is not None
    exit_node = sample.node("hebei-exit")
    dmz = next(d for d in exit_node.departments if d.name == "dmz")
    assert service.forwarders == (dmz.host.ip,)
    files = render_dns(sample, SERIAL)
    private_pools = {str(z.pool) for z in sample.zones if not z.internet}
    public_pools = {str(z.pool) for z in sample.zones if z.internet}
    for host, texts in files.items():
        config = parse_named(texts["named.conf"], f"{host}/named.conf")
        assert config.recursion is False
        private, public = config.view("private"), config.view("public")
        assert private is not None
        assert public is not None
        assert private_pools <= set(private.match_clients)
        assert not public_pools & set(private.match_clients)
        assert not config.recurses(private)  # REFUSED at once: no query leaves
        assert config.forwarders_of(private) == ()
        assert set(public.match_clients) == public_pools
        assert config.recurses(public)
        assert not config.roots(public)
        assert config.forwarders_of(public) == service.forwarders


def test_a_secondary_transfers_from_the_primary_only(sample: Network) -> None:
    service = sample.service_zone
    assert service is not None
    [primary] = service.with_role("authoritative")
    [secondary] = service.with_role("secondary")
    files = render_dns(sample, SERIAL)
    config = parse_named(files[secondary.name]["named.conf"])
    private = config.view("private")
    assert private is not None
    assert {z.name for z in private.zones} >= {
        service.domain,
        reverse_name(reverse_zones(service.pool)[0]),
    }
    for zone in private.zones:
        assert (zone.kind, zone.primaries) == ("secondary", (primary.address.ip,))
    text = files[primary.name]["named.conf"]
    assert f"allow-transfer {{ {secondary.address.ip}; }};" in text
    assert "allow-transfer { none; };" in text  # the default for everyone else
    assert sorted(files[secondary.name]) == ["named.conf"]  # the zone comes by transfer


def test_the_cli_writes_a_folder_per_service_host(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli(
        [
            "-i",
            str(ROOT / "inventory"),
            "dns",
            "render",
            "-o",
            str(tmp_path),
            "--serial",
            "5",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert sorted(report["hosts"]) == ["dns1", "dns2"]
    assert (tmp_path / "dns1" / "db.hebei.egov").is_file()
    assert report["records"] > 0


def test_an_inventory_without_a_service_zone_is_told_so(
    run_cli: RunCli, inventory_copy: Path, tmp_path: Path
) -> None:
    network_yaml = inventory_copy / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8")
    start = text.index("service_zone:")
    end = text.index("\nlab:", start)
    network_yaml.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    result = run_cli(["-i", str(inventory_copy), "dns", "render", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "no service_zone" in result.output
    assert not (tmp_path / "o").exists()
