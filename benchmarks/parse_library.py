"""Hand-written line loop or a config-tree library for reading VRP and IOS configs?

docs/parsing.md ("Library choice") records the figures. On the same texts, this times:

* `egovnet`: the parsers in isolation/ (the whole model: interfaces, addresses, routes,
  BGP, ACL rules, NAT, plus the unparsed/unmodelled bookkeeping);
* `ciscoconfparse2`: building its parent/child tree, then pulling out only interfaces with
  their addresses and the static route lines (a fraction of what the model needs: every
  keyword after that would still be our own code);
* `hier_config`: building its tree (the library egovnet's rollout already uses for diffs).

and checks correctness on the cases the issue names that depend on the tree: Comware
global lines printed one space in (` ip route-static` between `#` lines) and a secondary
address. The texts: egovnet's own render of the sample's exit for each platform, and a
synthetic large config (N interfaces, N static routes, an N-rule ACL) in each syntax.

Figures are printed, never asserted. Run: ``.venv/bin/python benchmarks/parse_library.py
[--size N]`` (or ``-m benchmarks.parse_library``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

if not __package__:
    HERE = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(HERE.parent))

from ciscoconfparse2 import CiscoConfParse
from hier_config import Host  # type: ignore[import-untyped]

from egovnet.configs.ios import parse_ios
from egovnet.configs.vrp import parse_h3c_comware, parse_huawei_vrp
from egovnet.loader import load_network
from egovnet.render.engine import render_network
from isolation.sources import NO_SECRETS

ROOT = Path(__file__).resolve().parents[1]
COMWARE_INDENTED = """#
 sysname H3C
#
interface GigabitEthernet1/0/1
 ip address 202.1.1.1 255.255.255.252
 ip address 202.1.2.1 255.255.255.0 sub
#
 ip route-static 0.0.0.0 0 202.1.1.2
#
return
"""


def synthetic_vrp(size: int) -> str:
    lines = ["#", "sysname BIG", "#"]
    for n in range(size):
        a, b = divmod(n, 250)
        lines += [
            f"interface GigabitEthernet0/{a}/{b}",
            f" ip address 10.{a}.{b}.1 255.255.255.0",
            " traffic-filter inbound acl 3000",
            "#",
        ]
    lines.append("acl number 3000")
    lines += [
        f" rule {5 * (n + 1)} deny tcp source 10.{n // 250}.{n % 250}.0 0.0.0.255"
        f" destination-port eq {1000 + n % 60000}"
        for n in range(size)
    ]
    lines.append("#")
    lines += [
        f"ip route-static 172.{16 + n // 65536 % 16}.{n // 256 % 256}.{n % 256} 32 10.0.0.2"
        for n in range(size)
    ]
    return "\n".join([*lines, "#", "return", ""])


def synthetic_ios(size: int) -> str:
    lines = ["hostname BIG", "!"]
    for n in range(size):
        a, b = divmod(n, 250)
        lines += [
            f"interface GigabitEthernet{a}/{b}",
            f" ip address 10.{a}.{b}.1 255.255.255.0",
            " ip access-group EDGE in",
            "!",
        ]
    lines.append("ip access-list extended EDGE")
    lines += [
        f" {10 * (n + 1)} deny tcp 10.{n // 250}.{n % 250}.0 0.0.0.255 any eq {1000 + n}"
        for n in range(size)
    ]
    lines.append("!")
    lines += [
        f"ip route 172.{16 + n // 65536 % 16}.{n // 256 % 256}.{n % 256} 255.255.255.255 10.0.0.2"
        for n in range(size)
    ]
    return "\n".join([*lines, "end", ""])


def ccp_extract(text: str, comment: str) -> tuple[dict[str, list[str]], list[str]]:
    """Interfaces -> their `ip address` lines, and static route lines, via the tree."""
    parse = CiscoConfParse(text.splitlines(), syntax="ios", comment_delimiters=[comment])
    interfaces = {
        obj.text.split()[1]: [c.text.strip() for c in obj.children if "ip address" in c.text]
        for obj in parse.find_parent_objects([r"^interface "])
    }
    routes = [obj.text for obj in parse.find_objects(r"^ip route")]
    return interfaces, routes


def hier_tree(text: str) -> int:
    host = Host("bench", "ios")
    host.load_running_config(text)
    return sum(1 for _ in host.running_config.all_children())


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000, help="synthetic config size")
    args = parser.parse_args()
    network = load_network(ROOT / "inventory")
    exit_host = network.policy.exits[0]
    texts = {
        "vrp rendered exit": (render_network(network, NO_SECRETS, "huawei_vrp")[exit_host], "#"),
        "ios rendered exit": (render_network(network, NO_SECRETS, "cisco_ios")[exit_host], "!"),
        f"vrp synthetic {args.size}": (synthetic_vrp(args.size), "#"),
        f"ios synthetic {args.size}": (synthetic_ios(args.size), "!"),
    }
    print(f"{'text':<22} {'lines':>7} {'egovnet s':>10} {'ccp2 s':>9} {'hier s':>9}")
    for name, (text, comment) in texts.items():
        ours = parse_huawei_vrp if comment == "#" else parse_ios
        mine = timed(lambda: ours(text, "bench", "bench.cfg"))  # noqa: B023
        tree = timed(lambda: ccp_extract(text, comment))  # noqa: B023
        hier = timed(lambda: hier_tree(text))  # noqa: B023
        lines = text.count("\n")
        print(f"{name:<22} {lines:>7} {mine:>10.3f} {tree:>9.3f} {hier:>9.3f}")
    print("\ncorrectness on Comware's indented global lines:")
    config = parse_h3c_comware(COMWARE_INDENTED, "h3c", "h3c.cfg")
    print(
        "  egovnet: routes",
        [(str(s.prefix), str(s.next_hop)) for s in config.statics],
        "addresses",
        [str(a) for a in config.interfaces["GigabitEthernet1/0/1"].addresses],
    )
    interfaces, routes = ccp_extract(COMWARE_INDENTED, "#")
    print("  ciscoconfparse2: top-level routes", routes, "interfaces", interfaces)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
