"""One pysnmp engine on an asyncio loop of its own thread, for callers that are not async.

pysnmp's API is asyncio; the exporter's HTTP handlers and the health gates are plain threads.
Both keep one engine alive for the life of the process (making one costs about a second)
and hand it coroutines from any thread: that is this class, written once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

T = TypeVar("T")


class SnmpLoop:
    """An event loop running in a daemon thread, holding `engine` (made inside the loop)."""

    def __init__(self, name: str, make_engine: Callable[[], SnmpEngine] = SnmpEngine) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

        async def made() -> SnmpEngine:
            return make_engine()

        self.engine: SnmpEngine = self.run(made(), 30.0)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run `coroutine` on the loop and wait for it (concurrent.futures.TimeoutError)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def close(self) -> None:
        """Stop the loop; the engine's sockets close with it."""

        async def stop() -> None:
            self.engine.close_dispatcher()

        try:
            self.run(stop(), 5.0)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5.0)
