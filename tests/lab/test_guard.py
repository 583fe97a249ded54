"""The guard installed and removed for real, in a throwaway network namespace (never the
root one: these tests must not change this machine's routing)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from egovnet.loader import load_network
from egovnet.model import Network
from lab.guard import apply_guard, lab_prefixes, remove_guard
from lab.names import guard_table, interface_prefix
from tests.labkit import SAMPLE, TestLab


@pytest.fixture
def scratch_netns() -> Iterator[list[str]]:
    """A command prefix that runs inside a fresh network namespace, gone after the test."""
    holder = subprocess.Popen(["unshare", "--net", "--kill-child", "sleep", "60"])
    try:
        child = ""
        for _ in range(100):
            found = subprocess.run(
                ["pgrep", "-P", str(holder.pid)], capture_output=True, text=True, check=False
            ).stdout.split()
            if found:
                child = found[0]
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert child, "the scratch namespace did not start"
        yield ["nsenter", f"--net=/proc/{child}/ns/net"]
    finally:
        holder.kill()
        holder.wait(timeout=10)


def _unreachable(netns: list[str]) -> list[str]:
    output = subprocess.run(
        [*netns, "ip", "-4", "route", "show", "type", "unreachable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.split()[1] for line in output.splitlines()]


def _table(netns: list[str], lab: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*netns, "nft", "list", "table", "inet", guard_table(lab)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def sample(test_lab: TestLab) -> Network:
    return test_lab.network


def test_guard_installs_and_removes_cleanly(sample: Network, scratch_netns: list[str]) -> None:
    lab = sample.lab_name
    apply_guard(sample, scratch_netns)
    assert sorted(_unreachable(scratch_netns)) == sorted(str(p) for p in lab_prefixes(sample))
    table = _table(scratch_netns, lab)
    assert table.returncode == 0
    assert f'iifname "{interface_prefix(lab)}*" counter packets 0 bytes 0 drop' in table.stdout
    apply_guard(sample, scratch_netns)  # idempotent: a second lab up changes nothing
    assert len(_unreachable(scratch_netns)) == len(lab_prefixes(sample))
    remove_guard(lab, scratch_netns)
    assert _unreachable(scratch_netns) == []
    assert _table(scratch_netns, lab).returncode != 0
    remove_guard(lab, scratch_netns)  # removing twice is fine too


def test_removing_one_labs_guard_leaves_another_labs(
    sample: Network, scratch_netns: list[str]
) -> None:
    """The demo's guard and a test lab's side by side (the simulated internet guarded by
    both): taking the test lab's away leaves every route and the table of the demo's."""
    demo = load_network(SAMPLE)
    apply_guard(demo, scratch_netns)
    apply_guard(sample, scratch_netns)
    both = _unreachable(scratch_netns)
    assert len(both) == len(lab_prefixes(demo)) + len(lab_prefixes(sample))
    assert remove_guard(sample.lab_name, scratch_netns) == len(lab_prefixes(sample))
    assert sorted(_unreachable(scratch_netns)) == sorted(str(p) for p in lab_prefixes(demo))
    assert _table(scratch_netns, demo.lab_name).returncode == 0
    assert _table(scratch_netns, sample.lab_name).returncode != 0
    remove_guard(demo.lab_name, scratch_netns)
    assert _unreachable(scratch_netns) == []


def test_guard_never_touches_the_root_namespace(sample: Network, scratch_netns: list[str]) -> None:
    before = subprocess.run(
        ["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True, check=True
    ).stdout
    apply_guard(sample, scratch_netns)
    after = subprocess.run(
        ["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True, check=True
    ).stdout
    remove_guard(sample.lab_name, scratch_netns)
    assert before == after
