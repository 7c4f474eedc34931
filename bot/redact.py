"""Keep the bot token out of every log line, and quiet httpx (it logs URLs holding the token)."""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any

REDACTED = "<token>"
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def protect_token(token: str) -> None:
    """From now on no log record anywhere in the process shows `token`.

    A log-record factory redacts each record's message and traceback when it is made, so
    every handler (files, stderr, pytest's capture) sees the redacted text. httpx's INFO
    request lines are silenced too.
    """
    global _installed
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    with _lock:
        if token:
            _secrets.add(token)
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if not _secrets:
                return record
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string is logging's to report
                return record
            clean = redact(message)
            if clean != message:
                record.msg, record.args = clean, None
            if record.exc_info and record.exc_info[1] is not None:
                text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
                record.exc_text = redact(text)
            return record

        logging.setLogRecordFactory(factory)
