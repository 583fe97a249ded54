"""Replaying recorded SNMP walks (`snmpwalk -On` text) as an agent for the exporter's tests.

`RecordedAgent` implements the exporter's `Session` with an SNMP agent's rules: GET answers
noSuchObject for an unknown OID; GETBULK returns, per repetition, the lexicographic
successor of each requested OID, and endOfMibView past the last one. It stands in only for
devices that cannot run here (Huawei, H3C); everything else is tested on a real snmpd.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from pathlib import Path

from exporters.snmp import Missing, Value, VarBind

RECORDED = Path(__file__).resolve().parent / "recorded"
LINE = re.compile(r"^\.?([\d.]+) = (?:([\w-]+): )?(.*)$")


def parse_value(kind: str | None, text: str) -> Value:
    """One value as snmpwalk prints it."""
    if kind is None or kind in ("STRING", "Hex-STRING"):
        return text.strip('"') if kind != "Hex-STRING" else text.replace(" ", "")
    if kind == "Timeticks":
        return int(text.split(")", maxsplit=1)[0].lstrip("("))
    if kind == "OID":
        return tuple(int(p) for p in text.lstrip(".").split("."))
    if kind == "IpAddress":
        return text
    return int(text.split(maxsplit=1)[0])


def read_walk(path: Path) -> dict[tuple[int, ...], Value]:
    """A walk file as {OID: value}."""
    walk: dict[tuple[int, ...], Value] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        match = LINE.match(line)
        if match is None:
            raise ValueError(f"{path}:{number}: not an snmpwalk -On line: {line!r}")
        oid = tuple(int(p) for p in match.group(1).split("."))
        walk[oid] = parse_value(match.group(2), match.group(3))
    return walk


class RecordedAgent:
    """A Session answering from a recorded walk; counts requests like the real one."""

    def __init__(self, walk: dict[tuple[int, ...], Value]) -> None:
        self._oids = sorted(walk)
        self._walk = walk
        self.requests: list[tuple[str, int]] = []
        """(kind, varbinds asked) of every request, to check how wide the walk was."""

    def _next(self, oid: tuple[int, ...]) -> VarBind:
        position = bisect.bisect_right(self._oids, oid)
        if position == len(self._oids):
            return oid, Missing.END_OF_MIB_VIEW
        found = self._oids[position]
        return found, self._walk[found]

    async def get(self, oids: Sequence[tuple[int, ...]]) -> list[VarBind]:
        self.requests.append(("get", len(oids)))
        return [(oid, self._walk.get(oid, Missing.NO_SUCH_OBJECT)) for oid in oids]

    async def bulk(self, oids: Sequence[tuple[int, ...]], repetitions: int) -> list[VarBind]:
        self.requests.append(("bulk", len(oids) * repetitions))
        answer: list[VarBind] = []
        cursors = list(oids)
        for _ in range(repetitions):
            row = [self._next(cursor) for cursor in cursors]
            answer += row
            cursors = [oid for oid, _ in row]
            if all(value is Missing.END_OF_MIB_VIEW for _, value in row):
                break
        return answer
