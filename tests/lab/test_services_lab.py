"""The service zone and DNS on the real lab (issue 17): real named in the service hosts, the
simulated internet's authoritative server and the exit's forwarder; every zone resolves the
extranet's names, a private zone is refused an internet name at once, a public one resolves
it through the exit; the departmental VPN reaches the service hosts on the service ports
only and no other zone. Then each leak of the issue, injected by hand, is caught by
`isolation audit --source live` (exit 1, rule and host named) and repaired by
`isolation enforce`. Module-scoped: one lab, `lab down` in the finaliser whatever happens.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from egovnet.model import Network, ServiceHost
from isolation.probes import AGENT
from tests.labkit import TestLab

KIT: list[TestLab] = []
INTERNET_NAME = "www.internet.test"
INTERNET_SERVER = "198.19.255.254"


def network() -> Network:
    return KIT[0].network


def in_node(node: str, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    holder = KIT[0].holders()[node]
    return subprocess.run(
        ["nsenter", "-t", str(holder.pid), "-m", "-u", "-n", "-p", *argv],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )


def egovnet(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return KIT[0].egovnet(*args, cwd=cwd, timeout=timeout)


def probe(src: str, specs: list[dict[str, Any]], timeout: float = 2.0) -> list[dict[str, Any]]:
    """The probe agent's answers from inside `src` (dnspython for DNS, sockets for TCP)."""
    done = in_node(src, sys.executable, AGENT, "probe", json.dumps(specs), str(timeout))
    assert done.returncode == 0, done.stderr
    return [answer["answers"] for answer in json.loads(done.stdout)]


def resolvers() -> list[ServiceHost]:
    service = network().service_zone
    assert service is not None
    return list(service.with_role("resolver"))


def host_of(zone: str, node: str | None = None) -> tuple[str, str]:
    """(lab host, router) of a department of `zone` (at `node`, if given)."""
    for n in network().nodes:
        for dept in n.departments:
            if dept.zone == zone and (node is None or n.name == node):
                return f"{n.name}-{dept.name}", n.name
    raise AssertionError(f"no department of {zone}")


