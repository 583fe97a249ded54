"""Rendered FRR configs load into real FRR daemons, every line of them.

`vtysh -C` only parses: it accepted `agentx` and over-long VRF names that the daemons then
refused at load time. So three representative nodes of the sample inventory get real zebra,
bgpd and staticd and their rendered config through `vtysh -f`: `hebei-core-1` (a root: peer
link, downlinks, departments in both zones), `hebei-exit` (public zone only, internet port,
static default in the VRF) and `zhengding` (a county), in the module's own copy of the sample
(tests/labkit.py: its own addresses; the daemon checks see only the node's own processes).
Every line must be accepted, and each address must land on its interface in the VRF the
model puts it in. The last tests load a config with one bogus line, and a good config with
bgpd stopped, and expect the check to report both: it is known to be able to fail.

How a node is isolated (findings of the lab spike, applied):

* zebra runs with `-n`, FRR's netns VRF backend (VRF `private` is the network namespace
  /run/netns/private), and adopts every namespace it sees under /run/netns; so each node gets
  network, mount, UTS and PID namespaces of its own (`unshare`) and tmpfs over /run and
  /etc/frr in its mount namespace: its /run/netns, /run/frr/NODE and /etc/frr/NODE exist only
  there, and nothing is written to the host's file system;
* the UTS hostname is the node's name, because vtysh 8.4 does not pass `hostname` on;
* interfaces are veth pairs (these kernels have no 802.1Q, dummy or vrf modules), zone and
  department ports created in their zone's namespace before the config is loaded.

No address or route of the host's namespaces is touched and nothing can leave: every veth has
both ends inside the node. Clean-up cannot be skipped: a node is a context manager whose exit
SIGKILLs its PID namespace's init, which takes every daemon in it along; the namespaces, veths
and tmpfs go with the last process. `setpriv --pdeathsig` and `unshare --kill-child` do the same
if pytest itself is killed.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from ipaddress import IPv4Interface
from pathlib import Path
from typing import Any

import pytest

from egovnet.model import GLOBAL, Network, Node
from egovnet.render.engine import render_network
from egovnet.render.services import service_at
from egovnet.secrets import SecretStore, SharedSecrets, env_name, secret_names
from tests.labkit import TestLab

FRR = Path("/usr/lib/frr")
DAEMONS = ("zebra", "bgpd", "staticd")
DEFAULT_VRF = "default"
NODES = ("hebei-core-1", "hebei-exit", "zhengding")
WAIT = 10.0
"""Seconds: the bound of every wait for a namespace, a daemon or a route."""
COMMAND_TIMEOUT = 20.0
"""Seconds any one command may take before the test gives up on it."""
POLL = 0.02
REJECTED = re.compile(r"^\s*(%|line \d+:)|Failure to communicate")
"""How vtysh -f reports a line a daemon did not take, e.g. `% [ZEBRA] Unknown command: agentx`,
` line 110: Failure to communicate[2] to zebra, line: agentx` or
` line 111: % Unknown command[25]:  neighbour ...`. Not matched, and harmless: `VRF 2 already
configured with NETNS /run/netns/private` (zebra -n had adopted the namespace already)."""


class LabError(RuntimeError):
    """The lab itself (namespaces, veths, daemons) failed, as opposed to a config."""


@dataclass(frozen=True)
class Port:
    """An interface with an address, where the model says it belongs.

    `zone` None is the node's own namespace, FRR's default VRF; otherwise the zone's namespace
    and VRF, which share the zone's name.
    """

    name: str
    zone: str | None
    address: IPv4Interface

    @property
    def vrf(self) -> str:
        return self.zone or DEFAULT_VRF


def ports(network: Network, node: Node) -> list[Port]:
    """The node's ports straight from the model, not from the rendered config under test.

    Management, one port per link and routing instance (`ethN`, `ethN.VLAN` in the zone),
    one per department (`deptVLAN` in its zone) and the exit's internet port (in the internet
    zone): the lab's naming, the same as topology/clab.py's.
    """
    result = [Port("eth0", None, node.management)]
    for link in network.links_of(node.name):
        port = (link.upper if link.upper.host == node.name else link.lower).port
        for instance in link.subnets:
            address = link.address(node.name, instance)
            if instance == GLOBAL:
                result.append(Port(f"eth{port}", None, address))
            else:
                vlan = network.zone(instance).vlan
                result.append(Port(f"eth{port}.{vlan}", instance, address))
    result += [Port(f"dept{d.vlan}", d.zone, d.gateway) for d in node.departments]
    if node.internet is not None:
        result.append(Port(f"eth{node.internet.port}", node.internet.zone, node.internet.address))
    service = service_at(network, node)
    if service is not None:  # a service node: its hosts' gateways and the service links
        result += [Port(f"dept{h.vlan}", service.vrf, h.gateway) for h in service.hosts]
        for service_link in service.links:
            result.append(
                Port(service_link.zone_interface, service_link.zone, service_link.zone_address)
            )
            result.append(
                Port(service_link.service_interface, service.vrf, service_link.service_address)
            )
    return result


def namespaces(network: Network, node: Node) -> list[str]:
    """The node's VRF namespaces: its zones, and the service zone at a service node."""
    service = service_at(network, node)
    return [*node.zones, *([service.vrf] if service is not None else [])]


