"""Grafana dashboards as code, generated from the inventory with grafana-foundation-sdk.

Four dashboards: the province overview (devices up, by city and county, the rules the last
compliance check found failing, one row per city with its devices), device detail,
interface detail, and the alert list. Variables list the inventory's hosts, so a new county
appears in the pickers with no dashboard edit. Every query is PromQL on the exporter's
`egov_` series and the rules' recorded series; Grafana cannot run here, so a lab test runs
each panel's query against the real Prometheus.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as gdash
from grafana_foundation_sdk.builders import prometheus as gprom
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as models

from egovnet.model import Network
from exporters.noc import NOC_URL

DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="${datasource}")
SNMP = 'job="egov_snmp"'
COMPLIANCE_FAILING = "count by (tier, level, rule) (egov_compliance_failures)"
"""The last compliance check's failures (exporters/compliance.py), hosts per rule."""


def _query(expr: str, legend: str = "") -> gprom.Dataquery:
    query = gprom.Dataquery().expr(expr).datasource(DATASOURCE).ref_id("A")
    return query.legend_format(legend) if legend else query


def _stat(title: str, expr: str, unit: str = "short") -> stat.Panel:
    return (
        (stat.Panel().title(title).datasource(DATASOURCE).with_target(_query(expr)).unit(unit))
        .span(6)
        .height(4)
    )


def _series(title: str, expr: str, legend: str, unit: str = "short") -> timeseries.Panel:
    return (
        timeseries.Panel()
        .title(title)
        .datasource(DATASOURCE)
        .with_target(_query(expr, legend))
        .unit(unit)
        .span(12)
        .height(8)
    )


def _table(title: str, expr: str) -> table.Panel:
    query = _query(expr).instant().format(models_prom_table())
    return table.Panel().title(title).datasource(DATASOURCE).with_target(query).span(24).height(8)


def models_prom_table() -> Any:
    """Prometheus's 'table' result format (an instant vector shown as rows)."""
    from grafana_foundation_sdk.models import prometheus  # noqa: PLC0415 - one enum

    return prometheus.PromQueryFormat.TABLE


def _datasource_variable() -> gdash.DatasourceVariable:
    return gdash.DatasourceVariable("datasource").label("Prometheus").type("prometheus")


def _host_variable(network: Network) -> gdash.CustomVariable:
    names = [node.name for node in network.nodes]
    return (
        gdash.CustomVariable("host")
        .label("Device")
        .values(",".join(names))
        .current(models.VariableOption(selected=True, text=names[0], value=names[0]))
    )


def _base(title: str, uid: str, network: Network) -> gdash.Dashboard:
    return (
        gdash.Dashboard(f"{network.name}: {title}")
        .uid(uid)
        .tags(["egovnet", "snmp"])
        .time("now-6h", "now")
        .refresh("30s")
        .with_variable(_datasource_variable())
        .link(
            gdash.DashboardLink("NOC map")
            .type(models.DashboardLinkType.LINK)
            .url(NOC_URL)
            .tooltip("egovnet noc: the live network map")
            .target_blank(True)
        )
    )


def province_overview(network: Network) -> gdash.Dashboard:
    """Devices up across the province, then one row per city with its counties' devices."""
    board = _base("province overview", "egov-province", network)
    board.with_panel(_stat("Devices up", f"sum(egov_snmp_up{{{SNMP}}})"))
    board.with_panel(_stat("Devices down", f"count(egov_snmp_up{{{SNMP}}} == 0) or vector(0)"))
    board.with_panel(_stat("Firing alerts", 'count(ALERTS{alertstate="firing"}) or vector(0)'))
    board.with_panel(
        _stat("BGP sessions established", "count(egov_bgp_peer_state == 6) or vector(0)")
    )
    board.with_panel(
        _table("Devices up by city and tier", f"sum by (city, tier) (egov_snmp_up{{{SNMP}}})")
    )
    board.with_panel(
        # `or on() vector(0)`: one row of 0 when the last check found nothing (or none ran)
        _table(
            "Graded protection: hosts failing each rule, by tier and level",
            f"{COMPLIANCE_FAILING} or on() vector(0)",
        )
    )
    board.with_panel(
        _series(
            "Uplink utilisation, highest per city",
            'max by (city) (egov:if_utilisation:ratio5m{role="uplink"})',
            "{{city}}",
            "percentunit",
        )
    )
    if network.service_zone is not None:  # DNS of the service zone (interconnect check)
        board.with_panel(_series("DNS: resolver up per zone", "egov_dns_up", "{{server}} {{zone}}"))
        board.with_panel(
            _series(
                "DNS: slowest answer per resolver and zone",
                "max by (server, zone) (egov_dns_query_seconds)",
                "{{server}} {{zone}}",
                "s",
            )
        )
        board.with_panel(
            _stat(
                "DNS: wrong answers",
                "count(egov_dns_answer_correct == 0) or vector(0)",
            )
        )
    for city in (node for node in network.nodes if node.tier == "city"):
        board.with_row(gdash.Row(f"{city.city} ({city.name})"))
        board.with_panel(
            _series(
                f"{city.city}: devices up",
                f'egov_snmp_up{{{SNMP},city="{city.city}"}}',
                "{{host}}",
            )
        )
        board.with_panel(
            _series(
                f"{city.city}: county uplink traffic in",
                f'sum by (host) (rate(egov_if_in_octets_total{{city="{city.city}",'
                f'role="uplink"}}[5m]) * 8)',
                "{{host}}",
                "bps",
            )
        )
    return board


