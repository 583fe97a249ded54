"""Prometheus and Alertmanager configuration generated from the inventory.

One `egovnet monitor config -o DIR` writes everything a NOC's Prometheus needs:
`prometheus.yml` (jobs, relabelling each inventory host to the exporter),
`targets/snmp.json` (file_sd: one entry per node with its inventory labels, so adding a
county to `hosts.yaml` adds its target with no second edit), `rules/egov.rules.yml` (alerts)
and `alertmanager.yml` (province NOC, one NOC per city). Two timings: `production` and
`lab` (short intervals so that a lab test sees an alert fire within seconds).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from egovnet import platforms
from egovnet.model import Network, Node
from exporters.noc import NOC_URL
from exporters.targets import node_labels

RULES_FILE = "rules/egov.rules.yml"
SNMP_TARGETS = "targets/snmp.json"
ISOLATION_TARGETS = "targets/isolation.json"
RAM = "1.3.6.1.2.1.25.2.1.2"
"""hrStorageRam: the HOST-RESOURCES storage type of main memory."""


@dataclass(frozen=True)
class Timing:
    """Intervals and how long a condition must hold before its alert fires."""

    scrape: str
    evaluation: str
    timeout: str
    unreachable: str
    link: str
    routing: str
    resources: str = "10m"
    utilisation: str = "10m"
    """The issue's "uplink utilisation > 80% for 10 min" holds in the lab too."""


TIMINGS = {
    "production": Timing("30s", "30s", "25s", "2m", "1m", "1m"),
    "lab": Timing("5s", "5s", "4s", "15s", "10s", "10s"),
}


@dataclass(frozen=True)
class Endpoints:
    """Where the exporter and Alertmanager listen, as Prometheus reaches them."""

    exporter: str = "127.0.0.1:9116"
    alertmanager: str = "127.0.0.1:9093"


def snmp_targets(
    network: Network, *, lab: bool = False, nodes: Sequence[Node] | None = None
) -> list[dict[str, Any]]:
    """file_sd entries: one per node (of `nodes`, by default the network's), its inventory
    labels and the modules to scrape."""
    entries = []
    for node in network.nodes if nodes is None else nodes:
        modules = (
            platforms.LAB.snmp_modules if lab else platforms.platform(node.platform).snmp_modules
        )
        labels = node_labels(node) | {
            "platform": node.platform,
            "__param_module": ",".join(modules),
        }
        entries.append({"targets": [node.name], "labels": labels})
    return entries


def snmp_jobs(exporters: Sequence[str]) -> list[dict[str, Any]]:
    """The SNMP scrape job, or with several exporters one job per exporter: `egov_snmp_<j>`
    keeps the targets whose `hashmod` of the host name is j, so each device is scraped once,
    always by the same exporter (which keeps its walk sizes), and adding an exporter moves
    about 1/N of the devices."""
    sharded = len(exporters) > 1
    jobs = []
    for index, exporter in enumerate(exporters):
        relabel: list[dict[str, Any]] = []
        if sharded:
            relabel += [
                {
                    "source_labels": ["__address__"],
                    "modulus": len(exporters),
                    "target_label": "__tmp_exporter_shard",
                    "action": "hashmod",
                },
                {
                    "source_labels": ["__tmp_exporter_shard"],
                    "regex": str(index),
                    "action": "keep",
                },
            ]
        relabel += [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": exporter},
        ]
        jobs.append(
            {
                "job_name": f"egov_snmp_{index}" if sharded else "egov_snmp",
                "metrics_path": "/snmp",
                # the exporter sets the same inventory labels on every series it returns
                "honor_labels": True,
                "file_sd_configs": [{"files": [SNMP_TARGETS], "refresh_interval": "1m"}],
                "relabel_configs": relabel,
            }
        )
    return jobs


