"""One queue for every message the bot sends or edits, paced to Telegram's flood limits.

Telegram allows a bot about 30 messages a second overall, 20 a minute in one group and
about one a second in one chat (short bursts pass); past that it answers 429 with
`retry_after`. Handlers hand their sends and edits to the `Sender` instead of calling the
Bot API themselves:

- each chat has its own first-in-first-out queue, so one chat's parts stay in order and a
  busy chat never delays another's answers (chats take turns);
- token buckets per chat, per group and overall keep the pace below Telegram's limits;
  the overall and group limits are ceilings over any window (`_ceiling`): a bucket that
  holds a second's (a minute's) worth and refills at that rate would let twice the limit
  through in the window after a quiet spell;
- a 429 puts the message back at the front of its chat's queue, and that chat waits
  `retry_after` seconds; nothing sleeps inside a request (see `bot.request`);
- a handler waits for its message a bounded time (`wait`), then lets go of its update
  slot; the message is still sent later, and a failure then is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
import math
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.error import RetryAfter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendLimits:
    """The pace the sender keeps (`[telegram]` send_per_second, ...); 0 turns one off."""

    per_second: float = 25.0
    group_per_minute: float = 20.0
    chat_per_second: float = 1.0
    chat_burst: int = 3


@dataclass
class _Bucket:
    """A token bucket: `capacity` at once, refilled at `rate` a second."""

    capacity: float
    rate: float
    tokens: float = -1.0
    stamp: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds until a token is free (0.0: one is now)."""
        if self.rate <= 0:
            return 0.0
        if self.tokens < 0:
            self.tokens, self.stamp = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        if self.rate > 0:
            self.tokens -= 1.0


def _ceiling(limit: float, window: float) -> _Bucket:
    """A bucket letting at most `limit` sends through in any `window` seconds: a quarter
    of it at once, the rest paced (capacity + rate x window = limit). 0 turns it off."""
    if limit <= 0:
        return _Bucket(1.0, 0.0)
    burst = max(1.0, limit / 4)
    return _Bucket(burst, max(limit - burst, limit / 4) / window)  # a limit under 4/3:
    # one at once, then its quarter's pace


@dataclass
class _Item:
    call: Callable[[], Awaitable[Any]]
    future: asyncio.Future[Any]
    on_sent: Callable[[Any], None] | None = None
    requeues: int = 0


@dataclass
class _Chat:
    queue: deque[_Item] = field(default_factory=deque)
    not_before: float = 0.0  # after a 429: Telegram's retry_after
    busy: bool = False  # one request at a time per chat keeps its messages in order


def retry_after_seconds(exc: RetryAfter) -> float:
    """`exc.retry_after` in seconds (an int or a timedelta, by python-telegram-bot version)."""
    value: Any = getattr(exc, "_retry_after", None)
    if value is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


