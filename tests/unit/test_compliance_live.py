"""Live evidence as `compliance check --source live` gathers it, on recorded command output:
the lab's `egovnet-facts` script (the real one, run by /bin/sh on recorded pid files and a
fake daemon's command line) parsed into its sections, secrets masked; a router that could
not be read fails closed (its rules `unverified`, never `pass`); the check reads the live
texts (`sshd -T`'s lower-case spelling) as it reads the rendered ones."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from compliance.engine import check_hosts
from compliance.evidence import intended_evidence
from compliance.live import FACTS_MARK, live_evidence, parse_facts
from egovnet.loader import load_network
from egovnet.model import Network
from isolation.access import Completed
from lab import runner
from tests.unit.conftest import SAMPLE

CITY = "baoding"


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(SAMPLE)


def test_the_lab_and_the_check_agree_on_the_section_mark() -> None:
    assert runner.FACTS_MARK == FACTS_MARK


@pytest.fixture
def facts_script(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The lab's `egovnet-facts`, for a node whose sshd and snmpd run as stand-in processes
    (python sleeping, started with the daemons' `-f FILE` / `-c FILE`), their pid files
    where the lab keeps them."""
    ssh, snmp = tmp_path / "ssh", tmp_path / "snmp"
    ssh.mkdir()
    snmp.mkdir()
    script = tmp_path / "facts"
    script.write_text(
        runner.FACTS.format(node=CITY, ssh_dir=ssh, snmp_dir=snmp, mark=runner.FACTS_MARK)
    )
    (snmp / "snmpd.conf").write_text(
        "agentAddress udp:10.1.0.2:161\n"
        'createUser noc SHA "auth-secret-1" AES "priv-secret-2"\n'
        "rouser noc priv\n"
        "rocommunity public-secret 10.0.0.0/8\n"
    )
    stand_in = tmp_path / "snmpd_stand_in.py"
    stand_in.write_text("import time\ntime.sleep(60)\n")
    daemon = subprocess.Popen([sys.executable, str(stand_in), "-c", str(snmp / "snmpd.conf")])
    (snmp / "snmpd.pid").write_text(f"{daemon.pid}\n")
    try:
        yield script, snmp
    finally:
        daemon.kill()
        daemon.wait()


