"""Running configs into a git repository, one commit per run, secrets masked.

Git is the audit trail (seed 003: outsourced operations must leave one): `git log` says who
took which backup when and why, `git diff` what changed on a device between two runs. Secret
values never enter the repository: each known secret value is replaced by `<secret:NAME>`,
which `unmask` turns back into the value from the secrets store when a backup is restored.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from egovnet.render.engine import config_file_name

_PLACEHOLDER = re.compile(r"<secret:([a-z0-9-]+)>")


@dataclass(frozen=True)
class Masker:
    """Replaces secret values by their names. Longer values first, so that a secret that
    contains another is masked whole."""

    secrets: Mapping[str, str]

    def mask(self, text: str) -> str:
        """One pass over `text`, so a placeholder already written is never masked again
        (a secret that happens to be a word of another secret's name)."""
        values = sorted((v for v in self.secrets.values() if v), key=len, reverse=True)
        if not values:
            return text
        names = {value: name for name, value in self.secrets.items() if value}
        pattern = re.compile("|".join(re.escape(value) for value in values))
        return pattern.sub(lambda m: f"<secret:{names[m.group(0)]}>", text)

    def unmask(self, text: str) -> str:
        """The inverse, for restoring a backup: unknown names stay as they are."""
        return _PLACEHOLDER.sub(lambda m: self.secrets.get(m.group(1), m.group(0)), text)


class BackupError(RuntimeError):
    """The backup repository could not be written."""


def _git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - git with arguments we build
        ["git", "-C", str(repo), *args],  # noqa: S607 - git from PATH, as a user runs it
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise BackupError(f"git {' '.join(args)} in {repo}: {result.stderr.strip()}")
    return result.stdout.strip()


def commit_backup(
    repo: Path,
    configs: Mapping[str, str],
    masker: Masker,
    *,
    operator: str,
    message: str,
) -> str:
    """Write one `<host>.cfg` per host (masked), commit them all at once, and return the
    commit id. A run whose configs did not change still gets its (empty) commit: the log
    records every backup taken, not only the ones that found a change."""
    repo.mkdir(parents=True, exist_ok=True)
    if not (repo / ".git").exists():
        _git(repo, "init", "-q", "-b", "main")
    for host, text in configs.items():
        (repo / config_file_name(host)).write_text(masker.mask(text), encoding="utf-8")
    _git(repo, "add", "--", *(config_file_name(host) for host in configs))
    identity = {
        "GIT_AUTHOR_NAME": operator,
        "GIT_AUTHOR_EMAIL": f"{operator}@egovnet",
        "GIT_COMMITTER_NAME": operator,
        "GIT_COMMITTER_EMAIL": f"{operator}@egovnet",
    }
    _git(repo, "commit", "-q", "--allow-empty", "-m", message, env=identity)
    return _git(repo, "rev-parse", "HEAD")


def read_backup(
    repo: Path, hosts: list[str], masker: Masker, commit: str = "HEAD"
) -> dict[str, str]:
    """The configs of `hosts` as of `commit`, secrets filled back in."""
    return {
        host: masker.unmask(_git(repo, "show", f"{commit}:{config_file_name(host)}") + "\n")
        for host in hosts
    }
