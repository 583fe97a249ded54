"""Walking tables wide: several columns per GETBULK, several request streams at once.

The reference exporter walks one column after another, so a 14-column interface table costs
14 times the round trips; over a county link at 20 ms that is most of the scrape. Here the
columns are dealt into a few streams walked concurrently, each stream asking for all its
columns in one GETBULK, with max-repetitions sized to the table as the target's last scrape
found it (`WalkMemory`) and bounded by the response budget. Every request costs the
exporter about a millisecond of CPU whatever its size (pysnmp's message processing and
USM), so fewer, fuller answers are what makes a scrape cheap. An agent that answers tooBig
gets a smaller request; one whose big answers never arrive (a path dropping IP fragments)
is walked within `SAFE_PDU_BYTES` for a while; one whose OIDs stop increasing (a broken
agent that would otherwise be walked forever) ends the walk with a `loop` error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from exporters.snmp import Missing, Session, SnmpError, Value

VARBIND_BYTES = 40
"""A conservative size of one varbind in a response (OID of ~12 sub-ids plus a Counter64)."""
MAX_ROWS = 50_000
"""Rows one column may have before the walk is taken for a runaway agent."""
SAFE_PDU_BYTES = 1400
"""A response this size crosses any path unfragmented."""
FIRST_ROWS = 64
"""Rows asked for per column before a target's tables have been seen once."""
MIN_REPETITIONS = 10
"""Repetitions asked for at least, when a table has grown past what was remembered."""
SMALL_FOR = 3600.0
"""Seconds a target whose big answers were lost is walked within SAFE_PDU_BYTES."""

Rows = dict[tuple[int, ...], Value]
T = TypeVar("T")
"""One column: its values keyed by the row's index (the OID suffix after the column)."""


