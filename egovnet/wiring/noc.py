"""The joint between drawings (`topology.draw`) and live monitoring (`exporters.live`,
`exporters.noc`): neither part imports the other, so a live drawing and the NOC page are
put together here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from egovnet.model import Network
from exporters.live import live_state
from exporters.noc import NocConfig, Rollouts
from topology.draw import Format, State, Status, drawing, render, svg


def live_status(prometheus: str) -> Status:
    """The drawing's `Status` from what Prometheus has now (read-only instant queries)."""
    found = live_state(prometheus)
    return Status(
        nodes={host: cast(State, state) for host, state in found.nodes.items()},
        links={pair: cast(State, state) for pair, state in found.links.items()},
        notes=found.notes,
    )


def draw(
    network: Network, output: Format, *, under: str | None = None, prometheus: str | None = None
) -> bytes:
    """`egovnet topology draw`: the model's picture, coloured from Prometheus when given."""
    status = live_status(prometheus) if prometheus else None
    return render(drawing(network, under), output, status)


def rollouts_in(runs: Path) -> Rollouts:
    """The last rollout that touched a host, read from `runs/<id>/report.json` (newest first
    by run id, which starts with its UTC time)."""

    def last(host: str) -> dict[str, Any] | None:
        if not runs.is_dir():
            return None
        for report in sorted(runs.glob("*/report.json"), reverse=True):
            try:
                document = json.loads(report.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            hosts = document.get("hosts") or {}
            if host in hosts:
                return {
                    "run_id": document.get("run_id", report.parent.name),
                    "started": document.get("started", ""),
                    "outcome": document.get("outcome", ""),
                    "dry_run": document.get("dry_run", False),
                    "host_outcome": hosts[host].get("outcome", ""),
                    "report": str(report),
                }
        return None

    return last


def noc_config(
    network: Network,
    *,
    prometheus: str,
    alertmanager: str | None,
    runs: Path,
    under: str | None = None,
    refresh: float = 5.0,
) -> NocConfig:
    """What `egovnet noc` serves: the static map (coloured by the page itself) and sources."""
    picture = drawing(network, under)
    hosts = tuple(node.id for node in picture.nodes if node.tier != "internet")
    return NocConfig(
        title=picture.title,
        svg=svg(picture),
        hosts=hosts,
        prometheus=prometheus,
        alertmanager=alertmanager,
        refresh=refresh,
        rollouts=rollouts_in(runs),
    )
