"""How fast are a national inventory's DNS files written?

Generates a national inventory with `egovnet.generate` (31 provinces by default: DNS at
every province's core and first city), loads it, then times `render_dns` (the zone and
reverse zones built from the model, every service host's named.conf, the templates) and the
write of its files into an empty temporary directory. Beside it, a floor measured in the
same run: the same texts written by a bare loop (create, write, close), what writing cannot
beat on this disk. Records are the zone files' resource records (SOA and NS included).

Run: ``.venv/bin/python benchmarks/dns.py [--provinces N] [--cities C] [--counties K]
[--departments D] [--repeat N] [--check]``. Timings are printed, never asserted; `--check`
also runs `named-checkzone` on the forward zone and prints its time (BIND's own load).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.render.dns import render_dns


def _write(files: dict[str, dict[str, str]], directory: Path) -> None:
    for host, texts in files.items():
        folder = directory / host
        folder.mkdir(parents=True)
        for name, text in texts.items():
            (folder / name).write_text(text, encoding="utf-8")


def _floor(files: dict[str, dict[str, str]], directory: Path) -> float:
    """The bare write loop over the same texts, already encoded."""
    blobs = [
        (directory / f"{host}-{name}", text.encode())
        for host, texts in files.items()
        for name, text in texts.items()
    ]
    started = time.perf_counter()
    for path, blob in blobs:
        with path.open("wb") as handle:
            handle.write(blob)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provinces", type=int, default=31)
    parser.add_argument("--cities", type=int, default=11)
    parser.add_argument("--counties", type=int, default=13)
    parser.add_argument("--departments", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="also time named-checkzone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="egovnet-dns-bench-") as tmp:
        root = Path(tmp)
        write_inventory(
            generate_inventory(args.provinces, args.cities, args.counties, args.departments),
            root / "inventory",
        )
        started = time.perf_counter()
        network = load_network(root / "inventory")
        load = time.perf_counter() - started
        best_render = best_write = best_floor = float("inf")
        files: dict[str, dict[str, str]] = {}
        for run in range(args.repeat):
            started = time.perf_counter()
            files = render_dns(network, 1)
            best_render = min(best_render, time.perf_counter() - started)
            started = time.perf_counter()
            _write(files, root / f"out{run}")
            best_write = min(best_write, time.perf_counter() - started)
            floor_dir = root / f"floor{run}"
            floor_dir.mkdir()
            best_floor = min(best_floor, _floor(files, floor_dir))
        zone_texts = [t for texts in files.values() for n, t in texts.items() if n != "named.conf"]
        records = sum(t.count(" IN ") for t in zone_texts)
        size = sum(len(t.encode()) for texts in files.values() for t in texts.values())
        total = best_render + best_write
        print(
            f"inventory: {len(network.nodes)} nodes, "
            f"{sum(len(n.departments) for n in network.nodes)} departments, "
            f"{len(network.service_zone.hosts) if network.service_zone else 0} service hosts "
            f"(load {load:.2f} s, not counted)"
        )
        print(f"zone files: {len(zone_texts)}, records: {records}, bytes: {size}")
        print(f"render_dns: {best_render:.3f} s   write: {best_write:.3f} s   total: {total:.3f} s")
        print(f"records/s:  {records / total:,.0f} (render + write)")
        print(
            f"floor (bare write loop of the same texts): {best_floor:.3f} s = "
            f"{records / best_floor:,.0f} records/s; write / floor = {best_write / best_floor:.1f}x"
        )
        checker = shutil.which("named-checkzone")
        if args.check and checker and network.service_zone:
            domain = network.service_zone.domain
            primary = next(iter(network.service_zone.with_role("authoritative")))
            zone = root / "out0" / primary.name / f"db.{domain}"
            started = time.perf_counter()
            subprocess.run([checker, "-q", domain, str(zone)], check=True)
            print(f"named-checkzone {domain}: {time.perf_counter() - started:.2f} s (BIND's load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
