"""The probe agent: run by the live audit inside lab hosts, standard library (and dnspython).

* ``serve NAME TCP UDP ADDRESS``: answer every TCP connection and UDP datagram with
  ``NAME SEEN-SOURCE`` (so a probe proves which host it reached, and the internet host shows
  whether the exit NATed the source), after printing ``ready``;
* ``probe JSON``: run the flows of a JSON list (``{"dst", "protocols": [icmp, tcp, udp],
  "tcp_port", "udp_port", "count", "trace"}``) concurrently; print one JSON list of results
  (``{"answers": {proto: ...}, "hops": [...]}``), in the same order. A trace is a UDP
  traceroute read from the socket's error queue (IP_RECVERR, as tracepath does): no raw
  socket, no traceroute package. Protocol ``dns`` asks the server at ``dst`` for the A
  records of ``qname`` (UDP; TCP with ``"over_tcp": true``; dnspython, one try):
  ``{"ok": an answer came, "rcode": "NOERROR", "addresses": [...], "rtt_ms": ...}``; no
  answer in time is ``{"ok": false, "error": "Timeout"}``: a refusal is told apart from
  silence.

Kept free of egovnet imports: it runs in namespaces, started with the same interpreter. Its
folder is first on sys.path, so no module of `isolation/` may be named like a package the
agent imports (`dns`: dnspython).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

IP_RECVERR = 11
MSG_ERRQUEUE = 0x2000
TRACE_PORT = 33434
MAX_HOPS = 10
ROUNDS = 4
WORKERS = 32
"""Probes at once per source host: most of a run is waiting for answers that never come."""
REACH_PORT = 9
"""discard: closed on the routers, so their kernel answers with a reset."""
_RTT = re.compile(r"rtt min/avg/max/mdev = [\d.]+/([\d.]+)/")
_RECEIVED = re.compile(r"(\d+) received")


def serve(name: str, tcp_port: int, udp_port: int, address: str) -> None:
    """TCP on every address of the host; UDP on `address` only, so that replies leave from
    the address the probe was sent to (a reply from another one is, to a stateful firewall,
    a new flow, and the exit rightly drops it)."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("0.0.0.0", tcp_port))  # noqa: S104 - a lab host's own namespace
    tcp.listen(64)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((address, udp_port))
    print("ready", flush=True)

    def answer_udp() -> None:
        while True:
            _data, peer = udp.recvfrom(512)
            udp.sendto(f"{name} {peer[0]}\n".encode(), peer)

    def stop_at_end_of_input() -> None:
        # the audit closes our stdin to stop us; nothing else may keep us alive after it
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=answer_udp, daemon=True).start()
    threading.Thread(target=stop_at_end_of_input, daemon=True).start()
    while True:
        connection, peer = tcp.accept()
        with connection:
            connection.sendall(f"{name} {peer[0]}\n".encode())


def _icmp(dst: str, count: int, timeout: float) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - a fixed command, the address from the audit
        ["/usr/bin/ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", str(timeout), dst],
        capture_output=True,
        text=True,
        check=False,
    )
    received = _RECEIVED.search(done.stdout)
    got = int(received.group(1)) if received else 0
    rtt = _RTT.search(done.stdout)
    return {
        "ok": got > 0,
        "loss": 1 - got / count,
        "rtt_ms": float(rtt.group(1)) if rtt else None,
    }


def _tcp(dst: str, port: int, timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    try:
        with socket.create_connection((dst, port), timeout=timeout) as connection:
            answer = connection.recv(256).decode(errors="replace").strip()
    except OSError as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "answer": answer, "rtt_ms": 1000 * (time.monotonic() - started)}


