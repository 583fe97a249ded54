"""Deploying a lab plan as network namespaces on this machine, and removing it again.

Each node of the plan becomes a *holder*: `unshare --mount --uts --net --pid` around a
`sleep` whose argv[0] is `egovnet-lab:<lab>:<node>`. The holder is the node's PID 1, so
killing it takes every process of the node along, and its namespaces vanish with it: there
is no state file to go stale, `down` finds holders by their name in /proc. Inside a router:
tmpfs over /run and /etc/frr (its own /run/netns, so FRR's netns VRF backend sees only the
node's zone namespaces, named after the zones), FRR daemons with pathspace `-N <node>`.

The root namespace gets only the management bridge and one veth end per router on it, after
the guard (lab/guard.py) is in place, all named after the lab (lab/names.py): `down` of one
lab removes its own and never another's. `host` is a command prefix for "the root namespace":
empty on a real machine, an `nsenter` into a scratch namespace in tests.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from egovnet.errors import EgovnetError
from egovnet.probes import snmp_answers, ssh_answers
from egovnet.render.host_services import HostServices
from egovnet.secret_files import write_private
from egovnet.secrets import SnmpCredentials
from lab.names import bridge, interface_prefix, lab_tag, management_veth
from lab.plan import LabNode, LabPlan

MARK = "egovnet-lab"
FRR = Path("/usr/lib/frr")
DAEMONS = ("zebra", "bgpd", "staticd")
SNMP_DAEMONS = ("zebra", "bgpd")
"""Daemons loaded with FRR's SNMP module (Debian's frr-snmp): AgentX sub-agents of snmpd."""
START_FRR = "/usr/lib/frr/frrinit.sh restart"
"""The containerlab file's last exec on a router; here it means: start FRR now."""
WAIT = 15.0
SSH_DIR = "/run/egovnet-ssh"
SNMP_DIR = "/run/egovnet-snmp"
"""snmpd's config and persistent state, and SNMPCONFPATH for FRR's AgentX sub-agents."""
STEP_FAILED = f"{MARK}-step-failed"
"""What `Holder.steps` prints on stderr before giving up: the index of the failed command."""
WORKERS = 8
"""Nodes set up at once: the work is mostly waiting (process starts, the kernel, FRR reading
its config), so more than the 2 cores' worth overlaps well."""
AGENTX_SOCKET = "tcp:127.0.0.1:705"
"""Loopback is per node, so every node has its own master agent on the same port."""


SSHD = "/usr/sbin/sshd"
BOUND_CONFIG = "/etc/frr/frr.conf"
LOGIN = """#!/bin/sh
# ForceCommand of lab router {node}: a login lands in vtysh, as on a router's CLI. The other
# commands: `egovnet-facts` prints the node's Linux side (sshd, snmpd, listening sockets), and
# the node's packet filter (the exit's firewall and NAT live in nftables, outside FRR):
# `egovnet-nft NETNS list` prints the ruleset of a zone namespace,
# `egovnet-nft NETNS apply` loads an nft script from standard input as one transaction.
set -eu
case "${{SSH_ORIGINAL_COMMAND:-}}" in
    "") exec vtysh -N {node} ;;
    "egovnet-facts") exec {facts} ;;
    "egovnet-nft "*) ;;
    *) echo "only vtysh, egovnet-facts and egovnet-nft here" >&2; exit 126 ;;
esac
set -f
set -- $SSH_ORIGINAL_COMMAND
zones=$(ip netns list | cut -d' ' -f1)
if [ $# -ne 3 ] || ! printf '%s\\n' "$zones" | grep -qxF -- "$2"; then
    echo "usage: egovnet-nft NETNS list|apply (NETNS: $(echo $zones))" >&2
    exit 2
fi
case "$3" in
    list) exec ip netns exec "$2" nft list ruleset ;;
    apply) exec ip netns exec "$2" nft -f - ;;
    *) echo "egovnet-nft: list or apply, not $3" >&2; exit 2 ;;
esac
"""


