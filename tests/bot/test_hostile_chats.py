"""Abusive chats end to end (issue 14): floods, forged buttons, citations that never end.

The real Application long-polls the fake Bot API, which enforces Telegram's limits.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from support.fake_telegram import FakeTelegram

from bot.handlers import EXPIRED
from retrieval.answer import Answer, Citation, Hit

COFFEE = "When did the first coffeehouse in London open?"
MARS = "How many moons does Mars have?"
USER, OTHER = 1001, 2002


def buttons(message: dict[str, Any]) -> dict[str, str]:
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", [])
            for b in row}


def outgoing(fake: FakeTelegram, chat_id: int) -> int:
    """Messages and edits the bot made in `chat_id` (whether Telegram accepted them or not)."""
    return sum(1 for c in fake.calls
               if c.method in ("sendMessage", "editMessageText", "sendPhoto")
               and int(c.params.get("chat_id", 0)) == chat_id)


def test_a_flood_of_commands_and_long_questions_gets_a_dozen_messages_at_most(
        fake: FakeTelegram, start_bot: Any) -> None:
    start_bot(rate_per_minute=10, rate_burst=5, max_question_chars=100)
    for i in range(30):
        fake.user_message(USER, "/help" if i % 2 else "/start")
        fake.user_message(USER, "why " * 60)  # over-long: refused, but a reply all the same
    fake.user_message(OTHER, COFFEE)
    started = time.monotonic()
    (answer,) = fake.wait_sent(OTHER, timeout=20)
    assert "1652" in answer["text"] and time.monotonic() - started < 10  # not stalled
    time.sleep(3.0)
    sent = fake.sent(USER)
    assert outgoing(fake, USER) <= 12
    assert sum("slow down" in m["text"] for m in sent) == 1


def test_a_message_with_a_lone_surrogate_does_not_stop_the_bot(fake: FakeTelegram,
                                                                start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, "who \udd9d won?")  # valid JSON escape, not valid UTF-8
    fake.user_message(OTHER, COFFEE)
    (answer,) = fake.wait_sent(OTHER, timeout=20)
    assert "1652" in answer["text"]


def test_button_presses_take_from_the_same_budget(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot(rate_per_minute=10, rate_burst=5)
    fake.user_message(USER, COFFEE)
    (answer,) = fake.wait_sent(USER)
    data = buttons(answer)
    for i in range(30):
        fake.press_button(USER, answer, data["More ›"] if i % 2 else data["Context 1"])
    time.sleep(3.0)
    assert outgoing(fake, USER) <= 6  # the answer, then what 4 tokens buy


class HugeCitations:
    """Hits whose document has a 40 KB title and a paragraph styled as a 5 KB heading."""

    def ask(self, question: str, k: int | None = None) -> Answer:
        hits = []
        for i in range(6):
            text = f"Quote number {i} about the festival."
            citation = Citation(f"d{i}", "Title " * 7000, f"docs/{'deep/' * 100}f{i}.pdf",
                                1, 2, page=1, heading_path=["Heading " * 700] * 20)
            hits.append(Hit(i + 1, 0.9, text, text, 0, len(text), citation, 0, len(text)))
        return Answer(question, True, hits)

    def counts(self) -> dict[str, int]:
        return {"documents": 6, "chunks": 6}

    def refresh(self) -> bool:
        return False


def test_more_pages_through_citations_of_any_length(fake: FakeTelegram,
                                                     start_bot: Any) -> None:
    start_bot(retriever_=HugeCitations())
    fake.user_message(USER, "festival?")
    (answer,) = fake.wait_sent(USER)
    assert len(answer["text"]) <= 4096
    fake.press_button(USER, answer, buttons(answer)["More ›"])
    fake.wait_for(lambda: [c for c in fake.calls_to("editMessageText") if c.status == 200])
    edited = fake.message(USER, answer["message_id"])
    assert edited["text"].startswith("More results") and len(edited["text"]) <= 4096
    assert not fake.refused()


def test_a_failed_more_edit_leaves_the_button_working(fake: FakeTelegram,
                                                      start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, COFFEE)
    (answer,) = fake.wait_sent(USER)
    more = buttons(answer)["More ›"]
    fake.fail_next("editMessageText", 400, description="Bad Request: something odd")
    fake.press_button(USER, answer, more)
    fake.wait_for(lambda: fake.calls_to("editMessageText"))
    time.sleep(0.5)
    fake.press_button(USER, answer, more)  # the page was not moved: this edit is made
    fake.wait_for(lambda: [c for c in fake.calls_to("editMessageText") if c.status == 200])
    assert fake.message(USER, answer["message_id"])["text"].startswith("More results (4")


@pytest.mark.parametrize("number", ["²", "١", "9" * 40])
def test_forged_callback_numbers_are_refused_quietly(fake: FakeTelegram, start_bot: Any,
                                                      caplog: pytest.LogCaptureFixture,
                                                      number: str) -> None:
    start_bot()
    fake.user_message(USER, COFFEE)
    (answer,) = fake.wait_sent(USER)
    key = buttons(answer)["More ›"].split(":")[1]
    query = fake.press_button(USER, answer, f"m:{key}:{number}")
    call = fake.wait_for(lambda: [c for c in fake.calls_to("answerCallbackQuery")
                                  if c.params["callback_query_id"] == query])[0]
    assert call.params["text"] == EXPIRED
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
