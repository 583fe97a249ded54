"""Monitoring past one Prometheus: one per province (or city) and a national one above them.

`egovnet monitor config --layout national` splits the inventory's nodes by province,
`--layout city` by city. Each part (a *shard*) gets its own Prometheus config: its own
exporter targets, the egov recording and alert rules, a few summary rules
(`shard:egov_*:count`) and `external_labels` naming its province (and city). The nodes above
the split (the national core; in the city layout the province cores and the exit) make one
shard of their own, so every device is scraped, and alerted on, by exactly one Prometheus.

The national Prometheus scrapes no device: it federates the shards (`/federate` with the
`match[]` of `FEDERATE_MATCH`: the recording rules, the summaries, one `egov_snmp_up` per
device, the exporters' `up` and the critical alerts firing) and evaluates the national
rules: a shard's Prometheus down, a province blind or losing many devices at once.

Within any Prometheus, `exporter_shards` > 1 splits the SNMP job by `hashmod` of the target
host name: job `egov_snmp_<j>` keeps the targets whose hash modulo N is j and sends them to
exporter j, so each device is scraped by one exporter.

Everything may run on one machine (a lab, a test): the national Prometheus listens on the
given port, the shards' on the ports after it, and their exporters on the ports from the
exporter's on, shard by shard (every port given once, Alertmanager's skipped). Where the
shards run on their own hosts, `targets/federate.json` (file_sd, re-read every minute) is
the national side's one file to edit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from egovnet.errors import EgovnetError
from egovnet.model import Network, Node
from exporters.promconfig import (
    ISOLATION_TARGETS,
    LINKS,
    RULES_FILE,
    SNMP_TARGETS,
    Endpoints,
    Timing,
    alert_rules,
    alertmanager_config,
    prometheus_config,
    snmp_targets,
)

Layout = Literal["single", "national", "city"]
LAYOUTS: tuple[str, ...] = ("single", "national", "city")
NATIONAL_RULES = "rules/national.rules.yml"
FEDERATE_TARGETS = "targets/federate.json"
FEDERATE_JOB = "egov_federate"
SHARD_DIR = "shards"

FEDERATE_MATCH: tuple[str, ...] = (
    '{__name__=~"shard:egov_.+"}',
    '{__name__=~"egov:.+"}',
    "egov_snmp_up",
    'up{job="egov_exporter"}',
    'ALERTS{alertstate="firing",severity="critical"}',
)
"""What the national Prometheus pulls from each shard: the summaries and the per-device
recording rules (CPU, memory, link utilisation), one `egov_snmp_up` per device (so that a
national query can say which device, and `sum by (province) (egov_snmp_up)` counts them),
the exporters' health and the critical alerts firing. Never the raw interface counters or
tables: those stay in the province, which is why one Prometheus per province scales."""

DEVICES_PER_EXPORTER = 300
"""Devices one exporter process is planned for at 30 s scrapes. benchmarks/exporter.py
measured 9.1 CPU s for one round of 157 devices (30 % of a core at 30 s), i.e. about 500
devices saturate the one core a Python process uses; 300 keeps 40 % headroom for first
scrapes, retries and slow devices."""


class LayoutError(EgovnetError, ValueError):
    """A layout that does not fit the inventory (one province for `national`, ...)."""


@dataclass(frozen=True)
class Shard:
    """One Prometheus below the national one: the nodes it scrapes and what names it."""

    name: str
    """A file- and label-safe name: the common prefix of its top nodes' names
    (`hebei-core` for hebei-core-1 and hebei-core-2), or its first node's name."""
    nodes: tuple[Node, ...]
    labels: dict[str, str]
    """Its external labels beyond `network`: `province` (and `city` in the city layout);
    none for the shard above the split (the national core has no province)."""
    listen: str
    exporters: tuple[str, ...]


