"""Stand-in retrievers for bot tests that need answers the tiny corpus cannot give."""

from __future__ import annotations

from typing import Any

from retrieval.answer import Answer, Citation, Hit


def long_hit() -> Hit:
    """A quote whose passage is far longer than one Telegram message."""
    paragraphs = [f"Paragraph {i}: the long and winding road. " * 12 for i in range(30)]
    text = "\n\n".join(paragraphs)
    excerpt = paragraphs[3].strip()
    start = text.index(excerpt)
    return Hit(1, 0.9, text, excerpt, start, start + len(excerpt),
               Citation("d", "Long Doc", "long.txt", 1, 60), 0, len(text))


class LongRetriever:
    """Answers every question with one quote from a very long passage."""

    def ask(self, question: str, k: int | None = None, **_: Any) -> Answer:
        return Answer(question, True, [long_hit()])

    def counts(self) -> dict[str, int]:
        return {"documents": 1, "chunks": 1}

    def refresh(self) -> bool:
        return False


class BrokenRetriever(LongRetriever):
    """Fails on every question (the error reply must still reach the asker)."""

    def ask(self, question: str, k: int | None = None, **_: Any) -> Answer:
        raise RuntimeError("index exploded")
