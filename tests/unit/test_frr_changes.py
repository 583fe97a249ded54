"""The change between two FRR configs, as frr-reload.py's own logic computes it (through a
local `vtysh -m`, no daemon), turned into commands typed at the `configure` prompt."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from egovnet.loader import load_network
from egovnet.render.engine import render_network
from egovnet.secrets import SecretStore, SharedSecrets, env_name, secret_names
from nornir_tasks.drivers.frr_reload import (
    MarkFailedError,
    _marked,
    change_commands,
    change_summary,
    change_text,
    closes_every_context,
    marked_text,
    syntax_errors,
)

pytestmark = pytest.mark.frr


@pytest.fixture(scope="module")
def configs() -> dict[str, str]:
    if shutil.which("vtysh") is None:
        if os.environ.get("CI"):
            pytest.fail("vtysh is missing in CI: ./run must install Debian's frr package")
        pytest.skip("vtysh (Debian package frr) is not installed")
    network = load_network(Path(__file__).resolve().parents[2] / "inventory")
    store = SecretStore(environ={env_name(n): "fake" for n in secret_names(network)})
    return render_network(network, SharedSecrets.resolve(network, store), "frr")


def test_a_config_compared_with_itself_needs_no_change(configs: dict[str, str]) -> None:
    assert change_commands(configs["zunhua"], configs["zunhua"]) == []
    assert change_text("zunhua", configs["zunhua"], configs["zunhua"]) == ""


def test_a_changed_line_is_removed_and_added_inside_its_context(configs: dict[str, str]) -> None:
    before = configs["zunhua"]
    after = before.replace("timers bgp 3 9", "timers bgp 4 12")
    commands = change_commands(after, before)
    # every block returns to the top of `configure`, so blocks can follow each other
    assert commands.count("no timers bgp 3 9") == 4  # global, private, public, gongan
    assert commands.count("timers bgp 4 12") == 4
    depth = 0
    for command in commands:
        if command.startswith("router bgp"):
            depth += 1
        elif command == "exit":
            depth -= 1
        assert depth in (0, 1)
    assert depth == 0
    text = change_text("zunhua", after, before)
    assert "-  timers bgp 3 9" in text
    assert "+  timers bgp 4 12" in text


def test_the_summary_names_each_changed_line_with_its_context(configs: dict[str, str]) -> None:
    """What a commit error says when the device kept something else than it was told."""
    before = configs["zunhua"]
    after = before.replace("timers bgp 3 9", "timers bgp 4 12")
    summary = change_summary(after, before, limit=5)
    assert summary.startswith("+ timers bgp 4 12 (router bgp ")
    assert "- timers bgp 3 9 (router bgp " in summary
    assert summary.endswith("; ... and 3 more")  # 4 additions, 4 deletions, 5 shown
    assert change_summary(before, before) == ""


def test_lines_frr_never_shows_in_its_running_config_are_no_change(
    configs: dict[str, str],
) -> None:
    without = "\n".join(
        line
        for line in configs["zunhua"].splitlines()
        if not line.startswith(("banner motd", "ip forwarding", "service integrated"))
    )
    assert change_commands(configs["zunhua"], without) == []


def test_file_only_context_ends_are_never_typed(configs: dict[str, str]) -> None:
    bare = "frr version 8.4.4\nfrr defaults traditional\nhostname zunhua\n!\nend\n"
    commands = change_commands(configs["zunhua"], bare)
    assert "exit-vrf" not in commands
    assert "exit-address-family" not in commands
    assert commands[0] != "exit"


def test_the_management_address_is_never_removed(configs: dict[str, str]) -> None:
    bare = "frr version 8.4.4\nhostname zunhua\n!\nend\n"
    management = next(
        line.split()[2].split("/")[0]
        for line in configs["zunhua"].splitlines()
        if line.startswith(" ip address 10.64.8.")
    )
    back_to_bare = change_commands(bare, configs["zunhua"], keep=management)
    assert not any(management in command for command in back_to_bare)
    assert any(command.startswith("no ip address 10.64.") for command in back_to_bare)


def test_frr_names_what_it_rejects_before_anything_is_sent(configs: dict[str, str]) -> None:
    assert syntax_errors(configs["zunhua"]) == []
    errors = syntax_errors(configs["zunhua"] + "router bgp 1\n neighbour 10.0.0.1 remote-as 2\n")
    assert len(errors) == 1
    assert "Unknown command" in errors[0]
    assert "neighbour 10.0.0.1" in errors[0]


def test_a_text_marked_once_gives_the_same_change_every_time(configs: dict[str, str]) -> None:
    """Markings are kept per text (one `vtysh` start per config, not one per comparison);
    frr-reload's comparison must still get a fresh config each time, or a second diff of
    the same pair (the push's, after the dry run's) would find less than the first."""
    changed = configs["zunhua"].replace("timers bgp 3 9", "timers bgp 4 12")
    assert changed != configs["zunhua"]
    first = change_commands(changed, configs["zunhua"])
    assert any("timers bgp 4 12" in command for command in first)
    assert change_commands(changed, configs["zunhua"]) == first
    text = change_text("zunhua", changed, configs["zunhua"])
    assert text == change_text("zunhua", changed, configs["zunhua"])
    assert text.count("+  timers bgp 4 12") == text.count("-  timers bgp 3 9") == 4


def test_a_config_frr_refuses_is_refused_again_from_the_kept_marking(
    configs: dict[str, str],
) -> None:
    """The marking is the syntax check: a refused text is not kept as if it were valid."""
    refused = configs["zunhua"] + "router bgp 1\n neighbour 10.0.0.1 remote-as 2\n"
    assert syntax_errors(refused)
    assert syntax_errors(refused)
    with pytest.raises(MarkFailedError):
        marked_text(refused)
    assert syntax_errors(configs["zunhua"]) == []


GOLDEN = Path(__file__).resolve().parent / "golden" / "frr"


@pytest.mark.parametrize("name", sorted(path.name for path in GOLDEN.glob("*.cfg")))
def test_a_config_that_closes_its_contexts_reads_the_same_without_vtysh(name: str) -> None:
    """A running config is read without a `vtysh -m` start when it closes every context
    itself, as FRR prints it: frr-reload must then see exactly the contexts and lines the
    marking would have given it (the golden configs are written the way FRR prints)."""
    if shutil.which("vtysh") is None:
        pytest.skip("vtysh (Debian package frr) is not installed")
    text = (GOLDEN / name).read_text(encoding="utf-8")
    assert closes_every_context(text)
    marked, read = _marked(text), _marked(text, printed_by_frr=True)
    assert [(key, c.lines) for key, c in read.contexts.items()] == [  # type: ignore[attr-defined]
        (key, c.lines)
        for key, c in marked.contexts.items()  # type: ignore[attr-defined]
    ]


def test_a_running_config_without_its_exits_is_marked_by_vtysh(configs: dict[str, str]) -> None:
    """A hand-written running config that leaves a block open is not read as it is (its
    next top-level line would land inside the block, a change that is none): vtysh marks
    it, and the diff against the same config with its `exit` is empty."""
    candidate = configs["zunhua"]
    block = " description router id and BGP\n ip address 10.64.0.74/32\nexit\n"
    assert block in candidate
    unclosed = candidate.replace(block, block.removesuffix("exit\n"))
    assert not closes_every_context(unclosed)
    assert change_commands(candidate, unclosed) == []