def prometheus_config(
    network: Network,
    timing: Timing,
    endpoints: Endpoints,
    *,
    exporters: Sequence[str] | None = None,
    external_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """prometheus.yml as data; `exporters` (default: the one of `endpoints`) shards the
    SNMP job, `external_labels` (a shard's province, city) join `network`."""
    exporters = exporters or (endpoints.exporter,)
    return {
        "global": {
            "scrape_interval": timing.scrape,
            "evaluation_interval": timing.evaluation,
            "scrape_timeout": timing.timeout,
            "external_labels": {"network": network.name, **(external_labels or {})},
        },
        "rule_files": [RULES_FILE],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [endpoints.alertmanager]}]}]
        },
        "scrape_configs": [
            *snmp_jobs(exporters),
            {
                "job_name": "egov_exporter",
                "static_configs": [{"targets": list(exporters)}],
            },
            {
                # [isolation] publishes egov_isolation_violations / egov_interconnect_reachable;
                # it registers its endpoint here (empty until it does)
                "job_name": "egov_isolation",
                "honor_labels": True,
                "file_sd_configs": [{"files": [ISOLATION_TARGETS], "refresh_interval": "1m"}],
            },
        ],
    }


def _alert(
    name: str, expr: str, duration: str, severity: str, summary: str, description: str
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity},
        "annotations": {
            "summary": summary,
            "description": description,
            # the NOC page opens on the alert's node (egovnet noc: exporters/noc.py)
            "noc_url": f"{NOC_URL}/?host={{{{ $labels.host }}}}",
        },
    }


LINKS = 'role=~"uplink|downlink"'


