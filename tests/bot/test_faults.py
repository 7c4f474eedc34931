"""Telegram faults and restarts, end to end: the bot stays up and answers each question once.

The fake Bot API server injects the faults (429 with retry_after, 5xx, slow answers, dropped
connections) into getUpdates and sendMessage; the real Application and Retriever run as in
production. Timings are not asserted here (see benchmarks/soak.py).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from support.asking import answered, ask, wait_answered
from support.fake_telegram import FakeTelegram

from bot.handlers import FAILED


def test_getupdates_faults_lose_and_repeat_no_update(fake: FakeTelegram,
                                                     start_bot: Any) -> None:
    start_bot()
    fake.fail_next("getUpdates", 0)  # connection dropped while updates were on their way
    fake.fail_next("getUpdates", 502, description="Bad Gateway")
    fake.fail_next("getUpdates", 429, retry_after=1)
    fake.slow_next("getUpdates", 2.5)  # past the fake's long-poll time
    expected = ask(fake, range(9001, 9011))
    counts = wait_answered(fake, expected)
    assert counts == Counter({key: 1 for key in expected})
    assert [p.status for p in fake.polls if p.status != 200] == [0, 502, 429]
    assert not any(m["text"] == FAILED for m in fake.sent())


@pytest.mark.parametrize("fault", ["429 retry_after", "500", "502", "slow",
                                   "dropped after delivery"])
def test_send_fault_delivers_the_answer_once_and_the_bot_stays_up(fake: FakeTelegram,
                                                                  start_bot: Any,
                                                                  fault: str) -> None:
    start_bot()
    if fault == "429 retry_after":
        fake.fail_next("sendMessage", 429, retry_after=1, count=2)
    elif fault in ("500", "502"):
        fake.fail_next("sendMessage", int(fault), count=2)
    elif fault == "slow":
        fake.slow_next("sendMessage", 3.0)
    else:  # the message reached the chat; its confirmation did not reach the bot
        fake.fail_next("sendMessage", 0, deliver=True)
    first = ask(fake, range(9101, 9102))
    assert wait_answered(fake, first) == Counter({key: 1 for key in first})
    later = ask(fake, range(9102, 9104))  # the bot is still up and answers the next ones
    assert wait_answered(fake, first | later) == Counter({key: 1 for key in first | later})


def test_flood_waits_do_not_use_up_the_retries_of_errors(fake: FakeTelegram,
                                                         start_bot: Any) -> None:
    # Found by the soak (random faults, 600 questions): a send that met 429, 429, 429 and
    # then a 500 gave up, as the flood waits had used the 3 retries; the answer was lost.
    start_bot()
    fake.fail_next("sendMessage", 429, retry_after=1, count=3)
    fake.fail_next("sendMessage", 500)
    fake.fail_next("sendMessage", 502)
    first = ask(fake, range(9151, 9152))
    assert wait_answered(fake, first) == Counter({key: 1 for key in first})
    assert [c.status for c in fake.calls_to("sendMessage")] == [429, 429, 429, 500, 502, 200]
    assert not any(m["text"] == FAILED for m in fake.sent())


def test_restarted_bot_processes_no_update_twice(fake: FakeTelegram, start_bot: Any) -> None:
    first = start_bot()
    before = ask(fake, range(9201, 9211))
    fake.wait_for(lambda: len(answered(fake)) >= 3, timeout=60)
    first.stop()  # graceful: handles what it fetched and confirms the offset
    confirmed = fake.polls[-1].params.get("offset")
    assert confirmed == max(u["update_id"] for u in fake.injected) + 1
    start_bot()
    after = ask(fake, range(9211, 9216))
    counts = wait_answered(fake, before | after)
    assert counts == Counter({key: 1 for key in before | after})


def test_proxy_error_page_repeats_edits_but_never_a_send(fake: FakeTelegram,
                                                         start_bot: Any) -> None:
    start_bot()
    fake.fail_next("sendMessage", 502, description="Bad Gateway", page=True)
    ask(fake, range(9301, 9302))  # the answer may be behind the page: never resent
    fake.wait_for(lambda: fake.sent(9301))
    time.sleep(1.0)
    sends = fake.calls_to("sendMessage")
    assert [c.status for c in sends] == [502, 200] and fake.sent(9301)[0]["text"] == FAILED
    assert not answered(fake)
    fake.fail_next("editMessageText", 502, description="Bad Gateway", page=True)
    later = ask(fake, range(9302, 9303))
    wait_answered(fake, later)
    answer = fake.sent(9302)[0]
    more = next(b["callback_data"] for row in answer["reply_markup"]["inline_keyboard"]
                for b in row if b["text"].startswith("More"))
    fake.press_button(9302, answer, more)
    fake.wait_for(lambda: [c for c in fake.calls_to("editMessageText") if c.status == 200])
    assert [c.status for c in fake.calls_to("editMessageText")] == [502, 200]
