"""DNS as the departments meet it, and the DNS leak rules of the isolation audit.

Probes (`dns_flows`, judged by `judge`): from one department host of every granted zone at
every node, each resolver of the service zone is asked

* every service host's name (`dns1.<domain>`): the answer must be the host's address;
* the simulated internet's test name (`LabNames.internet_name`): a zone with internet must
  get the internet server's address (resolved through the exit's forwarder); a zone without
  must be told no at once (REFUSED or NXDOMAIN), never left to time out, which would mean
  its resolver tried the internet on its behalf.

Rules on a resolver's named.conf (`named_findings`, over `egovnet.configs.named`): a view
that serves a zone without internet neither recurses toward the root servers nor forwards
anywhere but to the extranet's own service hosts; a view serving only internet zones
forwards to the unified exit's forwarders only (`forward only`), never to the roots
directly. A config the reader did not understand fails closed (`unknown`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from egovnet.configs.named import NamedConfig, View
from egovnet.model import Network
from isolation.access import LabNames
from isolation.findings import Finding
from isolation.probes import Flow, Result, department_hosts

REFUSALS = frozenset({"REFUSED", "NXDOMAIN"})
KINDS = ("dns", "dns-internet", "dns-refused")
"""A service name answered; an internet name answered (zones with internet); an internet
name refused at once (zones without)."""


def service_host_node(names: LabNames, node: str, host: str) -> str:
    """The lab node of a service host: named like a department's host (`<node>-<host>`)."""
    return names.department_host(node, host)


def dns_flows(network: Network, names: LabNames) -> list[Flow]:
    """Every DNS probe (see the module docstring): one source per zone and node."""
    service = network.service_zone
    if service is None:
        return []
    resolvers = service.with_role("resolver")
    seen: set[tuple[str, str]] = set()
    flows: list[Flow] = []
    for host, router, zone, _address in department_hosts(network, names):
        if zone not in service.access or (router, zone) in seen:
            continue
        seen.add((router, zone))
        questions: list[tuple[str, str, tuple[str, ...]]] = [
            (service.fqdn(target), "dns", (str(target.address.ip),)) for target in service.hosts
        ]
        if network.zone(zone).internet:
            questions.append((names.internet_name, "dns-internet", (str(names.internet_server),)))
        else:
            questions.append((names.internet_name, "dns-refused", ()))
        for resolver in resolvers:
            server = service_host_node(names, resolver.node, resolver.name)
            flows += [
                Flow(
                    host,
                    router,
                    zone,
                    resolver.address.ip,
                    server,
                    service.name,
                    kind != "dns-refused",
                    protocols=("dns",),
                    kind=kind,
                    qname=qname,
                    expect=expect,
                )
                for qname, kind, expect in questions
            ]
    return flows


@dataclass(frozen=True)
class DnsAnswer:
    """What one DNS probe got, judged.

    Example: ``DnsAnswer(src="zhengding-caizhengju", zone="private", server="hebei-core-1-dns1",
    qname="www.internet.test", kind="dns-refused", answered=True, rcode="REFUSED",
    addresses=(), rtt_ms=0.4, correct=True)``
    """

    src: str
    zone: str
    server: str
    qname: str
    kind: str
    answered: bool
    """An answer came before the timeout (a refusal is an answer)."""
    rcode: str | None
    addresses: tuple[str, ...]
    rtt_ms: float | None
    correct: bool

    def summary(self) -> str:
        if not self.answered:
            return "no answer (timeout)"
        shown = " ".join(self.addresses) or "no address"
        return f"{self.rcode} {shown}"


def judge(result: Result) -> DnsAnswer:
    """One probe's answer against what the flow expects."""
    flow = result.flow
    answer = result.answers.get("dns", {})
    answered = bool(answer.get("ok"))
    rcode = answer.get("rcode")
    addresses = tuple(answer.get("addresses") or ())
    if flow.kind == "dns-refused":
        correct = answered and (rcode in REFUSALS or (rcode == "NOERROR" and not addresses))
    else:
        correct = answered and rcode == "NOERROR" and sorted(addresses) == sorted(flow.expect)
    return DnsAnswer(
        flow.src,
        flow.zone,
        flow.target,
        flow.qname or "",
        flow.kind,
        answered,
        rcode,
        addresses,
        answer.get("rtt_ms"),
        correct,
    )


# ------------------------------------------------------------------ rules on named.conf


