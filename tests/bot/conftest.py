"""Fixtures for the bot tests: a fake Bot API server and the real Application running on it
(the helpers themselves are in tests/support: fake_telegram, bot_runner, asking)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.bot_runner import ADMIN, TOKEN, BotRunner, bot_config
from support.fake_telegram import FakeTelegram

from bot.app import build_application
from quotebot.config import Config


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def start_bot(fake: FakeTelegram, session_config: Config,
              retriever: Any) -> Iterator[Callable[..., BotRunner]]:
    """start_bot(**telegram_settings, config=..., retriever=...) -> a running bot on `fake`."""
    runners: list[BotRunner] = []

    def start(*, config: Config | None = None, retriever_: Any = None,
              webhook: dict[str, Any] | None = None, **telegram: Any) -> BotRunner:
        cfg = bot_config(config or session_config, fake, **telegram)
        application = build_application(cfg, retriever_ or retriever, token=TOKEN,
                                        poll_timeout=1)
        runner = BotRunner(application, webhook).start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        runner.stop()



@pytest.fixture
def copy_bot(fresh_copy: Callable[[], Config], start_bot: Any) -> Iterator[Callable[..., Any]]:
    """A bot with admin ADMIN on a private copy of the indexed corpus, with its own Retriever:
    start(**telegram) -> (runner, config)."""
    from retrieval import Retriever

    opened = []

    def start(**telegram: Any) -> tuple[BotRunner, Config]:
        config = fresh_copy()
        retriever = Retriever.open(config)
        opened.append(retriever)
        telegram.setdefault("admins", [ADMIN])
        runner = start_bot(config=config, retriever_=retriever, **telegram)
        return runner, config

    yield start
    for retriever in opened:
        retriever.close()
