"""`quotebot chat` (bot/chat.py) reads follow-ups and small talk as the bot does."""

from __future__ import annotations

import io
from typing import Any

from bot.chat import run_chat
from quotebot.config import Config


def chat(config: Config, retriever: Any, *lines: str) -> str:
    out = io.StringIO()
    assert run_chat(config, io.StringIO("\n".join(lines) + "\n"), out,
                    retriever=retriever) == 0
    return out.getvalue()


def test_chat_reads_a_follow_up_with_the_previous_question(session_config: Config,
                                                           retriever: Any) -> None:
    out = chat(session_config, retriever, "Which towns did Vesuvius bury?",
               "When did it erupt?")
    after = out.split("(reading this as: When did Vesuvius erupt?)")[1]
    assert "79" in after.split("\n\n")[1]


def test_chat_new_forgets_the_previous_question(session_config: Config,
                                                retriever: Any) -> None:
    out = chat(session_config, retriever, "Which towns did Vesuvius bury?", "new",
               "When did it erupt?")
    assert "New conversation" in out and "reading this as" not in out


def test_chat_answers_small_talk_kindly(session_config: Config, retriever: Any) -> None:
    out = chat(session_config, retriever, "thanks")
    assert "You're welcome!" in out and "/help" in out
    assert "could not find" not in out


def test_chat_context_with_a_digit_python_cannot_parse_asks_which_quote(
        session_config: Config, retriever: Any) -> None:
    out = chat(session_config, retriever, "Which towns did Vesuvius bury?", "context ²")
    assert "Say which quote: context 1 to context" in out


def test_a_question_opening_with_context_is_asked(session_config: Config,
                                                  retriever: Any) -> None:
    out = chat(session_config, retriever, "Context of the eruption of Vesuvius?")
    assert "Ask a question first." not in out and "Say which quote" not in out
    assert "Vesuvius" in out
