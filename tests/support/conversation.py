"""Helpers for conversation tests: turns to read follow-ups with, and a clock to move."""

from __future__ import annotations

from retrieval.conversation import Turn


def turn(question: str, paths: tuple[str, ...] = (), excerpt: str = "") -> Turn:
    """A previous turn whose question stood alone."""
    return Turn(question, question, list(paths), excerpt)


class Clock:
    """A monotonic clock a test moves forward (no sleeping)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
