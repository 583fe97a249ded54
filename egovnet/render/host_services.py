"""The Linux-side services of a lab router, rendered from the model like its FRR config.

On the lab's platform FRR holds routing only; remote management (sshd) and SNMP (snmpd)
are Linux daemons beside it. Their hardening is graded protection's (docs/compliance.md)
as much as a vendor config's `stelnet server enable` is, so it is rendered here, once, from
`network.services`: the lab writes these texts, and the compliance check reads the same
texts as the intended evidence (and `sshd -T` output live, spelled `key value` in lower
case, which the rules match case-insensitively).

Pure functions: text in, nothing written. The lab adds only what is its own (host key,
pid file, authorised keys, the login command): paths, never policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from egovnet.model import Network, Node
from egovnet.secrets import SnmpCredentials

SNMP_PORT = 161


@dataclass(frozen=True)
class HostServices:
    """A lab router's rendered sshd_config and snmpd.conf (the latter holds SNMPv3 keys:
    `repr` hides it)."""

    sshd: str
    snmpd: str = field(repr=False)


def render_host_services(
    network: Network, users: Sequence[SnmpCredentials]
) -> dict[str, HostServices]:
    """Every node's sshd and snmpd configs, keyed by host: what the lab runs beside FRR."""
    return {
        node.name: HostServices(
            render_sshd_config(network, node), render_snmpd_conf(network, node, users)
        )
        for node in network.nodes
    }


def render_sshd_config(network: Network, node: Node) -> str:
    """sshd_config of `node`: SSH protocol 2 only (OpenSSH has no other), keys only (no
    password or keyboard-interactive login), `MaxAuthTries` from the lockout setting,
    idle sessions closed after `services.ssh.idle_timeout_minutes` (`ChannelTimeout`,
    `UnusedConnectionTimeout`; `ClientAlive*` drops a dead peer), listening on the
    management address only.

    Root logs in with a key only (`prohibit-password`): the lab's login is root's, and it
    lands in vtysh through the lab's ForceCommand, never in a shell.
    """
    ssh = network.services.ssh
    idle = ssh.idle_timeout_minutes
    lines = [
        f"# sshd of {node.name} (rendered by egovnet from {network.name} services)",
        f"ListenAddress {node.management.ip}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitEmptyPasswords no",
        "UsePAM no",
        f"MaxAuthTries {ssh.login_attempts}",
        "LoginGraceTime 60",
        f"ChannelTimeout session={idle}m",
        f"UnusedConnectionTimeout {idle}m",
        f"ClientAliveInterval {idle * 60}",
        "ClientAliveCountMax 1",
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "PermitTunnel no",
        f"AllowUsers *@{network.management_subnet}",
        "LogLevel VERBOSE",
        "SyslogFacility AUTH",
    ]
    return "\n".join(lines) + "\n"


def render_snmpd_conf(network: Network, node: Node, users: Sequence[SnmpCredentials]) -> str:
    """snmpd.conf of `node`: SNMPv3 users only, each read-only and authPriv
    (`rouser NAME priv`), on the management address; no community line at all (the
    inventory's v2c hosts are vendor devices, never a lab router)."""
    location = network.services.snmp.location
    lines = [
        f"# snmpd of {node.name} (rendered by egovnet from {network.name} services)",
        f"agentAddress udp:{node.management.ip}:{SNMP_PORT}",
    ]
    if location:
        lines.append(f"sysLocation {location}")
    for user in users:
        lines.append(
            f'createUser {user.name} {user.auth.upper()} "{user.auth_key}" '
            f'{user.priv.upper()} "{user.priv_key}"'
        )
        lines.append(f"rouser {user.name} priv")
    return "\n".join(lines) + "\n"
