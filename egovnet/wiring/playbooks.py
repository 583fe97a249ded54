"""`egovnet playbook NAME`: what a playbook run needs around it, joined in one place.

Before the run: the Ansible inventory exported from the model (`egovnet.export`), and for
`deploy` the intended configs rendered as `egovnet render` writes them, each exit's packet
filter split off for its own command. The run: `playbooks.runner.run_playbook` (ansible-
runner) in `runs/<id>/ansible/`. After it: `backup`'s staged configs masked and committed
as `egovnet backup` commits them (`nornir_tasks.backup.commit_backup`); the stage, which
held secrets, removed; every artifact masked, since Ansible's diffs and results hold the
config lines that carry secrets.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from egovnet.export import Login, export_inventory
from egovnet.model import Network
from egovnet.render.engine import config_file_name, render_network
from egovnet.render.packet_filter import embed, normalize, split
from egovnet.render.services import packet_filter_netns
from egovnet.secrets import SecretStore, SharedSecrets
from egovnet.wiring.devices import masker, operator
from egovnet.workflows.ports import EXIT_FOUND, EXIT_OK, Say, silent
from nornir_tasks.backup import commit_backup
from playbooks.runner import PlaybookRun, run_playbook


@dataclass(frozen=True)
class PlaybookRequest:
    """What the operator asked for."""

    name: str
    hosts: list[str]
    """The selected hosts (`--limit`, resolved by the model); every host when all."""
    limit: bool
    check: bool = False
    platform: str | None = None
    login: Login = field(default_factory=Login)
    forks: int = 20
    runs: Path = Path("runs")
    backup_repo: Path = Path("backups")
    secrets_file: Path | None = None
    gate_timeout: float = 90.0


@dataclass
class PlaybookResult:
    """A playbook run as `--json` shows it, e.g. ``{"playbook": "deploy", "ok": false,
    "failed": {"baoding": "SSH answers: Timeout when waiting for 10.5.17.18:22"}, ...}``"""

    run: PlaybookRun
    run_id: str
    directory: Path
    commit: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> dict[str, str]:
        return {name: self.run.hosts[name].error or "failed" for name in self.run.failed_hosts}

    @property
    def ok(self) -> bool:
        return self.run.rc == 0 and not self.failed

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FOUND

    def as_dict(self) -> dict[str, Any]:
        return {
            "playbook": self.run.playbook,
            "ok": self.ok,
            "run_id": self.run_id,
            "directory": str(self.directory),
            "status": self.run.status,
            "rc": self.run.rc,
            "changed": self.run.changed_hosts,
            "failed": self.failed,
            "hosts": {
                name: {
                    "ok": host.ok,
                    "changed": host.changed,
                    "failed": host.failed,
                    "unreachable": host.unreachable,
                    "skipped": host.skipped,
                }
                for name, host in self.run.hosts.items()
            },
            **({"commit": self.commit} if self.run.playbook == "backup" else {}),
            **({"facts": self.facts} if self.run.playbook == "facts" else {}),
        }


def _private(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def stage_intended(
    network: Network, store: SecretStore, platform: str | None, stage: Path
) -> dict[str, Path]:
    """The rendered configs into `stage/configs/<host>.cfg`; an exit's packet filter also
    as `stage/filters/<host>.nft` (the script `egovnet-nft apply` reads) and `.rules` (the
    ruleset it must leave)."""
    intended = render_network(network, SharedSecrets.resolve(network, store), platform)
    configs, filters = _private(stage / "configs"), _private(stage / "filters")
    for host, text in intended.items():
        (configs / config_file_name(host)).write_text(text, encoding="utf-8")
        _routing, packet_filter = split(text)
        if packet_filter is not None:
            (filters / f"{host}.nft").write_text(packet_filter.script(), encoding="utf-8")
            (filters / f"{host}.rules").write_text(packet_filter.ruleset, encoding="utf-8")
    return {"egovnet_configs": configs, "egovnet_filters": filters}


def staged_backup(network: Network, hosts: list[str], stage: Path) -> dict[str, str]:
    """The running configs `backup.yml` staged, as the FRR driver's `get_config` gives
    them: vtysh's text, and on an exit or a service node its packet filter embedded as a
    section (the namespace `packet_filter_netns` names, as the driver reads it)."""
    configs: dict[str, str] = {}
    for host in hosts:
        routing = stage / f"{host}.cfg"
        if not routing.exists():
            continue
        text = routing.read_text(encoding="utf-8")
        ruleset = stage / f"{host}.nft"
        netns = packet_filter_netns(network, network.node(host))  # an exit's or a service node's
        if netns is not None and ruleset.exists():
            listing = "\n".join(normalize(ruleset.read_text(encoding="utf-8"), keep_layout=True))
            text = text.rstrip("\n") + "\n" + embed(netns, listing + "\n" if listing else "")
        configs[host] = text
    return configs


def _mask_tree(directory: Path, mask: Any) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            masked = mask(text)
            if masked != text:
                path.write_text(masked, encoding="utf-8")


def _extravars(network: Network, request: PlaybookRequest) -> dict[str, Any]:
    variables: dict[str, Any] = {"egovnet_gate_timeout": int(request.gate_timeout)}
    users = network.services.snmp.users
    if users:
        user = users[0]
        variables["egovnet_snmp_user"] = {
            "name": user.name,
            "group": user.group,
            "auth": user.auth,
            "auth_secret": user.auth_key.secret,
            "priv": user.priv,
            "priv_secret": user.priv_key.secret,
        }
    if request.secrets_file is not None:
        variables["egovnet_secrets_file"] = str(request.secrets_file.resolve())
    return variables


def run(
    network: Network, store: SecretStore, request: PlaybookRequest, say: Say = silent
) -> PlaybookResult:
    """Stage, run the playbook through ansible-runner, commit a backup, clean up."""
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    directory = (request.runs / run_id / "ansible").resolve()
    inventory = _private(directory / "inventory")
    for name, text in export_inventory(network, "ansible", request.login, request.platform).items():
        (inventory / name).write_text(text, encoding="utf-8")
    stage = _private(directory / "stage")
    variables = _extravars(network, request)
    variables["egovnet_stage"] = str(stage)
    hide = masker(network, store)
    try:
        if request.name == "deploy":
            staged = stage_intended(network, store, request.platform, stage)
            variables.update({key: str(path) for key, path in staged.items()})
        outcome = run_playbook(
            request.name,
            directory,
            inventory,
            variables,
            limit=request.hosts if request.limit else None,
            check=request.check,
            diff=request.check,
            forks=request.forks,
            progress=lambda line: say(hide.mask(line)),
        )
        result = PlaybookResult(outcome, run_id, directory)
        if request.name == "backup":
            configs = staged_backup(network, request.hosts, stage)
            if configs:
                who = operator()
                result.commit = commit_backup(
                    request.backup_repo,
                    configs,
                    hide,
                    operator=who,
                    message=f"backup of {len(configs)} host(s) by {who} (ansible playbook)\n\n"
                    f"run {run_id}",
                )
        if request.name == "facts":
            for path in sorted(stage.glob("*.json")):
                result.facts[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        return result
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        _mask_tree(directory, hide.mask)
