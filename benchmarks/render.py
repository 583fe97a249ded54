"""How fast does a national inventory go from YAML to config files on disk?

Generates inventories with `egovnet.generate` into temporary directories, then times each
stage of the pipeline separately and end to end:

* load: `load_network` (read, validate, allocate every address);
* render: `render_network` on the nodes' own platform (building views, then templates);
* write: `write_configs` into an empty temporary directory;

and beside them two floors measured in the same run: the same FRR template rendered by a
bare Jinja2 loop over views built beforehand (only the template calls are timed), i.e. what
rendering cannot beat without changing the template; and a bare file-write loop (create,
write, close the same texts into a new directory), what writing cannot beat on this disk.
On a shared machine both move with the load: the ratio to the floor is the figure to read.

Run: ``.venv/bin/python benchmarks/render.py [--quick] [--repeat N] [--profile] [--no-gc]
[--tmp DIR]``. Timings are printed, never asserted. The goal is >= 3,000 nodes/s end to end
on 2 cores (issue 15). `--no-gc` pauses Python's cyclic garbage collector around every timed
stage, to measure what it still costs; `--tmp /dev/shm` separates disk speed from the write
stage's own cost.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.engine import Renderer, render_network, write_configs
from egovnet.render.view import build_views
from egovnet.secrets import SecretStore, SharedSecrets, env_name, secret_names

T = TypeVar("T")
GOAL = 3000
"""Nodes per second end to end, load + render + write (issue 15)."""

FULL_SIZES: tuple[tuple[str, tuple[int, int, int, int]], ...] = (
    ("national 31x11x9, D=4", (31, 11, 9, 4)),
    ("national 31x11x28, D=2", (31, 11, 28, 2)),
)
QUICK_SIZES: tuple[tuple[str, tuple[int, int, int, int]], ...] = (
    ("province 1x3x3, D=2", (1, 3, 3, 2)),
    ("province 1x11x13, D=4", (1, 11, 13, 4)),
)


@dataclass(frozen=True)
class Result:
    """Seconds spent in each stage for one inventory."""

    label: str
    nodes: int
    generate: float
    load: float
    render: float
    write: float
    floor: float
    write_floor: float

    @property
    def total(self) -> float:
        """Load + render + write: what `egovnet render` costs from YAML to files."""
        return self.load + self.render + self.write


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """Run `action` once; return its result and the seconds it took."""
    start = time.perf_counter()
    value = action()
    return value, time.perf_counter() - start


def fake_secrets(network: Network) -> SharedSecrets:
    """Fixed values for every secret the network names: the benchmark needs no vault."""
    store = SecretStore(environ={env_name(name): "benchmark" for name in secret_names(network)})
    return SharedSecrets.resolve(network, store)


def floor_write(configs: dict[str, str], directory: Path) -> float:
    """Seconds a bare loop takes to create, write and close every text in a new directory."""
    directory.mkdir(mode=0o700)
    start = time.perf_counter()
    for host, text in configs.items():
        with (directory / f"{host}.cfg").open("xb") as handle:
            handle.write(text.encode("utf-8"))
    return time.perf_counter() - start


def floor_render(network: Network, secrets: SharedSecrets) -> float:
    """Seconds a bare Jinja2 loop takes over pre-built views (view building not timed)."""
    views = build_views(network, secrets)
    renderer = Renderer()
    templates = {view.platform: renderer.template(view.platform) for view in views}
    start = time.perf_counter()
    for view in views:
        templates[view.platform].render(v=view, node=view.node)
    return time.perf_counter() - start


@contextmanager
def collector(enabled: bool) -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector on (normal) or paused."""
    was = gc.isenabled()
    if not enabled:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def attempt(inventory: Path, out: Path, bare: Path, *, gc_on: bool) -> tuple[int, dict[str, float]]:
    """One timed pass over every stage: the node count and seconds per stage."""
    gc.collect()
    with collector(gc_on):
        network, load = timed(partial(load_network, inventory))
        secrets = fake_secrets(network)
        configs, render = timed(partial(render_network, network, secrets))
        _, write = timed(partial(write_configs, configs, out))
        write_floor = floor_write(configs, bare)
        floor = floor_render(network, secrets)
    seconds = {"load": load, "render": render, "write": write, "floor": floor}
    return len(network.nodes), {**seconds, "write_floor": write_floor}