def rejected_lines(output: str) -> list[str]:
    """The lines of `vtysh -f` output that say a config line was not taken."""
    return [line for line in output.splitlines() if REJECTED.search(line)]


def wait_for(what: str, ready: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll `ready` until it holds; LabError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(POLL)


def settle(problems: Callable[[], list[str]], timeout: float = WAIT) -> list[str]:
    """Poll `problems` until it finds none, for at most `timeout` seconds; the last findings.

    zebra applies addresses and routes to the kernel from its dataplane thread, after vtysh
    has returned, so a check of the kernel right after the load could race it.
    """
    deadline = time.monotonic() + timeout
    while (found := problems()) and time.monotonic() < deadline:
        time.sleep(POLL)
    return found


class FrrNode:
    """A running, isolated FRR node; commands run inside its namespaces through nsenter."""

    def __init__(self, name: str, init_pid: int) -> None:
        self.name = name
        self.init_pid = init_pid

    def path(self, inside: str) -> Path:
        """A path of the node's own file system view (its mount namespace), seen from the host
        through /proc, so the host can read its logs and wait for its sockets."""
        return Path(f"/proc/{self.init_pid}/root") / inside.lstrip("/")

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `argv` in the node's namespaces (mount, UTS, network, PID); with `check`,
        a non-zero exit raises LabError carrying the command's output."""
        command = ["nsenter", "-t", str(self.init_pid), "-p", "-m", "-u", "-n", "--", *argv]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
        if check and result.returncode != 0:
            raise LabError(
                f"{self.name}: `{' '.join(argv)}` exited {result.returncode}\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def vtysh(self, command: str) -> str:
        """One vtysh command's output, talking to this node's daemons (`-N`)."""
        return self.run("vtysh", "-N", self.name, "-c", command).stdout

    def vtysh_json(self, command: str) -> Any:
        return json.loads(self.vtysh(command))

    def running(self) -> set[str]:
        """The daemons vtysh reaches now: only these get their lines of a config."""
        shown = self.run("vtysh", "-N", self.name, "-c", "show daemons", check=False)
        return set(shown.stdout.split())

    def load(self, config: Path) -> tuple[list[str], str]:
        """Load `config` with `vtysh -f`; what went wrong (empty: nothing) and vtysh's output.

        vtysh exits 0 only if every daemon took every line of its own, but it silently skips
        a daemon it cannot reach (found while writing this test: with bgpd stopped, every
        `router bgp` line is dropped and the load still exits 0), hence the daemon check.
        """
        result = self.run("vtysh", "-N", self.name, "-f", str(config), check=False)
        output = result.stdout + result.stderr
        problems = [] if result.returncode == 0 else [f"vtysh -f exited {result.returncode}"]
        problems += rejected_lines(output)
        missing = set(DAEMONS) - self.running()
        if missing:
            problems.append(f"not running at the end of the load: {', '.join(sorted(missing))}")
        return problems, output

    def logs(self) -> str:
        """The end of each daemon's log, to make a failure message say why."""
        parts = []
        for daemon in DAEMONS:
            log = self.path(f"/run/frr/{self.name}/{daemon}.log")
            with suppress(OSError):
                tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
                parts.append(f"--- {daemon}.log\n" + "\n".join(tail))
        return "\n".join(parts)


def _namespace_init(holder: subprocess.Popen[bytes], name: str) -> int:
    """The PID (host view) of the `sleep` that is PID 1 of the node's namespaces.

    Waiting for it to have become `sleep` matters: unshare makes the mount propagation private
    in the child before exec, and until then a mount in the namespace could reach the host.
    """
    children = Path(f"/proc/{holder.pid}/task/{holder.pid}/children")
    found: list[int] = []

    def started() -> bool:
        if holder.poll() is not None:
            raise LabError(f"unshare for {name} exited {holder.returncode}")
        for pid in children.read_text().split():
            with suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "sleep":
                    found.append(int(pid))
                    return True
        return False

    wait_for(f"the namespaces of {name}", started)
    mountinfo = Path(f"/proc/{found[0]}/mountinfo").read_text()
    if " shared:" in mountinfo:  # never mount over the host's /run
        raise LabError(f"the mount namespace of {name} still shares mounts with the host")
    return found[0]


def _populate(node: FrrNode, zones: Iterable[str], node_ports: Sequence[Port]) -> None:
    """Private /run and /etc/frr, hostname, zone namespaces and veths, before any daemon."""
    name = node.name
    for mountpoint in ("/run", "/etc/frr"):
        node.run("mount", "-t", "tmpfs", "-o", "mode=0755", "egovnet-lab", mountpoint)
    owned = ("-o", "frr", "-g", "frr")  # the daemons drop to frr:frr and write here
    node.run("install", "-d", "-m", "0755", "/run/netns")
    node.run("install", "-d", *owned, "-m", "0755", "/run/frr", f"/run/frr/{name}")
    node.run("install", "-d", *owned, "-m", "0755", f"/etc/frr/{name}")
    # vtysh -N NAME looks for /etc/frr/NAME/vtysh.conf; empty is fine
    node.run("install", *owned, "-m", "0640", "/dev/null", f"/etc/frr/{name}/vtysh.conf")
    node.run("hostname", name)
    node.run("ip", "link", "set", "lo", "up")
    for zone in zones:
        node.run("ip", "netns", "add", zone)
        node.run("ip", "-n", zone, "link", "set", "lo", "up")
    for index, port in enumerate(node_ports):
        where = ["-n", port.zone] if port.zone else []
        peer = f"peer{index}"  # the other end, in the same namespace: links are up, no traffic
        node.run("ip", *where, "link", "add", port.name, "type", "veth", "peer", "name", peer)
        node.run("ip", *where, "link", "set", peer, "up")
        node.run("ip", *where, "link", "set", port.name, "up")


def _start_daemons(node: FrrNode) -> None:
    """zebra (netns VRFs), then bgpd and staticd; return once all three answer vtysh."""
    name = node.name
    for daemon in DAEMONS:
        node.run(
            str(FRR / daemon),
            *(["-n"] if daemon == "zebra" else []),
            *(["-M", "snmp"] if daemon in ("zebra", "bgpd") else []),  # `agentx` needs it
            *("-N", name, "-d", "-u", "frr", "-g", "frr", "-A", "127.0.0.1", "-P", "0"),
            *("--log", f"file:/run/frr/{name}/{daemon}.log"),
        )
        if daemon == "zebra":
            api = node.path(f"/run/frr/{name}/zserv.api")
            wait_for(f"zebra's API socket of {name}", api.is_socket)
    wait_for(
        f"vtysh to reach {', '.join(DAEMONS)} of {name}", lambda: node.running() >= set(DAEMONS)
    )

    def clients_connected() -> bool:
        summary = node.run("vtysh", "-N", name, "-c", "show zebra client summary", check=False)
        return "bgp" in summary.stdout and "static" in summary.stdout

    wait_for(f"bgpd and staticd of {name} to connect to zebra", clients_connected)


def _pid_namespace(pid: int) -> str:
    """The PID namespace of a process, as /proc shows it (`pid:[4026532...]`)."""
    return str(Path(f"/proc/{pid}/ns/pid").readlink())


def _daemons_of(name: str, namespace: str) -> list[str]:
    """Command lines of FRR daemons started with `-N name` in the node's own PID namespace
    (what `pgrep -f` would find there), matched exactly on the argument vector so
    `-N zhengding` never matches `-N zhengding-2`, and never a daemon of another lab's node
    of the same name (the demo runs a `hebei-core-1` too)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with suppress(OSError):
            if str((cmdline.parent / "ns" / "pid").readlink()) != namespace:
                continue
            argv = cmdline.read_bytes().decode(errors="replace").split("\0")
            if argv[0] in {str(FRR / d) for d in DAEMONS} and any(
                pair == ("-N", name) for pair in itertools.pairwise(argv)
            ):
                found.append(f"{cmdline.parent.name} {' '.join(argv).strip()}")
    return found


def _tear_down(
    holder: subprocess.Popen[bytes], init_pid: int | None, namespace: str | None, name: str
) -> None:
    """Kill the node's PID namespace and check that nothing of it survives.

    SIGKILL, because the init of a PID namespace ignores other signals from outside; its death
    makes the kernel kill every process left in the namespace, our daemons. Killing the holder
    too (`--kill-child`) covers a failure before the init was found.
    """
    if init_pid is not None:
        with suppress(ProcessLookupError):
            os.kill(init_pid, signal.SIGKILL)
    holder.kill()
    holder.wait(timeout=WAIT)
    if namespace is None:
        return  # the node never started: nothing of it can be running
    try:
        wait_for(f"the daemons of {name} to exit", lambda: not _daemons_of(name, namespace))
    except LabError as error:
        raise LabError(f"{error}: {_daemons_of(name, namespace)}") from None


@contextmanager
def frr_node(name: str, zones: Iterable[str], node_ports: Sequence[Port]) -> Iterator[FrrNode]:
    """An FRR node `name` with its zones and ports, running zebra, bgpd and staticd, no config.

    Always torn down on exit, whatever happened inside or during the bring-up.
    """
    holder = subprocess.Popen(
        [
            "setpriv",
            "--pdeathsig",
            "KILL",  # if pytest dies, unshare dies, and --kill-child takes the namespace along
            "unshare",
            *("--mount", "--uts", "--net", "--pid", "--kill-child", "--propagation", "private"),
            *("sleep", "infinity"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    init_pid: int | None = None
    namespace: str | None = None
    try:
        init_pid = _namespace_init(holder, name)
        namespace = _pid_namespace(init_pid)
        node = FrrNode(name, init_pid)
        _populate(node, zones, node_ports)
        _start_daemons(node)
        yield node
    finally:
        _tear_down(holder, init_pid, namespace, name)


@dataclass(frozen=True)
class Loaded:
    """A node up in the lab with its rendered config loaded, and what the load printed."""

    model: Node
    frr: FrrNode
    problems: list[str]
    output: str


@pytest.fixture(scope="module")
def network(test_lab: TestLab) -> Network:
    """The module's own copy of the sample (tests/labkit.py): its own addresses."""
    return test_lab.network


@pytest.fixture(scope="module")
def configs(network: Network) -> dict[str, str]:
    """The sample inventory rendered for FRR, with an obviously fake value for every secret."""
    environ = {env_name(name): "labtest-secret" for name in secret_names(network)}
    return render_network(
        network, SharedSecrets.resolve(network, SecretStore(environ=environ)), "frr"
    )


@pytest.fixture(scope="module")
def lab(
    network: Network, configs: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Loaded]]:
    """`lab(name)`: the node up with its config loaded, brought up on first use.

    One bring-up per node however many tests look at it; all nodes are torn down when the
    module ends, each one even if another's tear-down fails (ExitStack).
    """
    folder = tmp_path_factory.mktemp("frr-lab")
    loaded: dict[str, Loaded] = {}
    with ExitStack() as stack:

        def get(name: str) -> Loaded:
            if name not in loaded:
                model = network.node(name)
                frr = stack.enter_context(
                    frr_node(name, namespaces(network, model), ports(network, model))
                )
                config = folder / f"{name}.cfg"
                config.write_text(configs[name], encoding="utf-8")
                loaded[name] = Loaded(model, frr, *frr.load(config))
            return loaded[name]

        yield get


def block(config: str, header: str) -> list[str]:
    """The lines of a running-config block from `header` up to its `exit`/`exit-vrf`."""
    lines = config.splitlines()
    if header not in lines:
        return []
    start = lines.index(header) + 1
    end = next(
        (i for i in range(start, len(lines)) if lines[i] in {"exit", "exit-vrf"}), len(lines)
    )
    return lines[start:end]


@pytest.mark.parametrize("name", NODES)
def test_rendered_config_loads_without_a_rejected_line(
    lab: Callable[[str], Loaded], name: str
) -> None:
    loaded = lab(name)
    assert not loaded.problems, (
        "\n".join(loaded.problems) + f"\n--- vtysh -f said\n{loaded.output}\n{loaded.frr.logs()}"
    )


@pytest.mark.parametrize("name", NODES)
def test_running_config_has_bgp_per_zone_loopback_and_hostname(
    network: Network, lab: Callable[[str], Loaded], name: str
) -> None:
    """What the daemons hold after the load: a BGP instance per zone the node carries (and
    none for a zone it does not), the loopback address. The hostname proves the lab gave the
    daemons the node's name (they take it from the UTS namespace: vtysh 8.4 keeps the config's
    `hostname` line to itself), so output and logs can be told apart."""
    loaded = lab(name)
    node = loaded.model
    running = loaded.frr.vtysh("show running-config")
    lines = running.splitlines()
    assert f"hostname {name}" in lines
    assert f"router bgp {node.asn}" in lines
    for zone in network.zones:
        line = f"router bgp {node.asn} vrf {zone.name}"
        if zone.name in node.zones:
            assert line in lines
        else:  # the exit carries no private zone: nothing may leak to the internet through it
            assert line not in lines
    assert f" ip address {node.loopback}/32" in block(running, "interface lo")


@pytest.mark.parametrize("name", NODES)
def test_addresses_land_on_their_interfaces_in_their_vrf(
    network: Network, lab: Callable[[str], Loaded], name: str
) -> None:
    """In zebra (the interface is in the zone's VRF, with the address) and in the kernel
    (the address is on the interface, in the zone's namespace): all mismatches at once."""
    loaded = lab(name)
    node = loaded.model
    expected = [Port("lo", None, IPv4Interface(f"{node.loopback}/32")), *ports(network, node)]

    def mismatches() -> list[str]:
        in_zebra = {
            vrf: loaded.frr.vtysh_json(f"show interface vrf {vrf} json")
            for vrf in sorted({port.vrf for port in expected})
        }
        wrong: list[str] = []
        for port in expected:
            entry = in_zebra[port.vrf].get(port.name)
            if entry is None:
                wrong.append(f"zebra has no {port.name} in VRF {port.vrf}")
                continue
            addresses = {a["address"] for a in entry.get("ipAddresses", [])}
            if entry.get("vrfName") != port.vrf or str(port.address) not in addresses:
                wrong.append(
                    f"zebra: {port.name} in VRF {entry.get('vrfName')} with {sorted(addresses)},"
                    f" expected VRF {port.vrf} with {port.address}"
                )
            where = ["-n", port.zone] if port.zone else []
            shown = loaded.frr.run("ip", *where, "-j", "addr", "show", "dev", port.name).stdout
            local = {
                f"{a['local']}/{a['prefixlen']}"
                for interface in json.loads(shown)
                for a in interface.get("addr_info", [])
            }
            if str(port.address) not in local:
                wrong.append(
                    f"kernel: {port.name} in {port.vrf} has {sorted(local)}, not {port.address}"
                )
        return wrong

    wrong = settle(mismatches)
    assert not wrong, "\n".join(wrong)


def test_exit_has_the_static_default_route_in_the_public_vrf(
    network: Network, lab: Callable[[str], Loaded]
) -> None:
    """Configured in the VRF, in zebra's table of the VRF, and in the zone's kernel table.

    The next hop is on the internet port's /31, which is up (its veth peer is), so the route
    resolves; that nothing answers there does not matter to the route.
    """
    loaded = lab("hebei-exit")
    internet = loaded.model.internet
    assert internet is not None
    zone = next(p.zone for p in ports(network, loaded.model) if p.address == internet.address)
    assert zone == "public"
    running = loaded.frr.vtysh("show running-config")
    assert f" ip route 0.0.0.0/0 {internet.next_hop}" in block(running, f"vrf {zone}")
    next_hop = str(internet.next_hop)

    def in_zebra() -> bool:
        routes = loaded.frr.vtysh_json(f"show ip route vrf {zone} 0.0.0.0/0 json")
        return any(
            route.get("protocol") == "static"
            and route.get("installed")
            and any(hop.get("ip") == next_hop for hop in route.get("nexthops", []))
            for route in routes.get("0.0.0.0/0", [])
        )

    def in_kernel() -> bool:
        shown = loaded.frr.run("ip", "-n", zone, "-j", "route", "show", "0.0.0.0/0").stdout
        return [route.get("gateway") for route in json.loads(shown)] == [next_hop]

    wait_for(f"the static default via {next_hop} in zebra's {zone} table", in_zebra)
    wait_for(f"the static default via {next_hop} in the {zone} namespace's table", in_kernel)


BOGUS = {
    # vtysh -C takes it; zebra refuses VRF names over 36 bytes when the config is loaded
    "long-vrf": ("vrf " + "v" * 40 + "\nexit-vrf", "exceeds 36"),
    "typo": ("router bgp {asn}\n neighbour {peer} remote-as {asn}\nexit", "neighbour {peer}"),
}
"""Lines FRR must refuse: the text added to a good config, and what the error must quote."""


@pytest.mark.parametrize("kind", sorted(BOGUS))
def test_a_line_frr_rejects_fails_the_load(
    network: Network, configs: dict[str, str], tmp_path: Path, kind: str
) -> None:
    """The check can fail: zhengding's config with one bogus line added before `line vty`,
    loaded exactly as the others, is reported, quoting the line."""
    model = network.node("zhengding")
    text, quoted = (t.format(asn=model.asn, peer=model.loopback) for t in BOGUS[kind])
    config = tmp_path / "bogus.cfg"
    config.write_text(
        configs[model.name].replace("\nline vty\n", f"\n{text}\nline vty\n"), encoding="utf-8"
    )
    assert text in config.read_text(encoding="utf-8")
    with frr_node(f"bogus-{kind}", model.zones, ports(network, model)) as frr:
        problems, output = frr.load(config)
    assert problems, f"FRR took {text!r}:\n{output}"
    assert "vtysh -f exited 2" in problems, output
    assert any(quoted in problem for problem in problems), output


def test_a_stopped_daemon_fails_the_load(
    network: Network, configs: dict[str, str], tmp_path: Path
) -> None:
    """The check catches what vtysh does not: with bgpd gone, vtysh -f drops the `router bgp`
    blocks and exits 0, and only the daemon check reports it."""
    model = network.node("zhengding")
    config = tmp_path / "zhengding.cfg"
    config.write_text(configs[model.name], encoding="utf-8")
    with frr_node("stopped-bgpd", model.zones, ports(network, model)) as frr:
        pid = frr.path("/run/frr/stopped-bgpd/bgpd.pid").read_text(encoding="utf-8").strip()
        frr.run("kill", pid)  # a PID of the node's PID namespace: kill runs inside it
        wait_for("bgpd to stop", lambda: "bgpd" not in frr.running())
        problems, output = frr.load(config)
    assert problems == ["not running at the end of the load: bgpd"], output
