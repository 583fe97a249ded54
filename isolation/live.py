"""The live audit: the lab's running configs, its routing tables and probes on its data plane.

1. running configs (`show running-config`, and the exit's nftables ruleset) through the same
   configuration audit as `--source running`;
2. routing tables (`tables.py`) against the policy and the intended tables;
3. probes (`probes.py`): ICMP, TCP and UDP from every department host to every other, to
   the internet server and to its router's management address; from the internet host
   (with routes toward the exit, as an attacker next to it would have) to every department
   and management address. Whatever answers is traced; the policy decides what may answer.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address

from egovnet import platforms
from egovnet.configs.frr import parse_nft
from egovnet.configs.model import DeviceConfig
from egovnet.configs.named import NamedConfig, parse_named
from egovnet.configs.text import clean
from egovnet.model import Network, Node
from isolation.access import LabAccess, LabNames
from isolation.analysis import Audit, audit_configs
from isolation.findings import Finding
from isolation.probes import (
    PROTOCOLS,
    Flow,
    Result,
    attacker_routes,
    data_plane_addresses,
    department_hosts,
    listeners,
    run_flows,
    source_routes,
)
from isolation.resolvers import (
    config_findings,
    dns_flows,
    dns_probe_findings,
    judge,
    service_host_node,
)
from isolation.sources import intended_configs, parse_running
from isolation.tables import read_tables, table_findings

SOURCE = "probe"


def running_lab_configs(
    lab: LabAccess, network: Network
) -> tuple[dict[str, DeviceConfig], dict[str, str], list[Finding]]:
    """Every router's running config (`show running-config`), plus each exit's ruleset in
    its internet zone, read through the same layer as `--source running`
    (`isolation.sources.parse_running`: the text's own platform, a `platform-mismatch` when
    it plainly is not the inventory's). Returns the configs, why each host that gave none
    gave none, and the findings of reading them."""
    exits = set(network.policy.exits)
    service_nodes = set(network.service_zone.nodes) if network.service_zone else set()

    def one(node: Node) -> tuple[str, DeviceConfig | str, Finding | None]:
        host = node.name
        done = lab.run(host, ["vtysh", "-N", host, "-c", "show running-config"])
        if done.returncode != 0:
            why = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return host, f"show running-config failed: {why[0]}", None
        if not done.stdout.strip():
            return host, "show running-config printed nothing", None
        text = clean(done.stdout)  # vtysh's banner lines, as read_config_text removes them
        config, mismatch = parse_running(text, node, f"{host}:running-config")
        if host in exits:
            ruleset = lab.run(host, ["nft", "list", "ruleset"], zone=node.internet_zone)
            parse_nft(ruleset.stdout, config, f"{host}:nft list ruleset")
        elif host in service_nodes and network.service_zone is not None:
            zone = network.service_zone.name  # the service zone's filter (FRR in the lab)
            ruleset = lab.run(host, ["nft", "list", "ruleset"], zone=zone)
            parse_nft(ruleset.stdout, config, f"{host}:nft list ruleset ({zone})")
        return host, config, mismatch

    configs: dict[str, DeviceConfig] = {}
    unread: dict[str, str] = {}
    findings: list[Finding] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for host, config, mismatch in pool.map(one, network.nodes):
            if isinstance(config, str):
                unread[host] = config
            else:
                configs[host] = config
            findings.extend([mismatch] if mismatch else [])
    return configs, unread, findings


def running_config_findings(lab: LabAccess, network: Network) -> list[Finding]:
    """The lab's running configs audited as `--source running` audits a directory, failing
    closed the same way (`isolation.analysis.audit_configs`): a line it cannot read or a
    construct it does not model is `unknown`, an empty config `config-empty`, a host whose
    config could not be read `unparsed`; never "no findings" for what was not understood."""
    configs, unread, findings = running_lab_configs(lab, network)
    return sorted(findings + audit_configs(network, configs, unread))


ALL_PAIRS_UP_TO = 40
"""Up to this many departments every department probes every other; beyond, each probes
the departments of its own node and, in every zone, one at another node of its city and
one in another city (picked by rotation, so that every department is a target too):
every zone to every other, at every distance, in a number of flows that grows linearly."""


def _targets(
    hosts: list[tuple[str, str, str, IPv4Address]], network: Network, index: int
) -> list[tuple[str, str, str, IPv4Address]]:
    src, router, _zone, _address = hosts[index]
    if len(hosts) <= ALL_PAIRS_UP_TO:
        return [h for h in hosts if h[0] != src]
    city = network.node(router).city
    picked = [h for h in hosts if h[1] == router and h[0] != src]
    for zone in sorted({h[2] for h in hosts}):
        for same_city in (True, False):
            pool = [
                h
                for h in hosts
                if h[2] == zone
                and h[1] != router
                and (network.node(h[1]).city == city) == same_city
            ]
            if pool:
                picked.append(pool[index % len(pool)])
    return picked


def audit_flows(network: Network, names: LabNames) -> list[Flow]:
    """What the audit probes, and what the policy says of each flow."""
    policy = network.policy.zones
    shared = {names.department_host(s.host, s.department) for s in network.policy.shared_services}
    probes = network.policy.probes
    every = PROTOCOLS
    hosts = department_hosts(network, names)
    flows = []
    for index, (src, router, zone, _address) in enumerate(hosts):
        for dst, _r, dst_zone, address in _targets(hosts, network, index):
            allowed = dst_zone == zone and (zone in policy[zone].reaches or dst in shared)
            flows.append(
                Flow(
                    src,
                    router,
                    zone,
                    address,
                    dst,
                    dst_zone,
                    allowed,
                    every,
                    tcp_port=probes.tcp_port,
                    udp_port=probes.udp_port,
                )
            )
        for exit_host in network.policy.exits:
            flows.append(
                Flow(
                    src,
                    router,
                    zone,
                    names.internet_server,
                    names.internet_host(exit_host),
                    "internet",
                    policy[zone].internet,
                    every,
                    tcp_port=probes.tcp_port,
                    udp_port=probes.udp_port,
                )
            )
        management = network.node(router).management.ip
        flows.append(
            Flow(
                src,
                router,
                zone,
                management,
                f"management of {router}",
                "management",
                False,
                ("icmp", "tcp"),
                tcp_port=22,
            )
        )
    for exit_host in network.policy.exits:
        internet = names.internet_host(exit_host)
        for dst, _r, dst_zone, address in hosts:
            flows.append(
                Flow(
                    internet,
                    exit_host,
                    "internet",
                    address,
                    dst,
                    dst_zone,
                    False,
                    every,
                    tcp_port=probes.tcp_port,
                    udp_port=probes.udp_port,
                )
            )
        for node in network.nodes:
            flows.append(
                Flow(
                    internet,
                    exit_host,
                    "internet",
                    node.management.ip,
                    f"management of {node.name}",
                    "management",
                    False,
                    ("icmp", "tcp"),
                    tcp_port=22,
                )
            )
    return flows


def _flow_rule(flow: Flow) -> str:
    if flow.zone == "internet":
        return "internet-reaches-nothing"
    if flow.target_zone == "management":
        return "management-not-routed"
    if flow.target_zone == "internet":
        return "private-never-internet"
    return "zones-apart" if flow.target_zone != flow.zone else "probe-expected"


def probe_findings(
    network: Network,
    names: LabNames,
    results: Sequence[Result],
    routes: dict[tuple[str, IPv4Address], dict[str, object]],
) -> Iterator[Finding]:
    owners = data_plane_addresses(network)
    exits = network.policy.exits
    exit_addresses = {
        uplink.address.ip for e in exits if (uplink := network.node(e).internet) is not None
    }
    for result in results:
        flow = result.flow
        answered = sorted(p for p, a in result.answers.items() if a.get("ok"))
        subject = f"{flow.label} {'/'.join(answered or flow.protocols)}"
        host = flow.router
        if not flow.allowed:
            if answered:
                yield Finding(_flow_rule(flow), host, flow.zone, subject, _evidence(result), SOURCE)
            continue
        missing = [p for p in flow.protocols if not result.answers.get(p, {}).get("ok")]
        if missing:
            yield Finding(
                "probe-expected",
                host,
                flow.zone,
                f"{flow.label} {'/'.join(missing)}",
                "no answer within the probe timeout",
                SOURCE,
            )
        for proto in ("tcp", "udp"):
            answer = str(result.answers.get(proto, {}).get("answer", ""))
            if not answer:
                continue
            name, _, seen = answer.partition(" ")
            if name != flow.target:
                yield Finding(
                    "probe-expected",
                    host,
                    flow.zone,
                    f"{flow.label} {proto}",
                    f"answered by {name}, not {flow.target}",
                    SOURCE,
                )
            if flow.target_zone == "internet" and seen and IPv4Address(seen) not in exit_addresses:
                yield Finding(
                    "nat-at-exit",
                    exits[0],
                    flow.zone,
                    f"{flow.label} {proto}",
                    f"the internet host saw source {seen}, not the exit's address",
                    SOURCE,
                )
        route = routes.get((flow.src, flow.dst), {})
        yield from _path_findings(network, flow, result, route, owners, names)


def _evidence(result: Result) -> str:
    parts = []
    for proto, answer in sorted(result.answers.items()):
        if answer.get("ok"):
            parts.append(
                f"{proto} answered{' ' + str(answer['answer']) if answer.get('answer') else ''}"
            )
    if result.hops:
        parts.append("hops " + " > ".join(h or "*" for h in result.hops))
    return "; ".join(parts)


def _path_findings(
    network: Network,
    flow: Flow,
    result: Result,
    route: dict[str, object],
    owners: dict[IPv4Address, str],
    names: LabNames,
) -> Iterator[Finding]:
    """The path of an allowed flow that answered: out of the host's data interface, then
    router hops that are data-plane addresses of neighbouring routers, none on the
    management network, and through the unified exit toward the internet."""
    subject = flow.label
    dev = route.get("dev")
    if dev is not None and dev != names.data_interface:
        yield Finding(
            "data-plane-path",
            flow.router,
            flow.zone,
            subject,
            f"{flow.src}: ip route get {flow.dst}: dev {dev} src {route.get('prefsrc')}, "
            f"not its data interface {names.data_interface}",
            SOURCE,
        )
    hops = list(result.hops)
    if hops and hops[0] is None and route.get("gateway"):
        hops[0] = str(route["gateway"])  # the first router's answer was rate-limited away
    shown = "hops " + " > ".join(h or "*" for h in hops)
    management = network.management_subnet
    for hop in (IPv4Address(h) for h in hops if h):
        if hop in management:
            yield Finding(
                "data-plane-path",
                flow.router,
                flow.zone,
                subject,
                f"hop {hop} is on the management network; {shown}",
                SOURCE,
            )
    if not hops:
        return
    routers = [owners.get(IPv4Address(h)) if h else None for h in hops[:-1]]
    if routers[:1] != [flow.router]:
        yield Finding(
            "data-plane-path",
            flow.router,
            flow.zone,
            subject,
            f"the first hop is not {flow.router}'s data plane; {shown}",
            SOURCE,
        )
    for before, after in itertools.pairwise(routers):
        if before and after and before != after and not _neighbours(network, before, after):
            yield Finding(
                "data-plane-path",
                flow.router,
                flow.zone,
                subject,
                f"{before} and {after} are not linked in the inventory; {shown}",
                SOURCE,
            )
    if flow.target_zone == "internet" and not set(routers) & set(network.policy.exits):
        yield Finding(
            "unified-exit",
            next((r for r in reversed(routers) if r), flow.router),
            flow.zone,
            subject,
            f"{shown}: never through the unified exit",
            SOURCE,
        )


def _neighbours(network: Network, a: str, b: str) -> bool:
    return any(link.other(a).host == b for link in network.links_of(a))


def live_audit(
    network: Network, lab: LabAccess, names: LabNames, stages: dict[str, float] | None = None
) -> list[Finding]:
    """Every finding of the live audit (running configs, tables, probes), sorted."""
    stages = stages if stages is not None else {}
    started = time.perf_counter()
    findings = running_config_findings(lab, network)
    stages["running configs"] = time.perf_counter() - started
    started = time.perf_counter()
    expected = Audit(network, intended_configs(network, platforms.LAB.platform)).state
    findings += table_findings(network, read_tables(lab, network), expected)
    stages["routing tables"] = time.perf_counter() - started
    started = time.perf_counter()
    flows = audit_flows(network, names)
    probes = network.policy.probes
    hosts = sorted({(f.target, f.dst) for f in flows if f.target_zone != "management"})
    exit_host = network.policy.exits[0]
    uplink = network.node(exit_host).internet
    with listeners(lab, hosts, probes.tcp_port, probes.udp_port):
        assert uplink is not None  # noqa: S101 - an exit has its uplink (validated)
        with attacker_routes(lab, names.internet_host(exit_host), uplink.address.ip, network):
            results = run_flows(lab, flows, probes.timeout, trace=True)
    routes = source_routes(lab, flows)
    findings += probe_findings(network, names, results, routes)
    stages["probes"] = time.perf_counter() - started
    if network.service_zone is not None:
        started = time.perf_counter()
        findings += dns_live_findings(network, lab, names)
        stages["dns and services"] = time.perf_counter() - started
    return sorted(set(findings))


def dns_live_findings(network: Network, lab: LabAccess, names: LabNames) -> list[Finding]:
    """The service zone live: each resolver's running named.conf through the DNS leak rules
    (`isolation.resolvers`), the DNS probes from one host of every granted zone at every node, and
    from the same hosts a probe of each service host on the probe ports (TCP and UDP), which
    are no service ports: an answer is `service-ports-only` broken."""
    service = network.service_zone
    assert service is not None  # noqa: S101 - asked only with a service zone
    configs: dict[str, NamedConfig | None] = {}
    for resolver in service.with_role("resolver"):
        node = service_host_node(names, resolver.node, resolver.name)
        done = lab.run(node, ["cat", names.named_conf]) if node in lab.nodes() else None
        where = f"{node}:{names.named_conf}"
        ok = done is not None and done.returncode == 0
        configs[resolver.name] = parse_named(done.stdout, where) if done and ok else None
    findings = config_findings(network, configs, "config")
    dns = dns_flows(network, names)
    probes = network.policy.probes
    # (lab node, the router whose filter guards it, address) of every service host
    hosts = [
        (service_host_node(names, h.node, h.name), h.node, h.address.ip) for h in service.hosts
    ]
    by_node = {service_host_node(names, h.node, h.name): h.name for h in service.hosts}
    sources = sorted({(f.src, f.router, f.zone) for f in dns})
    ports = [
        Flow(src, router, zone, address, node, service.name, False, ("tcp", "udp"),
             tcp_port=probes.tcp_port, udp_port=probes.udp_port, kind=at)
        for src, router, zone in sources
        for node, at, address in hosts
    ]  # fmt: skip
    running = [(node, address) for node, _name, address in hosts if node in lab.nodes()]
    with listeners(lab, running, probes.tcp_port, probes.udp_port):
        results = run_flows(lab, [*dns, *ports], probes.timeout, trace=False)
    answers = [judge(r) for r in results if "dns" in r.flow.protocols]
    findings += dns_probe_findings(answers, by_node)
    for result in results:
        if "dns" in result.flow.protocols or not result.ok():
            continue
        flow = result.flow
        opened = [p for p in ("tcp", "udp") if result.ok(p)]
        findings.append(
            Finding(
                "service-ports-only",
                flow.kind,
                flow.zone,
                f"{flow.src} -> {flow.target} ({flow.dst}) {'/'.join(opened)}",
                f"answered: {_evidence(result)}",
                SOURCE,
            )
        )
    return sorted(findings)
