"""A bounded line for PDF renders: a few at once, a few more waiting, the rest told to come back.

Renders are CPU in worker threads. Without a bound, clients that gave up kept their renders
running and queued behind each other, and a new request waited minutes. Here a request beyond
`slots + queue` is refused at once (the route answers 503 with Retry-After), a request whose
client has gone stops waiting for its turn, and a render already running stops at its next
checkpoint (`raise_if_abandoned`, between parsing, layout and writing): a thread cannot be
killed, so one stage may still finish, but no render outlives its client by more than that.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
from collections.abc import Awaitable, Callable

Gone = Callable[[], Awaitable[bool]]
POLL_S = 0.25  # how often a waiting or rendering request asks whether its client is still there
_abandoned: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "pulse_report_render_abandoned", default=None
)


class RendersBusy(Exception):
    """Every slot is busy and the line is full: come back in `retry_after_s`."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"report renders are busy; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class RenderAbandoned(Exception):
    """The client went away: its render was not started, or was stopped at a checkpoint."""


def raise_if_abandoned() -> None:
    """Called by the renderer between its stages, in the render's own thread."""
    flag = _abandoned.get()
    if flag is not None and flag.is_set():
        raise RenderAbandoned("the client went away")


class RenderSlots:
    """At most `slots` renders run at once and `queue` more wait; a slot is given back when
    the render's thread finishes, not when its request goes away."""

    def __init__(self, slots: int, queue: int = 4, *, typical_render_s: float = 2.0) -> None:
        if slots < 1 or queue < 0:
            raise ValueError("render slots need slots >= 1 and queue >= 0")
        self._free = asyncio.Semaphore(slots)
        self._slots = slots
        self._cap = slots + queue
        self._admitted = 0  # waiting or running on behalf of a request
        self._typical_s = typical_render_s

    async def run(self, render: Callable[[], bytes], *, gone: Gone | None = None) -> bytes:
        if self._admitted >= self._cap:
            # Roughly when a slot frees up: the line ahead, divided among the slots.
            raise RendersBusy(max(1, math.ceil(self._typical_s * self._cap / self._slots)))
        self._admitted += 1
        try:
            await self._take_turn(gone)
            flag = threading.Event()
            marked = _abandoned.set(flag)  # to_thread copies this context into the thread
            try:
                task = asyncio.ensure_future(asyncio.to_thread(render))
            except BaseException:
                self._free.release()
                raise
            finally:
                _abandoned.reset(marked)
            task.add_done_callback(self._done)
            try:
                return await self._until_done(task, gone)
            except BaseException:
                flag.set()  # the thread stops at its next checkpoint; the slot waits for it
                raise
        finally:
            self._admitted -= 1

    async def _take_turn(self, gone: Gone | None) -> None:
        turn = asyncio.ensure_future(self._free.acquire())
        try:
            while not turn.done():
                await asyncio.wait({turn}, timeout=POLL_S)
                if not turn.done() and gone is not None and await gone():
                    raise RenderAbandoned("the client went away while waiting for a turn")
        except BaseException:
            if not turn.cancel() and not turn.cancelled() and turn.exception() is None:
                self._free.release()  # the turn came just now: give it back
            raise

    async def _until_done(self, task: asyncio.Future[bytes], gone: Gone | None) -> bytes:
        while True:
            done, _ = await asyncio.wait({task}, timeout=POLL_S)
            if done:
                return task.result()
            if gone is not None and await gone():
                raise RenderAbandoned("the client went away during the render")

    def _done(self, task: asyncio.Future[bytes]) -> None:
        self._free.release()
        if not task.cancelled():
            task.exception()  # retrieved here, so an abandoned render's error is not reported twice
