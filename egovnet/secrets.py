"""Secrets: refusing them in the inventory, and finding them where they belong.

The inventory only ever names a secret (`{secret: snmp-noc-auth}`); its value lives in the
environment (`EGOVNET_SECRET_SNMP_NOC_AUTH`) or in a secrets file outside version control
(`$EGOVNET_SECRETS`, or `--secrets FILE`). Values are resolved only where a device needs them
(rendering, pushing, polling) and never enter the model, logs or `--json` output: the model
holds `SecretRef`s, and the functions at the end of this module are the one place that turns
them into values (`SnmpCredentials` for every SNMP user, `SharedSecrets` for a render).
"""

from __future__ import annotations

import os
import re
import secrets as stdlib_secrets
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from egovnet.errors import ProblemList, SecretError
from egovnet.schema import SnmpUserSpec, SnmpV2cSpec
from egovnet.yamlio import LineDict

if TYPE_CHECKING:
    from egovnet.model import Network

SECRET_KEY = re.compile(
    r"(^|_)(password|passwd|secret|community|key|passphrase|token)$", re.IGNORECASE
)
"""Keys whose values are secrets. `{secret: NAME}` is the one allowed form (a reference)."""


def _is_reference(mapping: Mapping[str, Any]) -> bool:
    return set(mapping) == {"secret"} and isinstance(mapping["secret"], str)


def find_plaintext_secrets(
    document: Any, file: str, problems: ProblemList, *, references: bool = True
) -> set[tuple[str | int, ...]]:
    """Record every secret-looking key that holds a literal value; return their key paths.

    `references` says whether `{secret: NAME}` is allowed here: it is in `network.yaml`, but in
    Nornir's files a `secret:` key is a device's enable secret written in plain text.

    >>> from egovnet.yamlio import parse_yaml_text
    >>> found = ProblemList()
    >>> text = "a:\\n  - password: hunter2\\n  - auth_key: {secret: k}\\n"
    >>> doc = parse_yaml_text(text, "f", found)
    >>> find_plaintext_secrets(doc, "f", found)
    {('a', 0, 'password')}
    """
    found: set[tuple[str | int, ...]] = set()

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(node, dict):
            if path and references and _is_reference(node):
                return
            for key, value in node.items():
                here = (*path, str(key))
                if SECRET_KEY.search(str(key)) and not isinstance(value, dict | list):
                    if value in (None, ""):
                        continue
                    found.add(here)
                    line = node.lines.get(str(key)) if isinstance(node, LineDict) else None
                    host = str(path[0]) if file.endswith("hosts.yaml") and path else None
                    field = ".".join(str(p) for p in (here[1:] if host else here))
                    problems.add(
                        file,
                        field,
                        "plain-text secret: write {secret: NAME} and keep the value in the "
                        "secrets file or $EGOVNET_SECRET_NAME; device credentials come from "
                        "the secrets file or the environment, never the inventory",
                        host=host,
                        line=line,
                    )
                else:
                    walk(value, here)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, (*path, index))

    walk(document, ())
    return found


def env_name(secret: str) -> str:
    """The environment variable that can hold a secret.

    >>> env_name("snmp-noc-auth")
    'EGOVNET_SECRET_SNMP_NOC_AUTH'
    """
    return "EGOVNET_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", secret).upper()


