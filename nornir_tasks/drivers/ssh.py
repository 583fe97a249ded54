"""Opening an SSH session to a device with netmiko, with errors that name the host."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from netmiko import BaseConnection, ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
)
from netmiko.ssh_dispatcher import CLASS_MAPPER
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


class PromptWaiting:
    """Session preparation that waits for the CLI's prompt instead of sleeping for it.

    netmiko finds the prompt by sleeping and reading (`find_prompt`, `clear_buffer`: 0.1 s,
    doubled each time data was still arriving, up to 3 s): 0.2 s of a 0.4 s login on an idle
    machine, over 1 s a login at 20 logins at once on two loaded cores, where output trickles
    in. Where the platform registry knows its prompt (`Commands.prompt_pattern`), the login
    reads until that pattern is the last line, with the session's timeout as the only
    limit, and every later prompt search does the same. Mixed in before netmiko's class of
    the platform's device type (`session_class`)."""

    egovnet_prompt: re.Pattern[str]
    timeout: float
    RETURN: str
    base_prompt: str

    def _try_session_preparation(self, force_data: bool = True) -> None:
        # netmiko's writes a RETURN and sleeps 0.1 s first; the CLI prints its prompt
        # unasked, and a RETURN typed ahead would only print a second one.
        del force_data
        try:
            self.session_preparation()
        except Exception:
            self.disconnect()  # type: ignore[attr-defined]  # netmiko's, after this in the MRO
            raise

    def session_preparation(self) -> None:
        prompt = self.wait_prompt()
        self.disable_paging()  # type: ignore[attr-defined]
        self.wait_prompt()
        self.base_prompt = prompt[:-1]

    def wait_prompt(self) -> str:
        """Read until the prompt shows as the last line; that line (ReadTimeout after the
        session's timeout, which `connect` turns into one more login)."""
        output = self.read_until_pattern(  # type: ignore[attr-defined]
            pattern=self.egovnet_prompt.pattern,
            read_timeout=self.timeout,
            re_flags=self.egovnet_prompt.flags,
        )
        found = self.egovnet_prompt.findall(output)
        return str(found[-1]).strip() if found else str(output).strip().splitlines()[-1]

    def find_prompt(self, delay_factor: float = 1.0, pattern: str | None = None) -> str:
        """The prompt now: a RETURN, then the prompt line it prints (netmiko's arguments,
        delays and patterns, are not needed: the prompt's pattern is known)."""
        del delay_factor, pattern
        self.write_channel(self.RETURN)  # type: ignore[attr-defined]
        return self.wait_prompt()


@cache
def session_class(device_type: str, prompt_pattern: str) -> type[BaseConnection]:
    """netmiko's class for `device_type` with `PromptWaiting` before it (one per pair)."""
    base = CLASS_MAPPER[device_type]
    name = f"PromptWaiting{base.__name__}"
    attributes = {"egovnet_prompt": re.compile(prompt_pattern, re.MULTILINE)}
    made: type[BaseConnection] = type(name, (PromptWaiting, base), attributes)
    return made


def retried(exc: BaseException) -> bool:
    """Whether a failed login may pass when tried again at once: the prompt did not show
    in time (a loaded box), or the SSH exchange broke off after the TCP connection was made
    (a busy sshd: "Error reading SSH protocol banner", a reset; netmiko reports these as a
    `NetmikoTimeoutException` raised while handling the real one). A refused credential, a
    refused or timed-out TCP connection (nothing listens, nothing answers) never do."""
    if isinstance(exc, ReadException):
        return True
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, NetmikoTimeoutException) and cause is not None:
        exc = cause
    if isinstance(exc, NetmikoTimeoutException | NetmikoAuthenticationException):
        return False
    return isinstance(exc, SSHException | ConnectionResetError | EOFError)


RETRY_PAUSE = 0.5
"""Seconds before the second login: a busy sshd or CLI gets a moment, not a hammering."""


def connect(
    params: SshParams,
    device_type: str,
    prompt_pattern: str | None = None,
    attempts: int = 2,
) -> BaseConnection:
    """A logged-in netmiko session; `ConnectionFailedError` says whether the login was
    refused (credentials) or the device did not answer (address, sshd).

    With `prompt_pattern` (the platform's, `Commands.prompt_pattern`) the session waits for
    the prompt instead of netmiko's sleeps (`PromptWaiting`). A login that fails in a way
    that may pass on a second try (`retried`: no prompt within the timeout, as 2 of 157 lab
    counties under load; the SSH exchange broken off) is tried once more afresh, after
    `RETRY_PAUSE`, before the host is called unreachable."""
    p = params
    arguments: dict[str, Any] = {
        "device_type": device_type,
        "host": p.address,
        "port": p.port,
        "username": p.username,
        "password": p.password or "",
        "use_keys": p.key_file is not None,
        "key_file": p.key_file,
        "allow_agent": False,
        "timeout": p.timeout,
        "auth_timeout": p.timeout,
        "banner_timeout": p.timeout,
        "conn_timeout": p.timeout,
    }
    for attempt in range(1, attempts + 1):
        try:
            if prompt_pattern is None:
                return ConnectHandler(**arguments)
            session: BaseConnection = session_class(device_type, prompt_pattern)(**arguments)
            return session
        except NetmikoAuthenticationException as exc:
            raise ConnectionFailedError(
                p.host,
                f"SSH login to {p.address} refused for user {p.username!r} (wrong credentials?)",
            ) from exc
        except (ReadException, SSHException, OSError, EOFError) as exc:
            if attempt == attempts or not retried(exc):
                raise ConnectionFailedError(p.host, _login_failure(p, exc)) from exc
            time.sleep(RETRY_PAUSE)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _login_failure(params: SshParams, exc: BaseException) -> str:
    if isinstance(exc, ReadException):
        return f"no CLI prompt after SSH login to {params.address}: {first_line(exc)}"
    return f"SSH to {params.address}:{params.port} failed: {first_line(exc)}"


def first_line(exc: BaseException) -> str:
    """An exception's first line (paramiko's messages run on), or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
