"""The Telegram Application: token, Bot API server, handlers; long polling or a webhook.

    from bot.app import run_bot
    run_bot(load_config())  # loads the model and index once, then serves until Ctrl-C
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import sqlite3
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.handlers import (
    COMMANDS,
    Answerer,
    Services,
    catch_up,
    finish_builds,
    make_services,
    register,
    start_watch,
    stop_watch,
)
from bot.journal import SENDING, Journal, JournalQueue, refused_hook, sending_hook
from bot.redact import protect_token, redact
from bot.request import RetryingRequest
from quotebot.config import Config, ConfigError

logger = logging.getLogger(__name__)

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


class TokenError(ConfigError):
    """No usable bot token; the message says where to put one (and never shows it)."""


def load_token(config: Config, environ: Mapping[str, str] | None = None) -> str:
    """The bot token from TELEGRAM_BOT_TOKEN, else from the file at telegram.token_file."""
    environ = os.environ if environ is None else environ
    token = environ.get(TOKEN_ENV, "").strip()
    source = f"${TOKEN_ENV}"
    if not token and config.telegram.token_file:
        path = Path(config.telegram.token_file).expanduser()
        source = f"token file {path}"
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise TokenError(f"cannot read the bot token file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise TokenError(f"the bot token file {path} is not UTF-8 text") from None
    if not token:
        raise TokenError(
            f"no Telegram bot token: set {TOKEN_ENV}, or telegram.token_file in config.toml "
            "to a file holding it (get one from @BotFather). Without a token, "
            "`quotebot chat` answers in the terminal.")
    if not _TOKEN_SHAPE.fullmatch(token):
        raise TokenError(f"the bot token from {source} does not look like one "
                         "(expected digits, a colon, then letters)")
    return token


def api_urls(base_url: str) -> tuple[str, str]:
    """(base_url, base_file_url) for python-telegram-bot from `telegram.base_url`.

    Accepts a server root ("http://localhost:8081") or the bot prefix
    ("http://localhost:8081/bot"); empty means Telegram's own servers.
    """
    base = base_url.strip().rstrip("/")
    if not base:
        return "https://api.telegram.org/bot", "https://api.telegram.org/file/bot"
    if base.endswith("/bot"):
        base = base[: -len("/bot")]
    return f"{base}/bot", f"{base}/file/bot"


def journal_path(config: Config, token: str) -> Path:
    """`telegram.journal`, else a file in the store named after the bot's id (not secret)."""
    if config.telegram.journal:
        return Path(config.telegram.journal).expanduser()
    return Path(config.store) / f"bot-{token.split(':')[0]}-journal.sqlite"


async def replay_journal(application: Application, services: Services) -> None:
    """Queue again the updates recorded but not answered before the last stop or crash."""
    journal = services.journal
    if journal is None:
        return
    journal.forget_old()
    replayed = 0
    for pending in journal.pending():
        if pending.state == SENDING:
            logger.warning("update %s was being answered when the bot stopped; its answer "
                           "may or may not have arrived, so it is not sent again",
                           pending.update_id)
            journal.mark(pending.update_id, "done")
            services.stats.uncertain += 1
            continue
        try:  # an entry an older python-telegram-bot wrote may not read back
            update = Update.de_json(pending.payload, application.bot)
        except Exception as exc:  # noqa: BLE001 - any unreadable entry is set aside
            journal.set_aside(pending.update_id, f"{type(exc).__name__}: {exc}")
            continue
        application.update_queue.replay(update)
        replayed += 1
    if replayed:
        logger.info("handling %d update(s) received but not answered before the restart",
                    replayed)
    services.stats.replayed += replayed


