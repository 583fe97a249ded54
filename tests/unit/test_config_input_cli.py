"""`egovnet isolation audit --source running DIR` on configs as they come off real gear, and
on files that are no config at all: what a user sees and the exit code (docs/parsing.md).

The directory is a backup of the lab (every router's FRR config, the exit's ruleset), with
one host's file replaced by the case under test."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from typer.testing import Result

from tests.unit.test_isolation_cli import EXIT_RULESET, GOLDEN_FRR

RunCli = Callable[[Sequence[str]], Result]
GOLDEN = GOLDEN_FRR.parent
HOST = "hebei-core-1"
"""The inventory says huawei_vrp for it."""


def backup(tmp_path: Path, content: bytes | None = None, golden: str = "frr") -> Path:
    directory = tmp_path / "running"
    shutil.copytree(GOLDEN_FRR, directory)
    (directory / "hebei-exit.nft").write_text(EXIT_RULESET, encoding="utf-8")
    if golden != "frr":
        shutil.copy(GOLDEN / golden / f"{HOST}.cfg", directory / f"{HOST}.cfg")
    if content is not None:
        (directory / f"{HOST}.cfg").write_bytes(content)
    return directory


def audit(run_cli: RunCli, inventory: Path, directory: Path, *extra: str) -> Result:
    return run_cli(
        ["-i", str(inventory), "isolation", "audit", "--source", "running", str(directory), *extra]
    )


def findings(result: Result) -> set[tuple[str, str]]:
    return {(f["rule"], f["host"]) for f in json.loads(result.stdout)["findings"]}


def vrp(tmp_path: Path) -> str:
    return (GOLDEN / "huawei_vrp" / f"{HOST}.cfg").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "content",
    [b"", b"#\n#\nreturn\n", b"\r\n!\r\n!\r\nend\r\n"],
    ids=["empty", "hash-return", "bang-end"],
)
def test_a_contentless_config_is_a_finding_never_clean(
    run_cli: RunCli, sample_inventory: Path, tmp_path: Path, content: bytes
) -> None:
    directory = backup(tmp_path, content)
    result = audit(run_cli, sample_inventory, directory, "--json")
    assert result.exit_code == 1, result.stdout
    assert ("config-empty", HOST) in findings(result)
    plain = audit(run_cli, sample_inventory, directory)
    assert plain.exit_code == 1
    assert "no findings" not in plain.stdout
    assert "config-empty" in plain.stdout


def test_a_file_of_nuls_is_unreadable_input_naming_the_file(
    run_cli: RunCli, sample_inventory: Path, tmp_path: Path
) -> None:
    directory = backup(tmp_path, b"\x00" * 4096)
    result = audit(run_cli, sample_inventory, directory)
    assert result.exit_code == 2
    assert f"{HOST}.cfg" in result.stderr
    assert "NUL" in result.stderr
    as_json = audit(run_cli, sample_inventory, directory, "--json")
    assert as_json.exit_code == 2
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert f"{HOST}.cfg" in report["error"]


def test_a_gbk_config_with_a_chinese_description_is_read(
    run_cli: RunCli, sample_inventory: Path, tmp_path: Path
) -> None:
    text = vrp(tmp_path).replace(" description zone private", " description 省发展改革委 专网", 1)
    assert "省发展改革委" in text
    directory = backup(tmp_path, text.encode("gbk"))
    result = audit(run_cli, sample_inventory, directory, "--json")
    assert result.exit_code == 0, result.stdout
    assert findings(result) == set()


def test_bytes_neither_utf8_nor_gbk_are_unreadable_input(
    run_cli: RunCli, sample_inventory: Path, tmp_path: Path
) -> None:
    directory = backup(tmp_path, vrp(tmp_path).encode() + b"\n description \xff\xfe\xff\n")
    result = audit(run_cli, sample_inventory, directory, "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert f"{HOST}.cfg" in report["error"]
    assert "neither UTF-8 nor GBK" in report["error"]
    plain = audit(run_cli, sample_inventory, directory)
    assert plain.exit_code == 2
    assert "Traceback" not in plain.stderr
    assert f"{HOST}.cfg" in plain.stderr


def test_a_captured_session_with_crlf_and_pager_junk_reads_as_the_config(
    run_cli: RunCli, sample_inventory: Path, tmp_path: Path
) -> None:
    lines = vrp(tmp_path).splitlines()
    more = "  ---- More ----\x1b[42D" + " " * 42 + "\x1b[42D"
    captured = ["<HEBEI-CORE-1>display current-configuration"]
    for at, line in enumerate(lines):
        captured.append(more + line if at % 20 == 19 else line)
    captured.append("<HEBEI-CORE-1>")
    directory = backup(tmp_path, "\r\n".join(captured).encode("utf-8"))
    result = audit(run_cli, sample_inventory, directory, "--json")
    assert result.exit_code == 0, result.stdout
    assert findings(result) == set()


def test_an_unmodelled_construct_turns_no_findings_into_unknown(
    run_cli: RunCli, sample_inventory: Path, tmp_path: Path
) -> None:
    text = vrp(tmp_path).replace(
        "return", "ospf 1\n area 0.0.0.0\n  network 0.0.0.0 255.255.255.255\n#\nreturn"
    )
    directory = backup(tmp_path, text.encode())
    result = audit(run_cli, sample_inventory, directory, "--json")
    assert result.exit_code == 1
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "unknown"]
    assert finding["host"] == HOST
    assert finding["subject"] == "ospf process"
    assert f"{HOST}.cfg:" in finding["evidence"]
    assert "ospf 1" in finding["evidence"]


def test_a_config_of_another_platform_than_the_inventory_says_is_a_finding(
    run_cli: RunCli, sample_inventory: Path, tmp_path: Path
) -> None:
    ios = (GOLDEN / "cisco_ios" / f"{HOST}.cfg").read_bytes()
    directory = backup(tmp_path, ios)
    result = audit(run_cli, sample_inventory, directory, "--json")
    assert result.exit_code == 1
    [finding] = [
        f for f in json.loads(result.stdout)["findings"] if f["rule"] == "platform-mismatch"
    ]
    assert finding["host"] == HOST
    assert finding["subject"] == "huawei_vrp -> cisco_ios"
    assert f"{HOST}.cfg" in finding["evidence"]
