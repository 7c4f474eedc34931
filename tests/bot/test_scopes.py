"""Scoped chats: a chat listed in [telegram.scopes] only ever sees quotes from its folders,
whatever it asks (in:) and whatever button data it replays; `in:` narrows any chat."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from support.fake_telegram import FakeTelegram

from bot.handlers import EXPIRED
from bot.scopes import effective_scope, split_scope

SCOPED, OPEN = 4004, 5005  # private chats: chat id = user id
VOLCANO = "What is the largest volcano in the Solar System?"
CORPUS_FOLDERS = ("astronomy", "food", "geology", "landmarks", "news", "sport")


def cited(html: str) -> set[str]:
    """The corpus folders the message's citations point into."""
    return {m.split("/")[0] for m in re.findall(r"\(([a-z]+/[^()]+)\)", html)
            if m.split("/")[0] in CORPUS_FOLDERS}


def test_scoped_chat_quotes_only_from_its_folders(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot(scopes={SCOPED: ["astronomy"]})
    fake.user_message(SCOPED, VOLCANO)
    fake.user_message(OPEN, VOLCANO)
    (scoped,) = fake.wait_sent(SCOPED)
    (open_,) = fake.wait_sent(OPEN)
    assert "geology" in cited(open_["html"])
    assert cited(scoped["html"]) <= {"astronomy"} and "Olympus" not in scoped["html"]


def test_in_cannot_widen_a_chats_scope(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot(scopes={SCOPED: ["astronomy"]})
    fake.user_message(SCOPED, f"in:geology {VOLCANO}")
    (reply,) = fake.wait_sent(SCOPED)
    assert "cannot search geology" in reply["text"] and not cited(reply["html"])


@pytest.mark.parametrize("scope", ["in:..", "in:astronomy/../../etc"])
def test_in_climbing_out_of_the_documents_gets_a_clear_reply(
        fake: FakeTelegram, start_bot: Any, scope: str) -> None:
    start_bot(scopes={SCOPED: ["astronomy"]})
    fake.user_message(OPEN, f"{scope} {VOLCANO}")
    fake.user_message(SCOPED, f"{scope} {VOLCANO}")
    for chat in (OPEN, SCOPED):
        (reply,) = fake.wait_sent(chat)
        assert "inside the documents" in reply["text"] and not cited(reply["html"])


def test_in_narrows_an_open_chat(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(OPEN, "in:astronomy What is the largest planet?")
    (reply,) = fake.wait_sent(OPEN)
    assert cited(reply["html"]) == {"astronomy"} and "Jupiter" in reply["html"]


def test_forged_button_cannot_show_another_chats_quotes(fake: FakeTelegram,
                                                        start_bot: Any) -> None:
    start_bot(scopes={SCOPED: ["astronomy"]})
    fake.user_message(OPEN, VOLCANO)
    (answer,) = fake.wait_sent(OPEN)
    buttons = [b["callback_data"] for row in answer["reply_markup"]["inline_keyboard"]
               for b in row]
    forged = dict(answer, chat={"id": SCOPED, "type": "private", "first_name": "S"})
    queries = [fake.press_button(SCOPED, forged, data) for data in buttons]
    for query in queries:
        call = fake.wait_for(lambda q=query: [c for c in fake.calls_to("answerCallbackQuery")
                                              if c.params["callback_query_id"] == q])[0]
        assert call.params["text"] == EXPIRED
    time.sleep(0.5)
    assert fake.sent(SCOPED) == []


def test_in_words_are_split_from_the_question() -> None:
    assert split_scope("in:reports/2024 What was the revenue?") == (
        "What was the revenue?", ["reports/2024"])


def test_effective_scope_narrows_and_never_widens() -> None:
    scopes = {1: ["reports"]}
    assert effective_scope(scopes, 1, []) == ["reports"]
    assert effective_scope(scopes, 1, ["reports/2024"]) == ["reports/2024"]
    assert effective_scope(scopes, 1, ["hr"]) == []
    assert effective_scope(scopes, 2, []) is None
