"""The fake Bot API refuses what Telegram refuses, so the bot's tests can see it.

Each test calls the fake over HTTP as any client would (no bot running).
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from support.bot_runner import TOKEN
from support.fake_telegram import FakeTelegram, Limits

CHAT, GROUP = 4242, -4343


@pytest.fixture
def api() -> Iterator[tuple[FakeTelegram, Any]]:
    server = FakeTelegram(TOKEN).start()

    def call(method: str, **params: Any) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{server.base_url}{TOKEN}/{method}", data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read())

    yield server, call
    server.stop()


def test_text_of_4096_utf16_units_is_sent_and_one_more_is_refused(api: Any) -> None:
    fake, call = api
    assert call("sendMessage", chat_id=CHAT, text="😀" * 2048)["ok"]  # 2 units each
    refused = call("sendMessage", chat_id=CHAT + 1, text="😀" * 2048 + "x")
    assert refused["error_code"] == 400 and "message is too long" in refused["description"]


def test_length_counts_text_after_entity_parsing(api: Any) -> None:
    fake, call = api
    html = "<b>" + "&amp;" * 4096 + "</b>"  # 20k characters of HTML, 4,096 shown
    assert call("sendMessage", chat_id=CHAT, text=html, parse_mode="HTML")["ok"]


@pytest.mark.parametrize("html", ["a < b", "<b>bold", "<b>x</i>", "line<br>break",
                                  "<div>x</div>"])
def test_html_telegram_cannot_parse_is_refused(api: Any, html: str) -> None:
    fake, call = api
    refused = call("sendMessage", chat_id=CHAT, text=html, parse_mode="HTML")
    assert refused["error_code"] == 400
    assert refused["description"].startswith("Bad Request: can't parse entities")


def test_empty_text_is_refused(api: Any) -> None:
    fake, call = api
    refused = call("sendMessage", chat_id=CHAT, text="<b> </b>", parse_mode="HTML")
    assert "message text is empty" in refused["description"]


def test_callback_data_over_64_bytes_is_refused(api: Any) -> None:
    fake, call = api
    ok = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 32}]]}  # 64 bytes
    too_long = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 32 + "x"}]]}
    assert call("sendMessage", chat_id=CHAT, text="a", reply_markup=ok)["ok"]
    refused = call("sendMessage", chat_id=CHAT + 1, text="a", reply_markup=too_long)
    assert "BUTTON_DATA_INVALID" in refused["description"]


def test_identical_edit_is_not_modified(api: Any) -> None:
    fake, call = api
    sent = call("sendMessage", chat_id=CHAT, text="<b>a</b>", parse_mode="HTML")["result"]
    again = call("editMessageText", chat_id=CHAT, message_id=sent["message_id"],
                 text="<b>a</b>", parse_mode="HTML")
    assert "message is not modified" in again["description"]


def test_edit_over_the_limit_is_refused(api: Any) -> None:
    fake, call = api
    sent = call("sendMessage", chat_id=CHAT, text="short")["result"]
    refused = call("editMessageText", chat_id=CHAT, message_id=sent["message_id"],
                   text="x" * 4097)
    assert "message is too long" in refused["description"]
    assert fake.message(CHAT, sent["message_id"])["text"] == "short"


def test_photo_caption_over_1024_is_refused_and_thread_id_kept(api: Any) -> None:
    fake, call = api
    sent = call("sendPhoto", chat_id=GROUP, photo="FILEID", caption="c" * 1024,
                message_thread_id=7)
    assert sent["ok"] and sent["result"]["message_thread_id"] == 7
    assert fake.photos(GROUP)[0]["caption"] == "c" * 1024
    refused = call("sendPhoto", chat_id=GROUP, photo="FILEID", caption="c" * 1025)
    assert "caption is too long" in refused["description"]


def test_flooding_a_chat_gets_429_with_retry_after(api: Any) -> None:
    fake, call = api
    fake.limits = Limits(chat_burst=3, chat_per_second=0.5)
    answers = [call("sendMessage", chat_id=CHAT, text=f"m{i}") for i in range(4)]
    assert [a["ok"] for a in answers] == [True, True, True, False]
    assert answers[3]["error_code"] == 429 and answers[3]["parameters"]["retry_after"] >= 1
    assert call("sendMessage", chat_id=CHAT + 1, text="other chat")["ok"]


def test_a_group_gets_20_messages_a_minute(api: Any) -> None:
    fake, call = api
    fake.limits = Limits(chat_burst=100, chat_per_second=100)
    answers = [call("sendMessage", chat_id=GROUP, text=f"m{i}")["ok"] for i in range(21)]
    assert answers == [True] * 20 + [False]


def test_the_bot_gets_a_global_rate_overall(api: Any) -> None:
    fake, call = api
    assert Limits().global_per_second == 30  # Telegram's; lowered here to keep timing out
    fake.limits = Limits(global_per_second=5)
    answers = [call("sendMessage", chat_id=10_000 + i, text=uuid.uuid4().hex)["ok"]
               for i in range(8)]
    assert answers[:5] == [True] * 5 and answers.count(False) >= 2
