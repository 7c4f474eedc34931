"""The "📄 Page" button: a PDF quote's page, highlighted, sent with sendPhoto."""

from __future__ import annotations

import time
from typing import Any

from support.fake_telegram import FakeTelegram

from bot.handlers import keyboard
from retrieval.answer import Answer, Citation, Hit

USER = 1001
PAGE = "\U0001f4c4 Page"


def buttons(message: dict[str, Any]) -> dict[str, str]:
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", [])
            for b in row}


def photos(fake: FakeTelegram) -> list[Any]:
    """The sendPhoto calls the fake accepted (their params hold the uploaded bytes)."""
    return [c for c in fake.calls_to("sendPhoto") if c.status == 200]


def test_page_button_sends_highlighted_page_with_citation_caption(
        fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, "How tall is the Eiffel Tower?")
    (answer,) = fake.wait_sent(USER)
    labels = buttons(answer)
    page_label = next(label for label in labels if label.startswith(PAGE))
    assert len(labels[page_label].encode()) <= 64
    fake.press_button(USER, answer, labels[page_label])
    (call,) = fake.wait_for(lambda: photos(fake))
    message = call.result
    assert call.params["photo"].startswith(b"\x89PNG\r\n\x1a\n")
    assert "landmarks/eiffel.pdf" in message["caption"] and "page 2" in message["caption"]
    assert len(message["caption"]) <= 1024
    assert message["reply_to_message_id"] == answer["message_id"]
    fake.press_button(USER, answer, labels[page_label])  # twice: the page is not sent again
    time.sleep(0.6)
    assert len(photos(fake)) == 1


def test_quotes_from_other_formats_have_no_page_button() -> None:
    def hit(rank: int, path: str, page: int | None) -> Hit:
        return Hit(rank, 1.0, "text", "text", 0, 4, Citation("d", "T", path, 1, 1, page))

    answer = Answer("q?", True, [hit(1, "a.txt", None), hit(2, "b.pdf", 3),
                                 hit(3, "c.html", None)])
    labels = [b.text for row in keyboard(answer, "k", 0).inline_keyboard for b in row]
    assert labels == ["Context 1", "Context 2", f"{PAGE} 2", "Context 3"]


def test_page_of_a_pdf_replaced_since_the_answer_is_refused_not_mislabelled(
        fake: FakeTelegram, start_bot: Any, fresh_copy: Any) -> None:
    import shutil
    from pathlib import Path

    from retrieval import Retriever

    config = fresh_copy()
    with Retriever.open(config) as retriever:
        start_bot(config=config, retriever_=retriever)
        fake.user_message(USER, "How tall is the Eiffel Tower?")
        (answer,) = fake.wait_sent(USER)
        labels = buttons(answer)
        page_label = next(label for label in labels if label.startswith(PAGE))
        pdf = Path(config.corpus) / "landmarks" / "eiffel.pdf"
        shutil.copy(Path(config.corpus) / "broken" / "garbage.pdf", pdf)  # another file
        query = fake.press_button(USER, answer, labels[page_label])
        call = fake.wait_for(lambda: [c for c in fake.calls_to("answerCallbackQuery")
                                      if c.params["callback_query_id"] == query])[0]
        assert "has changed since this answer" in call.params["text"]
        time.sleep(0.3)
        assert not photos(fake)