@dataclass(frozen=True)
class Instance:
    """One Prometheus to start: where its config is and where it listens.

    Example: ``Instance(name="hebei-core", config=Path("out/shards/hebei-core/prometheus.yml"),
    listen="127.0.0.1:9091", data=Path("out/data/hebei-core"))``
    """

    name: str
    config: Path
    listen: str
    data: Path

    def argv(self) -> list[str]:
        """The command line that starts it (Debian's `prometheus`)."""
        return [
            "prometheus",
            f"--config.file={self.config}",
            f"--storage.tsdb.path={self.data}",
            f"--web.listen-address={self.listen}",
        ]


@dataclass
class FederationPlan:
    """What `write_federation` wrote: the national Prometheus first, then each shard."""

    instances: list[Instance] = field(default_factory=list)
    shards: list[Shard] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def shard_name(nodes: Sequence[Node]) -> str:
    """The common prefix of the names of the shard's top nodes, or the first one's name.

    Top nodes are those of the shard's lowest level (a province's cores, a city's router).
    """
    top = min(node.level for node in nodes)
    names = [node.name for node in nodes if node.level == top]
    shortest = min(names, key=len)
    length = next(
        (i for i, c in enumerate(shortest) if any(n[i] != c for n in names)), len(shortest)
    )
    prefix = shortest[:length].rstrip("-_.")
    return prefix if len(names) > 1 and len(prefix) >= 2 else names[0]


def split(network: Network, layout: Layout) -> list[tuple[tuple[Node, ...], dict[str, str]]]:
    """The network's nodes in shards, in inventory order, with each shard's labels; the
    nodes above the split first (if any)."""
    if layout == "national":
        provinces = {node.province for node in network.nodes if node.province}
        if len(provinces) < 2:
            raise LayoutError(
                f"the inventory has {len(provinces)} province(s): --layout national needs "
                "several; --layout city splits one province by city"
            )
    groups: dict[tuple[str, ...], list[Node]] = {}
    for node in network.nodes:
        if layout == "national":
            key: tuple[str, ...] = (node.province,) if node.province else ()
        else:
            key = (node.province or "", node.city) if node.city else ()
        groups.setdefault(key, []).append(node)
    if layout == "city" and len(groups) - (() in groups) < 1:
        raise LayoutError("the inventory has no city: --layout city has nothing to split")
    ordered = sorted(groups.items(), key=lambda item: item[0] != ())
    result = []
    for key, nodes in ordered:
        labels: dict[str, str] = {}
        if key:
            labels["province"] = key[0]
            if layout == "city":
                labels["city"] = key[1]
        elif layout == "city" and nodes[0].province:
            labels["province"] = nodes[0].province
        result.append((tuple(nodes), labels))
    return result


def summary_rules() -> dict[str, Any]:
    """The rule group every shard adds: its counts, as the national rules read them.

    Each is a single series (`or vector(0)`: present at 0 too, so "none down" is a value and
    not an absence); the shard's external labels name it when federated.
    """

    def count(record: str, expr: str) -> dict[str, str]:
        return {"record": record, "expr": f"count({expr}) or vector(0)"}

    return {
        "name": "egov-shard-summary",
        "rules": [
            count("shard:egov_devices:count", "egov_snmp_up"),
            count("shard:egov_devices_unreachable:count", "egov_snmp_up == 0"),
            count(
                "shard:egov_links_down:count",
                f"egov_if_oper_status{{{LINKS}}} != 1 and egov_if_admin_status == 1",
            ),
            count(
                "shard:egov_bgp_peers_down:count",
                "egov_bgp_peer_state != 6 and egov_bgp_peer_admin_status == 2",
            ),
        ],
    }


UNREACHABLE_SHARE = 0.1
"""A tenth of a shard's devices unreachable at once is a core, a trunk or the management
path of a province, not a county: the national NOC hears of it."""


