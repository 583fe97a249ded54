"""What the network looks like right now, read from Prometheus and Alertmanager.

Read-only: Prometheus's `/api/v1/query` (instant queries) and Alertmanager's
`/api/v2/alerts` (GET). The results are plain data (`LiveState`, dicts) so that the
drawing (`topology.draw`) and the NOC page (`exporters.noc`) can use them without this
module knowing either; `egovnet.wiring.noc` joins them.

Node states: `down` when the exporter's scrape of it fails (`egov_snmp_up 0`), `degraded`
when it answers but one of its BGP sessions is not Established or an isolation violation is
counted on it, `up` otherwise, `unknown` when Prometheus has no series for it yet. Link
states, by the pair of hosts: `down` when either end reports the port down
(`egov_if_oper_status != 1`), `degraded` when a BGP session over it is not Established or
its utilisation is over 80 % (`egov:if_utilisation:ratio5m`), `up` when seen and fine.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from egovnet.errors import EgovnetError

TIMEOUT = 10.0
HOT = 0.8
"""Utilisation above which a link is `degraded` (the EgovUplinkUtilisationHigh threshold)."""
ESTABLISHED = "6"
LINK_ROLES = 'role=~"uplink|downlink|internet"'


class LiveError(EgovnetError):
    """Prometheus or Alertmanager did not answer, or answered something else than its API."""


@dataclass
class LiveState:
    """Per node and per link (keyed by the sorted pair of hosts) state, and why.

    Example: ``LiveState(nodes={"zunhua": "down", "tangshan": "up"},
    links={("tangshan", "zunhua"): "up"}, notes={"zunhua": "SNMP scrape failing"})``
    """

    nodes: dict[str, str] = field(default_factory=dict)
    links: dict[tuple[str, str], str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    utilisation: dict[tuple[str, str], float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "links": {f"{a}|{b}": state for (a, b), state in self.links.items()},
            "notes": self.notes,
            "utilisation": {f"{a}|{b}": v for (a, b), v in self.utilisation.items()},
        }


def _get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:  # noqa: S310 - an http URL
            return json.load(answer)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise LiveError(f"{url.split('?', maxsplit=1)[0]}: {exc}") from exc


def base_url(address: str) -> str:
    """`HOST:PORT` or a URL, as a URL without a trailing slash.

    >>> base_url("127.0.0.1:9090"), base_url("http://prom:9090/")
    ('http://127.0.0.1:9090', 'http://prom:9090')
    """
    url = address if "://" in address else f"http://{address}"
    return url.rstrip("/")


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    """An instant query's result vector (`[{"metric": {...}, "value": [t, "v"]}]`)."""
    url = f"{base_url(prometheus)}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    document = _get(url)
    if not isinstance(document, dict) or document.get("status") != "success":
        raise LiveError(f"{base_url(prometheus)}: query {expr!r} failed: {document!r:.200}")
    result: list[dict[str, Any]] = document["data"]["result"]
    return result


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def live_state(prometheus: str) -> LiveState:
    """Node and link states from four instant queries."""
    state = LiveState()
    for row in query(prometheus, 'egov_snmp_up{job="egov_snmp"}'):
        host = row["metric"].get("host")
        if host:
            up = row["value"][1] == "1"
            state.nodes[host] = "up" if up else "down"
            if not up:
                state.notes[host] = "SNMP scrape failing (egov_snmp_up 0)"
    for row in query(prometheus, f"egov_if_oper_status{{{LINK_ROLES}}}"):
        labels = row["metric"]
        if "host" not in labels or "neighbor" not in labels:
            continue
        key = _pair(labels["host"], labels["neighbor"])
        down = row["value"][1] != "1"
        if down:
            state.links[key] = "down"
        else:
            state.links.setdefault(key, "up")
    for row in query(prometheus, "egov_bgp_peer_state"):
        labels = row["metric"]
        if row["value"][1] == ESTABLISHED or "neighbor" not in labels:
            continue
        host = labels["host"]
        key = _pair(host, labels["neighbor"])
        if state.links.get(key) != "down":
            state.links[key] = "degraded"
        if state.nodes.get(host) == "up":
            state.nodes[host] = "degraded"
            state.notes[host] = f"BGP to {labels['neighbor']} ({labels.get('vrf', '?')}) down"
    for row in query(prometheus, "egov:if_utilisation:ratio5m"):
        labels = row["metric"]
        if "host" not in labels or "neighbor" not in labels:
            continue
        key = _pair(labels["host"], labels["neighbor"])
        value = float(row["value"][1])
        state.utilisation[key] = max(value, state.utilisation.get(key, 0.0))
        if value > HOT and state.links.get(key) == "up":
            state.links[key] = "degraded"
    for row in query(prometheus, "sum by (host) (egov_isolation_violations) > 0"):
        host = row["metric"].get("host")
        if host and state.nodes.get(host) == "up":
            state.nodes[host] = "degraded"
            state.notes[host] = f"{row['value'][1]} isolation violation(s)"
    return state


def firing_alerts(alertmanager: str) -> list[dict[str, Any]]:
    """Active, unsilenced, uninhibited alerts: name, host, severity, summary, since."""
    url = f"{base_url(alertmanager)}/api/v2/alerts?" + urllib.parse.urlencode(
        {"active": "true", "silenced": "false", "inhibited": "false"}
    )
    document = _get(url)
    if not isinstance(document, list):
        raise LiveError(f"{base_url(alertmanager)}: /api/v2/alerts answered {document!r:.200}")
    alerts = []
    for alert in document:
        labels = alert.get("labels", {})
        annotations = alert.get("annotations", {})
        alerts.append(
            {
                "alertname": labels.get("alertname", ""),
                "host": labels.get("host", ""),
                "neighbor": labels.get("neighbor", ""),
                "severity": labels.get("severity", ""),
                "summary": annotations.get("summary", ""),
                "since": alert.get("startsAt", ""),
            }
        )
    return sorted(alerts, key=lambda a: (a["host"], a["alertname"], a["neighbor"]))


def node_detail(prometheus: str, host: str) -> dict[str, Any]:
    """One node's interfaces and BGP peers as Prometheus has them now."""
    selector = f'host="{host}"'
    interfaces = [
        {
            "ifName": row["metric"].get("ifName", ""),
            "role": row["metric"].get("role", ""),
            "neighbor": row["metric"].get("neighbor", ""),
            "oper": "up" if row["value"][1] == "1" else "down",
        }
        for row in query(prometheus, f"egov_if_oper_status{{{selector}}}")
    ]
    peers = [
        {
            "neighbor": row["metric"].get("neighbor", ""),
            "vrf": row["metric"].get("vrf", ""),
            "established": row["value"][1] == ESTABLISHED,
        }
        for row in query(prometheus, f"egov_bgp_peer_state{{{selector}}}")
    ]
    up = query(prometheus, f'egov_snmp_up{{job="egov_snmp",{selector}}}')
    return {
        "host": host,
        "snmp_up": bool(up) and up[0]["value"][1] == "1",
        "interfaces": sorted(interfaces, key=lambda i: i["ifName"]),
        "bgp": sorted(peers, key=lambda p: (p["neighbor"], p["vrf"])),
    }
