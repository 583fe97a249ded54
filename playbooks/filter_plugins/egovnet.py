"""Jinja filters the playbooks use: the BGP gate's verdict and the packet filter's normal form.

Filters run in the controller's Python (ansible-playbook's, the venv's), so they take the
same rules as the rollout's gates from the model's facts the inventory carries, and the
packet filter's normal form from egovnet's core, rather than spelling them again in Jinja.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from egovnet.render.packet_filter import normalize


def bgp_down(
    summary: str, sessions: Iterable[Mapping[str, str]], later: Iterable[str]
) -> list[str]:
    """The expected sessions not Established in `show bgp vrf all summary json`, except
    with peers of tiers a later play has yet to configure (as the rollout's `pending`).

    >>> doc = '{"default": {"ipv4Unicast": {"peers": {"10.0.0.1": {"state": "Active"}}}}}'
    >>> bgp_down(doc, [{"vrf": "default", "address": "10.0.0.1", "peer": "a",
    ...                 "peer_tier": "city"}], [])
    ['10.0.0.1 (default, a): Active']
    """
    document = json.loads(summary or "{}")
    skip = set(later)
    down = []
    for session in sessions:
        if session["peer_tier"] in skip:
            continue
        families = document.get(session["vrf"], {})
        peers = (
            families.get("ipv4Unicast", {}).get("peers", {}) if isinstance(families, dict) else {}
        )
        state = peers.get(session["address"], {}).get("state", "missing")
        if state != "Established":
            down.append(f"{session['address']} ({session['vrf']}, {session['peer']}): {state}")
    return down


def nft_normal(ruleset: str) -> list[str]:
    """A ruleset's lines with counters and handles left out, to compare running and wanted."""
    return list(normalize(ruleset or ""))


class FilterModule:
    """Ansible's entry point for filter plugins."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"egovnet_bgp_down": bgp_down, "egovnet_nft_normal": nft_normal}