FACTS_PATH = "/run/egovnet-facts"
FACTS_MARK = "### egovnet-facts"
"""Each section of `egovnet-facts` starts with a line `### egovnet-facts NAME: ORIGIN`."""
FACTS = r"""#!/bin/sh
# egovnet-facts of lab router {node}: the node's Linux side, as an assessor reads it. Sections
# `### egovnet-facts NAME: ORIGIN` (NAME: sshd, snmpd, services), then `### egovnet-facts end`.
# - sshd: `sshd -T` of the config file the running sshd was started with (its -f), i.e. the
#   effective settings after defaults and includes; "not running" when it is not;
# - snmpd: the config file the running snmpd was started with (its -c), every key and
#   community replaced by ********;
# - services: every listening TCP/UDP socket (`ss -Hlntup`), of the node and of each of its
#   zone namespaces, each line prefixed by the namespace ("-" for the node's own).
set -u
pid_of() {{
    [ -r "$1" ] || return 0
    read -r pid < "$1" || return 0
    if [ -d "/proc/$pid" ]; then echo "$pid"; fi
}}
arg_after() {{
    # OpenSSH rewrites its process title ("sshd: /usr/sbin/sshd -f FILE [listener] ..."):
    # split on spaces as well as on NULs
    tr '\0 ' '\n\n' < "/proc/$1/cmdline" |
        awk -v flag="$2" 'seen {{ print; exit }} $0 == flag {{ seen = 1 }}'
}}
pid=$(pid_of {ssh_dir}/sshd.pid)
if [ -n "$pid" ]; then
    conf=$(arg_after "$pid" -f)
    if [ -z "$conf" ]; then
        echo "{mark} sshd: not running with a config file this script can name (pid $pid)"
    else
        echo "{mark} sshd: sshd -T -f $conf (pid $pid)"
        sshd -T -f "$conf" 2>&1
    fi
else
    echo "{mark} sshd: not running"
fi
pid=$(pid_of {snmp_dir}/snmpd.pid)
if [ -n "$pid" ]; then
    conf=$(arg_after "$pid" -c)
    echo "{mark} snmpd: ${{conf:-no -c FILE in its command line}} (pid $pid)"
    [ -n "$conf" ] && [ -r "$conf" ] || conf=/dev/null  # an empty section: not trusted
    awk '
        $1 == "createUser" {{
            line = $1 " " $2 " " $3
            for (i = 4; i <= NF; i++) {{
                if ($i ~ /^(MD5|SHA|SHA-[0-9]+|DES|AES|AES-?[0-9]+)$/) line = line " " $i
                else line = line " ********"
            }}
            print line
            next
        }}
        $1 ~ /^(ro|rw)community6?$/ && NF >= 2 {{ $2 = "********" }}
        $1 == "com2sec" && NF >= 3 {{ $NF = "********" }}
        $1 ~ /^(trapsink|trap2sink|informsink)$/ && NF >= 3 {{ $3 = "********" }}
        {{ print }}
    ' "$conf" 2>&1
else
    echo "{mark} snmpd: not running"
fi
echo "{mark} services: ss -Hlntup (the node, then each zone namespace)"
ss -Hlntup | sed 's/^/- /'
for zone in $(ip netns list | cut -d' ' -f1); do
    ss -N "$zone" -Hlntup | sed "s/^/$zone /"
done
echo "{mark} end"
"""


class LabError(EgovnetError, RuntimeError):
    """The lab could not be brought up or down; the message says which node and step."""


@dataclass(frozen=True)
class Fed:
    """A command of `Holder.steps` with text for its standard input (`ip -batch -`)."""

    argv: tuple[str, ...]
    stdin: str


@dataclass(frozen=True)
class Holder:
    """A running node: its name and the PID (in the root PID namespace) of its PID 1."""

    lab: str
    node: str
    pid: int

    def enter(self, *argv: str, check: bool = True, stdin: str | None = None) -> str:
        """Run a command in all the node's namespaces; its stdout."""
        command = ["nsenter", "-t", str(self.pid), "-m", "-u", "-n", "-p", *argv]
        done = subprocess.run(command, capture_output=True, text=True, input=stdin, check=False)
        if check and done.returncode != 0:
            raise LabError(
                f"node {self.node}: {' '.join(argv)}: {done.stderr.strip() or done.stdout.strip()}"
            )
        return done.stdout

    def steps(self, *commands: Sequence[str] | Fed) -> None:
        """Run commands one after the other in the node, all in one `nsenter` (one process
        start from here instead of one per command); stop at the first that fails and raise
        LabError naming it, as `enter` would have for that command alone."""
        if not commands:
            return
        lines = []
        argvs = []
        for index, command in enumerate(commands):
            argv = command.argv if isinstance(command, Fed) else tuple(command)
            argvs.append(argv)
            fail = f"|| {{ echo '{STEP_FAILED} {index}' >&2; exit 1; }}"
            if isinstance(command, Fed):
                end = f"{MARK}-input-end"
                lines.append(f"{shlex.join(argv)} <<'{end}' {fail}\n{command.stdin}{end}")
            else:
                lines.append(f"{shlex.join(argv)} {fail}")
        enter = ["nsenter", "-t", str(self.pid), "-m", "-u", "-n", "-p", "sh", "-c"]
        done = subprocess.run(
            [*enter, "\n".join(lines)], capture_output=True, text=True, check=False
        )
        if done.returncode == 0:
            return
        failed = [line for line in done.stderr.splitlines() if line.startswith(STEP_FAILED)]
        said = "\n".join(
            line for line in done.stderr.splitlines() if not line.startswith(STEP_FAILED)
        ).strip()
        which = " ".join(argvs[int(failed[-1].split()[-1])]) if failed else "sh"
        raise LabError(f"node {self.node}: {which}: {said or done.stdout.strip()}")

    def path(self, inside: str) -> Path:
        """A path of the node's own mount namespace, seen from the host."""
        return Path(f"/proc/{self.pid}/root") / inside.lstrip("/")


def _marker(lab: str, node: str) -> str:
    return f"{MARK}:{lab}:{node}"


