"""The bot's durable update journal: no question lost, none answered twice, across crashes.

Every update is written to a small SQLite database (WAL, fsync on commit) *before*
python-telegram-bot may acknowledge it to Telegram: the Updater confirms an update by
asking for the next ones (getUpdates with a higher offset), and it only does so after
putting the update into the Application's queue, which is a `JournalQueue` that records
first. In webhook mode the same queue means the 200 goes back only once the update is
recorded. Each update then moves through the states

    received  ->  sending (its answer is being sent)  ->  done

and at the next start every update still `received` is handled again (it was never
answered), once. One left `sending` was killed while its answer was on its way: it may
or may not have arrived, and Telegram offers no way to ask, so it is not sent again
(never twice) and a warning names it. An update seen again (Telegram redelivers what was
not confirmed before a crash) is recognised by its id and not handled twice.

The table is plain (`updates`: id, JSON, state, times) so other parts of the bot can
read it, e.g. to rebuild per-chat state after a restart.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from telegram import Update

from quotebot.errors import ConfigError

logger = logging.getLogger(__name__)

RECEIVED, SENDING, DONE = "received", "sending", "done"
KEEP_DONE_S = 3 * 24 * 3600  # finished updates remembered this long (Telegram redelivers
# unconfirmed updates for 24 h; ids restart at random after a week without updates)

SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    update_id INTEGER PRIMARY KEY, payload TEXT NOT NULL, state TEXT NOT NULL,
    received REAL NOT NULL, finished REAL
);
CREATE INDEX IF NOT EXISTS updates_state ON updates(state);
"""


@dataclass
class Pending:
    """An update recorded but not finished when the bot last stopped."""

    update_id: int
    payload: dict[str, Any]
    state: str
    received: float


class JournalBusy(ConfigError):
    """Another bot holds the journal: a second one would answer its questions again."""


class Journal:
    """The journal file of one bot; thread-safe (one connection behind a lock).

    `exclusive`: hold `<journal>.lock` while open (the bot does), so a second bot started on
    the same journal is refused instead of answering, at its start, the updates the first
    is still answering.
    """

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._holder = _hold(self.path.with_name(self.path.name + ".lock")) if exclusive else None
        self._lock = threading.Lock()
        self._deferred: set[int] = set()  # answers still in the send queue (bot.handlers)
        self._delivered: set[int] = set()  # updates a sendMessage of which was delivered
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a record survives a crash of the machine
        self.db.executescript(SCHEMA)
        # State changes need only survive a crash of the bot (the OS has them at once): no
        # fsync, so marking `sending` just before the answer leaves takes microseconds, and
        # a kill cannot land between a slow mark and the send. (After a power cut, a lost
        # mark means at worst an answer sent again.)
        self.marks = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.marks.execute("PRAGMA synchronous=NORMAL")

    def record(self, update_id: int, payload: dict[str, Any]) -> bool:
        """Write a new update durably; False if it was recorded before (a redelivery)."""
        with self._lock:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO updates (update_id, payload, state, received) "
                "VALUES (?, ?, ?, ?)",
                # ASCII JSON: a lone surrogate in a message (valid JSON escape, invalid
                # UTF-8) is kept as its escape instead of failing the insert.
                (update_id, json.dumps(payload), RECEIVED, time.time()))
            return cursor.rowcount == 1

    def defer(self, update_id: int) -> None:
        """The update's answer is still queued: not done until `done_later` is called."""
        with self._lock:
            self._deferred.add(update_id)

    def deferred(self, update_id: int) -> bool:
        with self._lock:
            return update_id in self._deferred

    def done_later(self, update_id: int) -> None:
        """The deferred answer has left (or failed for good): the update is done."""
        with self._lock:
            self._deferred.discard(update_id)
        self.mark(update_id, DONE)

    def delivered(self, update_id: int) -> None:
        """A message of the update's answer reached Telegram (it may be one of several)."""
        with self._lock:
            self._delivered.add(update_id)

    def refused(self, update_id: int) -> None:
        """Telegram refused the answer (429): back to `received`, unless a part of it was
        delivered before (answering again would repeat that part)."""
        with self._lock:
            if update_id in self._delivered:
                return
            self.marks.execute("UPDATE updates SET state=? WHERE update_id=? AND state=?",
                               (RECEIVED, update_id, SENDING))

    def mark(self, update_id: int, state: str) -> None:
        with self._lock:
            if state == DONE:
                self._delivered.discard(update_id)
            self.marks.execute("UPDATE updates SET state=?, finished=? WHERE update_id=?",
                            (state, time.time() if state == DONE else None, update_id))

    def state(self, update_id: int) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT state FROM updates WHERE update_id=?",
                                  (update_id,)).fetchone()
        return row[0] if row else None

    def pending(self) -> list[Pending]:
        """Updates not done, oldest first."""
        with self._lock:
            rows = self.db.execute("SELECT update_id, payload, state, received FROM updates "
                                   "WHERE state != ? ORDER BY update_id", (DONE,)).fetchall()
        pending = []
        for update_id, payload, state, received in rows:
            try:
                pending.append(Pending(update_id, json.loads(payload), state, received))
            except ValueError:
                self.set_aside(update_id, "its record is not JSON")
        return pending

    def set_aside(self, update_id: int, why: str) -> None:
        """Mark an update that cannot be handled again done, with a warning: one damaged or
        outdated entry must not stop every start of the bot."""
        logger.warning("update %s in the journal cannot be answered again (%s): set aside",
                       update_id, why)
        self.mark(update_id, DONE)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.db.execute("SELECT state, count(*) FROM updates GROUP BY state"))

    def forget_old(self, keep_s: float = KEEP_DONE_S) -> None:
        with self._lock:
            self.db.execute("DELETE FROM updates WHERE state=? AND finished < ?",
                            (DONE, time.time() - keep_s))

    def close(self) -> None:
        with self._lock:
            self.marks.close()
            self.db.close()
            if self._holder is not None:
                self._holder.close()  # releases the lock
                self._holder = None


