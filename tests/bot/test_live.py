"""A running bot follows the index: a separate `quotebot index`, or its own watch mode."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.bot_runner import ADMIN
from support.fake_telegram import FakeTelegram

from quotebot.config import Config
from retrieval import Retriever

ROOT = Path(__file__).resolve().parents[2]
NEW_DOC = ("Harbour records\n\nThe lighthouse of Quillon was lit for the first time in 1794, "
           "by the keeper Agnes Marrow.\n")
QUESTION = "Who lit the lighthouse of Quillon for the first time?"


def answer_text(fake: FakeTelegram, chat: int, question: str, timeout: float = 30) -> str:
    before = len(fake.sent(chat))
    fake.user_message(chat, question)
    return fake.wait_sent(chat, before + 1, timeout)[before]["text"]


def test_bot_answers_from_a_document_indexed_by_another_process(
        fake: FakeTelegram, fresh_copy: Callable[[], Config], start_bot: Any) -> None:
    config = fresh_copy()
    with Retriever.open(config) as retriever:
        start_bot(config=config, retriever_=retriever)
        assert "Agnes Marrow" not in answer_text(fake, 9601, QUESTION)
        (Path(config.corpus) / "harbour.txt").write_text(NEW_DOC, encoding="utf-8")
        subprocess.run([sys.executable, "-m", "quotebot", "index", "--corpus",
                        str(config.corpus), "--store", str(config.store)],
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT, check=True,
                       capture_output=True, timeout=300)
        indexed = time.monotonic()
        answer = answer_text(fake, 9601, QUESTION)  # no restart, no command
        seconds = time.monotonic() - indexed
    assert "Agnes Marrow" in answer
    assert seconds < 10  # "within a few seconds" (checks at most every second)


def test_bot_in_watch_mode_answers_a_dropped_file_and_tells_the_admin(
        fake: FakeTelegram, fresh_copy: Callable[[], Config], start_bot: Any) -> None:
    config = fresh_copy()
    config.index.watch = True
    config.index.watch_debounce_s = 0.5
    with Retriever.open(config) as retriever:
        start_bot(config=config, retriever_=retriever, admins=[ADMIN], notify_rebuilds=True)
        time.sleep(1.0)  # the watcher's catch-up build (nothing to do) and its watches
        (Path(config.corpus) / "harbour.txt").write_text(NEW_DOC, encoding="utf-8")
        report = fake.wait_for(lambda: [m for m in fake.sent(ADMIN)
                                        if "1 added" in m["text"]], timeout=120)
        answer = answer_text(fake, 9602, QUESTION)
    assert "Index updated (watch mode)" in report[0]["text"]
    assert "Agnes Marrow" in answer