def run(
    label: str, size: tuple[int, int, int, int], work: Path, *, repeat: int, gc_on: bool
) -> Result:
    """Generate one inventory under `work` and time every stage on it (best of `repeat`)."""
    inventory = work / "inventory"
    files, generate = timed(partial(generate_inventory, *size))
    write_inventory(files, inventory)
    best: dict[str, float] = {}
    nodes = 0
    for number in range(repeat):
        nodes, seconds = attempt(
            inventory, work / f"configs-{number}", work / f"bare-{number}", gc_on=gc_on
        )
        for stage, value in seconds.items():
            best[stage] = min(value, best.get(stage, value))
    return Result(
        label,
        nodes,
        generate,
        best["load"],
        best["render"],
        best["write"],
        best["floor"],
        best["write_floor"],
    )


def rate(nodes: int, seconds: float) -> str:
    """Nodes per second, formatted for the table."""
    return f"{nodes / seconds:>9,.0f}" if seconds > 0 else f"{'inf':>9}"


def print_table(results: list[Result]) -> None:
    """One block per inventory: seconds and nodes/s per stage, then the floor and ratios."""
    for r in results:
        print(f"\n{r.label}: {r.nodes:,} nodes")
        print(f"  {'stage':<34}{'seconds':>9}{'nodes/s':>11}")
        rows = (
            ("generate (not in total)", r.generate),
            ("load + validate + allocate", r.load),
            ("build views + render (frr)", r.render),
            ("write configs", r.write),
            ("total (load + render + write)", r.total),
            ("floor: bare Jinja2 render loop", r.floor),
            ("floor: bare file-write loop", r.write_floor),
        )
        for name, seconds in rows:
            print(f"  {name:<34}{seconds:>9.3f}  {rate(r.nodes, seconds)}")
        if r.floor > 0:
            print(
                f"  render stage / floor: {r.render / r.floor:.1f}x;  total / floor: "
                f"{r.total / r.floor:.1f}x"
            )
        if r.write_floor > 0:
            print(f"  write stage / bare file-write floor: {r.write / r.write_floor:.2f}x")
        verdict = "meets" if r.nodes / r.total >= GOAL else "misses"
        print(f"  end to end {r.nodes / r.total:,.0f} nodes/s: {verdict} the {GOAL:,} nodes/s goal")


def print_profile(stage: str, profiler: cProfile.Profile, top: int) -> None:
    """The `top` functions of one profiled stage, by cumulative and by own time."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(f"\n===== profile: {stage} =====")
    print(out.getvalue())


def profile(size: tuple[int, int, int, int], work: Path, top: int) -> None:
    """cProfile the load and render stages on one inventory; print the top functions."""
    inventory = work / "inventory"
    write_inventory(generate_inventory(*size), inventory)
    profiler = cProfile.Profile()
    network = profiler.runcall(load_network, inventory)
    print_profile("load", profiler, top)
    secrets = fake_secrets(network)
    profiler = cProfile.Profile()
    profiler.runcall(render_network, network, secrets)
    print_profile("render", profiler, top)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every size, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small inventories: a smoke run")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile load and render on the first size"
    )
    parser.add_argument("--top", type=int, default=25, help="functions shown per profile")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per inventory; the best time of each stage"
    )
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="pause Python's cyclic garbage collector around every timed stage, write "
        "included (egovnet itself pauses it only inside load_network and render_network)",
    )
    parser.add_argument(
        "--tmp",
        type=Path,
        default=None,
        help="directory for the temporary inventories and configs (default: the system's); "
        "e.g. /dev/shm to take the disk out of the write stage",
    )
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    print(
        f"egovnet render benchmark: Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPU(s), {affinity} usable by this process (the pipeline uses one)"
    )
    results = []
    for label, size in sizes:
        with tempfile.TemporaryDirectory(prefix="egovnet-bench-", dir=args.tmp) as tmp:
            results.append(
                run(label, size, Path(tmp), repeat=max(args.repeat, 1), gc_on=not args.no_gc)
            )
    gc_note = "paused around every stage (--no-gc)" if args.no_gc else "as egovnet leaves it"
    where = args.tmp or tempfile.gettempdir()
    print(
        f"garbage collector: {gc_note}; files under {where}; best of {max(args.repeat, 1)} "
        "run(s) per stage, total = sum of the stage bests"
    )
    print_table(results)
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="egovnet-profile-", dir=args.tmp) as tmp:
            profile(sizes[0][1], Path(tmp), args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
