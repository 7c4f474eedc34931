"""Many questions at once through the fake server, and which answers came back how often.

Each question's answer is recognised by a word only its first quote holds, so answers can
be counted per (chat, question) without relying on the order they arrive in.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

from support.fake_telegram import FakeTelegram

# Questions about the tiny test corpus, and a word that only their answer's first quote holds.
QUESTIONS = {
    "When did the first coffeehouse in London open?": "1652",
    "How many moons does Mars have?": "Phobos",
    "How tall is the Eiffel Tower?": "330 metres",
    "Which towns did Vesuvius bury?": "Herculaneum",
    "Who wears the yellow jersey?": "yellow jersey",
}


def ask(fake: FakeTelegram, chats: Iterable[int], questions: int = 1) -> set[tuple[int, str]]:
    """Each chat asks `questions` different questions; returns the (chat, word) expected."""
    chats = list(chats)
    expected = set()
    items = list(QUESTIONS.items())
    for n in range(questions):
        for chat in chats:
            question, word = items[(chat + n) % len(items)]
            fake.user_message(chat, question)
            expected.add((chat, word))
    return expected


def answered(fake: FakeTelegram) -> Counter[tuple[int, str]]:
    """How many delivered answers each (chat, word) got, by the word in the first quote."""
    found: Counter[tuple[int, str]] = Counter()
    for message in fake.sent():
        first_quote = message["html"].split("</blockquote>")[0]
        for word in QUESTIONS.values():
            if word in first_quote:
                found[message["chat"]["id"], word] += 1
    return found


def wait_answered(fake: FakeTelegram, expected: set[tuple[int, str]],
                  timeout: float = 60) -> Counter[tuple[int, str]]:
    """Wait until every expected answer arrived, give stragglers time, return the counts."""
    fake.wait_for(lambda: expected <= set(answered(fake)), timeout)
    time.sleep(1.0)  # a repeated answer would arrive now
    return answered(fake)
