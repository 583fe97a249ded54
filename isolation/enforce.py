"""What `isolation enforce` rolls out, and how it judges the result.

Enforcing the policy is bringing the hosts an audit names back to their intended state:
the rendered config (zone VRFs, route filters, the exit's packet filter) replaces whatever
was added by hand. One thing no rendered config mentions is a port cabled and addressed
outside it (a second internet uplink plugged in at a city): enforce shuts such ports, the
way a locked-down switch shuts unused ones. Pure functions: the CLI does the I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from egovnet.configs.model import DeviceConfig
from egovnet.model import GLOBAL
from egovnet.render.packet_filter import HEADER
from isolation.findings import Finding, hosts_to_repair

ALWAYS_KNOWN = frozenset({"lo"})
"""Present in every VRF namespace, never in a config: the namespace's own loopback."""


def unknown_ports(
    present: Iterable[tuple[str, str]], intended: DeviceConfig
) -> list[tuple[str, str]]:
    """(port, VRF) of every port the host has that its intended config does not know."""
    known = set(intended.interfaces) | ALWAYS_KNOWN
    return sorted({(name, vrf) for name, vrf in present if name not in known})


def shut_ports_frr(config: str, ports: Iterable[tuple[str, str]]) -> str:
    """`config` (FRR) with a `shutdown` stanza for each of `ports`, before its packet-filter
    section or its final `end`.

    >>> print(shut_ports_frr("hostname a\\n!\\nend\\n", [("rogue0", "public")]), end="")
    hostname a
    !
    interface rogue0 vrf public
     description not in the inventory: shut by isolation enforce
     shutdown
    exit
    !
    end
    """
    stanzas = "".join(
        f"interface {name}{'' if vrf in {GLOBAL, 'default'} else f' vrf {vrf}'}\n"
        " description not in the inventory: shut by isolation enforce\n"
        " shutdown\n"
        "exit\n!\n"
        for name, vrf in ports
    )
    if not stanzas:
        return config
    for marker in (HEADER, "end\n"):
        at = config.rfind(marker)
        if at >= 0 and (marker != "end\n" or at == 0 or config[at - 1] == "\n"):
            return config[:at] + stanzas + config[at:]
    return config + stanzas


@dataclass
class Verdict:
    """Before and after, as the operator needs to read them."""

    before: list[Finding]
    after: list[Finding]
    targets: list[str]
    changed: list[str] = field(default_factory=list)

    @property
    def repaired(self) -> list[Finding]:
        still = set(self.after)
        return [f for f in self.before if f not in still]

    @property
    def unrepairable(self) -> list[Finding]:
        """Findings left on hosts the rollout found already as intended: their cause is not
        in any device's configuration (a host wired around the routers, say)."""
        return [f for f in self.after if f.host not in self.changed]

    @property
    def clean(self) -> bool:
        return not self.after


def targets_of(findings: list[Finding], everything: list[str], all_hosts: bool) -> list[str]:
    """The hosts to roll out to: those with findings, or every host with `--all`."""
    return list(everything) if all_hosts else hosts_to_repair(findings)
