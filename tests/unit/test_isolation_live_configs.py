"""The live audit reads the lab's running configs through the same layer as `--source
running` and fails closed the same way, on `show running-config` output recorded from a
test lab of the sample (FRR 8.4, vtysh's banner lines included) replayed by a stand-in lab
(`RecordedLab`): clean as recorded; a line egovnet does not understand, an empty answer, a
failed read or another vendor's text is a finding, never "no findings"."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.workflows.audit import AuditResult, AuditSource
from isolation.access import Completed, Running
from isolation.findings import Finding
from isolation.live import running_config_findings

RECORDED = Path(__file__).resolve().parent / "recorded" / "isolation" / "live"
"""`vtysh -N HOST -c 'show running-config'` of every router and the exit's `nft list ruleset`
in its internet zone, from lab `egvt-live-unknow`; the inventory beside them is that lab's
sandboxed copy of the sample (the addresses the configs carry)."""


class RecordedLab:
    """A stand-in for the lab: answers the two commands the config stage runs from the
    recorded files, with per-host replacements a test sets."""

    def __init__(self, replies: dict[str, Completed] | None = None) -> None:
        self.replies = replies or {}

    def run(
        self, node: str, argv: Sequence[str], *, zone: str | None = None, timeout: float = 30.0
    ) -> Completed:
        if list(argv[:1]) == ["nft"]:
            path = RECORDED / f"{node}.nft"
            return Completed(0, path.read_text(encoding="utf-8") if path.is_file() else "")
        assert list(argv) == ["vtysh", "-N", node, "-c", "show running-config"], argv
        if node in self.replies:
            return self.replies[node]
        return Completed(0, (RECORDED / f"{node}.running-config").read_text(encoding="utf-8"))

    def start(self, node: str, argv: Sequence[str]) -> Running:
        raise AssertionError("the config stage starts no process")

    def nodes(self) -> set[str]:
        return {p.name.split(".")[0] for p in RECORDED.glob("*.running-config")}


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(RECORDED)


def recorded(host: str) -> str:
    return (RECORDED / f"{host}.running-config").read_text(encoding="utf-8")


def rules(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.rule, f.host, f.subject) for f in findings}


def test_recorded_running_configs_audit_clean(network: Network) -> None:
    """vtysh's `Building configuration...` / `Current configuration:` are the terminal's,
    not config: read as `--source running` reads a file, the healthy lab is clean."""
    assert recorded("hebei-exit").startswith("Building configuration...")
    assert running_config_findings(RecordedLab(), network) == []


def test_a_line_egovnet_does_not_understand_on_the_exit_is_unknown(network: Network) -> None:
    """A route map typed on the exit (it could rewrite or leak what the exit announces) is a
    construct the model does not have: `unknown` on the exit, and the audit exits 1."""
    text = recorded("hebei-exit").replace(
        "router bgp 4200000056 vrf public\n",
        "route-map LEAK-ALL permit 10\n set community no-export\nexit\n!\n"
        "router bgp 4200000056 vrf public\n",
    )
    lab = RecordedLab({"hebei-exit": Completed(0, text)})
    findings = running_config_findings(lab, network)
    assert rules(findings) == {("unknown", "hebei-exit", "route-map LEAK-ALL")}
    (finding,) = findings
    assert "hebei-exit:running-config:" in finding.evidence
    assert "not modelled" in finding.evidence
    result = AuditResult(AuditSource.live, findings, ["hebei-exit"])
    assert result.exit_code == 1
    assert result.as_dict()["ok"] is False


def test_an_empty_or_failed_read_is_a_finding_not_a_clean_host(network: Network) -> None:
    banner_only = "Building configuration...\n\nCurrent configuration:\n!\nend\n"
    lab = RecordedLab(
        {
            "zhengding": Completed(0, banner_only),
            "zunhua": Completed(0, ""),
            "qianan": Completed(1, "", "% Connection refused\n"),
        }
    )
    found = rules(running_config_findings(lab, network))
    assert ("config-empty", "zhengding", "zhengding:running-config") in found
    assert ("unparsed", "zunhua", "") in found
    assert ("unparsed", "qianan", "") in found
    why = {f.host: f.evidence for f in running_config_findings(lab, network)}
    assert "Connection refused" in why["qianan"]
    assert "printed nothing" in why["zunhua"]


def test_another_vendors_text_is_a_platform_mismatch(network: Network) -> None:
    vrp = "sysname zunhua\n#\nip ip-prefix X index 10 permit 10.0.0.0 8\n#\nstelnet server enable\n"
    lab = RecordedLab({"zunhua": Completed(0, vrp)})
    findings = running_config_findings(lab, network)
    assert ("platform-mismatch", "zunhua", "frr -> huawei_vrp") in rules(findings)
