"""The minimal change between two FRR configs, computed by FRR's own `frr-reload.py`.

`frr-reload.py` (Debian package frr-pythontools) knows FRR's config grammar: which lines are
contexts, which `no` forms undo what, how VRF static routes are printed. Run as a script it
costs a Python start per node; here it is loaded once as a module and its `Config` and
`compare_context_objects` are called directly, for the candidate and for the running config
fetched over SSH, both marked by the local `vtysh -m` (which needs no daemon). So a diff is
computed on the operator's machine, away from the node, as DESIGN.md's lab notes describe.

A `vtysh` start is the cost of a diff (~30 ms of CPU each, three a router: the candidate's
syntax check, its marking, the running config's marking; 157 routers on two cores: ~7 s).
So each text is marked once per process (`marked_text`, by its content): the candidate's
marking is also its syntax check (`vtysh -m` parses like `vtysh -C` and stops with exit 2 at
the first line FRR does not know; only then does `vtysh -C` run, for its messages), and a
running config that has not changed since the backup (the diff after it, the push's diff,
the commit's) is never marked again.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType

from egovnet.errors import EgovnetError

DEFAULT_SCRIPT = Path("/usr/lib/frr/frr-reload.py")
VTYSH_DIR = "/usr/bin"


class FrrToolsMissingError(EgovnetError, FileNotFoundError):
    """frr-reload.py or vtysh is not installed on the operator's machine."""


@cache
def _module() -> ModuleType:
    """frr-reload.py as a module, loaded once ($EGOVNET_FRR_RELOAD overrides its path)."""
    script = Path(os.environ.get("EGOVNET_FRR_RELOAD", DEFAULT_SCRIPT))
    spec = importlib.util.spec_from_file_location("egovnet_frr_reload", script)
    if spec is None or spec.loader is None or not script.exists():
        raise FrrToolsMissingError(f"{script} not found: install Debian package frr-pythontools")
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():  # its regexes have escapes Python warns about
        warnings.simplefilter("ignore", DeprecationWarning)
        spec.loader.exec_module(module)
    # The script sets its logger up in main(), which is never called here.
    setattr(module, "log", logging.getLogger("egovnet.frr_reload"))  # noqa: B010 - a module, not a class
    return module


class MarkFailedError(EgovnetError):
    """`vtysh -m` refused a config: a line FRR does not know (or vtysh failed)."""


MARK_CACHE = 4096
"""Marked texts kept (a candidate and a running config or two per router of a run)."""


