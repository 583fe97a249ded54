"""FRR's vtysh output as NAPALM's typed models (`napalm.base.models`): pure functions.

FRR prints most state as JSON (`show interface vrf all json`, `show bgp vrf all neighbors
json`); these functions only rename and convert its fields, so they are tested on recorded
output (tests/unit/napalm_frr/mocked_data) without a device. What FRR does not know is given
NAPALM's "unknown" values: an empty string, or -1 for a number (FRR keeps no uptime of the
box, a serial number or a model).
"""

from __future__ import annotations

import re
from typing import Any

from napalm.base import models

GLOBAL = "global"
"""NAPALM's name of the default routing instance; FRR calls it `default`."""
FRR_DEFAULT_VRF = "default"

# Secrets FRR can print in its running config, for `get_config(sanitized=True)` (the form of
# napalm's own `*_SANITIZE_FILTERS`: pattern with the kept part as group 1 -> replacement).
SANITIZE_FILTERS = {
    r"^(\s*neighbor \S+ password ).*$": r"\1<removed>",
    r"^(\s*(?:enable )?password ).*$": r"\1<removed>",
    r"^(\s*ip ospf (?:message-digest-key \d+ md5|authentication-key) ).*$": r"\1<removed>",
    r"^(\s*key-string ).*$": r"\1<removed>",
    r"^(\s*(?:agentx )?snmp(?:-server)? community ).*$": r"\1<removed>",
}


def vrf_names(vrf_text: str) -> list[str]:
    """The default VRF and every VRF `show vrf` lists.

    >>> vrf_names("netns-based vrfs\\nvrf private id 2 netns /run/netns/private (configured)")
    ['default', 'private']
    """
    found = re.finditer(r"^vrf (\S+) id", vrf_text, re.MULTILINE)
    return [FRR_DEFAULT_VRF, *(m.group(1) for m in found)]


