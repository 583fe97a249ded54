"""The liveness probes the rollout's gates and the lab's status share (`egovnet.probes`),
against a real net-snmp agent and a real sshd-like greeter on loopback, and against ports
where nothing listens. No `snmpget` is involved: with `PATH` emptied, the SNMP probe still
finds the agent (it once shelled out to net-snmp and called every agent dead without it).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from egovnet.probes import snmp_answers, ssh_answers
from egovnet.secrets import SnmpCredentials
from tests.unit.snmp_agent import AUTH, PRIV, free_udp_port, running_snmpd

NOC = SnmpCredentials("v3", "noc", auth_key=AUTH, priv_key=PRIV)


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with running_snmpd(tmp_path_factory.mktemp("snmpd")) as port:
        yield port


@pytest.fixture
def no_net_snmp_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine without Debian's `snmp` package: no snmpget to be found."""
    monkeypatch.setenv("PATH", "")


@pytest.mark.usefixtures("no_net_snmp_tools")
def test_an_agent_answers_an_unknown_user_with_no_secret_given(snmpd: int) -> None:
    assert snmp_answers("127.0.0.1", snmpd, timeout=1.0)


@pytest.mark.usefixtures("no_net_snmp_tools")
def test_an_agent_answers_the_nocs_user_with_its_keys(snmpd: int) -> None:
    assert snmp_answers("127.0.0.1", snmpd, user=NOC, timeout=1.0)


def test_wrong_keys_are_not_an_answer(snmpd: int) -> None:
    wrong = SnmpCredentials("v3", "noc", auth_key="not-the-key", priv_key=PRIV)
    assert not snmp_answers("127.0.0.1", snmpd, user=wrong, timeout=1.0)
    assert "not-the-key" not in repr(wrong)


def test_no_agent_on_a_closed_port(snmpd: int) -> None:
    port = free_udp_port()
    started = time.monotonic()
    assert not snmp_answers("127.0.0.1", port, timeout=0.3, retries=1)
    assert not snmp_answers("127.0.0.1", port, user=NOC, timeout=0.3, retries=0)
    assert time.monotonic() - started < 5  # bounded by timeout and retries


def test_no_agent_where_nothing_answers_udp() -> None:
    """A device gone quiet: packets taken, never answered."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        assert not snmp_answers("127.0.0.1", sink.getsockname()[1], timeout=0.3, retries=0)


@pytest.fixture
def greeter() -> Iterator[tuple[int, bytearray]]:
    """A TCP server on loopback that sends one banner to each connection; (port, banner
    holder). The test sets the banner before connecting."""
    banner = bytearray(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n")
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.sendall(bytes(banner))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1]), banner
    finally:
        stop.set()
        thread.join(5)
        server.close()


def test_an_ssh_server_is_known_by_its_banner(greeter: tuple[int, bytearray]) -> None:
    port, banner = greeter
    assert ssh_answers("127.0.0.1", port, timeout=1.0)
    banner[:] = b"220 smtp.example ESMTP\r\n"  # something listens, but not SSH
    assert not ssh_answers("127.0.0.1", port, timeout=1.0)


def test_no_ssh_on_a_closed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])  # bound, never listening: refused
    assert not ssh_answers("127.0.0.1", port, timeout=1.0)