def national_rules(timing: Timing) -> dict[str, Any]:
    """The national Prometheus's alerts, over what it federates."""

    def alert(name: str, expr: str, summary: str, description: str) -> dict[str, Any]:
        return {
            "alert": name,
            "expr": expr,
            "for": timing.unreachable,
            "labels": {"severity": "critical"},
            "annotations": {"summary": summary, "description": description},
        }

    share = f"{UNREACHABLE_SHARE:g}"
    return {
        "groups": [
            {
                "name": "egov-national",
                "rules": [
                    alert(
                        "EgovShardPrometheusDown",
                        f'up{{job="{FEDERATE_JOB}"}} == 0',
                        "The Prometheus of {{ $labels.shard }} cannot be federated",
                        "The national Prometheus cannot read /federate of {{ $labels.shard }} "
                        "({{ $labels.instance }}) for "
                        f"{timing.unreachable}: that Prometheus is down or cut off, and the "
                        "national view of its devices is stale.",
                    ),
                    alert(
                        "EgovShardBlind",
                        "shard:egov_devices:count == 0",
                        "The Prometheus of {{ $labels.shard }} sees no device",
                        "{{ $labels.shard }} answers but scrapes no device: its exporters "
                        "are down or its targets file is empty.",
                    ),
                    alert(
                        "EgovShardManyDevicesUnreachable",
                        "shard:egov_devices_unreachable:count"
                        f" > {share} * shard:egov_devices:count",
                        "{{ $value }} devices of {{ $labels.shard }} unreachable",
                        f"More than {UNREACHABLE_SHARE:.0%} of the devices of "
                        "{{ $labels.shard }} have not answered SNMP for "
                        f"{timing.unreachable}: a core, a trunk or the management path, "
                        "not one county.",
                    ),
                ],
            }
        ]
    }


def national_config(network: Network, timing: Timing, alertmanager: str) -> dict[str, Any]:
    """prometheus.yml of the national Prometheus: federation of every shard, no device."""
    return {
        "global": {
            "scrape_interval": timing.scrape,
            "evaluation_interval": timing.evaluation,
            "scrape_timeout": timing.timeout,
            "external_labels": {"network": network.name},
        },
        "rule_files": [NATIONAL_RULES],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {
                "job_name": FEDERATE_JOB,
                "metrics_path": "/federate",
                # keep the shard's own labels (job, instance, host, province...) as they are
                "honor_labels": True,
                "params": {"match[]": list(FEDERATE_MATCH)},
                "file_sd_configs": [{"files": [FEDERATE_TARGETS], "refresh_interval": "1m"}],
            }
        ],
    }


def federate_targets(shards: Sequence[Shard]) -> list[dict[str, Any]]:
    """file_sd entries of the national Prometheus: one per shard, labelled `shard` (and
    its province, city) so that an alert on it names the province."""
    return [{"targets": [s.listen], "labels": {"shard": s.name, **s.labels}} for s in shards]


def plan_shards(
    network: Network,
    layout: Layout,
    *,
    prometheus: str,
    exporter: str,
    alertmanager: str,
    exporter_shards: int,
) -> list[Shard]:
    """The shards of `layout`, with the addresses of their Prometheus and exporters for one
    machine: shard Prometheus on the ports after the national one's, exporters from the
    `exporter` port on, each skipping a port already given out (Alertmanager's too)."""
    groups = split(network, layout)
    taken = {_split_address(prometheus), _split_address(alertmanager)}
    listens = _allocate(prometheus, 1, len(groups), taken)
    exporters = _allocate(exporter, 0, len(groups) * exporter_shards, taken)
    shards: list[Shard] = []
    seen: set[str] = set()
    for index, (nodes, labels) in enumerate(groups):
        name = shard_name(nodes)
        if name in seen:
            name = nodes[0].name
        seen.add(name)
        mine = exporters[index * exporter_shards : (index + 1) * exporter_shards]
        shards.append(Shard(name, nodes, labels, listens[index], tuple(mine)))
    return shards