def device_detail(network: Network) -> gdash.Dashboard:
    """One device: uptime, CPU, memory, BGP sessions, interface states."""
    board = _base("device", "egov-device", network).with_variable(_host_variable(network))
    host = 'host="$host"'
    board.with_panel(_stat("Up", f"egov_snmp_up{{{SNMP},{host}}}"))
    board.with_panel(_stat("Uptime", f"egov_sys_uptime_seconds{{{host}}}", "s"))
    # modules are walked side by side: the slowest is the scrape's time
    board.with_panel(
        _stat("Scrape time", f"max(egov_snmp_scrape_duration_seconds{{{SNMP},{host}}})", "s")
    )
    board.with_panel(
        _stat("Interfaces down", f"count(egov_if_oper_status{{{host}}} != 1) or vector(0)")
    )
    board.with_panel(
        _series("CPU", f"egov:cpu_usage:percent{{{host}}}", "{{cpu}}{{entity}}", "percent")
    )
    board.with_panel(
        _series(
            "Memory", f"egov:memory_usage:percent{{{host}}}", "{{storage}}{{entity}}", "percent"
        )
    )
    board.with_panel(
        _series(
            "BGP peer state (6 = established)",
            f"egov_bgp_peer_state{{{host}}}",
            "{{neighbor}} {{peer}}",
        )
    )
    board.with_panel(
        _series(
            "Link traffic in",
            f'rate(egov_if_in_octets_total{{{host},role=~".+"}}[5m]) * 8',
            "{{ifName}} {{role}} {{neighbor}}",
            "bps",
        )
    )
    board.with_panel(_table("Interfaces (oper status: 1 up)", f"egov_if_oper_status{{{host}}}"))
    return board


def interface_detail(network: Network) -> gdash.Dashboard:
    """One interface of one device: traffic, utilisation, errors and discards."""
    interface = (
        gdash.QueryVariable("ifName")
        .label("Interface")
        .datasource(DATASOURCE)
        .query('label_values(egov_if_oper_status{host="$host"}, ifName)')
    )
    board = (
        _base("interface", "egov-interface", network)
        .with_variable(_host_variable(network))
        .with_variable(interface)
    )
    where = 'host="$host",ifName="$ifName"'
    board.with_panel(
        _series("Traffic in", f"rate(egov_if_in_octets_total{{{where}}}[5m]) * 8", "in", "bps")
    )
    board.with_panel(
        _series("Traffic out", f"rate(egov_if_out_octets_total{{{where}}}[5m]) * 8", "out", "bps")
    )
    board.with_panel(
        _series(
            "Utilisation (links of the inventory)",
            f"egov:if_utilisation:ratio5m{{{where}}}",
            "{{ifName}}",
            "percentunit",
        )
    )
    board.with_panel(
        _series(
            "Errors",
            f"rate(egov_if_in_errors_total{{{where}}}[5m]) + rate(egov_if_out_errors_total"
            f"{{{where}}}[5m])",
            "errors/s",
        )
    )
    board.with_panel(
        _series(
            "Discards",
            f"rate(egov_if_in_discards_total{{{where}}}[5m]) + rate(egov_if_out_discards_total"
            f"{{{where}}}[5m])",
            "discards/s",
        )
    )
    board.with_panel(_series("Oper status (1 up)", f"egov_if_oper_status{{{where}}}", "oper"))
    return board


def alert_list(network: Network) -> gdash.Dashboard:
    """Firing and pending alerts, from Prometheus's ALERTS series."""
    board = _base("alerts", "egov-alerts", network)
    board.with_panel(_table("Firing alerts", 'ALERTS{alertstate="firing"}'))
    board.with_panel(
        _series(
            "Firing alerts by severity and city",
            'count by (severity, city) (ALERTS{alertstate="firing"})',
            "{{severity}} {{city}}",
        )
    )
    return board


def dashboards(network: Network) -> dict[str, dict[str, Any]]:
    """Every dashboard as Grafana JSON, by file name."""
    boards: dict[str, Builder[Any]] = {
        "province.json": province_overview(network),
        "device.json": device_detail(network),
        "interface.json": interface_detail(network),
        "alerts.json": alert_list(network),
    }
    return {
        name: json.loads(json.dumps(board.build(), cls=JSONEncoder, ensure_ascii=False))
        for name, board in boards.items()
    }


def panel_queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL) of every query of a dashboard's JSON, rows included."""
    for panel in board.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                if target.get("expr"):
                    yield inner.get("title", ""), target["expr"]


def write_dashboards(network: Network, directory: Path) -> list[Path]:
    """Write every dashboard's JSON into `directory`; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, board in dashboards(network).items():
        path = directory / name
        path.write_text(json.dumps(board, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
