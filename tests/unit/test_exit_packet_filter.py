"""The FRR exit's packet filter travels inside its config: rendered there, read back from a
backup by the audit, and the ports `isolation enforce` shuts are valid FRR."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.engine import render_network
from egovnet.render.packet_filter import HEADER, PREFIX, embed, exit_ruleset, normalize, split
from isolation.analysis import audit_configs
from isolation.enforce import Verdict, shut_ports_frr, unknown_ports
from isolation.findings import Finding
from isolation.sources import NO_SECRETS, intended_configs, running_configs

ROOT = Path(__file__).resolve().parents[2]
DROP = f'{PREFIX}\t\tiifname "eth3" counter drop'


@pytest.fixture(scope="module")
def network() -> Network:
    return load_network(ROOT / "inventory")


@pytest.fixture(scope="module")
def rendered(network: Network) -> dict[str, str]:
    return render_network(network, NO_SECRETS, "frr")


def test_the_section_splits_off_as_it_was_embedded(rendered: dict[str, str]) -> None:
    text = rendered["hebei-exit"]
    routing, packet_filter = split(text)
    assert packet_filter is not None
    assert packet_filter.netns == "public"
    assert normalize(packet_filter.ruleset) == normalize(exit_ruleset("eth3"))
    assert HEADER not in routing
    assert PREFIX not in routing
    assert routing.rstrip().endswith("end")
    assert embed("public", packet_filter.ruleset) in text
    assert packet_filter.script().startswith("flush ruleset\n")
    assert split(rendered["zhengding"]) == (rendered["zhengding"], None)


def test_a_backup_is_audited_with_its_own_firewall(
    network: Network, rendered: dict[str, str], tmp_path: Path
) -> None:
    """A backup of the lab as the rollout writes it (one `<host>.cfg` each, the exit's
    ruleset in its section) audits clean; an accept for new inbound TCP written into the
    section is found, with the file and line of the rule."""
    for host, text in rendered.items():
        (tmp_path / f"{host}.cfg").write_text(text)
    assert audit_configs(network, running_configs(network, tmp_path)) == []

    exit_file = tmp_path / "hebei-exit.cfg"
    opened = f'{PREFIX}\t\tiifname "eth3" tcp dport 18080 accept'
    exit_file.write_text(rendered["hebei-exit"].replace(DROP, f"{opened}\n{DROP}"))
    findings = audit_configs(network, running_configs(network, tmp_path))
    assert {(f.rule, f.host, f.zone) for f in findings} == {
        ("internet-reaches-nothing", "hebei-exit", "public")
    }
    line = exit_file.read_text().splitlines().index(opened) + 1
    assert f"{exit_file}:{line}" in findings[0].evidence
    assert "tcp dport 18080 accept" in findings[0].evidence


def test_an_exit_backed_up_without_a_ruleset_is_open(
    network: Network, rendered: dict[str, str], tmp_path: Path
) -> None:
    """A bare exit (empty ruleset) neither NATs nor filters: the audit says both."""
    routing, _ = split(rendered["hebei-exit"])
    (tmp_path / "hebei-exit.cfg").write_text(routing + embed("public", ""))
    findings = audit_configs(network, running_configs(network, tmp_path))
    assert {(f.rule, f.host) for f in findings} >= {
        ("nat-at-exit", "hebei-exit"),
        ("internet-reaches-nothing", "hebei-exit"),
    }


def test_ports_unknown_to_the_inventory_are_shut_in_valid_frr(
    network: Network, rendered: dict[str, str], tmp_path: Path
) -> None:
    present = [("eth1", "default"), ("eth1.200", "public"), ("lo", "public")]
    present += [("rogue0", "public"), ("eth9", "default")]
    intended = intended_configs(network, "frr")["shijiazhuang"]
    ports = unknown_ports(present, intended)
    assert ports == [("eth9", "default"), ("rogue0", "public")]
    text = shut_ports_frr(rendered["shijiazhuang"], ports)
    assert "interface rogue0 vrf public\n" in text
    assert "interface eth9\n" in text
    assert text.rstrip().endswith("end")
    exit_text = shut_ports_frr(rendered["hebei-exit"], [("rogue0", "public")])
    assert exit_text.index("interface rogue0") < exit_text.index(HEADER)
    if shutil.which("vtysh") is None:
        pytest.skip("FRR's vtysh is not installed")
    for name, config in (("city", text), ("exit", exit_text)):
        path = tmp_path / f"{name}.cfg"
        path.write_text(config)
        checked = subprocess.run(
            ["vtysh", "-C", "-f", str(path)], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_verdict_names_what_no_rollout_can_repair() -> None:
    route = Finding("private-no-internet-route", "zhengding", "private", "0/0", "e", "config")
    door = Finding("data-plane-path", "tangshan", "private", "a -> b icmp", "mgmt0", "probe")
    verdict = Verdict([route, door], [door], ["tangshan", "zhengding"], ["zhengding"])
    assert verdict.repaired == [route]
    assert verdict.unrepairable == [door]
    assert not verdict.clean