def alert_rules(timing: Timing) -> dict[str, Any]:
    """The alert (and recording) rules, as a rules file's data."""
    recording = [
        {
            "record": "egov:cpu_usage:percent",
            "expr": "egov_hr_processor_load_percent or egov_huawei_cpu_usage_percent "
            "or egov_h3c_cpu_usage_percent",
        },
        {
            "record": "egov:memory_usage:percent",
            "expr": f'100 * egov_hr_storage_used_bytes{{storage_type="{RAM}"}}'
            f' / egov_hr_storage_size_bytes{{storage_type="{RAM}"}}'
            " or egov_huawei_memory_usage_percent or egov_h3c_memory_usage_percent",
        },
        {
            "record": "egov:if_utilisation:ratio5m",
            "expr": f"max without (direction) (label_replace(rate(egov_if_in_octets_total"
            f'{{{LINKS}}}[5m]), "direction", "in", "", "") or label_replace('
            f'rate(egov_if_out_octets_total{{{LINKS}}}[5m]), "direction", "out", "", "")) * 8'
            f" / (egov_if_speed_bps{{{LINKS}}} > 0)",
        },
    ]
    alerts = [
        _alert(
            "EgovDeviceUnreachable",
            "egov_snmp_up == 0",
            timing.unreachable,
            "critical",
            "{{ $labels.host }} does not answer SNMP",
            "The exporter could not read {{ $labels.host }} ({{ $labels.tier }}) for "
            f"{timing.unreachable}: device down, management path cut, or wrong credentials.",
        ),
        _alert(
            "EgovUplinkDown",
            f"egov_if_oper_status{{{LINKS}}} != 1 and egov_if_admin_status == 1",
            timing.link,
            "critical",
            "Link {{ $labels.host }} {{ $labels.ifName }} to {{ $labels.neighbor }} is down",
            "The {{ $labels.role }} {{ $labels.ifName }} of {{ $labels.host }} towards "
            "{{ $labels.neighbor }} is enabled but not up.",
        ),
        _alert(
            "EgovUplinkUtilisationHigh",
            "egov:if_utilisation:ratio5m > 0.8",
            timing.utilisation,
            "warning",
            "Link {{ $labels.host }} {{ $labels.ifName }} above 80% of its speed",
            "{{ $labels.ifName }} of {{ $labels.host }} towards {{ $labels.neighbor }} has "
            f"carried over 80% of its speed for {timing.utilisation}.",
        ),
        _alert(
            "EgovInterfaceErrorsRising",
            "increase(egov_if_in_errors_total[10m]) + increase(egov_if_out_errors_total[10m]) > 10",
            timing.link,
            "warning",
            "Errors rising on {{ $labels.host }} {{ $labels.ifName }}",
            "More than 10 errored packets in 10 minutes on {{ $labels.ifName }} of "
            "{{ $labels.host }}: cabling, optics or duplex.",
        ),
        _alert(
            "EgovBgpPeerDown",
            "egov_bgp_peer_state != 6 and egov_bgp_peer_admin_status == 2",
            timing.routing,
            "critical",
            "BGP {{ $labels.host }} to {{ $labels.neighbor }} ({{ $labels.peer }}) is down",
            "The BGP session of {{ $labels.host }} with {{ $labels.peer }} "
            "({{ $labels.neighbor }}) is enabled but not established.",
        ),
        _alert(
            "EgovOspfNeighbourDown",
            "(egov_ospf_neighbor_state < 4)"
            " or ((max_over_time(egov_ospf_neighbor_state[1h]) == 8)"
            " unless egov_ospf_neighbor_state unless on (host) (egov_snmp_up == 0))",
            timing.routing,
            "critical",
            "OSPF neighbour {{ $labels.neighbor_address }} of {{ $labels.host }} lost",
            "An OSPF adjacency of {{ $labels.host }} (vendor gear may run OSPF) is down "
            "or has vanished from its neighbour table.",
        ),
        _alert(
            "EgovCpuHigh",
            "egov:cpu_usage:percent > 85",
            timing.resources,
            "warning",
            "CPU of {{ $labels.host }} above 85%",
            f"CPU use of {{{{ $labels.host }}}} has stayed above 85% for {timing.resources}.",
        ),
        _alert(
            "EgovMemoryHigh",
            "egov:memory_usage:percent > 90",
            timing.resources,
            "warning",
            "Memory of {{ $labels.host }} above 90%",
            f"Memory use of {{{{ $labels.host }}}} has stayed above 90% for {timing.resources}.",
        ),
        _alert(
            "EgovIsolationViolation",
            "egov_isolation_violations > 0",
            "0s",
            "critical",
            "Zone isolation violated",
            "The isolation audit found {{ $value }} path(s) between zones that must stay "
            "apart (private and public, or a department and the internet).",
        ),
        _alert(
            "EgovInterconnectLost",
            "egov_interconnect_reachable == 0",
            timing.unreachable,
            "critical",
            "Interconnection lost",
            "A pair that must reach each other over the extranet cannot: "
            "{{ $labels.source }} to {{ $labels.destination }}.",
        ),
        _alert(
            "EgovDnsDown",
            "egov_dns_up == 0",
            timing.unreachable,
            "critical",
            "Resolver {{ $labels.server }} does not answer zone {{ $labels.zone }}",
            "No DNS probe of zone {{ $labels.zone }} got an answer from {{ $labels.server }} "
            f"for {timing.unreachable}: its departments cannot resolve the extranet's names.",
        ),
        _alert(
            "EgovDnsWrongAnswer",
            "egov_dns_answer_correct == 0 unless on (server, zone) (egov_dns_up == 0)",
            timing.unreachable,
            "critical",
            "{{ $labels.server }} answers {{ $labels.qname }} wrongly for zone {{ $labels.zone }}",
            "{{ $labels.src }} asked {{ $labels.server }} for {{ $labels.qname }} "
            "({{ $labels.kind }}) and did not get the right answer: a wrong record, or a "
            "resolver that reaches the internet for a zone that must not.",
        ),
        _alert(
            "EgovDnsSlow",
            "egov_dns_query_seconds > 0.5",
            timing.resources,
            "warning",
            "{{ $labels.server }} is slow for zone {{ $labels.zone }}",
            "Answers of {{ $labels.server }} to {{ $labels.src }} took over 0.5 s "
            f"for {timing.resources}.",
        ),
        _alert(
            "EgovExporterScrapeFailing",
            'up{job=~"egov_snmp(_[0-9]+)?|egov_exporter"} == 0',
            timing.unreachable,
            "critical",
            "Prometheus cannot scrape the SNMP exporter",
            "Scrapes of {{ $labels.instance }} (job {{ $labels.job }}) fail: the exporter "
            "is down or overloaded, and every device behind it is blind.",
        ),
        _alert(
            "EgovComplianceFailing",
            "egov_compliance_failures > 0",
            "0s",
            "warning",
            "{{ $labels.host }} fails graded-protection rule {{ $labels.rule }}",
            "The last compliance check found {{ $labels.host }} (tier {{ $labels.tier }}, "
            "level {{ $labels.level }}) failing or unverifiable on {{ $labels.rule }}: "
            "`egovnet compliance check --source live --limit {{ $labels.host }}` shows the "
            "evidence, `egovnet compliance enforce` repairs it.",
        ),
        _alert(
            "EgovComplianceStateUnreadable",
            "egov_compliance_state_ok == 0",
            timing.unreachable,
            "warning",
            "The last compliance check cannot be read",
            "The exporter at {{ $labels.instance }} cannot read its compliance state file: "
            "no compliance failure is shown, whatever the network's state.",
        ),
    ]
    return {
        "groups": [
            {"name": "egov-recording", "rules": recording},
            {"name": "egov-alerts", "rules": alerts},
        ]
    }


