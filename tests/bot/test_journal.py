"""The update journal: after a crash (SIGKILL) every question is answered, exactly once."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.asking import answered, ask, wait_answered
from support.bot_runner import TOKEN
from support.fake_telegram import FakeTelegram

from bot.handlers import RESTARTED
from bot.journal import DONE, RECEIVED, Journal
from quotebot.config import Config

ROOT = Path(__file__).resolve().parents[2]


def bot_process(fake: FakeTelegram, config: Config, journal: Path, log: Path, *,
                running: bool = True) -> subprocess.Popen:
    """`quotebot bot` in its own process on `fake`; returns once it polls (or exited, when
    not `running`)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN=TOKEN,
               QUOTEBOT_TELEGRAM_RATE_PER_MINUTE="0", QUOTEBOT_TELEGRAM_JOURNAL=str(journal),
               QUOTEBOT_TELEGRAM_PUBLIC="true")
    polls = len(fake.polls)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "quotebot", "bot", "--corpus", str(config.corpus),
             "--store", str(config.store), "--base-url", fake.base_url],
            env=env, cwd=ROOT, stdout=out, stderr=out)
    fake.wait_for(lambda: len(fake.polls) > polls or process.poll() is not None, timeout=120)
    if running:
        assert process.poll() is None, log.read_text()[-3000:]
    return process


def test_sigkill_with_questions_in_flight_10_times_answers_each_once(
        fake: FakeTelegram, fresh_copy: Callable[[], Config], tmp_path: Path) -> None:
    config = fresh_copy()
    journal, log = tmp_path / "journal.sqlite", tmp_path / "bot.log"
    rng = random.Random(13)
    expected: set[tuple[int, str]] = set()
    for round_ in range(10):
        process = bot_process(fake, config, journal, log)
        expected |= ask(fake, range(9400 + 10 * round_, 9405 + 10 * round_))
        time.sleep(rng.uniform(0.0, 0.6))  # killed while fetching, asking or sending
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    process = bot_process(fake, config, journal, log)
    try:
        with contextlib.suppress(TimeoutError):  # a lost answer shows in the assert below
            wait_answered(fake, expected, timeout=90)
        counts = answered(fake)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
    assert counts == Counter({key: 1 for key in expected})
    assert Journal(journal).counts() == {DONE: len(expected)}


def test_an_update_seen_again_is_not_recorded_twice(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    assert journal.record(5, {"update_id": 5})
    assert not journal.record(5, {"update_id": 5})  # redelivered after a crash
    assert [p.update_id for p in journal.pending()] == [5]
    assert journal.pending()[0].state == RECEIVED


def test_an_update_holding_a_lone_surrogate_is_recorded_and_read_back(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    payload = {"update_id": 6, "message": {"text": "who \udd9d won?"}}
    assert journal.record(6, payload)
    assert journal.pending()[0].payload == payload


def test_a_deferred_update_stays_pending_until_its_answer_leaves(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite")
    journal.record(7, {"update_id": 7})
    journal.defer(7)  # its answer waits in the send queue
    assert journal.deferred(7) and [p.update_id for p in journal.pending()] == [7]
    journal.done_later(7)
    assert not journal.deferred(7) and journal.pending() == []


def test_a_question_older_than_stale_after_gets_an_apology(fake: FakeTelegram,
                                                           start_bot: Any) -> None:
    start_bot(stale_after_s=60)
    # asked an hour ago, while the bot was down
    fake.user_message(9501, "How tall is the Eiffel Tower?", date=int(time.time()) - 3600)
    fresh = ask(fake, [9502])
    wait_answered(fake, fresh)
    assert [m["text"] for m in fake.sent(9501)] == [RESTARTED]


def test_an_answer_still_queued_at_a_graceful_stop_is_answered_after_the_restart(
        fake: FakeTelegram, start_bot: Any, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    # One message per 100 s in a chat after a burst of 3: the 4th and 5th answers wait.
    runner = start_bot(journal=str(journal), chat_per_second=0.01)
    runner.services.sender.wait = 0.5  # handlers let go of their answers quickly
    expected = ask(fake, [9601], questions=5)
    fake.wait_sent(9601, 3)
    runner.stop()  # as on SIGTERM: the sender drops what it could not send in 10 s
    assert len(fake.sent(9601)) == 3
    assert len(Journal(journal).pending()) == 2  # not answered: not done
    start_bot(journal=str(journal))
    counts = wait_answered(fake, expected)
    assert counts == Counter({key: 1 for key in expected})


def test_sigkill_while_telegram_makes_an_answer_wait_answers_it_after_the_restart(
        fake: FakeTelegram, fresh_copy: Callable[[], Config], tmp_path: Path) -> None:
    config = fresh_copy()
    journal, log = tmp_path / "journal.sqlite", tmp_path / "bot.log"
    process = bot_process(fake, config, journal, log)
    try:
        fake.fail_next("sendMessage", 429, retry_after=60)  # refused: certainly not delivered
        expected = ask(fake, [9701])
        fake.wait_for(lambda: fake.refused("sendMessage"))
        time.sleep(1.0)  # the answer now waits in the send queue for 60 s
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    assert fake.sent(9701) == []
    process = bot_process(fake, config, journal, log)
    try:
        with contextlib.suppress(TimeoutError):
            wait_answered(fake, expected, timeout=60)
        counts = answered(fake)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
    assert counts == Counter({key: 1 for key in expected})


def test_a_second_bot_on_the_same_journal_is_refused_and_answers_nothing_twice(
        fake: FakeTelegram, fresh_copy: Callable[[], Config], tmp_path: Path) -> None:
    config = fresh_copy()
    journal, log = tmp_path / "journal.sqlite", tmp_path / "bot.log"
    first = bot_process(fake, config, journal, log)
    second = None
    try:
        fake.fail_next("sendMessage", 429, retry_after=8)  # the answer waits in the queue
        expected = ask(fake, [9801])
        fake.wait_for(lambda: fake.refused("sendMessage"))
        # An operator starts the bot again while it runs (a deploy, a second terminal): the
        # newcomer would answer the first one's unanswered question too.
        second = bot_process(fake, config, journal, tmp_path / "second.log", running=False)
        second.wait(60)
        assert second.returncode == 2
        assert "already" in (tmp_path / "second.log").read_text()
        wait_answered(fake, expected, timeout=30)
        time.sleep(2.0)
        counts = answered(fake)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(30)
    assert counts == Counter({key: 1 for key in expected})


def test_unreadable_journal_entries_are_set_aside_and_the_bot_starts(
        fake: FakeTelegram, start_bot: Any, tmp_path: Path) -> None:
    """An entry another python-telegram-bot version wrote (or a damaged one) must not stop
    every start: it is marked done with a warning, and the bot answers as usual."""
    journal = tmp_path / "journal.sqlite"
    old = Journal(journal)
    old.record(900001, {"update_id": 900001, "message": {"message_id": 5}})  # no date, chat
    old.db.execute("INSERT INTO updates (update_id, payload, state, received) "
                   "VALUES (900002, '{not json', ?, ?)", (RECEIVED, time.time()))
    old.close()
    start_bot(journal=str(journal))
    expected = ask(fake, [9701])
    assert wait_answered(fake, expected) == Counter({key: 1 for key in expected})
    assert Journal(journal).pending() == []
