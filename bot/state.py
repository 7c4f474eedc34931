"""Server-side state of answer messages (a bounded LRU behind short callback keys) and stats."""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from retrieval.answer import Answer


@dataclass
class Conversation:
    """One answer message: its answer, the page shown, the contexts and pictures sent."""

    answer: Answer
    chat_id: int
    page: int = 0
    contexts_sent: set[int] = field(default_factory=set)
    pictures_sent: set[int] = field(default_factory=set)  # hits whose page picture was sent


class AnswerStore:
    """Answers by short random key (callback data stays far below 64 bytes); oldest dropped."""

    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, conversation: Conversation) -> str:
        key = secrets.token_urlsafe(9)  # 12 characters
        with self._lock:
            self._items[key] = conversation
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Conversation | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def __len__(self) -> int:
        return len(self._items)


class Stats:
    """Questions answered and how long answers took (the last 1000)."""

    def __init__(self) -> None:
        self.started = time.time()
        self.questions = 0
        self.answered = 0
        self.durations: deque[float] = deque(maxlen=1000)
        self._lock = threading.Lock()

    def record(self, seconds: float, found: bool) -> None:
        with self._lock:
            self.questions += 1
            self.answered += int(found)
            self.durations.append(seconds)

    def median(self) -> float | None:
        with self._lock:
            return statistics.median(self.durations) if self.durations else None


class IndexGuard:
    """Questions share the index; switching to a new generation waits until none is running.

    `Retriever.refresh` closes the old index while a question started before it may still
    read from it; holding this guard around both makes the switch safe.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    def __enter__(self) -> IndexGuard:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._readers -= 1
            self._cond.notify_all()

    def exclusive(self) -> _Exclusive:
        return _Exclusive(self)


class _Exclusive:
    def __init__(self, guard: IndexGuard) -> None:
        self.guard = guard

    def __enter__(self) -> None:
        g = self.guard
        with g._cond:
            while g._writing:
                g._cond.wait()
            g._writing = True  # new questions wait from here on
            while g._readers:
                g._cond.wait()

    def __exit__(self, *exc: object) -> None:
        with self.guard._cond:
            self.guard._writing = False
            self.guard._cond.notify_all()
