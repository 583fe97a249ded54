"""Golden files: the sample province rendered for every platform, byte for byte.

A change to a template or to the routing design shows up here as a reviewable diff of real
configs. After an intended change, refresh them with `pytest --update-golden` and read the
git diff before committing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.platforms import platform_names
from egovnet.render.engine import render_network
from egovnet.secrets import SecretStore, SharedSecrets, env_name, secret_names

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"


def fake_secrets(network: Network) -> SharedSecrets:
    """Deterministic, obviously fake secret values so golden files never hold real ones."""
    environ = {env_name(name): f"fake-{name}" for name in secret_names(network)}
    return SharedSecrets.resolve(network, SecretStore(environ=environ))


@pytest.fixture(scope="module")
def sample() -> Network:
    return load_network(ROOT / "inventory")


@pytest.mark.parametrize("platform", platform_names())
def test_sample_matches_golden_files(
    sample: Network, platform: str, request: pytest.FixtureRequest
) -> None:
    configs = render_network(sample, fake_secrets(sample), platform)
    folder = GOLDEN / platform
    if request.config.getoption("--update-golden"):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.cfg"):
            old.unlink()
        for host, text in configs.items():
            (folder / f"{host}.cfg").write_text(text, encoding="utf-8")
    expected = {path.stem: path.read_text(encoding="utf-8") for path in folder.glob("*.cfg")}
    assert sorted(expected) == sorted(configs), "golden hosts differ: run pytest --update-golden"
    for host, text in configs.items():
        assert text == expected[host], f"{platform}/{host}.cfg differs from its golden file"


def test_each_node_renders_on_its_own_platform(sample: Network) -> None:
    configs = render_network(sample, fake_secrets(sample))
    own = {node.name: node.platform for node in sample.nodes}
    assert set(own.values()) == set(platform_names()), (
        "the sample should exercise all four platforms"
    )
    for host, platform in own.items():
        assert configs[host] == (GOLDEN / platform / f"{host}.cfg").read_text(encoding="utf-8")


def test_rendering_is_byte_identical_between_runs(sample: Network) -> None:
    first = render_network(sample, fake_secrets(sample))
    again = render_network(load_network(ROOT / "inventory"), fake_secrets(sample))
    assert first == again
