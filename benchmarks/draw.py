"""How long does `egovnet topology draw` take at Hebei size and at national size, and what
does the NOC page cost to load and refresh?

For each size: the model to a `Drawing` and DOT text (Python only), then SVG (dot -Tsvg plus
egovnet's post-processing to the element contract) and PNG, beside the floor: bare
`dot -Tsvg` on the same DOT text, i.e. what any Graphviz drawing of this graph costs. At
national size it also draws one province (`--under` a province core), what a province's NOC
looks at.

With `--page`: the NOC page (exporters/noc.py) for Hebei, against a real Prometheus scraping
a tiny endpoint with every router's series (tests/unit/promserver.py): bytes and time of
`/` (the page load) and of `/api/status` (one refresh, i.e. the four instant queries behind
it), beside the floor of the same instant query of `egov_snmp_up` made directly.

Run: ``.venv/bin/python benchmarks/draw.py [--quick] [--page] [--repeat N]``. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from egovnet.generate import generate_inventory, write_inventory
from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.wiring.noc import noc_config
from exporters.live import query
from exporters.noc import NocServer
from topology.draw import drawing, graphviz, render, svg, to_dot

SIZES = {
    "Hebei 1x11x13": (1, 11, 13, 4),
    "national 31x11x9": (31, 11, 9, 4),
}
QUICK = {"sample-like 1x3x3": (1, 3, 3, 2), "Hebei 1x11x13": (1, 11, 13, 4)}


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def generated(directory: Path, shape: tuple[int, int, int, int]) -> Network:
    write_inventory(generate_inventory(*shape), directory)
    return load_network(directory)


def draw_figures(name: str, network: Network, repeat: int, whole: bool = True) -> None:
    if network.tier_counts().get("national"):
        province_figures(network, repeat)
        if not whole:
            return
    picture = drawing(network)
    dot_text = to_dot(picture)
    model = best(repeat, lambda: to_dot(drawing(network)))
    floor = best(repeat, lambda: graphviz(dot_text, "svg"))
    svg_s = best(repeat, lambda: svg(picture, None, dot_text))
    # cairo's PNG of a national canvas takes minutes: time it where a person would look at it
    png = best(repeat, lambda: render(picture, "png")) if len(network.nodes) < 1000 else None
    size = len(svg(picture, None, dot_text))
    print(
        f"{name}: {len(network.nodes)} routers, {len(picture.links)} links; "
        f"model->DOT {model:.3f}s; svg {svg_s:.2f}s (floor: bare dot -Tsvg {floor:.2f}s, "
        f"post-processing {svg_s - floor:+.2f}s); png "
        + (f"{png:.2f}s" if png is not None else "not timed")
        + f"; svg {size / 1e6:.2f} MB"
    )


def province_figures(network: Network, repeat: int) -> None:
    """One province of a national inventory: what a province's NOC looks at."""
    province = next(node.name for node in network.nodes if node.tier == "province")
    one = drawing(network, province)
    one_dot = to_dot(one)
    sub_floor = best(repeat, lambda: graphviz(one_dot, "svg"))
    sub = best(repeat, lambda: svg(drawing(network, province)))
    print(
        f"  one province (--under {province}): {len(one.nodes)} nodes; svg {sub:.2f}s "
        f"(floor {sub_floor:.2f}s)"
    )


def page_figures(network: Network, repeat: int, workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.unit.promserver import prometheus_harness  # noqa: PLC0415 - only with --page

    with prometheus_harness(network, workdir, down={network.nodes[-1].name}) as prom:
        prom.wait_scraped()
        config = noc_config(network, prometheus=prom.prometheus, alertmanager=None, runs=workdir)
        server = NocServer(config, ("127.0.0.1", 0))
        server.start()
        try:

            def fetch(path: str) -> bytes:
                with urllib.request.urlopen(server.url + path, timeout=30) as answer:  # noqa: S310
                    return bytes(answer.read())

            page_bytes = len(fetch("/"))
            status_bytes = len(fetch("/api/status"))
            load = [best(1, lambda: fetch("/")) for _ in range(repeat * 5)]
            refresh = [best(1, lambda: fetch("/api/status")) for _ in range(repeat * 5)]
            floor = [
                best(1, lambda: query(prom.prometheus, 'egov_snmp_up{job="egov_snmp"}'))
                for _ in range(repeat * 5)
            ]
        finally:
            server.shutdown()
            server.server_close()
    print(
        f"NOC page, {len(network.nodes)} routers: load / {page_bytes / 1e3:.0f} kB in "
        f"{statistics.median(load) * 1e3:.1f} ms (median); refresh /api/status "
        f"{status_bytes / 1e3:.1f} kB in {statistics.median(refresh) * 1e3:.1f} ms "
        f"(floor: one instant query of egov_snmp_up {statistics.median(floor) * 1e3:.1f} ms; "
        "the refresh makes five)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--page", action="store_true", help="also the NOC page (Prometheus)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--whole-nation",
        action="store_true",
        help="also the national inventory as one drawing (dot took over 300 s here)",
    )
    parser.add_argument("--only", choices=sorted({*SIZES, *QUICK}), help="one size only")
    args = parser.parse_args()
    dot = subprocess.run(["dot", "-V"], capture_output=True, text=True, check=True)  # noqa: S607
    print(f"graphviz: {dot.stderr.strip()}; best of {args.repeat}")
    with tempfile.TemporaryDirectory(prefix="egovnet-draw-") as tmp:
        sizes = QUICK if args.quick else SIZES
        for name, shape in sizes.items():
            if args.only and name != args.only:
                continue
            network = generated(Path(tmp) / name.split()[0], shape)
            draw_figures(name, network, args.repeat, whole=args.whole_nation)
            if args.page and name.startswith("Hebei"):
                page_figures(network, args.repeat, Path(tmp) / "page")


if __name__ == "__main__":
    main()