@dataclass(frozen=True)
class WalkLimits:
    """How wide and how parallel a target is walked."""

    pdu_bytes: int = 16_000
    """Response size to stay under. Agents cap their GETBULK answers themselves (net-snmp
    at about 100 varbinds, 3-4 KB), so this bounds one that would not, to a dozen IP
    fragments; 1400 (`SAFE_PDU_BYTES`) keeps every answer in one packet."""
    streams: int = 4
    """Request streams per target walked at once."""

    def repetitions(self, columns: int) -> int:
        """Max-repetitions for a GETBULK of `columns` columns.

        >>> WalkLimits(pdu_bytes=1400).repetitions(4)
        8
        >>> WalkLimits(pdu_bytes=1400).repetitions(100)
        1
        """
        return max(1, self.pdu_bytes // (VARBIND_BYTES * columns))


@dataclass
class WalkMemory:
    """What walking one target taught the exporter, kept between its scrapes."""

    rows: dict[tuple[int, ...], int] = field(default_factory=dict)
    """Rows each column had last time: the next walk's max-repetitions."""
    small_until: float = 0.0
    """Until this `time.monotonic()`, answers stay within SAFE_PDU_BYTES."""

    def budget(self, limits: WalkLimits) -> int:
        """The response budget for this target now.

        >>> WalkMemory(small_until=float("inf")).budget(WalkLimits())
        1400
        """
        if time.monotonic() < self.small_until:
            return min(limits.pdu_bytes, SAFE_PDU_BYTES)
        return limits.pdu_bytes

    def repetitions(
        self, columns: Sequence[tuple[int, ...]], seen: dict[tuple[int, ...], int]
    ) -> int:
        """Repetitions to reach the end of the longest of `columns` and see it end, by last
        time's row counts; `seen` rows of each are read already. A column not seen before,
        or longer than it was, is asked for as many rows again as have been read (at
        first FIRST_ROWS): a table of thousands of rows still takes a handful of requests.

        >>> WalkMemory({(1,): 60, (2,): 59}).repetitions([(1,), (2,)], {(1,): 0, (2,): 0})
        61
        >>> new = WalkMemory()
        >>> new.repetitions([(1,)], {(1,): 0}), new.repetitions([(1,)], {(1,): 64})
        (64, 64)
        >>> WalkMemory({(1,): 60}).repetitions([(1,)], {(1,): 100})
        100
        """
        wanted = MIN_REPETITIONS
        for column in columns:
            read, expected = seen[column], self.rows.get(column)
            if expected is not None and expected >= read:
                wanted = max(wanted, expected - read + 1)
            else:
                wanted = max(wanted, read or FIRST_ROWS)
        return wanted


def _under(oid: tuple[int, ...], column: tuple[int, ...]) -> bool:
    return len(oid) > len(column) and oid[: len(column)] == column


async def walk_stream(
    session: Session,
    columns: Sequence[tuple[int, ...]],
    limits: WalkLimits,
    memory: WalkMemory | None = None,
) -> dict[tuple[int, ...], Rows]:
    """Walk `columns` to their ends with wide GETBULKs; rows per column.

    A column ends at the first varbind outside it or at endOfMibView; noSuchObject (an
    agent without the MIB) is an empty column, not an error.
    """
    memory = memory or WalkMemory()
    rows: dict[tuple[int, ...], Rows] = {column: {} for column in columns}
    cursor = {column: column for column in columns}
    active = list(columns)
    budget = memory.budget(limits)
    while active:
        repetitions = min(
            max(1, budget // (VARBIND_BYTES * len(active))),
            memory.repetitions(active, {c: len(rows[c]) for c in active}),
        )
        try:
            answer = await session.bulk([cursor[c] for c in active], repetitions)
        except SnmpError as exc:
            if exc.kind == "toobig" and (repetitions > 1 or budget > VARBIND_BYTES):
                budget = max(VARBIND_BYTES, budget // 2)
                continue
            if exc.kind == "timeout" and budget > SAFE_PDU_BYTES:
                memory.small_until = time.monotonic() + SMALL_FOR
            raise
        if not answer:
            raise SnmpError("protocol", "GETBULK answered with no varbinds")
        finished: set[tuple[int, ...]] = set()
        for position, (oid, value) in enumerate(answer):
            column = active[position % len(active)]
            if column in finished:
                continue
            if isinstance(value, Missing) or not _under(oid, column):
                finished.add(column)
                continue
            if oid <= cursor[column]:
                raise SnmpError(
                    "loop",
                    f"OID not increasing: {'.'.join(map(str, oid))} after "
                    f"{'.'.join(map(str, cursor[column]))}",
                )
            rows[column][oid[len(column) :]] = value
            cursor[column] = oid
            if len(rows[column]) > MAX_ROWS:
                raise SnmpError("loop", f"more than {MAX_ROWS} rows in one column")
        active = [column for column in active if column not in finished]
    for column in columns:
        memory.rows[column] = len(rows[column])
    return rows


async def walk_columns(
    session: Session,
    columns: Sequence[tuple[int, ...]],
    limits: WalkLimits,
    memory: WalkMemory | None = None,
) -> dict[tuple[int, ...], Rows]:
    """Deal `columns` into `limits.streams` streams and walk them concurrently.

    >>> len(_deal([(1,), (2,), (3,), (4,), (5,)], 2))
    2
    """
    unique = list(dict.fromkeys(columns))
    if not unique:
        return {}
    results = await first_error(
        [walk_stream(session, part, limits, memory) for part in _deal(unique, limits.streams)]
    )
    merged: dict[tuple[int, ...], Rows] = {}
    for result in results:
        merged.update(result)
    return merged


async def first_error(coroutines: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Run concurrently; on the first failure cancel the rest and raise that failure
    (plain `gather` would leave the siblings sending requests for a scrape already lost)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in coroutines]
    except* SnmpError as caught:
        raise caught.exceptions[0] from None
    return [task.result() for task in tasks]


def _deal(items: list[tuple[int, ...]], streams: int) -> list[list[tuple[int, ...]]]:
    count = max(1, min(streams, len(items)))
    return [items[i::count] for i in range(count)]
