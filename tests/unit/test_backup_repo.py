"""The backup repository: one commit per run, who and why in the log, secrets masked."""

from __future__ import annotations

import subprocess
from pathlib import Path

from nornir_tasks.backup import Masker, commit_backup, read_backup

MASKER = Masker({"aaa-key": "s3cret-aaa", "snmp-noc-auth": "auth-key-longer", "short": "auth"})
CONFIG = "hostname zunhua\nhwtacacs-server shared-key cipher s3cret-aaa\nsnmp auth-key-longer\n"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_secrets_are_masked_in_the_repository_and_restored_on_read(tmp_path: Path) -> None:
    repo = tmp_path / "backups"
    commit = commit_backup(repo, {"zunhua": CONFIG}, MASKER, operator="li.wei", message="m")
    stored = (repo / "zunhua.cfg").read_text()
    assert "s3cret-aaa" not in stored
    assert "auth-key-longer" not in stored
    assert "<secret:aaa-key>" in stored
    # the longer secret is masked whole, not by the shorter one inside it
    assert "<secret:snmp-noc-auth>" in stored
    assert "s3cret" not in git(repo, "log", "-p")
    assert read_backup(repo, ["zunhua"], MASKER, commit) == {"zunhua": CONFIG}


def test_every_run_is_one_commit_with_operator_and_message_even_without_change(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "backups"
    commit_backup(repo, {"a": "one\n", "b": "two\n"}, MASKER, operator="li.wei", message="first")
    commit_backup(repo, {"a": "one\n", "b": "two\n"}, MASKER, operator="zhang.min", message="again")
    commit_backup(repo, {"a": "changed\n"}, MASKER, operator="li.wei", message="third")
    log = git(repo, "log", "--format=%an|%s").splitlines()
    assert log == ["li.wei|third", "zhang.min|again", "li.wei|first"]
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["a.cfg"]
    assert (repo / "b.cfg").read_text() == "two\n"  # hosts not in a run keep their last backup