def build_application(config: Config, retriever: Answerer, *, token: str | None = None,
                      poll_timeout: float = 30.0) -> Application:
    """The Application with every handler, talking to `config.telegram.base_url`.

    `retriever` is opened once by the caller (e.g. `Retriever.open(config)`) and shared by
    all chats; updates are handled concurrently.
    """
    token = token or load_token(config)
    protect_token(token)
    if config.telegram.webhook_secret:
        protect_token(config.telegram.webhook_secret)
    base_url, base_file_url = api_urls(config.telegram.base_url)
    path = journal_path(config, token)
    try:
        journal = Journal(path, exclusive=True)  # one bot per journal
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open the update journal {path} ({exc}): set "
                          "telegram.journal to a file this bot may write") from None
    request = RetryingRequest(connection_pool_size=64, pool_timeout=10.0, read_timeout=15.0,
                              write_timeout=15.0, connect_timeout=10.0, media_write_timeout=60.0,
                              httpx_kwargs={"event_hooks": {"request": [sending_hook(journal)],
                                                            "response": [refused_hook(journal)]}})
    updates_request = HTTPXRequest(connection_pool_size=1, read_timeout=poll_timeout + 10.0,
                                   connect_timeout=10.0)
    services = make_services(config, retriever)
    services.journal = journal

    async def post_init(application: Application) -> None:
        await replay_journal(application, services)
        if config.index.watch:
            start_watch(application, services)
        await application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
        if services.policy.open:
            logger.warning("telegram.public is true: anyone on Telegram can ask this bot, "
                           "in any chat or group")
        elif services.policy.closed:
            logger.warning("nobody may use this bot: list users in telegram.allowed_users "
                           "or telegram.admins, groups in telegram.allowed_chats (or set "
                           "telegram.public = true to open it to everyone)")
        catch_up(services)
        logger.info("bot @%s ready", application.bot.username)

    async def post_stop(application: Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, stop_watch, services)
        await finish_builds(services)
        await services.sender.close()

    async def post_shutdown(application: Application) -> None:
        services.shutdown()
        services.journal.close()

    application = (
        Application.builder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .request(request)
        .get_updates_request(updates_request)
        .update_queue(JournalQueue(services.journal))  # recorded before confirmed
        .concurrent_updates(True)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    register(application, services)
    return application


def services_of(application: Application) -> Services:
    return application.bot_data["services"]


def webhook_options(config: Config) -> dict[str, object]:
    """`Application.run_webhook`/`Updater.start_webhook` arguments from `[telegram]`.

    The local path is the public URL's path (never the token); without a configured
    webhook_secret a random one is used, since the bot registers the webhook itself.
    """
    tg = config.telegram
    path = urllib.parse.urlsplit(tg.webhook_url).path.strip("/")
    secret = tg.webhook_secret or secrets.token_urlsafe(32)
    protect_token(secret)  # whoever knows it can post forged updates: never logged
    return {"listen": tg.webhook_listen, "port": tg.webhook_port, "url_path": path,
            "webhook_url": tg.webhook_url, "secret_token": secret}


def run_bot(config: Config, *, retriever: Answerer | None = None) -> int:
    """`quotebot bot`: load the index once, then poll (or serve the webhook) until stopped.

    Raises TokenError (a ConfigError) without a token, before loading the model.
    """
    token = load_token(config)
    protect_token(token)
    if retriever is None:
        from retrieval import Retriever

        logger.info("loading the model and index ...")
        retriever = Retriever.open(config)
    application = build_application(config, retriever, token=token)
    try:
        if config.telegram.webhook_url:
            try:
                import tornado  # noqa: F401 - python-telegram-bot's webhook server
            except ImportError:
                raise ConfigError("webhook mode needs python-telegram-bot[webhooks] "
                                  "(pip install 'python-telegram-bot[webhooks]')") from None
            application.run_webhook(**webhook_options(config), allowed_updates=ALLOWED_UPDATES)
        else:
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except NetworkError as exc:  # at start (getMe): polling retries later failures itself
        server = api_urls(config.telegram.base_url)[0]
        raise ConfigError(f"cannot reach the Bot API server ({server}): "
                          f"{redact(str(exc))}: check telegram.base_url "
                          "($TELEGRAM_API_BASE_URL) and the network") from None
    except InvalidToken:
        # python-telegram-bot's message quotes the token itself: never show it.
        raise TokenError(f"the Bot API server ({api_urls(config.telegram.base_url)[0]}) "
                         f"rejected the bot token from ${TOKEN_ENV} or telegram.token_file: "
                         "check it with @BotFather") from None
    return 0
