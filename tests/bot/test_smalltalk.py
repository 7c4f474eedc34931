"""Small talk is recognised only as whole short phrases, and answered naming the corpus."""

from __future__ import annotations

import pytest

from bot.render import PLAIN
from bot.smalltalk import small_talk, small_talk_reply


@pytest.mark.parametrize(("text", "kind"), [
    ("hi", "greeting"), ("Hello!", "greeting"), ("thanks 🙏", "thanks"),
    ("Thank you.", "thanks"), ("ok", "ack"), ("Who are you?", "identity"),
    ("what can you do?", "abilities"), ("bye", "bye"),
])
def test_small_talk_phrase_is_recognised(text: str, kind: str) -> None:
    assert small_talk(text) == kind


@pytest.mark.parametrize("text", [
    "Hi, when did the first coffeehouse open?", "thanks to whom did the war end?",
    "What can you do with a hash table?", "ok so how tall is the tower?", "Who are they?",
])
def test_question_is_never_small_talk(text: str) -> None:
    assert small_talk(text) is None


def test_reply_names_the_corpus_and_help() -> None:
    text = small_talk_reply("greeting", 12, ["Raft", "TAO", "Tor"], PLAIN)
    assert "12 documents" in text and "“Raft”, “TAO” and “Tor”" in text
    assert "/help" in text