def _split_address(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise LayoutError(f"'{listen}': expected HOST:PORT")
    return host, int(port)


def _allocate(start: str, skip: int, count: int, taken: set[tuple[str, int]]) -> list[str]:
    """`count` addresses on the host of `start`, from its port + `skip` on, past `taken`
    (which they join).

    >>> _allocate("127.0.0.1:9090", 1, 3, {("127.0.0.1", 9090), ("127.0.0.1", 9093)})
    ['127.0.0.1:9091', '127.0.0.1:9092', '127.0.0.1:9094']
    """
    host, port = _split_address(start)
    port += skip
    found: list[str] = []
    while len(found) < count:
        if port >= 65536:
            raise LayoutError(f"no {count} free ports from {start}")
        if (host, port) not in taken:
            taken.add((host, port))
            found.append(f"{host}:{port}")
        port += 1
    return found


def exporter_addresses(base: str, count: int) -> tuple[str, ...]:
    """`count` exporters on consecutive ports from `base` (one Prometheus's shards).

    >>> exporter_addresses("127.0.0.1:9116", 2)
    ('127.0.0.1:9116', '127.0.0.1:9117')
    """
    return tuple(_allocate(base, 0, count, set()))


def write_federation(
    network: Network,
    directory: Path,
    layout: Layout,
    *,
    timing: Timing,
    prometheus: str,
    exporter: str,
    alertmanager: str,
    exporter_shards: int = 1,
    lab: bool = False,
    webhook: str | None = None,
) -> FederationPlan:
    """Write the national Prometheus's config into `directory` and each shard's into
    `directory/shards/<name>/`; the Prometheus instances to start and the files written."""
    plan = FederationPlan()
    plan.shards = plan_shards(
        network,
        layout,
        prometheus=prometheus,
        exporter=exporter,
        alertmanager=alertmanager,
        exporter_shards=exporter_shards,
    )
    files: dict[Path, str] = {
        directory / "prometheus.yml": _yaml(national_config(network, timing, alertmanager)),
        directory / NATIONAL_RULES: _yaml(national_rules(timing)),
        directory / FEDERATE_TARGETS: _json(federate_targets(plan.shards)),
        directory / "alertmanager.yml": _yaml(alertmanager_config(network, webhook)),
    }
    plan.instances.append(
        Instance("national", directory / "prometheus.yml", prometheus, directory / "data/national")
    )
    rules = alert_rules(timing)
    rules["groups"].append(summary_rules())
    rules_text = _yaml(rules)  # the same for every shard: dumped once
    for shard in plan.shards:
        home = directory / SHARD_DIR / shard.name
        config = prometheus_config(
            network,
            timing,
            Endpoints(shard.exporters[0], alertmanager),
            exporters=shard.exporters,
            external_labels=shard.labels,
        )
        files[home / "prometheus.yml"] = _yaml(config)
        files[home / RULES_FILE] = rules_text
        files[home / SNMP_TARGETS] = _json(snmp_targets(network, lab=lab, nodes=shard.nodes))
        files[home / ISOLATION_TARGETS] = "[]\n"
        plan.instances.append(
            Instance(
                shard.name, home / "prometheus.yml", shard.listen, directory / "data" / shard.name
            )
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name == Path(ISOLATION_TARGETS).name and path.exists():
            continue  # [isolation] may have registered itself: keep its entry
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        plan.files.append(path)
    return plan


def federated_series(shard: Shard, network: Network) -> int:
    """How many series the national Prometheus pulls from `shard` in steady state (no alert
    firing), counting one CPU per device: per device `egov_snmp_up`, `egov:cpu_usage:percent`
    and `egov:memory_usage:percent`; per link end `egov:if_utilisation:ratio5m`; the four
    summaries; one `up` per exporter."""
    link_ends = sum(len({s.port for s in network.sessions_of(node.name)}) for node in shard.nodes)
    return 3 * len(shard.nodes) + link_ends + len(summary_rules()["rules"]) + len(shard.exporters)


def _json(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


def _yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
