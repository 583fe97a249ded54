"""Break one graded-protection rule at a time in a city's or a county's rendered config, on
every platform, and check it through the CLI (`--source running --dir`): the rule, the
host, the evidence line and its number, exit 1; a level-3-only break on a county passes."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from compliance.evidence import RUNNING_FILES, intended_evidence
from egovnet.loader import load_network
from tests.unit.conftest import SAMPLE, RunCli

CITY, COUNTY = "shijiazhuang", "zhengding"
PLATFORMS = ("frr", "huawei_vrp", "h3c_comware", "cisco_ios")


def inventory_on(platform: str, directory: Path) -> Path:
    """The sample with the city and the county on `platform`."""
    inventory = directory / "inventory"
    shutil.copytree(SAMPLE, inventory)
    hosts = inventory / "hosts.yaml"
    text = hosts.read_text(encoding="utf-8")
    for host in (CITY, COUNTY):
        text = text.replace(f"\n{host}:\n", f"\n{host}:\n  platform: {platform}\n")
    hosts.write_text(text, encoding="utf-8")
    return inventory


def write_running(inventory: Path, directory: Path) -> Path:
    """Every node's intended evidence as the files `--source running` reads."""
    network = load_network(inventory)
    directory.mkdir()
    for host, evidence in intended_evidence(network).items():
        for name, text in evidence.texts.items():
            (directory / RUNNING_FILES[name].format(host=host)).write_text(
                text.text, encoding="utf-8"
            )
    return directory


@dataclass(frozen=True)
class Break:
    """An edit of one host's file: `old` (a regex, first match) becomes `new` (None: the
    whole line goes); `line` is the evidence line the check must point at (None: the rule
    fails for a line that is missing, so there is none to point at)."""

    rule: str
    file: str
    old: str
    new: str | None
    line: str | None


