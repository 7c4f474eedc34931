"""Who may use the bot (allowlists, admins) and how often (a token bucket per user)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass


class AccessPolicy:
    """Who may use the bot: explicit lists, closed by default.

    - `public`: anyone, in any chat (the bot logs a warning at start);
    - otherwise a group is used only when it is listed itself in `allowed_chats` (then any
      member may ask); an allowed user or an admin in an unlisted group is refused, since
      every member would see the quotes;
    - a private chat is used by users in `allowed_users` or `admins` (or listed chats).
    Nothing listed and not public: nobody may ask. Admins may upload, /reindex, /stats.
    """

    def __init__(self, allowed_users: Iterable[int] = (), allowed_chats: Iterable[int] = (),
                 admins: Iterable[int] = (), *, public: bool = False) -> None:
        self.allowed_users = frozenset(int(u) for u in allowed_users)
        self.allowed_chats = frozenset(int(c) for c in allowed_chats)
        self.admins = frozenset(int(a) for a in admins)
        self.public = bool(public)
        self._refused: OrderedDict[tuple[int | None, int | None], None] = OrderedDict()

    @property
    def open(self) -> bool:
        """True when anyone on Telegram may ask (`public = true`)."""
        return self.public

    @property
    def closed(self) -> bool:
        """True when nobody at all may ask (nothing listed, not public)."""
        return not (self.public or self.allowed_users or self.allowed_chats or self.admins)

    def allows(self, user_id: int | None, chat_id: int | None, *,
               private: bool | None = None) -> bool:
        """May `user_id` use the bot in `chat_id`? `private`: is it their private chat
        (by default: the chat id is the user's, as in Telegram's private chats)."""
        if self.public:
            return True
        if chat_id is not None and chat_id in self.allowed_chats:
            return True
        if private is None:
            private = user_id is not None and chat_id == user_id
        return private and user_id is not None and (
            user_id in self.allowed_users or user_id in self.admins)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admins

    def first_refusal(self, user_id: int | None, chat_id: int | None) -> bool:
        """True the first time (user, chat) is refused: one polite refusal, then silence."""
        key = (user_id, chat_id)
        if key in self._refused:
            self._refused.move_to_end(key)
            return False
        self._refused[key] = None
        while len(self._refused) > 10_000:
            self._refused.popitem(last=False)
        return True


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    warned: bool = False


class RateLimiter:
    """A token bucket per key: `burst` questions at once, refilled at `per_minute`.

    `per_minute <= 0` disables the limit. Buckets of idle users are forgotten (LRU).
    """

    def __init__(self, per_minute: float, burst: int,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self.rate = max(0.0, per_minute) / 60.0
        self.burst = max(1, int(burst))
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()

    def acquire(self, key: int) -> float:
        """0.0 if `key` may go ahead now (a token is taken), else seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def should_warn(self, key: int) -> bool:
        """True once per stretch of refusals, so a flood gets one "slow down", not many."""
        bucket = self._buckets.get(key)
        if bucket is None or bucket.warned:
            return False
        bucket.warned = True
        return True