def receiver_name(host: str) -> str:
    """The Alertmanager receiver of a city's NOC.

    >>> receiver_name("shijiazhuang")
    'noc-shijiazhuang'
    """
    return f"noc-{host}"


def alertmanager_config(network: Network, webhook: str | None = None) -> dict[str, Any]:
    """Routing by tier: province and exit alerts to the province NOC, a city's and its
    counties' alerts to that city's NOC; every critical alert to the province NOC as well.

    `webhook` is a URL prefix: each receiver posts to `<webhook>/<receiver>`; without it the
    receivers have no notifier yet (the NOC adds mail or IM there).
    """
    cities = [node for node in network.nodes if node.tier == "city"]
    names = ["noc-province", *(receiver_name(c.name) for c in cities)]

    def receiver(name: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": name}
        if webhook:
            entry["webhook_configs"] = [
                {"url": f"{webhook.rstrip('/')}/{name}", "send_resolved": True}
            ]
        return entry

    routes: list[dict[str, Any]] = [
        {"receiver": "noc-province", "matchers": ['severity="critical"'], "continue": True},
        {"receiver": "noc-province", "matchers": ['tier=~"province|exit"']},
    ]
    routes += [
        {"receiver": receiver_name(city.name), "matchers": [f'city="{city.city}"']}
        for city in cities
    ]
    return {
        "route": {
            "receiver": "noc-province",
            "group_by": ["alertname", "host"],
            "group_wait": "10s",
            "group_interval": "1m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "inhibit_rules": [
            {
                # a device that does not answer at all explains its links and sessions
                "source_matchers": ['alertname="EgovDeviceUnreachable"'],
                "target_matchers": ['alertname=~"EgovUplink.*|EgovBgpPeerDown|EgovOspf.*"'],
                "equal": ["host"],
            }
        ],
        "receivers": [receiver(name) for name in names],
    }


def write_config(
    network: Network,
    directory: Path,
    *,
    timing: Timing,
    endpoints: Endpoints,
    lab: bool = False,
    webhook: str | None = None,
    exporters: Sequence[str] | None = None,
) -> list[Path]:
    """Write every file into `directory`; the paths written. `exporters`: several exporters
    sharing the devices (see `snmp_jobs`)."""
    files: dict[str, str] = {
        "prometheus.yml": _yaml(prometheus_config(network, timing, endpoints, exporters=exporters)),
        RULES_FILE: _yaml(alert_rules(timing)),
        SNMP_TARGETS: json.dumps(snmp_targets(network, lab=lab), ensure_ascii=False, indent=2),
        ISOLATION_TARGETS: "[]\n",
        "alertmanager.yml": _yaml(alertmanager_config(network, webhook)),
    }
    written = []
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == ISOLATION_TARGETS and path.exists():
            continue  # [isolation] may have registered itself: keep its entry
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        written.append(path)
    return written


def _yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
