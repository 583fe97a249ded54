"""The exit renders its own firewall and NAT on every platform, and the audit audits exactly
what is rendered: `egovnet render --platform P -o DIR` then `egovnet isolation audit
--source running DIR` is clean, as the intended audit is; take the NAT line or the inbound
filter out of the rendered exit and the running audit names hebei-exit (exit 1).

This is what an engineer relies on before deploying a rendered exit config to a Huawei,
H3C or Cisco box no lab here can run: no firewall is assumed that the file does not hold.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from egovnet.loader import load_network
from egovnet.platforms import platform_names
from egovnet.secrets import env_name, secret_names

RunCli = Callable[[Sequence[str]], Result]
EXIT = "hebei-exit"
VENDORS = [name for name in platform_names() if name != "frr"]

NAT_LINE = {
    "huawei_vrp": " nat outbound 2000",
    "h3c_comware": " nat outbound 2000",
    "cisco_ios": "ip nat inside source list EGOV-NAT interface GigabitEthernet0/3 vrf public "
    "overload",
}
FILTER_LINE = {
    "huawei_vrp": " traffic-filter inbound acl 3000",
    "h3c_comware": " packet-filter 3000 inbound",
    "cisco_ios": " ip access-group EGOV-INTERNET-IN in",
}
FINAL_DENY = {
    "huawei_vrp": " rule 20 deny ip vpn-instance public",
    "h3c_comware": " rule 20 deny ip vpn-instance public",
    "cisco_ios": " deny   ip any any",
}
"""VRP and Comware filters permit what no rule matches, so without the final deny the
filter lets the internet in; an IOS ACL denies it anyway (its implicit deny)."""


@pytest.fixture
def fake_secrets(monkeypatch: pytest.MonkeyPatch, sample_inventory: Path) -> None:
    """Obviously fake secret values: render needs some, the audit reads none."""
    for name in secret_names(load_network(sample_inventory)):
        monkeypatch.setenv(env_name(name), f"fake-{name}")


def all_on(sample: Path, platform: str, tmp_path: Path) -> Path:
    """A copy of the sample whose every node is on `platform`: the inventory a network of
    that one platform has, so that its configs read as running configs are not
    `platform-mismatch` findings (a VRP text where the inventory says FRR is one)."""
    copy = tmp_path / f"inventory-{platform}"
    shutil.copytree(sample, copy)
    for name in ("hosts.yaml", "defaults.yaml"):
        path = copy / name
        text = re.sub(r"(?m)^(\s*)platform: \S+", rf"\g<1>platform: {platform}", path.read_text())
        path.write_text(text, encoding="utf-8")
    return copy


def render(run_cli: RunCli, inventory: Path, platform: str, out: Path) -> Path:
    result = run_cli(["-i", str(inventory), "render", "--platform", platform, "-o", str(out)])
    assert result.exit_code == 0, result.stdout + result.stderr
    return out


def audit_running(run_cli: RunCli, inventory: Path, directory: Path) -> tuple[int, Any]:
    args = ["-i", str(inventory), "isolation", "audit", "--source", "running", str(directory)]
    result = run_cli([*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def without(path: Path, line: str) -> None:
    """Remove the one line `line` from the config at `path`, as a hand edit on the box would."""
    rows = path.read_text(encoding="utf-8").splitlines()
    assert rows.count(line) == 1, f"{line!r} occurs {rows.count(line)} times in {path}"
    rows.remove(line)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_intended_audit_is_clean_with_no_firewall_assumed(
    run_cli: RunCli, sample_inventory: Path
) -> None:
    result = run_cli(["-i", str(sample_inventory), "isolation", "audit", "--json"])
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["findings"] == []


@pytest.mark.usefixtures("fake_secrets")
@pytest.mark.parametrize("platform", platform_names())
def test_rendered_configs_audit_clean_as_running_configs(
    run_cli: RunCli, sample_inventory: Path, tmp_path: Path, platform: str
) -> None:
    inventory = all_on(sample_inventory, platform, tmp_path)
    out = render(run_cli, inventory, platform, tmp_path / platform)
    code, report = audit_running(run_cli, inventory, out)
    assert (code, report["findings"]) == (0, [])


@pytest.mark.usefixtures("fake_secrets")
@pytest.mark.parametrize(
    ("platform", "lines", "rule"),
    [
        *((p, NAT_LINE, "nat-at-exit") for p in VENDORS),
        *((p, FILTER_LINE, "internet-reaches-nothing") for p in VENDORS),
        *((p, FINAL_DENY, "internet-reaches-nothing") for p in ("huawei_vrp", "h3c_comware")),
    ],
)
def test_a_rendered_exit_missing_its_nat_or_filter_is_a_finding(
    run_cli: RunCli,
    sample_inventory: Path,
    tmp_path: Path,
    platform: str,
    lines: dict[str, str],
    rule: str,
) -> None:
    inventory = all_on(sample_inventory, platform, tmp_path)
    out = render(run_cli, inventory, platform, tmp_path / platform)
    without(out / f"{EXIT}.cfg", lines[platform])
    code, report = audit_running(run_cli, inventory, out)
    assert code == 1
    assert [(f["rule"], f["host"], f["zone"]) for f in report["findings"]] == [
        (rule, EXIT, "public")
    ]
    assert report["hosts_to_repair"] == [EXIT]
