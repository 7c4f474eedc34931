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
        self.replayed = 0  # updates answered after a restart (from the journal)
        self.uncertain = 0  # updates whose answer was being sent when the bot was killed
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
