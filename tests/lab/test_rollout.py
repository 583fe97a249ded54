"""The rollout engine against the real lab: staged pushes over SSH into FRR's vtysh, health
gates from the lab's namespaces, rollback from the pre-run backup.

One lab for the module (booted with the rendered configs, so the network starts as the
inventory says). Every test leaves it as it found it; after every fault the running config
of every router equals its pre-run backup or its intended config, never a mixture.

Faults that need a moment inside a run (sshd stopped before a wave, a session killed in the
middle of a push) drive the engine through its Python API with a `before_wave` hook; the
rest drive `egovnet rollout` as an engineer does.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from egovnet.loader import load_network
from egovnet.model import Network
from egovnet.render.engine import render_network
from egovnet.render.packet_filter import PREFIX, normalize, split
from egovnet.secrets import SecretStore, SharedSecrets
from egovnet.wiring.lab import lab_ping_probe
from lab.keys import lab_key
from lab.runner import SSH_DIR
from nornir_tasks.backup import Masker
from nornir_tasks.drivers.frr_reload import change_commands
from nornir_tasks.gates import HealthGates
from nornir_tasks.inventory import Credentials, build_nornir
from nornir_tasks.report import RolloutReport
from nornir_tasks.rollout import Rollout, RolloutContext, RolloutOptions
from tests.console import EGOVNET, FAKE_SECRETS, environment
from tests.labkit import TestLab

ROUTERS = 13
KIT: list[TestLab] = []
"""The module's own lab (tests/labkit.py), set by the `lab` fixture for the helpers."""


def kit() -> TestLab:
    return KIT[0]


