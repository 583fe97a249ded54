"""Live evidence: what each lab router shows now, read through an injected `NodeAccess`.

Per router, two commands in the node (as its SSH login would run them, or inside its
namespaces through the lab wiring):

- `vtysh -N NODE -c "show running-config"`: the `config` evidence, FRR's configuration as
  running (the same text the isolation live audit reads);
- `egovnet-facts` (the lab's script, lab/runner.py `FACTS`): the Linux side FRR does not
  hold, in sections `### egovnet-facts NAME: ORIGIN`: `sshd` (`sshd -T` of the config the
  running sshd was started with: the effective settings, defaults and includes resolved),
  `snmpd` (the config file the running snmpd was started with, keys masked by the script)
  and `services` (every listening socket of the node and its zone namespaces).

The part imports neither the lab nor the isolation part: the access is a small protocol, and
the wiring hands in the lab's (`egovnet.wiring.lab.RunnerAccess`). A host that cannot be
read (not running, a command failed, output it does not understand) fails closed: its
evidence carries the reason in `problems` and no text, so every rule needing that text is
`unverified`, never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from compliance.evidence import CONFIG, SNMPD, SSHD, EvidenceText, HostEvidence
from egovnet import platforms
from egovnet.configs.text import clean
from egovnet.model import Network, Node

SERVICES = "services"
FACTS_MARK = "### egovnet-facts"
"""The header of each section `egovnet-facts` prints (lab/runner.py `FACTS_MARK`)."""
FACTS_SECTIONS = (SSHD, SNMPD, SERVICES)
NOT_RUNNING = "not running"
WORKERS = 8
LIVE = "live"


class CompletedLike(Protocol):
    """A finished command: its exit code and output (isolation.access.Completed is one)."""

    @property
    def returncode(self) -> int: ...

    @property
    def stdout(self) -> str: ...

    @property
    def stderr(self) -> str: ...


class NodeAccess(Protocol):
    """Commands in the lab's running nodes."""

    def run(
        self, node: str, argv: Sequence[str], *, zone: str | None = None, timeout: float = 30.0
    ) -> CompletedLike:
        """Run `argv` in `node`."""
        ...

    def nodes(self) -> set[str]:
        """Names of the nodes that are running."""
        ...


def parse_facts(output: str, command: str) -> tuple[dict[str, EvidenceText], list[str]]:
    """The sections of `egovnet-facts` output as evidence texts, and what is missing.

    >>> texts, problems = parse_facts(
    ...     "### egovnet-facts sshd: sshd -T -f /run/s (pid 9)\\npasswordauthentication no\\n"
    ...     "### egovnet-facts snmpd: not running\\n"
    ...     "### egovnet-facts services: ss -Hlntup\\n- tcp LISTEN 0 128 10.1.0.2:22\\n"
    ...     "### egovnet-facts end\\n", "egovnet-facts")
    >>> texts["sshd"].text, texts["sshd"].origin
    ('passwordauthentication no\\n', 'egovnet-facts: sshd -T -f /run/s (pid 9)')
    >>> problems
    ['snmpd: not running']
    """
    sections: dict[str, tuple[str, list[str]]] = {}
    current: list[str] | None = None
    ended = False
    for line in output.splitlines():
        if line.startswith(FACTS_MARK):
            name, _, origin = line.removeprefix(FACTS_MARK).strip().partition(":")
            if name.strip() == "end":
                ended = True
                current = None
                continue
            current = []
            sections[name.strip()] = (origin.strip(), current)
        elif current is not None:
            current.append(line)
    texts: dict[str, EvidenceText] = {}
    problems: list[str] = []
    if not ended:
        problems.append(f"{command}: output ended early (no end marker): not trusted")
        return texts, problems
    for name in FACTS_SECTIONS:
        if name not in sections:
            problems.append(f"{name}: {command} printed no such section")
            continue
        origin, lines = sections[name]
        if origin == NOT_RUNNING:
            problems.append(f"{name}: {NOT_RUNNING}")
            continue
        body = "".join(f"{line}\n" for line in lines)
        if name != SERVICES and not body.strip():
            problems.append(f"{name}: {command} printed nothing for it ({origin})")
            continue
        texts[name] = EvidenceText(name, body, f"{command}: {origin}")
    return texts, problems


def _last_line(done: CompletedLike) -> str:
    said = (done.stderr or done.stdout).strip().splitlines()
    return said[-1] if said else f"exit {done.returncode}, no output"


def node_evidence(
    access: NodeAccess, node: Node, facts: Sequence[str], running: set[str]
) -> HostEvidence:
    """One router's live evidence (see the module docstring); what could not be read is in
    `problems`, never silently left out."""
    lab = platforms.lab_platform().name  # every lab router runs the lab's platform
    host = node.name
    if host not in running:
        return HostEvidence(host, lab, LIVE, {}, (f"{host} is not running in the lab",))
    texts: dict[str, EvidenceText] = {}
    problems: list[str] = []
    show = ["vtysh", "-N", host, "-c", "show running-config"]
    done = access.run(host, show)
    if done.returncode != 0:
        problems.append(f"config: show running-config failed: {_last_line(done)}")
    elif not done.stdout.strip():
        problems.append("config: show running-config printed nothing")
    else:
        origin = f"{host}: vtysh -c 'show running-config'"
        texts[CONFIG] = EvidenceText(CONFIG, clean(done.stdout), origin)
    command = " ".join(facts)
    done = access.run(host, list(facts))
    if done.returncode != 0:
        problems.append(f"{command} failed: {_last_line(done)}")
    else:
        found, missing = parse_facts(done.stdout, command)
        texts.update(found)
        problems.extend(missing)
    return HostEvidence(host, lab, LIVE, texts, tuple(problems))


def live_evidence(
    access: NodeAccess,
    network: Network,
    hosts: Sequence[str] | None = None,
    facts: Sequence[str] = ("egovnet-facts",),
) -> dict[str, HostEvidence]:
    """Every selected router's live evidence, a few routers at a time. `facts` is the
    command that prints the node's Linux side (the wiring passes the lab's path to it)."""
    wanted = set(hosts) if hosts is not None else None
    nodes = [n for n in network.nodes if wanted is None or n.name in wanted]
    running = access.nodes()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        found = pool.map(lambda node: node_evidence(access, node, facts, running), nodes)
        return {evidence.host: evidence for evidence in found}