def _udp(dst: str, port: int, timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(timeout)
        try:
            # connected: only the target's datagrams count, never a late answer to an earlier
            # probe that happened to use the same ephemeral port
            udp.connect((dst, port))
            udp.send(b"probe")
            data = udp.recv(256)
        except OSError as exc:
            return {"ok": False, "error": type(exc).__name__}
    return {
        "ok": True,
        "answer": data.decode(errors="replace").strip(),
        "rtt_ms": 1000 * (time.monotonic() - started),
    }


def _dns(dst: str, qname: str, timeout: float, over_tcp: bool = False) -> dict[str, Any]:
    """One A query of `qname` to the server `dst` (UDP, or TCP with `over_tcp`), no retries:
    a refusal or an NXDOMAIN is an answer (ok, with its rcode); silence is a timeout."""
    import dns.exception  # noqa: PLC0415 - only the DNS probes need dnspython
    import dns.message  # noqa: PLC0415
    import dns.query  # noqa: PLC0415
    import dns.rcode  # noqa: PLC0415
    import dns.rdatatype  # noqa: PLC0415

    query = dns.message.make_query(qname, dns.rdatatype.A)
    started = time.monotonic()
    try:
        ask = dns.query.tcp if over_tcp else dns.query.udp
        response = ask(query, dst, timeout=timeout)
    except dns.exception.Timeout:
        return {"ok": False, "error": "Timeout"}
    except (OSError, dns.exception.DNSException) as exc:
        return {"ok": False, "error": type(exc).__name__}
    addresses = sorted(
        item.address
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.A
        for item in rrset
    )
    return {
        "ok": True,
        "rcode": dns.rcode.to_text(response.rcode()),
        "addresses": addresses,
        "rtt_ms": 1000 * (time.monotonic() - started),
    }


def _reach(
    dst: str, source: str | None, device: str | None, count: int, timeout: float
) -> dict[str, Any]:
    """TCP toward a closed port of a router: a refusal (RST) proves the path both ways, as
    an answer would. From `source` (a loopback) and out of `device` (one uplink), so each
    uplink is tried on its own."""
    got, rtts = 0, []
    for _ in range(count):
        started = time.monotonic()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.settimeout(timeout)
            if device:
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
            if source:
                tcp.bind((source, 0))
            try:
                tcp.connect((dst, REACH_PORT))
                reached = True
            except ConnectionRefusedError:
                reached = True
            except OSError:
                reached = False
        if reached:
            got += 1
            rtts.append(1000 * (time.monotonic() - started))
    return {
        "ok": got > 0,
        "loss": 1 - got / count,
        "rtt_ms": sum(rtts) / len(rtts) if rtts else None,
    }


def _hop(dst: str, ttl: int, timeout: float) -> tuple[str | None, bool]:
    """(address answering at this TTL, whether it is the destination itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
        udp.setsockopt(socket.SOL_IP, socket.IP_TTL, ttl)
        udp.connect((dst, TRACE_PORT + ttl))
        with contextlib.suppress(OSError):  # an ICMP error of an earlier TTL may show here
            udp.send(b"trace")
        poller = select.poll()
        poller.register(udp, select.POLLERR)
        if not poller.poll(int(timeout * 1000)):
            return None, False
        try:
            _data, ancillary, _flags, _addr = udp.recvmsg(512, 512, MSG_ERRQUEUE)
        except OSError:
            return None, False
    for level, kind, data in ancillary:
        if level == socket.SOL_IP and kind == IP_RECVERR and len(data) >= 24:
            _errno, origin, icmp_type, icmp_code = struct.unpack("IBBB", data[:7])
            offender = socket.inet_ntoa(data[20:24])
            if origin == 2:  # ICMP
                return offender, icmp_type == 3 and icmp_code == 3
    return None, False


def trace(dst: str, timeout: float) -> list[str | None]:
    """Hop addresses up to and including the destination (None: no answer at that TTL).
    Routers rate-limit ICMP errors toward one source (a burst of 6, then one a second), so
    missing hops are asked again a second later, `ROUNDS` times in all."""
    hops: dict[int, str | None] = {}
    last = MAX_HOPS
    for attempt in range(ROUNDS):
        wanted = [t for t in range(1, last + 1) if hops.get(t) is None]
        if not wanted:
            break
        if attempt:
            time.sleep(1.0)
        with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            found = pool.map(lambda t: _hop(dst, t, timeout), wanted)
            answers = dict(zip(wanted, found, strict=True))
        for ttl, (address, reached) in answers.items():
            hops[ttl] = address
            if reached:
                last = min(last, ttl)
    return [hops.get(t) for t in range(1, last + 1)]


def probe(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One flow: each of its protocols, then (if anything answered and asked) a trace."""
    answers: dict[str, dict[str, Any]] = {}
    for proto in spec["protocols"]:
        if proto == "icmp":
            answers[proto] = _icmp(spec["dst"], int(spec.get("count", 1)), timeout)
        elif proto == "reach":
            answers[proto] = _reach(
                spec["dst"],
                spec.get("source"),
                spec.get("device"),
                int(spec.get("count", 1)),
                timeout,
            )
        elif proto == "tcp":
            answers[proto] = _tcp(spec["dst"], int(spec["tcp_port"]), timeout)
        elif proto == "dns":
            answers[proto] = _dns(
                spec["dst"], str(spec["qname"]), timeout, bool(spec.get("over_tcp"))
            )
        else:
            answers[proto] = _udp(spec["dst"], int(spec["udp_port"]), timeout)
    hops: list[str | None] = []
    if spec.get("trace") and any(a["ok"] for a in answers.values()):
        hops = trace(spec["dst"], timeout)
    return {"answers": answers, "hops": hops}


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve(argv[1], int(argv[2]), int(argv[3]), argv[4])
        return 0
    if argv[:1] == ["probe"]:
        specs = json.loads(argv[1])
        timeout = float(argv[2]) if len(argv) > 2 else 1.0
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = list(pool.map(lambda s: probe(s, timeout), specs))
        print(json.dumps(results))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