class Sender:
    """The bot's one outgoing queue (see the module docstring). Use from the event loop."""

    def __init__(self, limits: SendLimits = SendLimits(), *, wait: float = 10.0,
                 max_requeues: int = 20, max_buckets: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.wait = wait
        self.max_requeues = max_requeues
        self.max_buckets = max_buckets
        self.clock = clock
        self._chats: OrderedDict[int, _Chat] = OrderedDict()  # chats with queued messages
        self._global = _ceiling(limits.per_second, 1.0)
        self._buckets: OrderedDict[tuple[str, int], _Bucket] = OrderedDict()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._abandoned: set[asyncio.Future[Any]] = set()  # nobody waits: failures logged
        self.sent = 0
        self.requeued = 0

    # --- handing messages over ------------------------------------------------------------

    def submit(self, chat_id: int, call: Callable[[], Awaitable[Any]],
               on_sent: Callable[[Any], None] | None = None) -> asyncio.Future[Any]:
        """Queue `call` (a Bot API send or edit) for `chat_id`; a future of its result.

        `on_sent(result)` runs once it succeeded (e.g. to record the page a message shows).
        """
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run(), name="quotebot-sender")
        item = _Item(call, loop.create_future(), on_sent)
        item.future.add_done_callback(lambda f: self._orphan(f, chat_id))
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat()
        chat.queue.append(item)
        assert self._wake is not None
        self._wake.set()
        return item.future

    async def deliver(self, chat_id: int, call: Callable[[], Awaitable[Any]], *,
                      on_sent: Callable[[Any], None] | None = None) -> Any:
        """Queue `call` and wait for its result at most `self.wait` seconds (None after).

        Errors of the call are raised here while the caller waits, and logged after.
        """
        future = self.submit(chat_id, call, on_sent)
        return await self.wait_for(future, chat_id)

    async def wait_for(self, future: asyncio.Future[Any], chat_id: int) -> Any:
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.wait)
        except TimeoutError:
            if not future.done():
                self._abandoned.add(future)
            logger.info("chat %s: a message is still queued after %.0f s (flood control); "
                        "it will be sent later", chat_id, self.wait)
            return None

    def pending(self) -> int:
        """Messages queued and not yet sent."""
        return sum(len(chat.queue) for chat in self._chats.values()) + len(self._sending)

    async def close(self, timeout: float = 10.0) -> None:
        """Send what is queued (at most `timeout` seconds), then stop; the rest is dropped."""
        deadline = self.clock() + timeout
        while self.pending() and self.clock() < deadline:
            await asyncio.sleep(0.05)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        dropped = 0
        for chat in self._chats.values():
            for item in chat.queue:
                dropped += 1
                if not item.future.done():
                    item.future.cancel()
        self._chats.clear()
        if dropped:
            logger.warning("stopped with %d message(s) unsent (flood control)", dropped)

    # --- the loop -------------------------------------------------------------------------

    def _bucket(self, kind: str, chat_id: int) -> _Bucket:
        key = (kind, chat_id)
        bucket = self._buckets.get(key)
        if bucket is None:
            limits = self.limits
            bucket = (_Bucket(max(1.0, float(limits.chat_burst)), limits.chat_per_second)
                      if kind == "chat" else _ceiling(limits.group_per_minute, 60.0))
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_buckets:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket

    def _buckets_of(self, chat_id: int) -> list[_Bucket]:
        buckets = [self._global, self._bucket("chat", chat_id)]
        if chat_id < 0:
            buckets.append(self._bucket("group", chat_id))
        return buckets

    def _next(self, now: float) -> tuple[int | None, float]:
        """The first chat (in turn) whose next message may go now, else the shortest wait."""
        soonest = math.inf
        for chat_id, chat in self._chats.items():
            if chat.busy or not chat.queue:
                continue
            wait = max([chat.not_before - now] + [b.wait(now) for b in self._buckets_of(chat_id)])
            if wait <= 0:
                return chat_id, 0.0
            soonest = min(soonest, wait)
        return None, soonest

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            chat_id, wait = self._next(self.clock())
            if chat_id is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(),
                                           None if math.isinf(wait) else max(wait, 0.005))
                continue
            chat = self._chats.pop(chat_id)
            self._chats[chat_id] = chat  # to the end: chats take turns
            for bucket in self._buckets_of(chat_id):
                bucket.take()
            item = chat.queue.popleft()
            chat.busy = True
            task = asyncio.get_running_loop().create_task(self._send(chat_id, chat, item))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, chat_id: int, chat: _Chat, item: _Item) -> None:
        try:
            if item.future.done():  # cancelled meanwhile
                return
            result = await item.call()
        except RetryAfter as exc:
            seconds = retry_after_seconds(exc)
            item.requeues += 1
            self.requeued += 1
            if item.requeues > self.max_requeues:
                item.future.set_exception(exc)
            else:
                logger.warning("chat %s: flood control, sending again in %.0f s", chat_id,
                               seconds)
                chat.not_before = self.clock() + seconds
                chat.queue.appendleft(item)
        except asyncio.CancelledError:
            if not item.future.done():
                item.future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - handed to whoever waits for the message
            if not item.future.done():
                item.future.set_exception(exc)
        else:
            self.sent += 1
            if item.on_sent is not None:
                try:
                    item.on_sent(result)
                except Exception:  # noqa: BLE001 - a callback's bug must not stop the sender
                    logger.exception("after sending to chat %s", chat_id)
            if not item.future.done():
                item.future.set_result(result)
        finally:
            chat.busy = False
            if not chat.queue and self._chats.get(chat_id) is chat:
                del self._chats[chat_id]
            elif chat.queue and chat_id not in self._chats:
                self._chats[chat_id] = chat
            if self._wake is not None:
                self._wake.set()

    def _orphan(self, future: asyncio.Future[Any], chat_id: int) -> None:
        """Log the failure of a message nobody waits for any more (and mark it seen)."""
        abandoned = future in self._abandoned
        self._abandoned.discard(future)
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None and abandoned:
            logger.error("chat %s: a queued message could not be sent: %s: %s", chat_id,
                         type(exc).__name__, exc)
