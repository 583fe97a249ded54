"""Graded protection checked on the real lab: a lab brought up from the inventory passes
`compliance check --source live` on a city; two rules broken live on that city the way an
engineer's shortcut would break them (its syslog logging removed through vtysh, and its sshd
made to take passwords: the config edited and sshd reloaded) are found, with rule id, host
and the live evidence line, exit 1; `compliance enforce` repairs both (the sshd config
restored by the lab, FRR's config by the staged rollout), and the check passes again. The
state file the exporter serves follows each check; the `egovnet-facts` login command answers
over the node's own SSH.

Module-scoped: one lab, `lab down` in the finaliser whatever happens.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from egovnet.model import Network
from egovnet.render.engine import render_network
from egovnet.secrets import SecretStore, SharedSecrets
from egovnet.wiring.compliance import ComplianceGate
from egovnet.wiring.devices import DeviceSession, EngineSettings, NornirRollout, provenance
from egovnet.workflows.ports import RolloutRequest
from lab.keys import lab_key
from lab.runner import FACTS_MARK, SSH_DIR
from tests.console import FAKE_SECRETS
from tests.labkit import TestLab

KIT: list[TestLab] = []


def kit() -> TestLab:
    return KIT[0]


def network() -> Network:
    return kit().network


def city() -> str:
    return next(n.name for n in network().nodes if n.tier == "city" and n.platform == "frr")


def in_node(node: str, *argv: str) -> subprocess.CompletedProcess[str]:
    holder = kit().holders()[node]
    return subprocess.run(
        ["nsenter", "-t", str(holder.pid), "-m", "-u", "-n", "-p", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def egovnet(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return kit().egovnet(*args, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def workdir(test_lab: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("compliance")
    KIT[:] = [test_lab]
    try:
        result = egovnet("lab", "up", "--json", cwd=directory)
        assert result.returncode == 0, result.stdout + result.stderr
        yield directory
    finally:
        down = test_lab.down(directory)
        assert down.returncode == 0, down.stderr


def check(workdir: Path, host: str) -> tuple[int, dict[str, Any]]:
    state = workdir / "state.json"
    result = egovnet(
        "compliance", "check", "--source", "live", "--limit", host, "--json",
        "--state", str(state), cwd=workdir,
    )  # fmt: skip
    assert result.returncode in {0, 1}, result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def failing(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in report["results"] if r["status"] in ("fail", "unverified")}


def test_a_city_as_rolled_out_passes_live(workdir: Path) -> None:
    code, report = check(workdir, city())
    assert failing(report) == {}
    assert code == 0
    assert report["source"] == "live"
    state = json.loads((workdir / "state.json").read_text(encoding="utf-8"))
    assert state["failures"] == []
    assert state["source"] == "live"


def test_the_facts_answer_over_the_nodes_own_ssh_login(workdir: Path) -> None:
    """`egovnet-facts` as a login command, the way a check over SSH would ask for it."""
    node = network().node(city())
    login = subprocess.run(
        [
            "ssh", "-i", str(lab_key()), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10",
            f"root@{node.management.ip}", "egovnet-facts",
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    assert f"{FACTS_MARK} sshd: sshd -T -f {SSH_DIR}/sshd_config" in login.stdout
    assert "passwordauthentication no" in login.stdout
    assert f"{FACTS_MARK} snmpd: " in login.stdout
    users = [line for line in login.stdout.splitlines() if line.startswith("createUser")]
    assert users
    assert all(line.endswith("********") for line in users), users  # keys masked
    assert f"{FACTS_MARK} end" in login.stdout


def test_a_rule_broken_live_is_found_and_enforce_repairs_it(workdir: Path) -> None:
    host = city()
    config = f"{SSH_DIR}/sshd_config"
    original = in_node(host, "cat", config).stdout
    broke_syslog = in_node(
        host, "vtysh", "-N", host, "-c", "configure terminal", "-c", "no log syslog"
    )
    assert broke_syslog.returncode == 0, broke_syslog.stdout + broke_syslog.stderr
    in_node(host, "sh", "-c", f"sed -i '1i PasswordAuthentication yes' {config}")
    reload = in_node(host, "sh", "-c", f"kill -HUP $(cat {SSH_DIR}/sshd.pid)")
    assert reload.returncode == 0, reload.stderr
    try:
        code, report = check(workdir, host)
        assert code == 1
        found = failing(report)
        ssh = found["ssh-only"]
        assert ssh["host"] == host
        assert any(
            line["text"] == "passwordauthentication yes" and "sshd -T" in line["origin"]
            for line in ssh["evidence"]
        ), ssh
        syslog = [r for r in found.values() if "syslog" in r["rule"]]
        assert syslog, sorted(found)
        state = json.loads((workdir / "state.json").read_text(encoding="utf-8"))
        assert {(f["host"], f["rule"]) for f in state["failures"]} >= {(host, "ssh-only")}

        result = egovnet(
            "compliance", "enforce", "--limit", host, "--platform", "frr", "--yes", "--json",
            "--backup-repo", str(workdir / "backups"), "--runs", str(workdir / "runs"),
            cwd=workdir, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        enforced = json.loads(result.stdout)
        assert enforced["targets"] == [host]
        assert enforced["restored"] == {host: ["sshd"]}
        assert enforced["changed"] == [host]  # `log syslog` back through the rollout
        assert enforced["after"]["ok"] is True

        code, report = check(workdir, host)
        assert failing(report) == {}
        assert code == 0
    finally:  # whatever happened, leave the node as it was
        in_node(host, "sh", "-c", f"cat > {config} <<'EOF'\n{original}EOF")
        in_node(host, "sh", "-c", f"kill -HUP $(cat {SSH_DIR}/sshd.pid)")
        in_node(
            host, "vtysh", "-N", host, "-c", "configure terminal", "-c", "log syslog informational"
        )


def test_the_compliance_gate_rolls_back_a_wave_that_regresses(workdir: Path) -> None:
    """The real engine with `--gate compliance`'s gate, handed an intended config that drops
    `log syslog` on the city (what a template mistake would do): the wave's push goes
    through, the health gates pass, the compliance gate sees remote-syslog fail where it
    passed before the wave, and the wave is rolled back: syslog logging is on again."""
    host = city()
    net = network()
    store = SecretStore(environ=dict(FAKE_SECRETS))
    session = DeviceSession.start(net, [host], store, ("root", None), 4, "frr")
    intended = render_network(net, SharedSecrets.resolve(net, store), "frr")
    assert "log syslog informational\n" in intended[host]
    intended[host] = intended[host].replace("log syslog informational\n", "")
    engine = NornirRollout(
        session,
        EngineSettings(0, 4, workdir / "backups", "frr", 60.0),
        provenance(kit().inventory),
        handle_sigint=False,
        wave_gates=[ComplianceGate(net)],
    )
    report = engine.run(intended, RolloutRequest(False, host, "wave"))
    outcome = report.hosts[host]
    gates = {g.gate: g for g in outcome.gates}
    assert not gates["compliance"].ok
    assert "remote-syslog" in gates["compliance"].detail
    assert outcome.outcome == "rolled back", report.summary()
    assert report.exit_code == 1
    shown = in_node(host, "vtysh", "-N", host, "-c", "show running-config").stdout
    assert "log syslog informational" in shown