def _command_lines() -> Iterator[tuple[int, bytes]]:
    """(pid, raw command line) of every process of this machine but this one."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            yield int(proc.name), (proc / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile


def find_holders(lab: str | None = None) -> list[Holder]:
    """Every node holder on this machine (of one lab, or of all), found by argv[0]."""
    holders = []
    for pid, cmdline in _command_lines():
        argv0 = cmdline.split(b"\0", 1)[0].decode(errors="replace")
        if not argv0.startswith(f"{MARK}:"):
            continue
        _, lab_name, node = argv0.split(":", 2)
        if lab is None or lab_name == lab:
            holders.append(Holder(lab_name, node, pid))
    return sorted(holders, key=lambda h: h.node)


def tag_clashes(lab: str) -> list[str]:
    """Other labs running here whose tag is `lab`'s: their root-namespace names would be
    this lab's (lab/names.py), so `lab up` must not start beside them."""
    tag = lab_tag(lab)
    return sorted({h.lab for h in find_holders() if h.lab != lab and lab_tag(h.lab) == tag})


def _run(host: Sequence[str], *argv: str, check: bool = True) -> str:
    done = subprocess.run([*host, *argv], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise LabError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def _wait(what: str, ready: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def _start_holder(host: Sequence[str], lab: str, node: str) -> Holder:
    marker = _marker(lab, node)
    # setsid: the holder must outlive `lab up`; --kill-child: unshare's death ends the node
    argv = [
        *host,
        "setsid",
        "unshare",
        "--mount",
        "--uts",
        "--net",
        "--pid",
        "--fork",
        "--kill-child",
        "--propagation",
        "private",
        "--mount-proc",
        "bash",
        "-c",
        f'exec -a "{marker}" sleep infinity',
    ]
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # nsenter and setsid exec in place, so the holder is unshare's child: look there rather
    # than scan all of /proc for every node (quadratic at a province's size)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    found: list[Holder] = []

    def started() -> bool:
        try:
            pids = children.read_text().split()
        except OSError:
            pids = []
        for pid in pids:
            try:
                argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode()
            except OSError:
                continue
            if argv0 == marker:
                found[:] = [Holder(lab, node, int(pid))]
        if process.poll() is not None and not found:
            raise LabError(f"node {node}: unshare exited {process.returncode}")
        return bool(found)

    _wait(f"node {node} to start", started)
    holder = found[0]
    mountinfo = Path(f"/proc/{holder.pid}/mountinfo").read_text()
    if " shared:" in mountinfo:  # never mount over the host's /run
        raise LabError(f"node {node}: its mount namespace still shares mounts with the host")
    return holder


def _prepare_router(holder: Holder) -> None:
    # /var/tmp too: FRR keeps crash logs in /var/tmp/frr/<daemon>.<pid>, and pids repeat
    # across nodes (each node has its own PID namespace)
    tmpfs = ("/run", "/etc/frr", "/var/tmp")  # noqa: S108 - a tmpfs of the node's own
    owned = (f"/run/frr/{holder.node}", f"/etc/frr/{holder.node}", "/run/netns")
    holder.steps(
        *(("mount", "-t", "tmpfs", "-o", "mode=0755", MARK, point) for point in tmpfs),
        ("hostname", holder.node),  # vtysh keeps the config's hostname to itself
        *(("install", "-d", "-o", "frr", "-g", "frr", directory) for directory in owned),
        (
            "install",
            "-o",
            "frr",
            "-g",
            "frr",
            "-m",
            "0640",
            "/dev/null",
            f"/etc/frr/{holder.node}/vtysh.conf",
        ),
        ("ip", "link", "set", "lo", "up"),
    )


def _start_frr(holder: Holder, node: LabNode) -> list[str]:
    """Start the daemons, load the node's config; the lines FRR rejected (none on success)."""
    name = holder.node
    starts: list[list[str]] = []
    for daemon in DAEMONS:
        extra = (["-n"] if daemon == "zebra" else []) + (
            ["-M", "snmp"] if daemon in SNMP_DAEMONS else []
        )
        starts.append(
            [
                "env",
                f"SNMPCONFPATH={SNMP_DIR}",
                str(FRR / daemon),
                *extra,
                "-N",
                name,
                "-d",
                "-u",
                "frr",
                "-g",
                "frr",
                "-A",
                "127.0.0.1",
                "-P",
                "0",
                "--log",
                f"file:/run/frr/{name}/{daemon}.log",
            ]
        )
    holder.steps(*starts)
    sockets = [holder.path(f"/run/frr/{name}/{daemon}.vty") for daemon in DAEMONS]
    _wait(f"FRR daemons of {name}", lambda: all(s.exists() for s in sockets))
    if node.config is None:
        return []
    target = f"/etc/frr/{name}/frr.conf"
    holder.path(target).write_text(node.config.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(
        [
            "nsenter",
            "-t",
            str(holder.pid),
            "-m",
            "-u",
            "-n",
            "-p",
            "vtysh",
            "-N",
            name,
            "-f",
            target,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    rejected = [
        line
        for line in done.stdout.splitlines()
        if line.startswith("%") or "Unknown command" in line or "Failure to communicate" in line
    ]
    if done.returncode != 0 and not rejected:
        rejected = [done.stdout.strip() or done.stderr.strip() or f"vtysh exited {done.returncode}"]
    return rejected


def _exec(holder: Holder, node: LabNode) -> bool:
    """Run the node's exec commands as containerlab would; True if FRR is to start after."""
    commands = [_exec_argv(command) for command in node.exec if command != START_FRR]
    holder.steps(*_batched(commands))
    return START_FRR in node.exec


def _batched(commands: Sequence[tuple[str, ...]]) -> list[tuple[str, ...] | Fed]:
    """Runs of consecutive `ip` commands in one namespace as one `ip -batch` each, in order
    (ip stops at the first that fails, as the commands one by one would).

    >>> _batched([("ip", "netns", "add", "z"), ("ip", "link", "set", "a", "netns", "z"),
    ...           ("ip", "-n", "z", "link", "set", "a", "up"), ("sh", "-c", "x")])
    ... # doctest: +NORMALIZE_WHITESPACE
    [Fed(argv=('ip', '-batch', '-'), stdin='netns add z\\nlink set a netns z\\n'),
     ('ip', '-n', 'z', 'link', 'set', 'a', 'up'), ('sh', '-c', 'x')]
    """
    runs: list[tuple[tuple[str, ...], list[tuple[str, ...]]]] = []
    for argv in commands:
        if argv[0] != "ip":
            runs.append(((), [argv]))
            continue
        where = tuple(argv[1:3]) if argv[1:2] == ("-n",) else ()
        if runs and runs[-1][0] == where and runs[-1][1][-1][0] == "ip":
            runs[-1][1].append(argv)
        else:
            runs.append((where, [argv]))
    result: list[tuple[str, ...] | Fed] = []
    for where, run in runs:
        if len(run) == 1 or run[0][0] != "ip":
            result.extend(run)
            continue
        body = "".join(" ".join(argv[1 + len(where) :]) + "\n" for argv in run)
        result.append(Fed(("ip", *where, "-batch", "-"), body))
    return result


SHELL_SYNTAX = frozenset("|&;<>()$`\\\"'*?[]#~=%{}\n")


def _exec_argv(command: str) -> tuple[str, ...]:
    """How to run one exec command with the same effect and the fewest processes: a plain
    command (no shell syntax) as it is, `ip netns exec ZONE ip ARGS` as `ip -n ZONE ARGS`
    (same namespace, without the mount namespace and /sys remount `ip netns exec` sets up,
    which made it most of a router's boot), anything else through `sh -c` as containerlab.

    >>> _exec_argv("ip netns exec private ip link set eth1.100 up")
    ('ip', '-n', 'private', 'link', 'set', 'eth1.100', 'up')
    >>> _exec_argv("ip netns exec private sysctl -qw net.ipv4.ip_forward=1")
    ('sh', '-c', 'ip netns exec private sysctl -qw net.ipv4.ip_forward=1')
    >>> _exec_argv("ip link set eth1 netns private")
    ('ip', 'link', 'set', 'eth1', 'netns', 'private')
    """
    if SHELL_SYNTAX.intersection(command):
        return ("sh", "-c", command)
    words = command.split()
    if len(words) > 5 and words[:3] == ["ip", "netns", "exec"] and words[4] == "ip":
        return ("ip", "-n", words[3], *words[5:])
    return tuple(words)


def up(
    plan: LabPlan,
    *,
    host: Sequence[str] = (),
    progress: Callable[[str, int, int], None] = lambda _phase, _done, _total: None,
    ssh_key: str | None = None,
    snmp_users: Sequence[SnmpCredentials] = (),
    services: Mapping[str, HostServices] | None = None,
    bare: bool = False,
) -> list[Holder]:
    """Bring the plan up; idempotent: a plan already up is left as it is.

    `ssh_key` is the lab's public key: with it, every router runs sshd on its management
    address and a login with the key lands in its vtysh. With `snmp_users`, every router
    runs snmpd there too (SNMPv3 authPriv), the master agent of FRR's AgentX sub-agents.
    Both run the configs the core rendered for the node (`services`,
    `egovnet.render.host_services`: the hardening graded protection checks), to which the
    lab adds only its own paths; a router with none is a LabError.
    `bare` starts FRR with no configuration at all (management access only), so that a
    rollout can configure everything, as on a router fresh out of its box.

    The guard must be in place before this is called (the CLI does that); every failure
    raises LabError after taking down what this call started, so nothing is half-applied.
    """
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, veths, nftables)")
    clashes = tag_clashes(plan.name)
    if clashes:
        raise LabError(
            f"lab {plan.name} would share its interface names (tag {lab_tag(plan.name)}) with "
            f"the running lab {', '.join(clashes)}: give one of them another lab name"
        )
    existing = {h.node for h in find_holders(plan.name)}
    if existing == set(plan.nodes):
        return find_holders(plan.name)
    if existing:
        raise LabError(
            f"lab {plan.name} is partly up ({len(existing)} of {len(plan.nodes)} nodes): "
            f"run `egovnet lab down --lab {plan.name}` first"
        )
    if bare:
        nodes = {name: replace(node, config=None) for name, node in plan.nodes.items()}
        plan = replace(plan, nodes=nodes)
    try:
        return _up(plan, host, progress, ssh_key, snmp_users, services or {})
    except BaseException:
        down(plan.name, host=host)
        raise


INOTIFY_LIMIT = Path("/proc/sys/fs/inotify/max_user_instances")


def _raise_inotify_limit(routers: int) -> None:
    """Each zebra -n watches /run/netns with inotify, all as user frr: the default limit of
    128 instances per user stops a province-sized lab. Raise it (never lower it)."""
    needed = 4 * routers + 128
    if int(INOTIFY_LIMIT.read_text()) < needed:
        INOTIFY_LIMIT.write_text(f"{needed}\n")


NEIGHBOUR_LIMITS = {
    family: [Path(f"/proc/sys/net/{family}/neigh/default/gc_thresh{n}") for n in (1, 2, 3)]
    for family in ("ipv4", "ipv6")
}


def _raise_neighbour_limits(interfaces: int) -> None:
    """The kernel's ARP and neighbour-discovery tables are shared by every network namespace
    of the machine, and `gc_thresh3` (1024 by default) caps them all together. A
    province-sized lab has more neighbours than that (every veth end has a few): past the
    cap, new entries fail, a ping or an SSH login waits seconds for ARP, and `lab status`
    took 8 minutes and called a hundred routers unreachable. Raise the three thresholds to
    what the plan needs (never lower them)."""
    wanted = (4 * interfaces, 8 * interfaces, 16 * interfaces)
    for paths in NEIGHBOUR_LIMITS.values():
        for path, value in zip(paths, wanted, strict=True):
            if path.exists() and int(path.read_text()) < value:
                path.write_text(f"{value}\n")


def _up(
    plan: LabPlan,
    host: Sequence[str],
    progress: Callable[[str, int, int], None],
    ssh_key: str | None,
    snmp_users: Sequence[SnmpCredentials],
    services: Mapping[str, HostServices],
) -> list[Holder]:
    nodes = list(plan.nodes.values())
    if ssh_key is not None or snmp_users:
        unrendered = [
            n.name
            for n in nodes
            if n.role == "router" and n.management is not None and n.name not in services
        ]
        if unrendered:
            raise LabError(
                f"no rendered sshd/snmpd config for {', '.join(unrendered[:3])}: "
                "the plan is not this inventory's"
            )
    _raise_inotify_limit(len(plan.routers()))
    _raise_neighbour_limits(2 * len(plan.links) + len(plan.nodes))
    holders: dict[str, Holder] = {}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        # nodes are independent until linked: start them a few at a time (each start waits on
        # unshare and on the kernel far more than it computes)
        started = pool.map(lambda n: _start_node(host, plan.name, n), nodes)
        for index, holder in enumerate(started, 1):
            holders[holder.node] = holder
            progress("namespaces", index, len(nodes))
    # every link and the management network, from the root namespace, in one `ip -batch`
    # (one process, not three a link); each node brings its own ends up when it boots
    lab_bridge = bridge(plan.name)
    batch = [
        f"link add {lab_bridge} type bridge",
        f"address add {plan.gateway}/{plan.management.prefixlen} dev {lab_bridge}",
        f"link set {lab_bridge} up",
    ]
    ends: dict[str, list[str]] = {node.name: [] for node in nodes}
    for link in plan.links:
        (a_node, a_if), (b_node, b_if) = link.a, link.b
        a, b = holders[a_node].pid, holders[b_node].pid
        batch.append(f"link add {a_if} netns {a} type veth peer name {b_if} netns {b}")
        ends[a_node].append(a_if)
        ends[b_node].append(b_if)
    for index, node in enumerate(n for n in nodes if n.management is not None):
        outside = management_veth(plan.name, index)
        pid = holders[node.name].pid
        batch.append(f"link add {outside} type veth peer name eth0 netns {pid}")
        batch.append(f"link set {outside} master {lab_bridge} up")
    _ip_batch(host, batch)
    progress("links", len(plan.links), len(plan.links))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        booted = pool.map(
            lambda n: _boot(
                holders[n.name], n, plan, ends[n.name], ssh_key, snmp_users, services.get(n.name)
            ),
            nodes,
        )
        for index, _ in enumerate(booted, 1):
            progress("daemons", index, len(nodes))
    return [holders[n.name] for n in nodes]


def _start_node(host: Sequence[str], lab: str, node: LabNode) -> Holder:
    holder = _start_holder(host, lab, node.name)
    if node.role == "router":
        _prepare_router(holder)
    return holder


def _ip_batch(host: Sequence[str], commands: Sequence[str]) -> None:
    """Run `ip` commands in the root namespace as one `ip -batch`; LabError naming the first
    that failed (ip stops there)."""
    done = subprocess.run(
        [*host, "ip", "-batch", "-"],
        input="".join(f"{command}\n" for command in commands),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return
    failed = ""
    for line in done.stderr.splitlines():  # "Command failed -:LINE"
        if line.startswith("Command failed -:"):
            number = int(line.rsplit(":", 1)[1])
            failed = f"ip {commands[number - 1]}: " if 0 < number <= len(commands) else ""
    said = " ".join(
        line for line in done.stderr.splitlines() if not line.startswith("Command failed")
    )
    raise LabError(f"{failed or 'ip -batch: '}{said.strip()}")


def _bring_up_interfaces(
    holder: Holder, node: LabNode, plan: LabPlan, interfaces: Sequence[str]
) -> None:
    """The node's ends of its links up, and its management address on eth0, in one go."""
    batch = [f"link set {name} up" for name in interfaces]
    if node.management is not None:
        batch.append(f"address add {node.management}/{plan.management.prefixlen} dev eth0")
        batch.append("link set eth0 up")
    if batch:
        holder.steps(Fed(("ip", "-batch", "-"), "".join(f"{line}\n" for line in batch)))


def _boot(
    holder: Holder,
    node: LabNode,
    plan: LabPlan,
    interfaces: Sequence[str],
    ssh_key: str | None,
    snmp_users: Sequence[SnmpCredentials],
    services: HostServices | None,
) -> None:
    """Bring the node's interfaces up, run its exec commands, then on a router: snmpd (the
    AgentX master), FRR (LabError if it rejects a line) and, with a lab key, sshd on the
    management address."""
    _bring_up_interfaces(holder, node, plan, interfaces)
    # a host's binds (a DNS host's named files), in its own mount namespace only
    holder.steps(*(("mount", "--bind", str(source), target) for source, target in node.mounts))
    if node.role == "router":
        _install_facts(holder)
    if node.role == "router" and node.config is not None:
        # where containerlab binds it: the exec lines may read it (the exit's packet filter)
        holder.path(BOUND_CONFIG).write_text(node.config.read_text(encoding="utf-8"))
    start_frr = _exec(holder, node)
    if node.role == "router" and node.management is not None and snmp_users and services:
        _start_snmpd(holder, services.snmpd)
    if node.role == "router" and (start_frr or not node.exec):
        rejected = _start_frr(holder, node)
        if rejected:
            raise LabError(f"node {node.name}: FRR rejected its config: {'; '.join(rejected[:3])}")
    if node.role == "router" and node.management is not None and ssh_key and services:
        _start_sshd(holder, node, ssh_key, services.sshd)


def _install_facts(holder: Holder) -> None:
    """`egovnet-facts` in the router (FACTS): what its SSH login runs for that command and
    what a compliance check runs inside the node."""
    facts = holder.path(FACTS_PATH)
    facts.write_text(
        FACTS.format(node=holder.node, ssh_dir=SSH_DIR, snmp_dir=SNMP_DIR, mark=FACTS_MARK)
    )
    facts.chmod(0o755)


def _start_snmpd(holder: Holder, rendered: str) -> None:
    """snmpd on the management address with the node's rendered snmpd.conf (SNMPv3 users
    only, authPriv), plus what is the lab's: master for AgentX, so that FRR's zebra and
    bgpd answer IF-MIB and BGP4-MIB through it."""
    holder.enter("install", "-d", "-m", "0700", SNMP_DIR, f"{SNMP_DIR}/persist")
    agentx = f"agentXSocket {AGENTX_SOCKET}\n"
    holder.path(f"{SNMP_DIR}/frr.conf").write_text(agentx)  # read by FRR's sub-agents
    # createUser is in the rendered text, not in the persistent file: -C (no default
    # config files) skips that
    write_private(  # it holds the SNMPv3 keys
        holder.path(f"{SNMP_DIR}/snmpd.conf"), snmpd_lab_lines() + rendered
    )
    holder.enter(*SNMPD_COMMAND)


def _start_sshd(holder: Holder, node: LabNode, public_key: str, rendered: str) -> None:
    """sshd with the node's rendered sshd_config (keys only, management address and
    network only, idle timeout, lockout), plus the lab's own paths: host key, pid file,
    authorised keys and the login landing in the node's vtysh like a login on a router
    lands in its CLI (`LOGIN`: and the packet-filter command). Host key, config and login
    script live in the node's tmpfs."""
    holder.steps(
        ("install", "-d", "-m", "0755", "/run/sshd"),  # sshd's privilege-separation dir
        ("install", "-d", "-m", "0700", SSH_DIR),
        ("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{SSH_DIR}/host_ed25519"),
    )
    holder.path(f"{SSH_DIR}/authorized_keys").write_text(public_key.strip() + "\n")
    holder.path(f"{SSH_DIR}/sshd_config").write_text(sshd_lab_lines() + rendered)
    login = holder.path(f"{SSH_DIR}/login")
    login.write_text(LOGIN.format(node=node.name, facts=FACTS_PATH))
    login.chmod(0o755)
    holder.enter(SSHD, "-f", f"{SSH_DIR}/sshd_config")


def down(lab: str, *, host: Sequence[str] = ()) -> list[str]:
    """Remove every node of `lab` and its management bridge and veths; the nodes removed.

    Works from what exists (holders found in /proc), so it also cleans up after a `lab up`
    that was killed half-way. Killing a node's PID 1 ends all its processes, and its
    namespaces, veths and tmpfs mounts go with them.
    """
    removed = [holder.node for holder in find_holders(lab)]

    def gone() -> bool:
        # Holders, and also nodes still starting (an unshare or bash that carries the marker
        # in its arguments and has not become the marked sleep yet: `lab up` killed just then)
        pids = _marked_processes(lab)
        for pid in pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                continue
        return not pids

    _wait("lab nodes to exit", gone)

    # The kernel frees a dead node's namespace, and with it the root end of its management
    # veth, a moment later and asynchronously: delete what is left and wait until it is gone.
    def links_gone() -> bool:
        names = _lab_links(host, lab)
        for name in names:
            _run(host, "ip", "link", "del", name, check=False)
        return not names

    _wait("the lab's links in the root namespace to go", links_gone)
    return removed


def _lab_links(host: Sequence[str], lab: str) -> list[str]:
    """The lab's interfaces in the root namespace: its management bridge and veth ends."""
    own = interface_prefix(lab)
    listing = _run(host, "ip", "-o", "link", "show", check=False)
    names = [
        line.split(":")[1].strip().split("@")[0] for line in listing.splitlines() if ":" in line
    ]
    return [name for name in names if name.startswith(own)]


def _marked_processes(lab: str) -> list[int]:
    """Every process whose command line carries the lab's node marker, in any argument."""
    needle = f"{MARK}:{lab}:".encode()
    return [pid for pid, cmdline in _command_lines() if needle in cmdline]


@dataclass(frozen=True)
class NodeStatus:
    """One node as `lab status` reports it.

    Example: ``NodeStatus(node="zhengding", role="router", running=True,
    daemons=("zebra", "bgpd", "staticd"), sessions_up=6, sessions=6, ssh=True)``
    `ssh` is None where no sshd was started (hosts, or a lab without a key).
    """

    node: str
    role: str
    running: bool
    daemons: tuple[str, ...]
    sessions_up: int
    sessions: int
    ssh: bool | None = None
    snmp: bool | None = None
    management: str | None = None
    holder: str | None = None
    """The node's namespaces, as /proc/<pid>/ns/*: its PID 1 (the holder), None when down."""

    @property
    def healthy(self) -> bool:
        if not self.running:
            return False
        if self.role != "router":
            return True
        return (
            set(self.daemons) >= set(DAEMONS)
            and self.sessions_up == self.sessions
            and self.ssh is not False
            and self.snmp is not False
        )


def bgp_sessions(holder: Holder) -> tuple[int, int]:
    """(established, configured) BGP sessions of a router, over every VRF."""
    output = holder.enter(
        "vtysh", "-N", holder.node, "-c", "show bgp vrf all summary json", check=False
    )
    try:
        data = json.loads(output or "{}")
    except ValueError:
        return 0, 0
    states = [
        peer.get("state")
        for vrf in data.values()
        if isinstance(vrf, dict)
        for family in vrf.values()
        if isinstance(family, dict)
        for peer in (family.get("peers") or {}).values()
    ]
    return sum(1 for s in states if s == "Established"), len(states)


def status(plan: LabPlan) -> list[NodeStatus]:
    """Every node of the plan: running, its daemons, its BGP sessions up of configured."""
    holders = {h.node: h for h in find_holders(plan.name)}
    result = []
    for node in plan.nodes.values():
        holder = holders.get(node.name)
        daemons: tuple[str, ...] = ()
        up_count = total = 0
        ssh: bool | None = None
        snmp: bool | None = None
        if holder is not None and node.role == "router":
            shown = holder.enter("vtysh", "-N", node.name, "-c", "show daemons", check=False)
            daemons = tuple(shown.split())
            up_count, total = bgp_sessions(holder)
            if node.management is not None and holder.path(f"{SSH_DIR}/sshd.pid").exists():
                ssh = ssh_answers(str(node.management))
            if node.management is not None and holder.path(f"{SNMP_DIR}/snmpd.pid").exists():
                snmp = snmp_answers(str(node.management))
        result.append(
            NodeStatus(
                node.name,
                node.role,
                holder is not None,
                daemons,
                up_count,
                total,
                ssh,
                snmp,
                str(node.management) if node.management else None,
                f"/proc/{holder.pid}/ns" if holder else None,
            )
        )
    return result


def wait_converged(plan: LabPlan, timeout: float = 60.0) -> float:
    """Seconds until every router has all its BGP sessions Established (LabError past timeout).

    Routers are asked a few at a time, and a router seen converged is not asked again until
    all are; then every router is asked once more, so the answer holds for all at one time.
    """
    started = time.monotonic()
    holders = [h for h in find_holders(plan.name) if plan.nodes[h.node].role == "router"]
    pending = list(holders)

    def done(holder: Holder) -> bool:
        established, configured = bgp_sessions(holder)
        return configured > 0 and established >= configured

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:

        def converged() -> bool:
            pending[:] = [
                h for h, ok in zip(pending, pool.map(done, pending), strict=True) if not ok
            ]
            if pending:
                return False
            pending[:] = [
                h for h, ok in zip(holders, pool.map(done, holders), strict=True) if not ok
            ]
            return not pending

        _wait("every BGP session to be Established", converged, timeout)
    return time.monotonic() - started


def sshd_lab_lines() -> str:
    """What the lab adds to a router's rendered sshd_config: its own paths (host key, pid
    file, authorised keys) and the login command, never policy."""
    return (
        f"HostKey {SSH_DIR}/host_ed25519\n"
        f"PidFile {SSH_DIR}/sshd.pid\n"
        f"AuthorizedKeysFile {SSH_DIR}/authorized_keys\n"
        f"ForceCommand {SSH_DIR}/login\n"
        # sshd runs the ForceCommand through root's shell, and Debian's bash sources the
        # caller's ~/.bashrc for a command sshd runs unless it is nested (SHLVL >= 2):
        # this machine's (pyenv init) cost 0.2-0.3 s of every login, 0.1 s of it CPU. A
        # router's CLI login never runs an operator's dotfiles.
        "SetEnv SHLVL=1\n"
    )


def snmpd_lab_lines() -> str:
    """What the lab adds to a router's rendered snmpd.conf: the AgentX master for FRR."""
    return f"master agentx\nagentXSocket {AGENTX_SOCKET}\n"


SNMPD_COMMAND = (
    "env",
    f"SNMP_PERSISTENT_DIR={SNMP_DIR}/persist",
    "/usr/sbin/snmpd",
    "-C",
    "-c",
    f"{SNMP_DIR}/snmpd.conf",
    "-p",
    f"{SNMP_DIR}/snmpd.pid",
    "-Lf",
    f"{SNMP_DIR}/snmpd.log",
)


def restore_services(
    lab: str, node: str, *, sshd: str | None = None, snmpd: str | None = None
) -> list[str]:
    """Write a router's rendered sshd_config and/or snmpd.conf back (with the lab's own
    lines) and make the running daemons take them: sshd checked with `sshd -t` first, then
    sent SIGHUP (it re-executes itself with the same arguments, so the pid and the open
    sessions stay); snmpd restarted (its SNMPv3 users are created at start). The services
    restored; LabError naming node and step when one cannot be."""
    holders = {h.node: h for h in find_holders(lab)}
    holder = holders.get(node)
    if holder is None:
        raise LabError(f"node {node} of lab {lab} is not running")
    done = []
    if sshd is not None:
        config = f"{SSH_DIR}/sshd_config"
        holder.path(config).write_text(sshd_lab_lines() + sshd)
        holder.enter(SSHD, "-t", "-f", config)
        pid = holder.path(f"{SSH_DIR}/sshd.pid").read_text().strip()
        holder.enter("kill", "-HUP", pid)
        done.append("sshd")
    if snmpd is not None:
        write_private(holder.path(f"{SNMP_DIR}/snmpd.conf"), snmpd_lab_lines() + snmpd)
        pid_file = holder.path(f"{SNMP_DIR}/snmpd.pid")
        if pid_file.exists():
            pid = pid_file.read_text().strip()
            holder.enter("kill", pid, check=False)
            _wait(f"snmpd of {node} to stop", lambda: not _alive(holder, pid))
        holder.enter(*SNMPD_COMMAND)
        done.append("snmpd")
    return done


def _alive(holder: Holder, pid: str) -> bool:
    """Whether process `pid` (of the node's PID namespace) still runs."""
    return (
        holder.enter("sh", "-c", f"kill -0 {shlex.quote(pid)} 2>/dev/null && echo up", check=False)
        != ""
    )


NAMED_PID = "/run/named/named.pid"


def named_restart(start: str) -> str:
    """A shell line that stops a node's named by its pid file (named removes the file on
    its way out: waited for, 5 s at most) and starts it again with `start`."""
    return (
        f"kill $(cat {NAMED_PID}) 2>/dev/null; "
        f"for _ in $(seq 50); do [ -e {NAMED_PID} ] || break; sleep 0.1; done; "
        f"rm -f {NAMED_PID}; {start}"
    )


def restart_named(plan: LabPlan) -> list[str]:
    """Restart every DNS host's named (the nodes whose exec starts one), once routing has
    converged; the nodes restarted. named starts with its host, before BGP has converged:
    a secondary's first zone transfer then fails, and BIND tries again only after the
    zone's SOA retry (minutes). Started again now, it transfers at once: primaries first
    (a bound named.conf without `type secondary`), then the secondaries."""
    holders = {h.node: h for h in find_holders(plan.name)}
    starts = {
        node.name: [c for c in node.exec if c.startswith("named ")][-1]
        for node in plan.nodes.values()
        if node.name in holders and any(c.startswith("named ") for c in node.exec)
    }

    def secondary(name: str) -> bool:
        texts = [(source / "named.conf") for source, _ in plan.nodes[name].mounts]
        return any(p.is_file() and "type secondary" in p.read_text() for p in texts)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for wave in (False, True):
            nodes = [n for n in starts if secondary(n) == wave]
            if wave and nodes:
                time.sleep(1.0)  # named forks before its zones load: let the primaries load
            list(
                pool.map(
                    lambda n: holders[n].enter("sh", "-c", named_restart(starts[n]), check=False),
                    nodes,
                )
            )
    return sorted(starts)