def _hold(path: Path) -> Any:
    """An open file holding an exclusive lock on `path`; JournalBusy if another has it."""
    holder = path.open("a")
    try:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder.close()
        raise JournalBusy(f"another quotebot bot is already running with the update journal "
                          f"{path.with_suffix('')}: stop it first (two bots would answer the "
                          "same questions twice), or give this one its own telegram.journal"
                          ) from None
    return holder


# The update whose answer the current task is sending (set around the send by the handler).
ANSWERING: ContextVar[int | None] = ContextVar("quotebot_answering", default=None)


def sending_hook(journal: Journal) -> Callable[[httpx.Request], Awaitable[None]]:
    """An httpx request hook: mark the update being answered `sending` at the last moment
    before its sendMessage leaves (connection made, headers written, body not yet: httpcore's
    trace events), so that a crash before it left answers it again at the next start, and
    a crash after it left (it may have been delivered) never sends it twice."""

    async def hook(request: httpx.Request) -> None:
        update_id = ANSWERING.get()
        if update_id is None or not request.url.path.endswith("/sendMessage"):
            return

        async def trace(event: str, info: dict[str, Any]) -> None:
            if event.endswith("send_request_body.started"):
                journal.mark(update_id, SENDING)

        request.extensions["trace"] = trace

    return hook


def refused_hook(journal: Journal) -> Callable[[httpx.Response], Awaitable[None]]:
    """An httpx response hook: a sendMessage Telegram refused with 429 was not delivered, so
    its update goes back from `sending` to `received` (the sender sends it again after
    `retry_after`; a crash meanwhile must not lose it), unless an earlier part of the same
    answer was delivered (then resending would repeat that part)."""

    async def hook(response: httpx.Response) -> None:
        update_id = ANSWERING.get()
        if update_id is None or not response.request.url.path.endswith("/sendMessage"):
            return
        if response.is_success:
            journal.delivered(update_id)
        elif response.status_code == 429:
            journal.refused(update_id)

    return hook


class JournalQueue(asyncio.Queue):
    """The Application's update queue: an update is recorded before it is queued, so
    before the Updater confirms it to Telegram (or the webhook answers 200)."""

    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self.journal = journal

    async def put(self, item: object) -> None:
        # Recorded in the event loop's thread, without yielding: an fsync (a few ms) holds
        # the loop, but the Updater cannot be stopped between recording and queueing.
        if isinstance(item, Update):
            try:
                new = self.journal.record(item.update_id, item.to_dict())
            except Exception:  # noqa: BLE001 - an unrecordable update must not stop polling
                logger.exception("update %s could not be journaled: handled without a record",
                                 item.update_id)
                new = True
            if not new:
                logger.info("update %s was received before: not handled again", item.update_id)
                return
        await super().put(item)

    def replay(self, update: Update) -> None:
        """Queue an update from the journal (already recorded) to be handled again."""
        super().put_nowait(update)
