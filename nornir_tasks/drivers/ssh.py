"""Opening an SSH session to a device with netmiko, with errors that name the host."""

from __future__ import annotations

from dataclasses import dataclass

from netmiko import BaseConnection, ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
)
from paramiko.ssh_exception import SSHException

from nornir_tasks.drivers.base import ConnectionFailedError


@dataclass(frozen=True)
class SshParams:
    """How to reach one device: from the Nornir host, credentials from the secrets store."""

    host: str
    address: str
    username: str
    password: str | None = None
    key_file: str | None = None
    port: int = 22
    timeout: float = 20.0
    packet_filter_netns: str | None = None
    """Where the node's packet filter lives (an FRR exit: its internet zone's namespace);
    the driver then backs it up, diffs and applies it with the config."""


# What a netmiko session raises when the device goes away or stops answering mid-command.
SESSION_LOST = (OSError, SSHException, EOFError, NetmikoTimeoutException, ReadException)


def connect(params: SshParams, device_type: str, attempts: int = 2) -> BaseConnection:
    """A logged-in netmiko session; `ConnectionFailedError` says whether the login was
    refused (credentials) or the device did not answer (address, sshd).

    A login whose prompt does not show within netmiko's read timeout (a CLI slow to start
    on a loaded box: 5 of 157 lab routers at 20 logins at once) is tried once more afresh
    before the host is called unreachable."""
    p = params
    for attempt in range(1, attempts + 1):
        try:
            return ConnectHandler(
                device_type=device_type,
                host=p.address,
                port=p.port,
                username=p.username,
                password=p.password or "",
                use_keys=p.key_file is not None,
                key_file=p.key_file,
                allow_agent=False,
                timeout=p.timeout,
                auth_timeout=p.timeout,
                banner_timeout=p.timeout,
                conn_timeout=p.timeout,
            )
        except NetmikoAuthenticationException as exc:
            raise ConnectionFailedError(
                p.host,
                f"SSH login to {p.address} refused for user {p.username!r} (wrong credentials?)",
            ) from exc
        except ReadException as exc:
            if attempt == attempts:
                raise ConnectionFailedError(
                    p.host, f"no CLI prompt after SSH login to {p.address}: {first_line(exc)}"
                ) from exc
        except (NetmikoTimeoutException, SSHException, OSError) as exc:
            raise ConnectionFailedError(
                p.host, f"SSH to {p.address}:{p.port} failed: {first_line(exc)}"
            ) from exc
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def first_line(exc: BaseException) -> str:
    """An exception's first line (paramiko's messages run on), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