def merge_interfaces(per_vrf: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One document of every VRF's `show interface vrf NAME json`, with unique names.

    FRR 8.4's `show interface vrf all json` keys one object by interface name, so a name in
    two VRFs (each netns VRF has its own `lo`) is printed once, the default VRF's lost; hence
    one command per VRF. A name already taken (by the default VRF, which comes first) is
    keyed `NAME@VRF`.

    >>> merge_interfaces({"default": {"lo": {"vrfName": "default"}},
    ...                   "public": {"lo": {"vrfName": "public"}}})
    {'lo': {'vrfName': 'default'}, 'lo@public': {'vrfName': 'public'}}
    """
    merged: dict[str, dict[str, Any]] = {}
    for vrf, doc in per_vrf.items():
        for name, data in doc.items():
            merged[name if name not in merged else f"{name}@{vrf}"] = data
    return merged


def napalm_vrf(name: str) -> str:
    """NAPALM's name of an FRR VRF.

    >>> napalm_vrf("default"), napalm_vrf("private")
    ('global', 'private')
    """
    return GLOBAL if name == FRR_DEFAULT_VRF else name


def version_facts(text: str) -> tuple[str, str, str]:
    """(version, hostname, kernel) from `show version`.

    >>> version_facts("FRRouting 8.4.4 (sjz) on Linux(6.1.0).\\nCopyright 1996")
    ('8.4.4', 'sjz', 'Linux(6.1.0)')
    """
    match = re.search(r"FRRouting (\S+) \((\S+)\) on (\S+?)\.?$", text, re.MULTILINE)
    if match is None:
        return "unknown", "", ""
    return match.group(1), match.group(2), match.group(3)


def facts(version_text: str, interfaces_doc: dict[str, Any], vendor: str) -> models.FactsDict:
    """`get_facts` from `show version` and `show interface vrf all json`."""
    version, hostname, kernel = version_facts(version_text)
    return {
        "hostname": hostname,
        "fqdn": hostname,
        "vendor": vendor,
        "model": f"FRRouting on {kernel}" if kernel else "FRRouting",
        "os_version": version,
        "serial_number": "",
        "uptime": -1.0,
        "interface_list": list(interfaces_doc),
    }


def interfaces(doc: dict[str, Any]) -> dict[str, models.InterfaceDict]:
    """`get_interfaces` from `show interface vrf all json` (speed in Mbit/s, as NAPALM's)."""
    found: dict[str, models.InterfaceDict] = {}
    for name, data in doc.items():
        found[name] = {
            "is_up": data.get("operationalStatus") == "up",
            "is_enabled": data.get("administrativeStatus") == "up",
            "description": str(data.get("description", "")),
            "last_flapped": -1.0,
            "mtu": int(data.get("mtu", 0)),
            "speed": float(data.get("speed", 0)),
            "mac_address": str(data.get("hardwareAddress", "")),
        }
    return found


def interfaces_ip(doc: dict[str, Any]) -> dict[str, models.InterfacesIPDict]:
    """`get_interfaces_ip` from `show interface vrf all json`: interfaces with an address."""
    found: dict[str, models.InterfacesIPDict] = {}
    for name, data in doc.items():
        ipv4: dict[str, models.InterfacesIPDictEntry] = {}
        ipv6: dict[str, models.InterfacesIPDictEntry] = {}
        for item in data.get("ipAddresses", []):
            address, _, length = str(item.get("address", "")).partition("/")
            if length:
                (ipv6 if ":" in address else ipv4)[address] = {"prefix_length": int(length)}
        entry: models.InterfacesIPDict = {}
        if ipv4:
            entry["ipv4"] = ipv4
        if ipv6:
            entry["ipv6"] = ipv6
        if entry:
            found[name] = entry
    return found


def _peers(vrf_doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The peers of one VRF of `show bgp vrf all neighbors json` (the rest are VRF fields)."""
    return {key: value for key, value in vrf_doc.items() if isinstance(value, dict)}


def _router_id(vrf_doc: dict[str, Any]) -> str:
    for peer in _peers(vrf_doc).values():
        if peer.get("localRouterId"):
            return str(peer["localRouterId"])
    return ""


def _families(peer: dict[str, Any]) -> dict[str, models.BGPStateAddressFamilyDict]:
    """NAPALM's address families (`ipv4`, `ipv6`) of a peer's `addressFamilyInfo`."""
    found: dict[str, models.BGPStateAddressFamilyDict] = {}
    for family, info in peer.get("addressFamilyInfo", {}).items():
        name = "ipv6" if family.startswith("ipv6") else "ipv4"
        accepted = int(info.get("acceptedPrefixCounter", 0))
        found[name] = {
            # FRR counts what it received after inbound policy: received and accepted alike
            "received_prefixes": accepted,
            "accepted_prefixes": accepted,
            "sent_prefixes": int(info.get("sentPrefixCounter", 0)),
        }
    return found


def bgp_neighbors(doc: dict[str, Any]) -> dict[str, models.BGPStateNeighborsPerVRFDict]:
    """`get_bgp_neighbors` from `show bgp vrf all neighbors json`; the default VRF is
    NAPALM's `global`. Uptime is in seconds, -1 for a session that is not up."""
    found: dict[str, models.BGPStateNeighborsPerVRFDict] = {}
    for vrf, vrf_doc in doc.items():
        if not isinstance(vrf_doc, dict):
            continue
        peers: dict[str, models.BGPStateNeighborDict] = {}
        for address, peer in _peers(vrf_doc).items():
            up = peer.get("bgpState") == "Established"
            peers[address] = {
                "local_as": int(peer.get("localAs", 0)),
                "remote_as": int(peer.get("remoteAs", 0)),
                "remote_id": str(peer.get("remoteRouterId", "")),
                "is_up": up,
                "is_enabled": "adminShutDown" not in peer,
                "description": str(peer.get("nbrDesc", "")),
                "uptime": int(peer.get("bgpTimerUpMsec", 0)) // 1000 if up else -1,
                "address_family": _families(peer),
            }
        found[napalm_vrf(vrf)] = {"router_id": _router_id(vrf_doc), "peers": peers}
    return found


def bgp_neighbors_detail(
    doc: dict[str, Any], neighbor_address: str = ""
) -> dict[str, dict[int, list[models.PeerDetailsDict]]]:
    """`get_bgp_neighbors_detail` from the same document: per VRF, per remote AS, the
    sessions with their FSM state (`connection_state`: Established, Active, Idle...)."""
    found: dict[str, dict[int, list[models.PeerDetailsDict]]] = {}
    for vrf, vrf_doc in doc.items():
        if not isinstance(vrf_doc, dict):
            continue
        for address, peer in _peers(vrf_doc).items():
            if neighbor_address and address != neighbor_address:
                continue
            counts = _families(peer).get("ipv4")
            received = counts["received_prefixes"] if counts else 0
            accepted = counts["accepted_prefixes"] if counts else 0
            sent = counts["sent_prefixes"] if counts else 0
            detail: models.PeerDetailsDict = {
                "up": peer.get("bgpState") == "Established",
                "local_as": int(peer.get("localAs", 0)),
                "remote_as": int(peer.get("remoteAs", 0)),
                "router_id": str(peer.get("localRouterId", "")),
                "local_address": str(peer.get("hostLocal", "")),
                "routing_table": vrf,
                "local_address_configured": "updateSource" in peer,
                "local_port": int(peer.get("portLocal", 0)),
                "remote_address": address,
                "remote_port": int(peer.get("portForeign", 0)),
                "multihop": int(peer.get("externalBgpNbrMaxHopsAway", 1)) > 1,
                "multipath": False,
                "remove_private_as": False,
                "import_policy": "",
                "export_policy": "",
                "input_messages": int(peer.get("messageStats", {}).get("totalRecv", 0)),
                "output_messages": int(peer.get("messageStats", {}).get("totalSent", 0)),
                "input_updates": int(peer.get("messageStats", {}).get("updatesRecv", 0)),
                "output_updates": int(peer.get("messageStats", {}).get("updatesSent", 0)),
                "messages_queued_out": 0,
                "connection_state": str(peer.get("bgpState", "Unknown")),
                "previous_connection_state": "",
                "last_event": str(peer.get("lastResetDueTo", "")),
                "suppress_4byte_as": False,
                "local_as_prepend": False,
                "holdtime": int(peer.get("bgpTimerHoldTimeMsecs", 0)) // 1000,
                "configured_holdtime": int(peer.get("bgpTimerConfiguredHoldTimeMsecs", 0)) // 1000,
                "keepalive": int(peer.get("bgpTimerKeepAliveIntervalMsecs", 0)) // 1000,
                "configured_keepalive": int(peer.get("bgpTimerConfiguredKeepAliveIntervalMsecs", 0))
                // 1000,
                "active_prefix_count": accepted,
                "received_prefix_count": received,
                "accepted_prefix_count": accepted,
                "suppressed_prefix_count": 0,
                "advertised_prefix_count": sent,
                "flap_count": int(peer.get("connectionsDropped", 0)),
            }
            remote_as = detail["remote_as"]
            found.setdefault(napalm_vrf(vrf), {}).setdefault(remote_as, []).append(detail)
    return found


def network_instances(
    vrf_text: str, interfaces_doc: dict[str, Any]
) -> dict[str, models.NetworkInstanceDict]:
    """`get_network_instances` from `show vrf` and `show interface vrf all json`: every VRF
    with the interfaces in it (an interface the config does not know shows here too)."""
    names = vrf_names(vrf_text)
    for data in interfaces_doc.values():
        vrf = str(data.get("vrfName", FRR_DEFAULT_VRF))
        if vrf not in names:
            names.append(vrf)
    found: dict[str, models.NetworkInstanceDict] = {}
    for vrf in names:
        members: dict[str, dict[str, Any]] = {
            name: {}
            for name, data in interfaces_doc.items()
            if data.get("vrfName", FRR_DEFAULT_VRF) == vrf
        }
        found[napalm_vrf(vrf)] = {
            "name": napalm_vrf(vrf),
            "type": "DEFAULT_INSTANCE" if vrf == FRR_DEFAULT_VRF else "L3VRF",
            "state": {"route_distinguisher": ""},
            "interfaces": {"interface": members},
        }
    return found