BREAKS: dict[str, dict[str, Break]] = {
    "frr": {
        "telnet": Break(
            "ssh-only", "config", r"^line vty$", "password zebra\nline vty", "password zebra"
        ),
        "community": Break(
            "snmpv3-authpriv",
            "snmpd",
            r"^rouser ",
            "rocommunity public\nrouser ",
            "rocommunity public",
        ),
        "idle": Break(
            "idle-timeout",
            "config",
            r"^ exec-timeout 10 0$",
            " exec-timeout 0 0",
            " exec-timeout 0 0",
        ),
        "plaintext": Break(
            "no-plaintext-passwords",
            "config",
            r"^line vty$",
            "enable password zebra\nline vty",
            "enable password zebra",
        ),
        "syslog": Break("remote-syslog", "config", r"^log syslog informational$", None, None),
        "lockout": Break(
            "login-lockout", "sshd", r"^MaxAuthTries 5$", "MaxAuthTries 20", "MaxAuthTries 20"
        ),
        "vty-any": Break("management-acl", "sshd", r"^AllowUsers .*$", "AllowUsers *", None),
    },
    "huawei_vrp": {
        "telnet": Break(
            "ssh-only",
            "config",
            r"^undo telnet server enable$",
            "telnet server enable",
            "telnet server enable",
        ),
        "community": Break(
            "snmpv3-authpriv",
            "config",
            r"^snmp-agent$",
            "snmp-agent\nsnmp-agent community read public",
            "snmp-agent community read public",
        ),
        "idle": Break(
            "idle-timeout",
            "config",
            r"^ idle-timeout 10 0$",
            " idle-timeout 0 0",
            " idle-timeout 0 0",
        ),
        "plaintext": Break(
            "no-plaintext-passwords",
            "config",
            r"password irreversible-cipher",
            "password cipher",
            " local-user egov-admin password cipher ********",
        ),
        "syslog": Break(
            "remote-syslog", "config", r"^info-center loghost 10\.64\.8\.1$", None, None
        ),
        "lockout": Break(
            "login-lockout",
            "config",
            r"retry-time 5",
            "retry-time 20",
            " local-aaa-user wrong-password retry-interval 5 retry-time 20 block-time 10",
        ),
        "vty-any": Break(
            "management-acl",
            "config",
            r"^ rule 5 permit source 10\.64\.8\.0 0\.0\.0\.255$",
            " rule 5 permit",
            " rule 5 permit",
        ),
        "level3": Break(
            "admin-role-separation", "config", r"^  authorization-cmd 3 hwtacacs local$", None, None
        ),
    },
    "h3c_comware": {
        "telnet": Break(
            "ssh-only",
            "config",
            r"^undo telnet server enable$",
            "telnet server enable",
            "telnet server enable",
        ),
        "community": Break(
            "snmpv3-authpriv",
            "config",
            r"^snmp-agent$",
            "snmp-agent\nsnmp-agent community read simple public",
            "snmp-agent community read simple public",
        ),
        "idle": Break(
            "idle-timeout",
            "config",
            r"^ idle-timeout 10 0$",
            " idle-timeout 0 0",
            " idle-timeout 0 0",
        ),
        "plaintext": Break(
            "no-plaintext-passwords",
            "config",
            r"^ password simple",
            " password cipher",
            " password cipher ********",
        ),
        "syslog": Break(
            "remote-syslog", "config", r"^info-center loghost 10\.64\.8\.1$", None, None
        ),
        "lockout": Break(
            "login-lockout",
            "config",
            r"login-attempt 5",
            "login-attempt 20",
            "password-control login-attempt 20 exceed lock-time 10",
        ),
        "vty-any": Break(
            "management-acl",
            "config",
            r"^ rule 5 permit source 10\.64\.8\.0 0\.0\.0\.255$",
            " rule 5 permit source any",
            " rule 5 permit source any",
        ),
        "level3": Break(
            "admin-role-separation",
            "config",
            r"^ authorization command hwtacacs-scheme egov local$",
            None,
            None,
        ),
    },
    "cisco_ios": {
        "telnet": Break(
            "ssh-only",
            "config",
            r"^ transport input ssh$",
            " transport input telnet ssh",
            " transport input telnet ssh",
        ),
        "community": Break(
            "snmpv3-authpriv",
            "config",
            r"^snmp-server location",
            "snmp-server community public RO\nsnmp-server location",
            "snmp-server community public RO",
        ),
        "idle": Break(
            "idle-timeout",
            "config",
            r"^ exec-timeout 10 0$",
            " exec-timeout 0 0",
            " exec-timeout 0 0",
        ),
        "plaintext": Break(
            "no-plaintext-passwords",
            "config",
            r"privilege 15 secret",
            "privilege 15 password 0",
            "username egov-admin privilege 15 password 0 ********",
        ),
        "syslog": Break("remote-syslog", "config", r"^logging host 10\.64\.8\.1$", None, None),
        "lockout": Break(
            "login-lockout",
            "config",
            r"attempts 5 within",
            "attempts 20 within",
            "login block-for 600 attempts 20 within 120",
        ),
        "vty-any": Break(
            "management-acl",
            "config",
            r"^ permit 10\.64\.8\.0 0\.0\.0\.255$",
            " permit any",
            " permit any",
        ),
        "level3": Break(
            "admin-role-separation", "config", r"^aaa authorization commands 15 .*$", None, None
        ),
    },
}
CASES = [(p, kind) for p in PLATFORMS for kind in BREAKS[p]]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Per platform: the inventory and a directory of its intended files, untouched."""
    found = {}
    for platform in PLATFORMS:
        base = tmp_path_factory.mktemp(platform)
        inventory = inventory_on(platform, base)
        found[platform] = (inventory, write_running(inventory, base / "pristine"))
    return found


def broken_copy(pristine: Path, target: Path, host: str, edit: Break) -> int | None:
    """A copy of `pristine` with `edit` applied to `host`'s file; the evidence line's
    number in the edited file (None when the edit leaves none)."""
    shutil.copytree(pristine, target)
    path = target / RUNNING_FILES[edit.file].format(host=host)
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(edit.old + (r"\n?" if edit.new is None else ""), re.MULTILINE)
    assert pattern.search(text), f"{edit.old!r} not in {path.name}: the test is stale"
    if edit.new is None:
        changed = pattern.sub("", text, count=1)
    else:
        changed = pattern.sub(edit.new.replace("\\", r"\\"), text, count=1)
    path.write_text(changed, encoding="utf-8")
    if edit.line is None:
        return None
    return changed.split("\n").index(edit.line) + 1


def check(run_cli: RunCli, inventory: Path, directory: Path, host: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run_cli(
        [
            "-i",
            str(inventory),
            "compliance",
            "check",
            "--source",
            "running",
            "--dir",
            str(directory),
            "--limit",
            host,
            "--json",
        ]
    )
    return result.exit_code, json.loads(result.stdout)


def test_the_pristine_files_pass(run_cli: RunCli, prepared: dict[str, tuple[Path, Path]]) -> None:
    for platform, (inventory, pristine) in prepared.items():
        for host in (CITY, COUNTY):
            code, report = check(run_cli, inventory, pristine, host)
            bad = [
                (r["rule"], r["status"], r["message"])
                for r in report["results"]
                if r["status"] in ("fail", "unverified")
            ]
            assert (platform, host, code, bad) == (platform, host, 0, [])


@pytest.mark.parametrize(("platform", "kind"), CASES)
def test_a_broken_rule_on_a_city_is_found_with_its_line(
    run_cli: RunCli,
    prepared: dict[str, tuple[Path, Path]],
    tmp_path: Path,
    platform: str,
    kind: str,
) -> None:
    inventory, pristine = prepared[platform]
    edit = BREAKS[platform][kind]
    number = broken_copy(pristine, tmp_path / "running", CITY, edit)
    code, report = check(run_cli, inventory, tmp_path / "running", CITY)
    assert code == 1
    (result,) = [r for r in report["results"] if r["rule"] == edit.rule]
    assert (result["host"], result["status"], result["level"]) == (CITY, "fail", 3)
    assert report["hosts_to_repair"] == [CITY]
    assert result["remediation"]
    if number is not None:
        origin = str(tmp_path / "running" / RUNNING_FILES[edit.file].format(host=CITY))
        assert {
            "evidence": edit.file,
            "origin": origin,
            "line": number,
            "text": edit.line,
        } in result["evidence"]


@pytest.mark.parametrize("platform", [p for p in PLATFORMS if "level3" in BREAKS[p]])
def test_a_level_3_break_on_a_county_passes(
    run_cli: RunCli, prepared: dict[str, tuple[Path, Path]], tmp_path: Path, platform: str
) -> None:
    inventory, pristine = prepared[platform]
    edit = BREAKS[platform]["level3"]
    broken_copy(pristine, tmp_path / "running", COUNTY, edit)
    code, report = check(run_cli, inventory, tmp_path / "running", COUNTY)
    (result,) = [r for r in report["results"] if r["rule"] == edit.rule]
    assert (code, result["status"], result["level"]) == (0, "not_applicable", 2)


def test_a_city_without_a_second_uplink_fails_a_county_with_one_passes(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """FRR's level-3 break: the topology (FRR cannot express role separation or two
    factors, docs/compliance.md), with the lab's files for the city."""
    inventory = inventory_on("frr", tmp_path)
    hosts = inventory / "hosts.yaml"
    text = hosts.read_text(encoding="utf-8")
    city = text.index(f"\n{CITY}:\n")
    end = text.index("    uplinks: [hebei-core-2]\n", city)
    hosts.write_text(
        text[:end] + text[end + len("    uplinks: [hebei-core-2]\n") :], encoding="utf-8"
    )
    running = write_running(inventory, tmp_path / "running")
    code, report = check(run_cli, inventory, running, CITY)
    (result,) = [r for r in report["results"] if r["rule"] == "redundant-uplinks"]
    assert (code, result["status"]) == (1, "fail")
    assert "upstreams: hebei-core-1" in result["evidence"][0]["text"]
    code, report = check(run_cli, inventory, running, COUNTY)
    (result,) = [r for r in report["results"] if r["rule"] == "redundant-uplinks"]
    assert (code, result["status"]) == (0, "not_applicable")


