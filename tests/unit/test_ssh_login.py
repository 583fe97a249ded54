"""Which failed SSH logins are tried once more, against real sockets and netmiko's own errors.

A login that breaks off after the TCP connection is made (a busy sshd drops it before its
banner) may pass when tried again; a refused credential or a port nothing listens on never
does, and trying again would only double the wait before the host is called unreachable.
The lab side (a login that lands in vtysh and waits for its prompt) is in
tests/lab/test_napalm_lab.py.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout

from egovnet.platforms import platform
from nornir_tasks.drivers import ssh
from nornir_tasks.drivers.base import ConnectionFailedError
from nornir_tasks.drivers.ssh import SshParams, connect, retried, session_class


class DroppingServer:
    """A TCP listener on loopback that accepts every connection and resets it at once,
    as an sshd at its limit of unauthenticated connections does; counts what it accepted."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        self.socket.settimeout(0.1)  # so that `close` need not wait for a connection
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()


@pytest.fixture
def dropping() -> Iterator[DroppingServer]:
    server = DroppingServer()
    yield server
    server.close()


def params(port: int) -> SshParams:
    return SshParams("hb-county-9", "127.0.0.1", "root", port=port, timeout=5)


def test_a_login_broken_off_before_the_banner_is_tried_exactly_twice(
    dropping: DroppingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ssh, "RETRY_PAUSE", 0.0)
    with pytest.raises(ConnectionFailedError) as failure:
        connect(params(dropping.port), "cisco_ios", platform("frr").commands.prompt_pattern)
    assert dropping.accepted == 2
    assert "hb-county-9" in str(failure.value)
    assert "127.0.0.1" in str(failure.value)


def test_a_port_nothing_listens_on_fails_with_the_address_named() -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = int(closed.getsockname()[1])
    closed.close()
    with pytest.raises(ConnectionFailedError) as failure:
        connect(params(port), "cisco_ios")
    assert f"127.0.0.1:{port}" in str(failure.value)


def wrapped(raised: BaseException, cause: BaseException) -> BaseException:
    """`raised` as netmiko raises it: inside the handler of `cause`."""
    try:
        try:
            raise cause
        except type(cause):
            raise raised  # noqa: B904 - the implicit context is what netmiko leaves
    except type(raised) as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "again"),
    [
        (ReadTimeout("no prompt"), True),
        (wrapped(NetmikoTimeoutException("ssh failed"), ConnectionResetError()), True),
        (wrapped(NetmikoTimeoutException("ssh failed"), EOFError()), True),
        (wrapped(NetmikoTimeoutException("TCP failed"), ConnectionRefusedError()), False),
        (wrapped(NetmikoTimeoutException("TCP failed"), TimeoutError()), False),
        (NetmikoTimeoutException("TCP connection to device failed"), False),
        (NetmikoAuthenticationException("Authentication to device failed"), False),
    ],
    ids=[
        "no-prompt",
        "reset",
        "eof",
        "refused",
        "tcp-timeout",
        "timeout-alone",
        "credentials",
    ],
)
def test_only_a_login_that_may_pass_on_a_second_try_is_retried(
    exc: BaseException, again: bool
) -> None:
    assert retried(exc) is again


def test_the_prompt_waiting_session_is_netmikos_class_of_the_platform() -> None:
    frr = platform("frr")
    assert frr.commands.prompt_pattern is not None
    made = session_class(frr.netmiko_type, frr.commands.prompt_pattern)
    assert made is session_class(frr.netmiko_type, frr.commands.prompt_pattern)
    assert made.__mro__[1] is ssh.PromptWaiting
    assert made.__mro__[2].__name__ == "CiscoIosSSH"
    # vtysh's prompt in exec and config mode is the last line; the banner before it is not
    prompt = made.egovnet_prompt  # type: ignore[attr-defined]
    banner = "Hello, this is FRRouting (version 8.4).\r\n河北 - Authorised access only\r\n"
    assert prompt.findall(banner + "hb-county-9# ") == ["hb-county-9# "]
    assert prompt.findall("hb-county-9(config-router)# ") == ["hb-county-9(config-router)# "]
    assert prompt.findall(banner) == []