def test_the_facts_script_shows_snmpd_in_effect_with_every_secret_masked(
    facts_script: tuple[Path, Path],
) -> None:
    script, snmp = facts_script
    done = subprocess.run(["/bin/sh", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    texts, problems = parse_facts(done.stdout, "egovnet-facts")
    assert problems == ["sshd: not running"]
    snmpd = texts["snmpd"]
    assert snmpd.origin.startswith(f"egovnet-facts: {snmp / 'snmpd.conf'} (pid ")
    assert "createUser noc SHA ******** AES ********" in snmpd.text
    assert "rocommunity ******** 10.0.0.0/8" in snmpd.text
    assert "secret" not in snmpd.text
    assert "services" in texts


@dataclass
class RecordedLab:
    """A `NodeAccess` answering from recorded output, per node and command."""

    answers: dict[tuple[str, str], Completed]
    running: set[str]
    asked: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def run(
        self, node: str, argv: Sequence[str], *, zone: str | None = None, timeout: float = 30.0
    ) -> Completed:
        self.asked.append((node, tuple(argv)))
        key = (node, "facts" if argv[0] == "/run/egovnet-facts" else "config")
        return self.answers.get(key, Completed(1, "", "no such command"))

    def nodes(self) -> set[str]:
        return self.running


def sshd_t(text: str) -> str:
    """What `sshd -T` prints for a config: `key value`, lower-case keys."""
    lines = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            lines.append(f"{key.lower()} {value}")
    return "\n".join(lines) + "\n"


def facts_output(network: Network, host: str, *, passwords: bool = False) -> str:
    intended = intended_evidence(network, [host])[host].texts
    sshd = sshd_t(intended["sshd"].text)
    if passwords:
        sshd = sshd.replace("passwordauthentication no", "passwordauthentication yes")
    return (
        f"{FACTS_MARK} sshd: sshd -T -f /run/egovnet-ssh/sshd_config (pid 41)\n{sshd}"
        f"{FACTS_MARK} snmpd: /run/egovnet-snmp/snmpd.conf (pid 23)\n{intended['snmpd'].text}"
        f"{FACTS_MARK} services: ss -Hlntup\n- tcp LISTEN 0 128 10.0.0.1:22 0.0.0.0:*\n"
        f"{FACTS_MARK} end\n"
    )


def recorded_lab(network: Network, host: str, **breaks: bool) -> RecordedLab:
    config = intended_evidence(network, [host])[host].texts["config"].text
    return RecordedLab(
        {
            (host, "config"): Completed(0, config),
            (host, "facts"): Completed(0, facts_output(network, host, **breaks)),
        },
        {host},
    )


def test_a_router_as_intended_passes_live(network: Network) -> None:
    access = recorded_lab(network, CITY)
    evidence = live_evidence(access, network, [CITY], facts=("/run/egovnet-facts",))
    assert set(evidence[CITY].texts) == {"config", "sshd", "snmpd", "services"}
    assert evidence[CITY].source == "live"
    report = check_hosts(network, evidence)
    failing = [(r.rule, r.message) for r in report.failing()]
    assert failing == []
    assert report.exit_code == 0
    assert (CITY, ("vtysh", "-N", CITY, "-c", "show running-config")) in access.asked


def test_sshd_allowing_passwords_live_is_found_with_its_evidence(network: Network) -> None:
    access = recorded_lab(network, CITY, passwords=True)
    report = check_hosts(network, live_evidence(access, network, [CITY], ("/run/egovnet-facts",)))
    assert report.exit_code == 1
    failing = report.failing()
    assert {r.host for r in failing} == {CITY}
    lines = [line for r in failing for line in r.evidence]
    assert any(
        line.text == "passwordauthentication yes" and "sshd -T -f" in line.origin for line in lines
    ), failing


def test_a_router_that_cannot_be_read_is_unverified_not_clean(network: Network) -> None:
    access = RecordedLab({}, {CITY})  # every command fails
    evidence = live_evidence(access, network, [CITY, "zhuozhou"], ("/run/egovnet-facts",))
    assert "zhuozhou is not running in the lab" in evidence["zhuozhou"].problems
    assert any("show running-config failed" in p for p in evidence[CITY].problems)
    report = check_hosts(network, evidence)
    assert report.exit_code == 1
    applicable = [r for r in report.results if r.status != "not_applicable"]
    assert any(r.status == "unverified" for r in applicable)
    # what passes reads the inventory (topology, retention), never the unread device
    passed = [r for r in applicable if r.status != "unverified"]
    assert all(line.evidence == "inventory" for r in passed for line in r.evidence), passed
    assert all(r.evidence for r in passed)


def test_facts_cut_short_are_not_trusted() -> None:
    texts, problems = parse_facts(f"{FACTS_MARK} sshd: sshd -T\npasswordauthentication no\n", "f")
    assert texts == {}
    assert problems == ["f: output ended early (no end marker): not trusted"]


def test_a_telnet_server_listening_live_fails_unused_services(network: Network) -> None:
    """Only a running node shows what listens: the rule's live-only check reads it."""
    access = recorded_lab(network, CITY)
    facts = access.answers[(CITY, "facts")].stdout.replace(
        f"{FACTS_MARK} end",
        f'- tcp LISTEN 0 64 0.0.0.0:23 0.0.0.0:* users:(("inetd",pid=7,fd=5))\n{FACTS_MARK} end',
    )
    access.answers[(CITY, "facts")] = Completed(0, facts)
    report = check_hosts(network, live_evidence(access, network, [CITY], ("/run/egovnet-facts",)))
    [result] = report.failing()
    assert (result.rule, result.host) == ("unused-services-off", CITY)
    assert [line.text for line in result.evidence] == [
        '- tcp LISTEN 0 64 0.0.0.0:23 0.0.0.0:* users:(("inetd",pid=7,fd=5))'
    ]
