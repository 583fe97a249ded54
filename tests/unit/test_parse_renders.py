"""egovnet's own rendered configs are understood entirely on every platform: no unparsed or
unmodelled line, coverage 1 — so any line `config parse` flags in a running config is one
that egovnet did not write."""

from __future__ import annotations

from pathlib import Path

import pytest

from egovnet.configs.facts import config_facts
from egovnet.configs.parse import parser_for
from egovnet.loader import load_network
from egovnet.platforms import platform_names
from egovnet.render.engine import render_network
from isolation.sources import NO_SECRETS


@pytest.mark.parametrize("platform", platform_names())
def test_every_rendered_line_is_understood(platform: str, sample_inventory: Path) -> None:
    network = load_network(sample_inventory)
    for host, text in render_network(network, NO_SECRETS, platform).items():
        config = parser_for(platform)(text, host, f"{host}.cfg")
        facts = config_facts(config, text, file=f"{host}.cfg")
        assert (facts["unparsed"], facts["unmodelled"]) == ([], []), host
        assert facts["coverage"] == 1.0, host
        assert facts["hostname"] is not None, host
        assert facts["interfaces"], host