def egovnet(
    *args: str, cwd: Path, inventory: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return kit().egovnet(*args, cwd=cwd, inventory=inventory, timeout=400)


def in_node(node: str, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    holder = kit().holders()[node]
    return subprocess.run(
        ["nsenter", "-t", str(holder.pid), "-m", "-u", "-n", "-p", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def running(node: str) -> str:
    """A router's running config read from inside its namespaces (works with sshd down)."""
    result = in_node(node, "vtysh", "-N", node, "-c", "show running-config no-header")
    assert result.returncode == 0, result.stderr
    return result.stdout


def rendered(network: Network) -> dict[str, str]:
    store = SecretStore(None, environ=FAKE_SECRETS)
    return render_network(network, SharedSecrets.resolve(network, store), "frr")


def ruleset(node: str, netns: str) -> str:
    """The nftables ruleset of one of a router's zone namespaces (the exit's firewall)."""
    result = in_node(node, "ip", "netns", "exec", netns, "nft", "list", "ruleset")
    assert result.returncode == 0, result.stderr
    return result.stdout


def states(expected: dict[str, str]) -> dict[str, bool]:
    """Per router: does its running config (and on the exit, its packet filter) equal
    `expected[router]` (no change needed)?"""
    result = {}
    for name, text in expected.items():
        routing, packet_filter = split(text)
        same = not change_commands(routing, running(name))
        if packet_filter is not None:
            now = normalize(ruleset(name, packet_filter.netns))
            same = same and now == normalize(packet_filter.ruleset)
        result[name] = same
    return result


def established(node: str) -> int:
    document = json.loads(
        in_node(node, "vtysh", "-N", node, "-c", "show bgp vrf all summary json").stdout
    )
    return sum(
        peer.get("state") == "Established"
        for families in document.values()
        for peer in families.get("ipv4Unicast", {}).get("peers", {}).values()
    )


@pytest.fixture(scope="module")
def lab(test_lab: TestLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("rollout")
    KIT[:] = [test_lab]
    try:
        result = egovnet("lab", "up", "--json", cwd=workdir)
        assert result.returncode == 0, result.stdout + result.stderr
        yield workdir
    finally:
        down = test_lab.down(workdir)
        assert down.returncode == 0, down.stderr


@pytest.fixture(scope="module")
def network(lab: Path) -> Network:
    return kit().network


@pytest.fixture(scope="module")
def intended(network: Network) -> dict[str, str]:
    return rendered(network)


@pytest.fixture
def sessions_before(lab: Path, network: Network) -> dict[str, int]:
    return {node.name: established(node.name) for node in network.nodes}


def engine(
    network: Network,
    intended: dict[str, str],
    workdir: Path,
    *,
    scope: str = "wave",
    before_wave: Callable[[str, list[str]], None] = lambda _w, _h: None,
) -> Rollout:
    """The engine wired as `egovnet rollout --platform frr --yes` wires it."""
    nornir = build_nornir(
        network, Credentials("root", key_file=str(lab_key())), workers=20, platform="frr"
    )
    gates = HealthGates(network, ping=lab_ping_probe(kit().lab), timeout=30)
    options = RolloutOptions(
        canary=1, rollback_scope=scope, backup_repo=workdir / "backups", platform="frr"
    )
    context = RolloutContext("pytest", str(kit().inventory), "test")
    return Rollout(
        network, nornir, intended, gates, Masker({}), options, context, before_wave=before_wave
    )


def run_engine(rollout: Rollout) -> RolloutReport:
    try:
        return rollout.run()
    finally:
        rollout.nornir.close_connections(on_failed=True)


EXIT_DROP = f'{PREFIX}\t\tiifname "eth3" counter drop\n'


def everywhere(intended: dict[str, str]) -> dict[str, str]:
    """A change that touches every router and nothing that routing depends on; on the exit
    its packet filter too (one more drop rule, before the one it has)."""
    changed = {
        h: t.replace("log syslog informational", "log syslog warnings") for h, t in intended.items()
    }
    extra = f'{PREFIX}\t\tiifname "eth3" ip protocol icmp counter drop\n'
    assert EXIT_DROP in changed["hebei-exit"]
    changed["hebei-exit"] = changed["hebei-exit"].replace(EXIT_DROP, extra + EXIT_DROP)
    assert all(changed[h] != intended[h] for h in intended)
    return changed


def assert_back_to(intended: dict[str, str]) -> None:
    assert states(intended) == dict.fromkeys(intended, True)


# ----------------------------------------------------------------------------- happy paths


def test_dry_run_of_a_converged_lab_shows_no_change(lab: Path, network: Network) -> None:
    result = egovnet("rollout", "--dry-run", "--platform", "frr", "--json", cwd=lab)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["outcome"] == "dry run"
    assert {h["outcome"] for h in report["hosts"].values()} == {"unchanged"}
    assert len(report["hosts"]) == ROUTERS
    assert Path(report["report"]).exists()
    assert (Path(report["report"]).parent / "summary.txt").read_text().startswith("egovnet dry run")
    # the backup: one commit, every router's config, secrets masked
    log = subprocess.run(
        ["git", "-C", str(lab / "backups"), "log", "--format=%an %s"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert "backup before dry run" in log[0]
    assert len(list((lab / "backups").glob("*.cfg"))) == ROUTERS
    backup = (lab / "backups" / "shijiazhuang.cfg").read_text()
    assert f"router bgp {network.node('shijiazhuang').asn}" in backup
    drift = egovnet("diff", "--platform", "frr", cwd=lab)
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert "0 of 13 host(s) differ" in drift.stdout


def onboarded_inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "inventory"
    shutil.copytree(kit().inventory, inventory)
    hosts = inventory / "hosts.yaml"
    text = hosts.read_text(encoding="utf-8")
    line = "      - {name: gonganju, zone: gongan, description: 县公安局 (公安专网)}\nluancheng:"
    assert line in text
    hosts.write_text(
        text.replace(
            line,
            line.replace("\nluancheng:", "\n      - {name: shenjiju, zone: private}\nluancheng:"),
        ),
        encoding="utf-8",
    )
    return inventory


@pytest.fixture
def department_host(lab: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The new department's host, cabled to zhengding's private zone as a technician would:
    a namespace and a veth whose router end sits in zhengding's `private` VRF."""
    inventory = onboarded_inventory(tmp_path)
    department = load_network(inventory).node("zhengding").departments[-1]
    assert department.name == "shenjiju"
    host_address = str(department.host)
    namespace, port = "egvt-shenjiju", f"dept{department.vlan}"
    holder = kit().holders()["zhengding"]
    commands = [
        ["ip", "netns", "add", namespace],
        [
            "ip",
            "link",
            "add",
            "egvt-sj0",
            "netns",
            namespace,
            "type",
            "veth",
            "peer",
            "name",
            port,
            "netns",
            str(holder.pid),
        ],
        ["ip", "-n", namespace, "address", "add", host_address, "dev", "egvt-sj0"],
        ["ip", "-n", namespace, "link", "set", "egvt-sj0", "up"],
        ["ip", "-n", namespace, "route", "add", "default", "via", str(department.gateway.ip)],
    ]
    try:
        for argv in commands:
            subprocess.run(argv, check=True, capture_output=True)
        for argv in (
            ["ip", "link", "set", port, "netns", "private"],
            ["ip", "netns", "exec", "private", "ip", "link", "set", port, "up"],
        ):
            assert in_node("zhengding", *argv).returncode == 0
        yield inventory, str(department.host.ip)
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=False, capture_output=True)
        in_node("zhengding", "ip", "netns", "exec", "private", "ip", "link", "del", port)
    # with the cable gone and the config rolled back, zebra forgets the interface
    expected = rendered(kit().network)
    deadline = time.monotonic() + 10
    while not all(states(expected).values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert_back_to(expected)


def test_a_department_is_onboarded_by_an_inventory_change_and_a_rollout(
    lab: Path, department_host: tuple[Path, str], intended: dict[str, str]
) -> None:
    inventory, address = department_host
    peer = "zhuozhou-caizhengju"  # a private-zone department in another city
    assert in_node(peer, "ping", "-c1", "-W1", address).returncode != 0  # not routed yet
    try:
        result = egovnet(
            "rollout", "--yes", "--platform", "frr", "--json", cwd=lab, inventory=inventory
        )
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout)
        assert report["outcome"] == "applied"
        applied = {h for h, r in report["hosts"].items() if r["outcome"] == "applied"}
        assert applied == {"zhengding"}  # nothing else is touched
        added = load_network(inventory).node("zhengding").departments[-1].prefix
        assert f"+   network {added}" in report["hosts"]["zhengding"]["diff"]
        gates = report["hosts"]["zhengding"]["gates"]
        assert {g["gate"] for g in gates} >= {
            "bgp",
            "ssh",
            "snmp",
            "reach shijiazhuang",
            "reach hebei-core-1",
            "reach hebei-core-2",
        }
        assert all(g["ok"] for g in gates)
        # its zone peers two cities away reach it; the public zone never does
        assert in_node(peer, "ping", "-c3", "-W3", address).returncode == 0
        assert in_node("zhengding-zhengwufuwu", "ping", "-c1", "-W1", address).returncode != 0
        # the same rollout again changes nothing
        again = egovnet(
            "rollout", "--yes", "--platform", "frr", "--json", cwd=lab, inventory=inventory
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert json.loads(again.stdout)["outcome"] == "no change"
    finally:
        back = egovnet("rollout", "--yes", "--platform", "frr", cwd=lab)
        assert back.returncode == 0, back.stdout + back.stderr


# ----------------------------------------------------------------------------- faults


def test_wrong_credentials_name_the_host_and_change_nothing(
    lab: Path, tmp_path: Path, intended: dict[str, str]
) -> None:
    key = tmp_path / "not-the-lab-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    result = egovnet(
        "rollout",
        "--yes",
        "--platform",
        "frr",
        "--ssh-key",
        str(key),
        "--limit",
        "zhengding",
        cwd=lab,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "zhengding" in result.stdout
    assert "refused for user 'root'" in result.stdout
    assert "nothing was changed on any host" in result.stdout
    assert_back_to(intended)


def test_a_config_the_device_rejects_is_caught_before_any_change(
    lab: Path, network: Network, intended: dict[str, str]
) -> None:
    candidate = everywhere(intended)
    asn = network.node("zhuozhou").asn
    candidate["zhuozhou"] += f"router bgp {asn}\n neighbour 10.0.0.1 remote-as 1\n"
    report = run_engine(engine(network, candidate, lab))
    assert report.outcome == "aborted"
    assert report.exit_code == 1
    assert report.hosts["zhuozhou"].outcome == "failed, unchanged"
    assert "Unknown command" in (report.hosts["zhuozhou"].error or "")
    assert report.waves == []  # no wave started
    assert_back_to(intended)  # the change valid on the 12 other routers went nowhere


def test_a_change_breaking_an_adjacency_rolls_everything_back(
    lab: Path, network: Network, intended: dict[str, str], sessions_before: dict[str, int]
) -> None:
    candidate = everywhere(intended)
    # baoding's view of its parent's AS is wrong: the session cannot come up
    parent = network.node("hebei-core-1").asn
    wrong = candidate["baoding"].replace(f"remote-as {parent}", f"remote-as {parent + 99}")
    assert wrong != candidate["baoding"]
    candidate["baoding"] = wrong
    report = run_engine(engine(network, candidate, lab, scope="all"))
    assert report.outcome == "rolled back"
    assert report.exit_code == 1
    assert "health gates failed on baoding" in report.message
    failed = [g for g in report.hosts["baoding"].gates if g.gate == "bgp" and not g.ok]
    assert failed
    assert "(default, hebei-core-1): Idle" in failed[0].detail
    assert {report.hosts[h].outcome for h in ("hebei-core-1", "hebei-exit", "baoding")} == {
        "rolled back"
    }
    assert report.hosts["zhengding"].outcome == "not reached"
    assert [w.outcome for w in report.waves] == ["rolled back", "rolled back", "not started"]
    assert_back_to(intended)
    assert {n: established(n) for n in sessions_before} == sessions_before  # adjacency back


def test_sshd_stopped_before_its_wave_fails_the_host_and_rolls_the_wave_back(
    lab: Path, network: Network, intended: dict[str, str]
) -> None:
    candidate = everywhere(intended)

    def stop_sshd(wave: str, _hosts: list[str]) -> None:
        if wave == "counties":
            # the listener and the session kept open since the backup: a dead box's sshd
            assert in_node("luancheng", "pkill", "sshd").returncode == 0

    try:
        report = run_engine(engine(network, candidate, lab, before_wave=stop_sshd))
        assert report.outcome == "rolled back"
        assert report.exit_code == 1
        assert report.hosts["luancheng"].outcome == "failed, unchanged"
        management = network.node("luancheng").management.ip
        assert f"SSH to {management}" in (report.hosts["luancheng"].error or "")
        counties = [n.name for n in network.nodes if n.tier == "county"]
        assert report.hosts[counties[0]].outcome == "rolled back"  # the canary went first
        earlier = [n.name for n in network.nodes if n.tier != "county"]
        assert {report.hosts[h].outcome for h in earlier} == {"applied"}
        # earlier waves keep the change; the counties wave is back to its backup
        assert states({h: candidate[h] for h in earlier}) == dict.fromkeys(earlier, True)
        assert states({h: intended[h] for h in counties}) == dict.fromkeys(counties, True)
    finally:
        in_node("luancheng", "/usr/sbin/sshd", "-f", f"{SSH_DIR}/sshd_config")
        back = run_engine(engine(network, intended, lab))
        assert back.exit_code == 0, back.summary()
    assert_back_to(intended)


def test_a_session_killed_in_the_middle_of_a_push_is_restored_from_the_backup(
    lab: Path, network: Network, intended: dict[str, str]
) -> None:
    candidate = dict(intended)
    # a long change, so that the kill lands while lines are still arriving
    extra = "".join(
        f"ip prefix-list EGVT-BULK seq {i} permit 10.99.{i // 250}.{i % 250}/32\n"
        for i in range(1, 1501)
    )
    candidate["tangshan"] = intended["tangshan"] + extra
    killed = threading.Event()

    def killer() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed.is_set():
            shown = in_node(
                "tangshan", "vtysh", "-N", "tangshan", "-c", "show ip prefix-list EGVT-BULK"
            ).stdout
            if "seq 50 " in shown:
                in_node("tangshan", "pkill", "-KILL", "-f", "sshd: root")
                killed.set()
            time.sleep(0.05)

    def start_killer(wave: str, _hosts: list[str]) -> None:
        if wave == "cities":
            threading.Thread(target=killer, daemon=True).start()

    report = run_engine(engine(network, candidate, lab, before_wave=start_killer))
    assert killed.is_set(), "the push finished before the kill: make the change longer"
    assert report.outcome == "rolled back"
    assert report.exit_code == 1
    assert report.hosts["tangshan"].outcome == "rolled back"
    assert "EGVT-BULK" not in running("tangshan")
    assert_back_to(intended)


def test_ctrl_c_during_a_wave_rolls_it_back_writes_the_report_and_exits_130(
    lab: Path, tmp_path: Path, intended: dict[str, str]
) -> None:
    inventory = tmp_path / "inventory"
    shutil.copytree(kit().inventory, inventory)
    network_yaml = inventory / "network.yaml"
    text = network_yaml.read_text(encoding="utf-8")
    assert "keepalive: 3" in text
    network_yaml.write_text(text.replace("keepalive: 3", "keepalive: 2"), encoding="utf-8")
    process = subprocess.Popen(
        [str(EGOVNET), "rollout", "--yes", "--platform", "frr", "--runs", str(tmp_path / "runs")],
        cwd=lab,
        env=environment(inventory),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if "wave cities" in line:
                process.send_signal(signal.SIGINT)
                break
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stdout + stderr
    report = json.loads(next((tmp_path / "runs").glob("*/report.json")).read_text())
    assert report["outcome"] == "interrupted"
    waves = {w["name"]: w["outcome"] for w in report["waves"]}
    assert waves["province"] == "passed"
    assert waves["cities"] in {"rolled back", "stopped, nothing sent"}
    assert waves["counties"] == "not started"
    province = [h for h, r in report["hosts"].items() if r["wave"] == "province"]
    changed = rendered(load_network(inventory))
    assert states({h: changed[h] for h in province}) == dict.fromkeys(province, True)
    others = [h for h in intended if h not in province]
    assert states({h: intended[h] for h in others}) == dict.fromkeys(others, True)
    back = egovnet("rollout", "--yes", "--platform", "frr", cwd=lab)
    assert back.returncode == 0, back.stdout + back.stderr
    assert_back_to(intended)
