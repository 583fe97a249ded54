"""What an isolation audit reports: one `Finding` per broken rule, per place it breaks.

A finding names the host to repair, the zone, the prefix or flow, the evidence (a config
line, a route, a probe's hops) and the rule. `isolation enforce` can take the set of hosts
with findings, roll the intended configuration out to them, and audit again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

RULES: dict[str, str] = {
    "private-no-internet-route": "a zone without internet has no default or internet route",
    "private-never-internet": "a zone without internet never reaches the internet",
    "unified-exit": "the internet is reached only through the unified exit",
    "single-exit": "only the unified exit has an internet uplink, in an internet zone",
    "internet-reaches-nothing": "the internet opens no connection to anything inside",
    "no-private-prefix-at-exit": "no private or management prefix in an internet-facing table",
    "nat-at-exit": "traffic to the internet is source-NATed at the unified exit",
    "management-not-routed": "management addresses are never routed (out of band only)",
    "zones-apart": "a zone reaches no other zone",
    "table-matches-model": "every routing table holds what the inventory implies",
    "data-plane-path": "every probe takes the data plane, never the management network",
    "probe-expected": "what the policy allows answers; what it forbids does not",
    "unparsed": "every node's configuration is available and parses",
    "config-empty": "every node's configuration says something (not only blank, #, !, return)",
    "unknown": "every line on a node's configuration is understood: what is not read or not "
    "modelled could change reachability, so the audit cannot call it clean",
    "platform-mismatch": "a configuration's text is written for the platform the inventory says",
    "dns-private-no-internet": "a resolver answers a zone without internet from the extranet "
    "only: no recursion to the internet, no forwarder outside the service zone; an internet "
    "name is refused at once",
    "dns-public-via-exit": "a zone with internet resolves internet names only through the "
    "unified exit's forwarders",
    "dns-answers": "every department gets the right answer for the extranet's service names",
    "service-ports-only": "a zone reaches the service hosts on the service ports only",
    "service-no-transit": "no zone reaches another zone through the service zone: the service "
    "zone holds routes to the granted zones' pools and the service hosts only",
}
"""Rule id -> the rule in words (what `--json` and the table call `rule` and `means`)."""


@dataclass(frozen=True, order=True)
class Finding:
    """One broken rule at one place.

    >>> f = Finding("private-no-internet-route", "zhengding", "private", "0.0.0.0/0",
    ...             "zhengding.cfg:14: ip route 0.0.0.0/0 10.64.16.148", "config")
    >>> f.means
    'a zone without internet has no default or internet route'
    """

    rule: str
    host: str
    zone: str
    subject: str
    """The prefix or the flow (`src -> dst proto`) the rule is broken for."""
    evidence: str
    source: str
    """`config` (intended or running configs), `table` (live routing tables), `probe`."""

    @property
    def means(self) -> str:
        return RULES[self.rule]

    def as_dict(self) -> dict[str, str]:
        return asdict(self) | {"means": self.means}


def hosts_to_repair(findings: list[Finding]) -> list[str]:
    """The hosts `isolation enforce` should roll the intended configuration out to.

    >>> hosts_to_repair([Finding("unified-exit", "b", "public", "p", "e", "config"),
    ...                  Finding("single-exit", "a", "public", "p", "e", "config"),
    ...                  Finding("probe-expected", "(internet)", "", "p", "e", "probe")])
    ['a', 'b']
    """
    return sorted({f.host for f in findings if not f.host.startswith("(")})
