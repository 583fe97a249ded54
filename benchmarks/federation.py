"""How long does `monitor config --layout national` take for the national inventory, and how
many series does the national Prometheus federate?

Generates the national inventory (31 provinces x 11 cities x 9 counties, 4 departments:
3,504 nodes) into a temporary directory, loads it, then times `write_federation` (one
Prometheus config, rules and targets per shard, and the national one) beside its floor:
writing the same bytes again with nothing built (what a faster generator cannot beat).
Then the federated series: `federated_series` per shard (one CPU per device; the
recording rules and summaries of `FEDERATE_MATCH`), their total, the largest shard, and
the exporters each shard needs at `DEVICES_PER_EXPORTER`.

Run: ``.venv/bin/python benchmarks/federation.py [--quick] [--repeat N] [--exporter-shards
N]``. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from exporters.federation import DEVICES_PER_EXPORTER, federated_series, write_federation
from exporters.promconfig import TIMINGS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 provinces instead of 31")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--exporter-shards", type=int, default=1)
    options = parser.parse_args()
    size = (3, 11, 9, 4) if options.quick else (31, 11, 9, 4)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write_inventory(generate_inventory(*size), root / "inventory")
        started = time.perf_counter()
        network = load_network(root / "inventory")
        loaded = time.perf_counter() - started
        runs, floors = [], []
        plan = None
        for attempt in range(options.repeat):
            out = root / f"out{attempt}"
            started = time.perf_counter()
            plan = write_federation(
                network,
                out,
                "national",
                timing=TIMINGS["production"],
                prometheus="127.0.0.1:9090",
                exporter="127.0.0.1:9116",
                alertmanager="127.0.0.1:9093",
                exporter_shards=options.exporter_shards,
            )
            runs.append(time.perf_counter() - started)
            contents = {path: path.read_bytes() for path in plan.files}
            again = root / f"floor{attempt}"
            started = time.perf_counter()
            for path, data in contents.items():
                target = again / path.relative_to(out)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            floors.append(time.perf_counter() - started)
        assert plan is not None  # noqa: S101 - repeat >= 1; for mypy
        nodes = len(network.nodes)
        print(f"inventory {'x'.join(map(str, size))}: {nodes} nodes, load {loaded:.2f} s")
        print(
            f"write_federation: best {min(runs) * 1000:.0f} ms of {options.repeat} "
            f"({len(plan.shards)} shards, {len(plan.files)} files, "
            f"{sum(p.stat().st_size for p in plan.files) / 1e6:.1f} MB); "
            f"floor (same bytes written again): {min(floors) * 1000:.0f} ms"
        )
        series = {s.name: federated_series(s, network) for s in plan.shards}
        largest = max(plan.shards, key=lambda s: len(s.nodes))
        print(
            f"federated series: {sum(series.values())} in all "
            f"({sum(series.values()) / nodes:.1f} per device); largest shard {largest.name}: "
            f"{len(largest.nodes)} devices, {series[largest.name]} series, "
            f"{math.ceil(len(largest.nodes) / DEVICES_PER_EXPORTER)} exporter(s) at "
            f"{DEVICES_PER_EXPORTER} devices each"
        )


if __name__ == "__main__":
    main()
