"""`egovnet isolation audit` from configs, as a user runs it: exit codes, --json, findings."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from typer.testing import Result

from tests.labkit import lab_name, make_test_lab

RunCli = Callable[[Sequence[str]], Result]
GOLDEN_FRR = Path(__file__).resolve().parent / "golden" / "frr"
EXIT_RULESET = """table ip egovnet_exit {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tiifname "eth3" ct state established,related accept
\t\tiifname "eth3" counter packets 0 bytes 0 drop
\t}

\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\toifname "eth3" masquerade
\t}
}
"""


def backup(tmp_path: Path, ruleset: str | None = EXIT_RULESET) -> Path:
    """A directory like a backup of the lab: every router's FRR config, the exit's nft."""
    directory = tmp_path / "running"
    shutil.copytree(GOLDEN_FRR, directory)
    if ruleset is not None:
        (directory / "hebei-exit.nft").write_text(ruleset, encoding="utf-8")
    return directory


def test_intended_audit_of_the_sample_is_clean(run_cli: RunCli, sample_inventory: Path) -> None:
    result = run_cli(["-i", str(sample_inventory), "isolation", "audit", "--json"])
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["findings"] == []
    assert report["source"] == "intended"


def test_running_configs_with_the_exit_ruleset_are_clean(
    run_cli: RunCli, sample_inventory: Path, tmp_path: Path
) -> None:
    directory = backup(tmp_path)
    result = run_cli(
        ["-i", str(sample_inventory), "isolation", "audit", "--source", "running", str(directory)]
    )
    assert result.exit_code == 0, result.stdout
    assert "no findings" in result.stdout


def test_an_exit_ruleset_letting_the_internet_in_exits_1(
    run_cli: RunCli, sample_inventory: Path, tmp_path: Path
) -> None:
    opened = EXIT_RULESET.replace(
        '\t\tiifname "eth3" ct state',
        '\t\tiifname "eth3" ip daddr 10.96.9.0/26 tcp dport 22 accept comment "by hand"\n'
        '\t\tiifname "eth3" ct state',
    )
    directory = backup(tmp_path, opened)
    result = run_cli(
        [
            "-i",
            str(sample_inventory),
            "isolation",
            "audit",
            "--source",
            "running",
            str(directory),
            "--json",
        ]
    )
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["hosts_to_repair"] == ["hebei-exit"]
    [finding] = report["findings"]
    assert finding["rule"] == "internet-reaches-nothing"
    assert finding["subject"] == "internet -> 10.96.9.0/26 (zhengding public)"
    assert "hebei-exit.nft:4:" in finding["evidence"]
    assert "tcp dport 22 accept" in finding["evidence"]


def test_running_without_a_directory_is_bad_input(run_cli: RunCli, sample_inventory: Path) -> None:
    result = run_cli(["-i", str(sample_inventory), "isolation", "audit", "--source", "running"])
    assert result.exit_code == 2
    assert "needs a directory" in result.stderr


def test_enforce_live_without_a_lab_says_so_and_changes_nothing(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """On a copy of the sample with a lab name of its own, never up: whatever lab runs on
    this machine (the demo), enforce must not see it, let alone act on it."""
    kit = make_test_lab(tmp_path, lab_name(__name__))
    assert not kit.holders()
    runs = tmp_path / "runs"
    result = run_cli(
        ["-i", str(kit.inventory), "isolation", "enforce", "--source", "live", "--yes",
         "--runs", str(runs), "--backup-repo", str(tmp_path / "backups")]
    )  # fmt: skip
    assert result.exit_code != 0
    assert f"lab {kit.lab} is not up" in result.stderr
    assert "egovnet lab up" in result.stderr
    assert not runs.exists()  # no rollout was started
