"""A bot under test: the real Application run on a fake Bot API server, in a thread.

The Application runs in its own thread and event loop (as in production, long polling),
so a test talks to it only through the fake server: inject updates, wait for calls.
Fixtures using these are in tests/bot/conftest.py; benchmarks/soak.py runs bots with them.
"""

from __future__ import annotations

import asyncio
import copy
import tempfile
import threading
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app import ALLOWED_UPDATES
from quotebot.config import Config
from support.fake_telegram import FakeTelegram

TOKEN = "123456789:TEST-s3cret-token_ABCDEFGHIJKLMNOPQRSTUVW"
ADMIN = 1001  # the admin of `copy_bot` bots


class BotRunner:
    """Runs an Application's long polling in a background thread's event loop."""

    def __init__(self, application: Application,
                 webhook: dict[str, Any] | None = None) -> None:
        self.application = application
        self.webhook = webhook
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def run(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> BotRunner:
        self.thread.start()
        self.run(self._start())
        return self

    async def _start(self) -> None:
        app = self.application
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        if self.webhook:
            await app.updater.start_webhook(**self.webhook, allowed_updates=ALLOWED_UPDATES)
        else:
            await app.updater.start_polling(poll_interval=0.0, timeout=1,
                                            allowed_updates=ALLOWED_UPDATES)
        await app.start()

    async def _stop(self) -> None:
        app = self.application
        await app.updater.stop()
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)

    def stop(self) -> None:
        """Stop as `run_polling` does on Ctrl-C; a second call does nothing."""
        if self.loop.is_closed():
            return
        try:
            self.run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    @property
    def services(self) -> Any:
        return self.application.bot_data["services"]


def bot_config(base: Config, fake: FakeTelegram, **telegram: Any) -> Config:
    """A copy of `base` that talks to `fake`, with telegram settings overridden.

    The update journal is a fresh file unless `journal=` names one: the fake server numbers
    updates from 1, so a journal shared by two fakes would take new updates for old ones.
    """
    config = copy.deepcopy(base)
    config.telegram.base_url = fake.base_url
    config.telegram.journal = str(Path(tempfile.mkdtemp(prefix="qb-journal-")) / "journal.sqlite")
    config.telegram.rate_per_minute = 600
    config.telegram.rate_burst = 100
    # Tests that set no allowlist talk to an open bot, as the default was before the
    # policy became closed by default (test_access covers the default itself).
    config.telegram.public = not (telegram.get("allowed_users") or telegram.get("allowed_chats"))
    # Most bots share the session's read-only store: never build into it at start.
    config.telegram.build_at_start = False
    for key, value in telegram.items():
        setattr(config.telegram, key, value)
    return config
