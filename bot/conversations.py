"""The bot's conversations: one per private chat, per user in groups, per topic in forums.

Each keeps its last few turns (`retrieval.conversation.Conversation`) for
`telegram.conversation_ttl_s` seconds of silence; at most `telegram.max_conversations`
are kept, the least recently used dropped first, so memory stays bounded. The clock
is injectable (tests move time forward instead of sleeping). Conversations live in
memory only: a restart starts every chat afresh.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

from retrieval.answer import Answer
from retrieval.conversation import Conversation, Turn

Key = tuple[Hashable, ...]


def conversation_key(chat_id: int, chat_type: str, user_id: int | None,
                     thread_id: int | None) -> Key:
    """Whose conversation a message belongs to: the topic's in a forum, the user's in a
    group (two people asking in one group do not continue each other's questions), the
    chat's in a private chat."""
    if thread_id is not None:
        return (chat_id, "topic", thread_id)
    if chat_type != "private" and user_id is not None:
        return (chat_id, "user", user_id)
    return (chat_id,)


class Conversations:
    """Conversations by key, forgotten after `ttl` seconds of silence; at most `capacity`."""

    def __init__(self, ttl: float = 900.0, turns: int = 3, capacity: int = 5000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.turns, self.capacity, self.clock = ttl, turns, capacity, clock
        self._items: OrderedDict[Key, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def history(self, key: Key) -> list[Turn]:
        """The turns to read a new question of `key` with (empty when none or expired)."""
        with self._lock:
            conversation = self._live(key)
            return [] if conversation is None else list(conversation.turns)

    def record(self, key: Key, answer: Answer) -> None:
        """Add the answered question as the conversation's latest turn."""
        now = self.clock()
        with self._lock:
            conversation = self._live(key)
            if conversation is None:
                conversation = Conversation(deque(maxlen=self.turns), now)
                self._items[key] = conversation
            conversation.add(answer, now=now)
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def reset(self, key: Key) -> bool:
        """Forget the conversation (/new); True if there was one."""
        with self._lock:
            return self._items.pop(key, None) is not None

    def _live(self, key: Key) -> Conversation | None:
        conversation = self._items.get(key)
        if conversation is not None and self.clock() - conversation.updated > self.ttl:
            del self._items[key]
            return None
        return conversation

    def __len__(self) -> int:
        return len(self._items)
