"""Bot API requests that respect flood control and retry network errors, never sending twice.

`RetryingRequest` wraps python-telegram-bot's `HTTPXRequest`:
- a 429 answer is a refusal (nothing was done). For sends and edits of messages (`QUEUED`)
  it is returned at once: python-telegram-bot raises `RetryAfter` and `bot.sender` puts the
  message back in its queue, so no request sleeps while holding a connection and the
  handler's update slot. Other methods (callback answers, chat actions, getUpdates) wait
  `retry_after` and go again, only when it is short (`max_retry_after`, a few seconds) and
  at most `max_flood_waits` times: flood control is Telegram pacing a busy bot, not an
  error, so these waits do not use up the retries of errors below;
- a 5xx answer that is a Bot API error object (`"ok": false`) says the method failed, so
  nothing was sent: retry with exponential backoff; a 5xx without one (a proxy's error
  page) may hide a request that was executed, so only idempotent methods are retried;
- a connection that could not be made (connect error/timeout, pool timeout) never carried
  the request: retry with exponential backoff;
- any other network error (a read timeout, a dropped answer) may have been executed, so only
  idempotent methods (edits, chat actions, callback answers, reads) are retried. A
  `sendMessage` is never repeated after it may have reached Telegram.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
from telegram.error import NetworkError
from telegram.request import HTTPXRequest, RequestData

logger = logging.getLogger(__name__)

IDEMPOTENT = frozenset({
    "getMe", "getUpdates", "getFile", "getChat", "getWebhookInfo", "getMyCommands",
    "sendChatAction", "answerCallbackQuery", "editMessageText", "editMessageReplyMarkup",
    "setMyCommands", "deleteMyCommands", "deleteWebhook", "setWebhook", "deleteMessage",
})
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Methods whose 429 goes back to the caller (bot.sender requeues the message).
QUEUED = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup",
                    "editMessageText", "editMessageCaption", "editMessageMedia"})


class RetryingRequest(HTTPXRequest):
    """HTTPXRequest with flood-control waits and safe retries (see the module docstring)."""

    def __init__(self, *args: Any, max_retries: int = 3, backoff: float = 0.5,
                 max_retry_after: float = 5.0, max_flood_waits: int = 3,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_retries = max_retries
        self.max_flood_waits = max_flood_waits
        self.backoff = backoff
        self.max_retry_after = max_retry_after

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]  # never log `url`: it holds the token
        safe = method == "GET" or api_method in IDEMPOTENT
        attempt = floods = 0
        while True:
            try:
                status, content = await super().do_request(url, method, request_data,
                                                           *args, **kwargs)
            except NetworkError as exc:
                if attempt >= self.max_retries or not (safe or _not_sent(exc)):
                    raise
                delay = self.backoff * 2 ** attempt
                logger.warning("%s failed (%s); retrying in %.1f s", api_method,
                               type(exc.__cause__ or exc).__name__, delay)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            if status == 429 and floods < self.max_flood_waits and api_method not in QUEUED:
                retry_after = _retry_after(content)
                if retry_after is not None and retry_after <= self.max_retry_after:
                    logger.warning("%s: flood control, waiting %s s as Telegram asks",
                                   api_method, retry_after)
                    floods += 1
                    await asyncio.sleep(retry_after)
                    continue
            if status >= 500 and (safe or _refused(content)) and attempt < self.max_retries:
                delay = self.backoff * 2 ** attempt
                logger.warning("%s: server error %s; retrying in %.1f s", api_method, status,
                               delay)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            return status, content


def _not_sent(exc: BaseException) -> bool:
    """True when the request certainly never reached the server."""
    cause = exc.__cause__
    return isinstance(cause, NOT_SENT) or "Pool timeout" in str(exc)


def _refused(content: bytes) -> bool:
    """True when the answer is the Bot API's own error object: the method was not done."""
    try:
        return json.loads(content).get("ok") is False
    except (ValueError, AttributeError):
        return False


def _retry_after(content: bytes) -> float | None:
    try:
        value = json.loads(content)["parameters"]["retry_after"]
        return float(value)
    except (ValueError, KeyError, TypeError):
        return None