@pytest.fixture(scope="module")
def workdir(test_lab: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("services")
    KIT[:] = [test_lab]
    try:
        result = egovnet("lab", "up", "--json", cwd=directory, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        yield directory
    finally:
        down = test_lab.down(directory)
        assert down.returncode == 0, down.stderr


def audit(workdir: Path) -> tuple[int, set[tuple[str, str]]]:
    result = egovnet("isolation", "audit", "--source", "live", "--json", cwd=workdir)
    assert result.returncode in {0, 1}, result.stdout + result.stderr
    report = json.loads(result.stdout)
    return result.returncode, {(f["rule"], f["host"]) for f in report["findings"]}


def enforce(workdir: Path) -> dict[str, Any]:
    result = egovnet(
        "isolation", "enforce", "--source", "live", "--platform", "frr", "--yes", "--json",
        "--backup-repo", str(workdir / "backups"), "--runs", str(workdir / "runs"),
        cwd=workdir,
    )  # fmt: skip
    assert result.returncode in {0, 1}, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.returncode == 0, report["after"]
    return report


def test_every_zone_resolves_the_service_names_and_internet_names_as_it_may(
    workdir: Path,
) -> None:
    service = network().service_zone
    assert service is not None
    dns1 = next(h for h in service.hosts if h.name == "dns1")
    for zone in service.access:
        src, router = host_of(zone)
        dept = next(d for d in network().node(router).departments if d.zone == zone)
        own_name = f"{dept.name}.{router}.{service.domain}"
        internet = network().zone(zone).internet
        for resolver in resolvers():
            server = str(resolver.address.ip)
            specs = [
                {"dst": server, "protocols": ["dns"], "qname": service.fqdn(dns1)},
                {"dst": server, "protocols": ["dns"], "qname": own_name},
                {"dst": server, "protocols": ["dns"], "qname": INTERNET_NAME},
            ]
            by_name, by_dept, outside = (a["dns"] for a in probe(src, specs))
            where = f"{src} ({zone}) @ {resolver.name}"
            assert by_name["addresses"] == [str(dns1.address.ip)], where
            assert by_dept["addresses"] == [str(dept.host.ip)], where
            if internet:  # through the exit's forwarder to the internet's own server
                assert outside["rcode"] == "NOERROR", where
                assert outside["addresses"] == [INTERNET_SERVER], where
            else:  # told no at once: an answer, not a timeout toward the internet
                assert outside["ok"], f"{where}: {outside}"
                assert outside["rcode"] in {"REFUSED", "NXDOMAIN"}, where
                assert outside["rtt_ms"] < 1000, where


def test_the_departmental_vpn_reaches_dns_on_53_only_and_no_other_zone(workdir: Path) -> None:
    src, _router = host_of("gongan", "zhengding")
    others = [str(d.host.ip) for n in network().nodes for d in n.departments if d.zone != "gongan"][
        :6
    ]
    dns = [str(r.address.ip) for r in resolvers()]
    service = network().service_zone
    assert service is not None
    specs: list[dict[str, Any]] = [
        {"dst": a, "protocols": ["dns"], "qname": f"dns1.{service.domain}", "over_tcp": True}
        for a in dns
    ]
    specs += [{"dst": a, "protocols": ["tcp"], "tcp_port": 22} for a in dns]
    specs += [{"dst": a, "protocols": ["icmp", "tcp"], "tcp_port": 53} for a in others]
    answers = probe(src, specs, timeout=1.0)
    count = len(dns)
    on_53, on_22, elsewhere = answers[:count], answers[count : 2 * count], answers[2 * count :]
    assert all(a["dns"]["rcode"] == "NOERROR" for a in on_53), on_53  # DNS over TCP/53
    assert all(a["tcp"]["error"] == "TimeoutError" for a in on_22), on_22  # dropped
    for answer in elsewhere:
        assert not answer["icmp"]["ok"]
        assert not answer["tcp"]["ok"]
        assert answer["tcp"]["error"] != "ConnectionRefusedError"


def test_a_clean_lab_audits_clean(workdir: Path) -> None:
    code, found = audit(workdir)
    assert found == set()
    assert code == 0


RESTART = (
    "kill $(cat /run/named/named.pid); "
    "for _ in $(seq 50); do [ -e /run/named/named.pid ] || break; sleep 0.1; done; "
    "named -4 -c /etc/bind/named.conf"
)


def test_each_service_leak_is_caught_live_and_repaired_by_enforce(workdir: Path) -> None:
    service = network().service_zone
    assert service is not None
    dns1 = next(h for h in service.hosts if h.name == "dns1")
    node = dns1.node
    server = f"{node}-dns1"
    loopbacks = str(network().loopback_pool)
    # 1. a forwarder to an internet address in the private view of a resolver
    conf = in_node(server, "cat", "/etc/bind/named.conf").stdout
    at = conf.index('view "private"')
    cut = conf.index("recursion no;", at)
    leaked = (
        conf[:cut]
        + f"recursion yes;\n    forwarders {{ {INTERNET_SERVER}; }};"
        + conf[cut + len("recursion no;") :]
    )
    assert in_node(server, "sh", "-c", "cat > /etc/bind/named.conf", stdin=leaked).returncode == 0
    assert in_node(server, "sh", "-c", RESTART).returncode == 0
    # 2. another space's routes leaked into the service zone (the underlay's loopbacks)
    link = "169.254.0.0"  # the first granted zone's end of its service link
    vty = ["vtysh", "-N", node, "-c", "conf t", "-c", "vrf services"]
    assert in_node(node, *vty, "-c", f"ip route {loopbacks} {link}").returncode == 0
    # 3. a filter that opens a service host beyond its ports (everything from gongan)
    vlan = network().zone("gongan").vlan
    rule = f"iifname zone{vlan} ip daddr {dns1.address.ip} accept"
    nft = ["ip", "netns", "exec", "services", "nft", "insert", "rule", "inet", "egovnet_services"]
    assert in_node(node, *nft, "forward", *rule.split()).returncode == 0

    code, found = audit(workdir)
    assert code == 1
    assert ("dns-private-no-internet", "dns1") in found
    assert ("service-no-transit", node) in found
    assert ("service-ports-only", node) in found

    report = enforce(workdir)
    assert set(report["changed"]) == {node, "dns1"}
    assert report["after"] == []
    code, found = audit(workdir)
    assert (code, found) == (0, set())