class SecretStore:
    """Looks secrets up in the environment first, then in a YAML file of `name: value`."""

    def __init__(self, file: Path | None = None, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._file = file
        self._values: dict[str, str] = {}
        if file is not None:
            self._values = self._read(file)

    @staticmethod
    def _read(file: Path) -> dict[str, str]:
        if not file.exists():
            raise SecretError(f"secrets file {file} does not exist")
        mode = file.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretError(
                f"secrets file {file} is readable by others (mode {oct(mode & 0o777)}); "
                f"run: chmod 600 {file}"
            )
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise SecretError(f"secrets file {file} must be a mapping of name: string")
        return {str(k): v for k, v in data.items()}

    def get(self, name: str) -> str:
        """The value of secret `name`, or SecretError saying where it was looked for."""
        value = self._environ.get(env_name(name)) or self._values.get(name)
        if not value:
            where = f"${env_name(name)}"
            where += f" or {self._file}" if self._file else " or a secrets file (--secrets)"
            raise SecretError(f"secret '{name}' is not set: put it in {where}")
        return value

    def missing(self, names: Iterable[str]) -> list[str]:
        """Which of `names` cannot be resolved."""
        return [n for n in names if not (self._environ.get(env_name(n)) or self._values.get(n))]


def write_random_secrets(file: Path, names: Iterable[str]) -> list[str]:
    """Create or extend a 0600 secrets file with random values for `names` not already in it.

    Meant for labs and demos: real networks keep their secrets in their own vault.
    Returns the names that were added.
    """
    existing: dict[str, str] = {}
    if file.exists():
        existing = SecretStore._read(file)
    added = [n for n in sorted(set(names)) if n not in existing]
    for name in added:
        existing[name] = stdlib_secrets.token_urlsafe(18)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        yaml.safe_dump(existing, out, sort_keys=True)
    file.chmod(0o600)
    return added


@dataclass(frozen=True)
class SnmpCredentials:
    """How to authenticate to an SNMP agent, keys resolved: SNMPv3 USM authPriv (`name`,
    `auth`/`auth_key`, `priv`/`priv_key`) or a v2c `community`. The one resolved form the
    renderer, the lab's snmpd, the exporter and the rollout's SNMP gate all take; `repr`
    hides the keys so that it can be logged.

    >>> SnmpCredentials("v3", "noc", auth_key="k1", priv_key="k2")
    SnmpCredentials(version='v3', name='noc', group='egov-ro', auth='sha', priv='aes128')
    """

    version: Literal["v3", "v2c"]
    name: str = ""
    group: str = "egov-ro"
    auth: Literal["sha", "sha256"] = "sha"
    auth_key: str = field(default="", repr=False)
    priv: Literal["aes128"] = "aes128"
    priv_key: str = field(default="", repr=False)
    community: str = field(default="", repr=False)


def snmp_credentials(entry: SnmpUserSpec | SnmpV2cSpec, store: SecretStore) -> SnmpCredentials:
    """An SNMP user (or the v2c community) of the model with its secrets looked up in `store`;
    SecretError names the first one that is not set.

    >>> from egovnet.schema import SecretRef
    >>> user = SnmpUserSpec(name="noc", auth_key=SecretRef(secret="a"),
    ...     priv_key=SecretRef(secret="p"))
    >>> store = SecretStore(environ={"EGOVNET_SECRET_A": "k1", "EGOVNET_SECRET_P": "k2"})
    >>> snmp_credentials(user, store).priv_key
    'k2'
    """
    if isinstance(entry, SnmpV2cSpec):
        return SnmpCredentials("v2c", community=store.get(entry.community.secret))
    return SnmpCredentials(
        "v3",
        name=entry.name,
        group=entry.group,
        auth=entry.auth,
        auth_key=store.get(entry.auth_key.secret),
        priv=entry.priv,
        priv_key=store.get(entry.priv_key.secret),
    )


@dataclass(frozen=True)
class SharedSecrets:
    """The secrets a render puts in every node's config, resolved once per run."""

    aaa_key: str
    snmp_users: list[SnmpCredentials]
    local_admin: tuple[str, str] | None
    """(name, password) of the break-glass account, if network.yaml has one."""
    ntp_key: str | None = None
    """The NTP authentication key (`services.ntp_auth.key`), if network.yaml has one."""

    @classmethod
    def resolve(cls, network: Network, store: SecretStore) -> SharedSecrets:
        """The AAA key, every SNMP user, the local admin and the NTP key of `network`,
        from `store`."""
        services = network.services
        admin = services.local_admin
        local = (admin.name, store.get(admin.password.secret)) if admin else None
        users = [snmp_credentials(user, store) for user in services.snmp.users]
        ntp = services.ntp_auth
        ntp_key = store.get(ntp.key.secret) if ntp else None
        return cls(store.get(services.aaa.key.secret), users, local, ntp_key)


def secret_names(network: Network) -> list[str]:
    """Every secret a render of this network needs."""
    services = network.services
    names = [services.aaa.key.secret]
    if services.local_admin is not None:
        names.append(services.local_admin.password.secret)
    for user in services.snmp.users:
        names += [user.auth_key.secret, user.priv_key.secret]
    if services.ntp_auth is not None:
        names.append(services.ntp_auth.key.secret)
    return names