def _clients(config: NamedConfig, view: View) -> list[IPv4Network] | None:
    """The networks a view serves; None for `any` (or an entry not understood: treated as
    serving everyone, the worst case). Negations (`!`) serve no one."""
    found: list[IPv4Network] = []
    entries = list(view.match_clients) or ["any"]
    while entries:
        entry = entries.pop().strip()
        if entry.startswith("!"):
            continue
        if entry in config.acls:
            entries += config.acls[entry]
            continue
        if entry in ("any", "localnets"):
            return None
        if entry in ("none", "localhost"):
            continue
        try:
            found.append(IPv4Network(entry, strict=False))
        except ValueError:
            return None
    return found


def served_zones(network: Network, config: NamedConfig, view: View) -> list[str]:
    """The zones whose departments a view answers (its match-clients overlap their pool)."""
    clients = _clients(config, view)
    return [
        zone.name
        for zone in network.zones
        if clients is None or any(c.overlaps(zone.pool) for c in clients)
    ]


def exit_forwarders(network: Network) -> set[IPv4Address]:
    """Where the unified exit's forwarders are: the exits' hosts in their internet zones
    (the lab's, in the exit's first department of that zone)."""
    found: set[IPv4Address] = set()
    for name in network.policy.exits:
        node = network.node(name)
        if node.internet is None:
            continue
        dept = next((d for d in node.departments if d.zone == node.internet.zone), None)
        if dept is not None:
            found.add(dept.host.ip)
    return found


def named_findings(
    network: Network, host: str, config: NamedConfig, source: str
) -> Iterator[Finding]:
    """The DNS leak rules on one resolver's named.conf (see the module docstring)."""
    service = network.service_zone
    own = {h.address.ip for h in service.hosts} if service else set()
    exits = exit_forwarders(network)
    for item in config.unparsed:
        yield Finding(
            "unknown", host, "", config.file, f"{item.where}: not read: {item.reason}", source
        )
    for unmodelled in config.unmodelled:
        yield Finding(
            "unknown",
            host,
            "",
            unmodelled.construct,
            f"{unmodelled.where}: not modelled; it may send questions to the internet",
            source,
        )
    for view in config.views:
        zones = served_zones(network, config, view)
        closed = [z for z in zones if not network.zone(z).internet]
        where = f"{config.file}: view {view.name}"
        forwarders = config.forwarders_of(view)
        if closed:
            if config.roots(view):
                yield Finding(
                    "dns-private-no-internet",
                    host,
                    closed[0],
                    f"view {view.name}",
                    f"{where}: recursion on without `forward only`: it asks the internet's "
                    f"root servers for {', '.join(closed)}",
                    source,
                )
            for address in forwarders:
                if address not in own:
                    yield Finding(
                        "dns-private-no-internet",
                        host,
                        closed[0],
                        f"view {view.name} forwarders {address}",
                        f"{where}: forwards questions of {', '.join(closed)} to {address}, "
                        "not a service host of the extranet",
                        source,
                    )
        elif zones:
            if config.roots(view):
                yield Finding(
                    "dns-public-via-exit",
                    host,
                    zones[0],
                    f"view {view.name}",
                    f"{where}: recursion toward the root servers, not through the exit",
                    source,
                )
            for address in forwarders:
                if address not in exits and address not in own:
                    yield Finding(
                        "dns-public-via-exit",
                        host,
                        zones[0],
                        f"view {view.name} forwarders {address}",
                        f"{where}: forwards to {address}, not the unified exit's forwarder",
                        source,
                    )


def config_findings(
    network: Network, configs: dict[str, NamedConfig | None], source: str
) -> list[Finding]:
    """The DNS leak rules over every resolver's named.conf by service host name; a resolver
    without one fails closed (`unparsed`)."""
    service = network.service_zone
    if service is None:
        return []
    findings: list[Finding] = []
    for resolver in service.with_role("resolver"):
        config = configs.get(resolver.name)
        if config is None:
            findings.append(
                Finding("unparsed", resolver.name, service.name, "named.conf",
                        f"{resolver.name}: no named.conf to audit", source)
            )  # fmt: skip
            continue
        findings += named_findings(network, resolver.name, config, source)
    return sorted(findings)


def dns_probe_findings(
    answers: Sequence[DnsAnswer], hosts: Mapping[str, str] | None = None
) -> list[Finding]:
    """Live: each wrong answer as a finding of the DNS rule it breaks, named after the
    service host (`hosts`: lab node -> service host name), whose named.conf enforce restores."""
    hosts = hosts or {}
    findings = []
    for answer in answers:
        if answer.correct:
            continue
        rule = {
            "dns-refused": "dns-private-no-internet",
            "dns-internet": "dns-public-via-exit",
        }.get(answer.kind, "dns-answers")
        findings.append(
            Finding(
                rule,
                hosts.get(answer.server, answer.server),
                answer.zone,
                f"{answer.src} -> {answer.server} {answer.qname}",
                f"got {answer.summary()}",
                "probe",
            )
        )
    return sorted(findings)