def test_gbk_and_crlf_text_is_read(
    run_cli: RunCli, prepared: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    inventory, pristine = prepared["h3c_comware"]
    shutil.copytree(pristine, tmp_path / "running")
    path = tmp_path / "running" / f"{CITY}.cfg"
    text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
    assert "市财政局" in text
    path.write_bytes(text.encode("gbk"))
    code, report = check(run_cli, inventory, tmp_path / "running", CITY)
    assert code == 0
    idle = next(r for r in report["results"] if r["rule"] == "idle-timeout")
    assert idle["evidence"][0]["text"] == " idle-timeout 10 0"  # no CR left on the line


def test_a_config_of_another_platform_is_unverified(
    run_cli: RunCli, prepared: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    inventory, pristine = prepared["huawei_vrp"]
    _, cisco = prepared["cisco_ios"]
    shutil.copytree(pristine, tmp_path / "running")
    shutil.copy(cisco / f"{CITY}.cfg", tmp_path / "running" / f"{CITY}.cfg")
    code, report = check(run_cli, inventory, tmp_path / "running", CITY)
    assert code == 1
    config_rules = [r for r in report["results"] if r["status"] != "not_applicable"]
    # nothing of a host whose config is another platform's counts: every rule unverified
    assert {r["status"] for r in config_rules} == {"unverified"}
    ssh = next(r for r in report["results"] if r["rule"] == "ssh-only")
    assert ssh["status"] == "unverified"
    assert "Cisco" in ssh["message"] or "cisco_ios" in ssh["message"]


def test_a_missing_file_and_a_bad_directory(
    run_cli: RunCli, prepared: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    inventory, pristine = prepared["frr"]
    shutil.copytree(pristine, tmp_path / "running")
    (tmp_path / "running" / f"{CITY}.sshd_config").unlink()
    code, report = check(run_cli, inventory, tmp_path / "running", CITY)
    lockout = next(r for r in report["results"] if r["rule"] == "login-lockout")
    assert (code, lockout["status"]) == (1, "unverified")
    result = run_cli(
        [
            "-i",
            str(inventory),
            "compliance",
            "check",
            "--source",
            "running",
            "--dir",
            str(tmp_path / "nowhere"),
        ]
    )
    assert result.exit_code == 2
    result = run_cli(["-i", str(inventory), "compliance", "check", "--limit", "nosuchhost"])
    assert result.exit_code == 2
    assert "nosuchhost" in result.stderr


def test_a_community_on_a_host_the_inventory_allows_v2c_is_an_accepted_exception(
    run_cli: RunCli, tmp_path: Path
) -> None:
    inventory = inventory_on("huawei_vrp", tmp_path)
    network_file = inventory / "network.yaml"
    text = network_file.read_text(encoding="utf-8")
    allowed = (
        "  snmp:\n    v2c:\n      community: {secret: snmp-v2c}\n      hosts: [shijiazhuang]\n"
    )
    network_file.write_text(text.replace("  snmp:\n", allowed, 1), encoding="utf-8")
    pristine = write_running(inventory, tmp_path / "pristine")
    edit = BREAKS["huawei_vrp"]["community"]
    number = broken_copy(pristine, tmp_path / "running", CITY, edit)
    code, report = check(run_cli, inventory, tmp_path / "running", CITY)
    (result,) = [r for r in report["results"] if r["rule"] == "snmpv3-authpriv"]
    assert (code, result["status"]) == (0, "accepted_exception")
    assert result["evidence"][0]["line"] == number
    assert "services.snmp.v2c.hosts" in result["message"]


def test_a_backup_of_the_lab_is_checked_as_the_labs_platform(
    run_cli: RunCli, prepared: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    """The lab runs FRR in place of every vendor: a VRP city's backup from the lab is FRR's
    text with its sshd and snmpd, checked as FRR (as the isolation audit reads it)."""
    inventory, pristine = prepared["huawei_vrp"]
    _, lab = prepared["frr"]
    shutil.copytree(pristine, tmp_path / "running")
    for name in RUNNING_FILES.values():
        shutil.copy(lab / name.format(host=CITY), tmp_path / "running" / name.format(host=CITY))
    code, report = check(run_cli, inventory, tmp_path / "running", CITY)
    assert code == 0
    assert {r["platform"] for r in report["results"]} == {"frr"}
