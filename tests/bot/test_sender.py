"""The bot's one outgoing queue, end to end: Telegram's 429s requeue messages, in order,
without holding up other chats; the bot's own pace keeps below Telegram's limits."""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

from support.fake_telegram import FakeTelegram, Limits
from test_bot import LongRetriever, buttons

from bot.sender import Sender, SendLimits

USER, OTHER, GROUP = 1001, 2002, -5001


def test_429s_put_messages_back_in_the_queue_in_order(fake: FakeTelegram,
                                                      start_bot: Any) -> None:
    # The bot's pace is set far above the fake's: Telegram answers 429 and the sender waits.
    fake.limits = Limits(chat_burst=2, chat_per_second=1.0)
    start_bot(retriever_=LongRetriever(), chat_per_second=100.0)
    fake.user_message(USER, "Tell me about the long road")
    (answer,) = fake.wait_sent(USER)
    fake.press_button(USER, answer, buttons(answer)["Context"])
    fake.wait_for(lambda: any("Paragraph 29" in m["text"] for m in fake.sent(USER)), 30)
    parts = fake.sent(USER)[1:]
    firsts = [int(p["text"].split("Paragraph ", 1)[1].split(":")[0]) for p in parts]
    assert firsts == sorted(firsts) and len(parts) >= 3  # every part once, in order
    assert fake.refused("sendMessage")  # Telegram did refuse some: they were sent again
    assert all(c.status == 429 for c in fake.refused())


def test_a_chat_in_flood_wait_does_not_stall_others(fake: FakeTelegram,
                                                    start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, "How many moons does Mars have?")
    fake.wait_sent(USER)
    fake.fail_next("sendMessage", 429, retry_after=6)  # USER's next answer: wait 6 s
    fake.user_message(USER, "When did the first coffeehouse in London open?")
    fake.wait_for(lambda: fake.refused("sendMessage"))
    started = time.monotonic()
    fake.user_message(OTHER, "When did the first coffeehouse in London open?")
    (answer,) = fake.wait_sent(OTHER, timeout=15)
    assert "1652" in answer["text"] and time.monotonic() - started < 10
    assert len(fake.sent(USER)) == 1  # still waiting, as Telegram asked


def test_a_group_gets_no_more_than_its_limit() -> None:
    # The pacing itself, on the event loop with stand-in calls: at most 8 in any minute,
    # a quarter of them at once: 2 go, the other 2 wait.
    async def scenario() -> tuple[int, int]:
        sender = Sender(SendLimits(group_per_minute=8, chat_per_second=100, chat_burst=100))
        done: list[int] = []

        async def send(n: int) -> int:
            done.append(n)
            return n

        futures = [sender.submit(GROUP, functools.partial(send, n)) for n in range(4)]
        futures.append(sender.submit(USER, functools.partial(send, 99)))  # a private chat
        await asyncio.sleep(0.5)
        early = len(done)
        await sender.close(timeout=0.1)
        return early, sum(f.cancelled() for f in futures)

    early, dropped = asyncio.run(scenario())
    assert early == 3 and dropped == 2  # 2 to the group and the private one; 2 wait


def test_sends_overall_stay_under_the_limit_in_any_second() -> None:
    # A bucket that held a second's worth and refilled at that rate let twice the limit
    # through in the first second after a quiet spell (Telegram allows about 30 a second).
    async def scenario() -> list[float]:
        sender = Sender(SendLimits(per_second=8, group_per_minute=0, chat_per_second=0))
        times: list[float] = []

        async def send() -> None:
            times.append(time.monotonic())

        futures = [sender.submit(chat, send) for chat in range(1, 41)]
        await asyncio.sleep(2.2)
        await sender.close(timeout=0.1)
        del futures
        return times

    times = asyncio.run(scenario())
    assert len(times) >= 6  # it does go on sending (2 at once, then 6 a second)
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 8
