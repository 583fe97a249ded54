"""The texts a compliance check reads, and where they come from.

A host's evidence is a set of named texts: `config` (its configuration), and on FRR lab
nodes the Linux-side services FRR does not hold: `sshd` (sshd_config, or `sshd -T` live) and
`snmpd` (snmpd.conf). Intended evidence is rendered from the model; running evidence is read
from a directory (a backup: `<host>.cfg`, beside it `<host>.sshd_config` and
`<host>.snmpd.conf` where the node has them) through the core's reading layer
(`egovnet.configs.text`: GBK, CRLF, pager junk); live evidence is the live helper's.

Example: ``HostEvidence("zhengding", "frr", "intended", {"config": EvidenceText("config",
"frr version 8.4\\n...", "intended"), "sshd": EvidenceText("sshd", "PasswordAuthentication
no\\n...", "intended")})``
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from egovnet import platforms
from egovnet.configs.parse import detect
from egovnet.configs.text import DecodeError, read_config_text
from egovnet.model import Network, Node
from egovnet.render.engine import render_network
from egovnet.render.host_services import render_snmpd_conf, render_sshd_config
from egovnet.secrets import SharedSecrets, SnmpCredentials

CONFIG, SSHD, SNMPD = "config", "sshd", "snmpd"
HIDDEN = "********"
"""What the intended evidence shows for every secret: a check reads keywords, never keys."""
RUNNING_FILES = {CONFIG: "{host}.cfg", SSHD: "{host}.sshd_config", SNMPD: "{host}.snmpd.conf"}
"""The files `running_evidence` reads for a host, by evidence name."""


@dataclass(frozen=True)
class EvidenceText:
    """One text a host showed: its name, the text, and where it came from (a file path,
    `intended`, or the live command that produced it)."""

    name: str
    text: str
    origin: str


@dataclass(frozen=True)
class HostEvidence:
    """Everything one host showed, by evidence name; `platform` is the platform the texts
    are written for and `source` one of `intended`, `running`, `live`. `problems` says what
    could not be read (an undecodable file): rules needing that text are `unverified`."""

    host: str
    platform: str
    source: str
    texts: Mapping[str, EvidenceText]
    problems: tuple[str, ...] = field(default=())


def hidden_secrets(network: Network) -> SharedSecrets:
    """Secrets of the right shape with every value hidden: the intended evidence shows how
    a password or key is stored (the keyword), never its value."""
    services = network.services
    users = [
        SnmpCredentials(
            "v3", u.name, u.group, u.auth, auth_key=HIDDEN, priv=u.priv, priv_key=HIDDEN
        )
        for u in services.snmp.users
    ]
    admin = services.local_admin
    return SharedSecrets(HIDDEN, users, (admin.name, HIDDEN) if admin else None)


def _selected(network: Network, hosts: list[str] | None) -> list[Node]:
    if hosts is None:
        return list(network.nodes)
    wanted = set(hosts)
    return [node for node in network.nodes if node.name in wanted]


def lab_services(node: Node) -> bool:
    """Whether the node's evidence includes the Linux-side services (sshd, snmpd): on the
    lab's platform, where FRR holds routing only and the host runs them."""
    return node.platform == platforms.lab_platform().name


def intended_evidence(network: Network, hosts: list[str] | None = None) -> dict[str, HostEvidence]:
    """Every selected node's rendered config (and, on FRR, its sshd and snmpd configs),
    secrets hidden, as `intended` evidence."""
    secrets = hidden_secrets(network)
    nodes = _selected(network, hosts)
    texts = render_network(network, secrets) if nodes else {}
    evidence = {}
    for node in nodes:
        shown = {CONFIG: EvidenceText(CONFIG, texts[node.name], "intended")}
        if lab_services(node):
            shown[SSHD] = EvidenceText(SSHD, render_sshd_config(network, node), "intended")
            snmpd = render_snmpd_conf(network, node, secrets.snmp_users)
            shown[SNMPD] = EvidenceText(SNMPD, snmpd, "intended")
        evidence[node.name] = HostEvidence(node.name, node.platform, "intended", shown)
    return evidence


def running_evidence(
    network: Network, directory: Path, hosts: list[str] | None = None
) -> dict[str, HostEvidence]:
    """The files of `RUNNING_FILES` found in `directory` for each selected node, read as
    they come off the gear. A host with no `<host>.cfg` is left out (the check reports it
    as not seen); an unreadable file is a problem of its evidence, not an exception, so one
    broken backup does not hide the rest. A config of the lab's platform where the
    inventory says a vendor's is a backup of the lab: checked as the lab's platform, as the
    isolation audit reads it (`isolation.sources.parse_running`)."""
    evidence = {}
    lab = platforms.lab_platform().name
    for node in _selected(network, hosts):
        config_path = directory / RUNNING_FILES[CONFIG].format(host=node.name)
        if not config_path.is_file():
            continue
        texts: dict[str, EvidenceText] = {}
        problems: list[str] = []
        for name, pattern in RUNNING_FILES.items():
            path = directory / pattern.format(host=node.name)
            if not path.is_file():
                continue
            try:
                texts[name] = EvidenceText(name, read_config_text(path).text, str(path))
            except DecodeError as exc:
                problems.append(str(exc))
        platform = node.platform
        config = texts.get(CONFIG)
        if config is not None and platform != lab:
            detection = detect(config.text, platform)
            if detection.platform == lab and detection.markers > 0:
                platform = lab
        evidence[node.name] = HostEvidence(node.name, platform, "running", texts, tuple(problems))
    return evidence
