"""The isolation policy in network.yaml: the seeds' policy by default, tightened by a
province, and refused (file, line, field) when it names what does not exist or loosens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from typer.testing import Result

from egovnet.loader import load_network
from egovnet.model import SharedService

RunCli = Callable[[Sequence[str]], Result]


def add_policy(inventory: Path, text: str) -> int:
    """Append an `isolation:` section to network.yaml; the line it starts on."""
    path = inventory / "network.yaml"
    before = path.read_text(encoding="utf-8")
    path.write_text(before + text, encoding="utf-8")
    return before.count("\n") + 1


def test_absent_policy_is_the_seeds_policy(sample_inventory: Path) -> None:
    network = load_network(sample_inventory)
    policies = network.policy.zones
    assert policies["private"].internet is False
    assert policies["public"].internet is True
    assert policies["private"].reaches == ("private",)
    assert policies["public"].reaches == ("public",)
    assert network.policy.exits == ("hebei-exit",)
    assert network.policy.shared_services == ()


def test_a_province_tightens_the_public_zone(inventory_copy: Path) -> None:
    add_policy(
        inventory_copy,
        "isolation:\n  zones:\n    public: {internet: none, reaches: []}\n"
        "  shared_services: [hebei-core-1/zhengwufuwu]\n",
    )
    network = load_network(inventory_copy)
    policies = network.policy.zones
    assert policies["public"].internet is False
    assert policies["public"].reaches == ()
    assert network.policy.shared_services == (
        SharedService(host="hebei-core-1", department="zhengwufuwu"),
    )


def test_loosening_and_unknown_names_are_refused_with_file_line_field(
    run_cli: RunCli, inventory_copy: Path
) -> None:
    start = add_policy(
        inventory_copy,
        "isolation:\n"
        "  exits: [shijiazhuang]\n"
        "  zones:\n"
        "    private: {internet: via-exit}\n"
        "    public: {reaches: [private]}\n"
        "  shared_services: [hebei-core-1/nosuch]\n",
    )
    result = run_cli(["-i", str(inventory_copy), "inventory", "validate"])
    assert result.exit_code == 2
    file = inventory_copy / "network.yaml"
    expected = [
        f"{file}:{start + 1}: isolation.exits.0: host 'shijiazhuang' is a city, not an internet",
        f"{file}:{start + 3}: isolation.zones.private.internet: zone 'private' has internet: false",
        f"{file}:{start + 4}: isolation.zones.public.reaches.0: zone 'public' cannot reach zone "
        "'private'",
        f"{file}:{start + 5}: isolation.shared_services.0: host 'hebei-core-1' has no department "
        "'nosuch'",
    ]
    for line in expected:
        assert line in result.stderr, result.stderr


def test_an_unknown_key_in_the_policy_names_the_field(
    run_cli: RunCli, inventory_copy: Path
) -> None:
    start = add_policy(inventory_copy, "isolation:\n  exit: [hebei-exit]\n")
    result = run_cli(["-i", str(inventory_copy), "inventory", "validate"])
    assert result.exit_code == 2
    assert f"network.yaml:{start + 1}: isolation.exit: unknown key 'exit'" in result.stderr
