"""The devices and the rollout engine as the workflows see them: Nornir over the model,
credentials from the secrets store and the environment, secrets masked in everything that
comes back, and, when the lab is up on this machine, the lab's namespaces as the vantage
point of the data-plane gates."""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from nornir.core import Nornir
from nornir.core.task import AggregatedResult, Result

from egovnet.model import Network, Node
from egovnet.secrets import SecretStore, secret_names, snmp_credentials
from egovnet.wiring.lab import lab_ping_probe
from egovnet.workflows.backup import CommitBackup, Provenance
from egovnet.workflows.ports import Failed, RolloutRequest, Say, silent
from lab.keys import lab_key
from nornir_tasks.backup import Masker, commit_backup
from nornir_tasks.gates import HealthGates, WaveGate, snmpv3_probe
from nornir_tasks.inventory import Credentials, build_nornir
from nornir_tasks.report import RolloutReport
from nornir_tasks.rollout import Rollout, RolloutContext, RolloutOptions
from nornir_tasks.tasks import diff_intended, fetch_running

DEVICE_PASSWORD = "device-password"  # noqa: S105 - the name of an optional secret, not a value


def credentials(username: str, ssh_key: Path | None, store: SecretStore) -> Credentials:
    key = ssh_key
    if key is None and lab_key().exists():
        key = lab_key()
    password = None
    if not store.missing([DEVICE_PASSWORD]):
        password = store.get(DEVICE_PASSWORD)
    return Credentials(username, password, str(key) if key else None)


def masker(network: Network, store: SecretStore) -> Masker:
    names = [*secret_names(network), DEVICE_PASSWORD]
    return Masker({name: store.get(name) for name in names if not store.missing([name])})


def snmp_probe(network: Network, store: SecretStore) -> Callable[[Node], bool] | None:
    users = network.services.snmp.users
    if not users:
        return None
    return snmpv3_probe(snmp_credentials(users[0], store))


def inventory_commit(inventory: Path) -> str:
    """The inventory's git commit, `-dirty` when it has uncommitted changes."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - git with fixed arguments
            ["git", "-C", str(inventory), *args],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=False,
        )

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return "not in git"
    dirty = git("status", "--porcelain", "--", ".").stdout.strip()
    return head.stdout.strip() + ("-dirty" if dirty else "")


def operator() -> str:
    return os.environ.get("EGOVNET_OPERATOR") or os.environ.get("SUDO_USER") or getpass.getuser()


def provenance(inventory: Path) -> Provenance:
    """Who runs this (the operator) from which inventory, at which of its commits."""
    return Provenance(operator(), str(inventory), inventory_commit(inventory))


@dataclass
class DeviceSession:
    """What every device workflow starts from: the model, the hosts, secrets, a Nornir.
    It is the workflows' `Devices`: results per host, failures masked."""

    network: Network
    hosts: list[str]
    store: SecretStore
    masker: Masker
    nornir: Nornir

    @classmethod
    def start(
        cls,
        network: Network,
        hosts: list[str],
        store: SecretStore,
        login: tuple[str, Path | None],
        max_parallel: int,
        platform: str | None,
    ) -> DeviceSession:
        """A Nornir over `network` logging in as `login` (user, key), no connection yet."""
        creds = credentials(login[0], login[1], store)
        nornir = build_nornir(network, creds, workers=max_parallel, platform=platform)
        return cls(network, hosts, store, masker(network, store), nornir)

    def run(
        self, task: Callable[..., object], only: list[str] | None = None, **kwargs: Any
    ) -> AggregatedResult:
        """`task` on the session's hosts (or on `only` of them), connections closed after."""
        names = set(self.hosts if only is None else only)
        try:
            return self.nornir.filter(filter_func=lambda h: h.name in names).run(
                task=task, on_failed=True, **kwargs
            )
        finally:
            self.nornir.close_connections(on_failed=True)

    def _outcomes(
        self, results: AggregatedResult, read: Callable[[Result], str]
    ) -> dict[str, str | Failed]:
        outcomes: dict[str, str | Failed] = {}
        for name in self.hosts:
            result = results[name][0]
            if result.failed:
                outcomes[name] = Failed(self.masker.mask(str(result.exception)))
            else:
                outcomes[name] = read(result)
        return outcomes

    def running(self) -> dict[str, str | Failed]:
        return self._outcomes(self.run(fetch_running), lambda result: str(result.result))

    def diffs(self, intended: Mapping[str, str]) -> dict[str, str | Failed]:
        results = self.run(diff_intended, intended=dict(intended))
        return self._outcomes(results, lambda result: str(result.result.text))

    def mask(self, text: str) -> str:
        return self.masker.mask(text)

    def committer(self, repo: Path) -> CommitBackup:
        """The backup workflow's commit: configs masked, one commit in `repo`."""

        def commit(configs: dict[str, str], who: str, message: str) -> str:
            return commit_backup(repo, configs, self.masker, operator=who, message=message)

        return commit


@dataclass(frozen=True)
class EngineSettings:
    """What stays the same over a rollout: canary size, parallelism, backups, gates."""

    canary: int = 1
    max_parallel: int = 20
    backup_repo: Path = Path("backups")
    platform: str | None = None
    gate_timeout: float = 90.0


@dataclass
class NornirRollout:
    """The workflows' `RolloutEngine`: `nornir_tasks.rollout.Rollout` with health gates (BGP,
    SNMP, and pings from the lab's namespaces when the lab runs here). Ctrl-C during a run
    lets in-flight hosts finish, then the wave is rolled back."""

    session: DeviceSession
    settings: EngineSettings
    provenance: Provenance
    say: Say = silent
    confirm: Callable[[int], bool] = lambda _count: True
    handle_sigint: bool = True
    wave_gates: Sequence[WaveGate] = ()
    """Gates judged against each wave's state before it (`--gate compliance`)."""

    def run(self, intended: dict[str, str], request: RolloutRequest) -> RolloutReport:
        network, store, nornir = self.session.network, self.session.store, self.session.nornir
        settings = self.settings
        gates = HealthGates(
            network,
            ping=lab_ping_probe(network.lab_name),
            snmp=snmp_probe(network, store),
            timeout=settings.gate_timeout,
            extra=self.wave_gates,
        )
        options = RolloutOptions(
            request.dry_run,
            request.limit,
            settings.canary,
            settings.max_parallel,
            request.rollback_scope,
            settings.backup_repo,
            settings.platform,
        )
        who = self.provenance
        context = RolloutContext(who.operator, who.inventory, who.inventory_commit)
        engine = Rollout(
            network,
            nornir,
            intended,
            gates,
            self.session.masker,
            options,
            context,
            say=self.say,
            confirm=self.confirm,
            before_wave=self._before_wave,
        )
        interrupted = engine.interrupted

        def interrupt(_signum: int, _frame: FrameType | None) -> None:
            self.say("interrupted: in-flight hosts finish, then the wave is rolled back")
            interrupted.set()

        previous = signal.signal(signal.SIGINT, interrupt) if self.handle_sigint else None
        try:
            return engine.run()
        finally:
            if self.handle_sigint:
                signal.signal(signal.SIGINT, previous)
            nornir.close_connections(on_failed=True)

    def _before_wave(self, wave: str, hosts: list[str]) -> None:
        for gate in self.wave_gates:
            gate.baseline(wave, hosts)