@lru_cache(maxsize=MARK_CACHE)
def marked_text(text: str) -> str:
    """`text` marked by `vtysh -m -f` (context ends made explicit), once per distinct text
    in this process; `MarkFailedError` with vtysh's message when it refuses the text."""
    with tempfile.NamedTemporaryFile("w", suffix=".conf", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        try:
            done = subprocess.run(  # noqa: S603 - fixed binary, our own temporary file
                [f"{VTYSH_DIR}/vtysh", "-m", "-f", handle.name],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
        except FileNotFoundError as exc:
            raise FrrToolsMissingError("vtysh not found: install Debian package frr") from exc
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise MarkFailedError(
            f"vtysh -m exited {done.returncode}" + (f": {message[-1]}" if message else "")
        )
    return done.stdout


@dataclass(frozen=True)
class _Premarked:
    """Stands in for frr-reload's `Vtysh` when a `Config` loads: hands it the text already
    marked (by the real `vtysh -m`, `marked_text`) instead of running vtysh again."""

    output: str

    def mark_file(self, filename: str, stdin: object = None) -> str:
        del filename, stdin
        return self.output


def closes_every_context(text: str) -> bool:
    """Whether `text` closes every context it opens with its own `exit` line, as FRR's
    `show running-config` does: then `vtysh -m` would add nothing frr-reload reads (only
    `end` lines, which it treats as the `exit`s already there), and the running side of a
    diff needs no `vtysh` start.

    Read by indentation, as FRR prints: a line followed by a deeper one opens a context,
    which must end in a line starting with `exit` at the opener's depth before anything
    at that depth or shallower. Anything else (a block left without its `exit`, as a
    hand-written file may) says no, and the text is marked by vtysh.

    >>> closes_every_context("interface lo\\n ip address 10.0.0.1/32\\nexit\\nhostname a\\n")
    True
    >>> closes_every_context("interface lo\\n ip address 10.0.0.1/32\\nhostname a\\n")
    False
    """
    open_at: list[int] = []
    previous: int | None = None
    for raw in text.splitlines():
        word = raw.strip()
        if not word or word.startswith("!"):
            continue
        depth = len(raw) - len(raw.lstrip(" "))
        if previous is not None and depth > previous:
            open_at.append(previous)
        previous = depth
        if open_at and depth <= open_at[-1]:
            if depth < open_at[-1] or not word.startswith("exit"):
                return False
            open_at.pop()
            previous = None  # an `exit` opens nothing
    return not open_at


def _marked(text: str, printed_by_frr: bool = False) -> object:
    """A frr-reload `Config` of `text` (a fresh one each call: frr-reload's comparison may
    change what it is given), from its cached marking. `printed_by_frr`: `text` is a
    device's `show running-config`, loaded as it is when it closes every context itself
    (`closes_every_context`); a candidate is always marked, its marking being its check."""
    module = _module()
    if printed_by_frr and closes_every_context(text):
        output = text
    else:
        try:
            output = marked_text(text)
        except MarkFailedError as exc:
            raise EgovnetError(f"vtysh could not read the config: {exc}") from exc
    config = module.Config(_Premarked(output))
    config.load_from_file("<marked>")
    return config


# Lines that FRR's daemons never show in `show running-config`: vtysh's own settings (kept in
# vtysh.conf on a box, given to vtysh at boot in the lab) and `ip forwarding`, shown only when
# off. Comparing them would report a change on every run, so both sides leave them out.
NOT_IN_RUNNING = (
    "frr version",
    "frr defaults",
    "service integrated-vtysh-config",
    "banner motd",
    "line vty",
    "ip forwarding",
)


# Lines that only close a context in a config file ("vrf x / ... / exit-vrf"). Typed at the
# prompt they would leave the context early and make the next block's `exit` leave config
# mode; each block closes its own contexts instead.
_CONTEXT_ENDS = frozenset({"!", "exit", "exit-vrf", "exit-address-family", "end", "quit"})


def _block_commands(context: list[str], line: str | None, delete: bool) -> list[str]:
    """One frr-reload change as commands typed at the `configure` prompt, returning to it
    afterwards so that changes can follow each other in one session."""
    commands = [text.strip() for text in _module().lines_to_config(context, line, delete)]
    if line is not None:
        return commands + ["exit"] * len(context)
    if delete:
        return commands + ["exit"] * (len(context) - 1)
    if len(context) > 1:
        return commands + ["exit"] * len(context)
    # A lone top-level line: a command ("ip route ...") or an empty context ("vrf x");
    # `end` + `configure terminal` returns to the top from either.
    return [*commands, "end", "configure terminal"]


def _changes(
    candidate: str, running: str, keep: str | None
) -> list[tuple[bool, list[str], str | None]]:
    """(delete?, context, line) for every change, deletions first as frr-reload orders them.

    `keep` is the address the operator reaches the device through: a deletion of it is
    left out, because it would cut the session in the middle of the change (a router booted
    with its management address outside FRR's config would lose it to a rollback)."""
    module = _module()
    to_add, to_delete = module.compare_context_objects(
        _marked(candidate), _marked(running, printed_by_frr=True)
    )
    kept = f"ip address {keep}/" if keep else None
    return [
        (delete, context, line)
        for delete, pairs in ((True, to_delete), (False, to_add))
        for context, line in pairs
        if line not in _CONTEXT_ENDS
        and not context[0].startswith(NOT_IN_RUNNING)
        and not (delete and kept and line and line.strip().startswith(kept))
    ]


def change_commands(candidate: str, running: str, keep: str | None = None) -> list[str]:
    """The commands that turn `running` into `candidate`: deletions first, as frr-reload
    does, then additions. Empty when nothing differs.

    Example: a changed neighbor description gives ``["router bgp 4200000008",
    "no neighbor 10.64.16.128 description old", "exit", "router bgp 4200000008",
    "neighbor 10.64.16.128 description new", "exit"]``. Lines FRR never shows in its running
    config (`NOT_IN_RUNNING`) are left out of both sides.
    """
    commands: list[str] = []
    for delete, context, line in _changes(candidate, running, keep):
        commands += _block_commands(context, line, delete)
    return commands


def change_text(host: str, candidate: str, running: str, keep: str | None = None) -> str:
    """The same change for people: each changed line under its context, `-` for what goes,
    `+` for what comes; only what frr-reload would change, not FRR's reordering of lines."""
    lines = [f"--- {host} running", f"+++ {host} intended"]
    for delete, context, line in _changes(candidate, running, keep):
        sign = "-" if delete else "+"
        if line is None:
            lines += [f"  {' ' * i}{key}" for i, key in enumerate(context[:-1])]
            lines.append(f"{sign} {' ' * (len(context) - 1)}{context[-1]}")
        else:
            lines += [f"  {' ' * i}{key}" for i, key in enumerate(context)]
            lines.append(f"{sign} {' ' * len(context)}{line.strip()}")
    return "\n".join(lines) + "\n" if len(lines) > 2 else ""


def change_summary(candidate: str, running: str, keep: str | None = None, limit: int = 4) -> str:
    """The change on one line, for an error message: each changed line with its context.

    Example: ``"+ timers bgp 4 9 (router bgp 4200000000); - timers bgp 3 9 (router bgp
    4200000000)"``: additions first, then deletions, ``"... and N more"`` past `limit`."""
    items = []
    for delete, context, line in _changes(candidate, running, keep):
        sign = "-" if delete else "+"
        if line is None:
            where = f" ({' / '.join(context[:-1])})" if len(context) > 1 else ""
            items.append(f"{sign} {context[-1]}{where}")
        else:
            items.append(f"{sign} {line.strip()} ({' / '.join(context)})")
    items.sort(key=lambda item: not item.startswith("+"))  # what should be there, first
    more = f"; ... and {len(items) - limit} more" if len(items) > limit else ""
    return "; ".join(items[:limit]) + more


def syntax_errors(config: str) -> list[str]:
    """What FRR's parser rejects in `config` (no daemon needed): empty when it is accepted.

    Its marking (`marked_text`, needed for the diff anyway and kept) is the check: `vtysh -m`
    parses as `vtysh -C` does and exits 2 at a line FRR does not know. Only a refused
    config costs a `vtysh -C -f`, whose messages name every rejected line."""
    try:
        marked_text(config)
    except MarkFailedError:
        pass
    else:
        return []
    with tempfile.NamedTemporaryFile("w", suffix=".conf", encoding="utf-8") as handle:
        handle.write(config)
        handle.flush()
        try:
            result = subprocess.run(  # noqa: S603 - fixed binary, our own temporary file
                [f"{VTYSH_DIR}/vtysh", "-C", "-f", handle.name],
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
        except FileNotFoundError as exc:
            raise FrrToolsMissingError("vtysh not found: install Debian package frr") from exc
    if result.returncode == 0:
        return []
    output = (result.stdout + result.stderr).splitlines()
    return [line.strip() for line in output if line.strip()] or [
        f"vtysh -C exited {result.returncode}"
    ]
