"""Keep the bot token and the webhook secret out of every log line, and quiet httpx (it logs
URLs holding the token)."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType
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
    """From now on no log record anywhere in the process shows `token` (or a webhook secret).

    A log-record factory redacts each record's message and traceback when it is made, so
    every handler (files, stderr, pytest's capture) sees the redacted text. Tracebacks the
    interpreter prints itself (an exception that ends the program or a thread) are redacted
    too. httpx's INFO request lines are silenced.
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
        sys.excepthook = _redacting_excepthook
        threading.excepthook = _redacting_thread_excepthook


def _print_redacted(kind: type[BaseException], value: BaseException | None,
                    tb: TracebackType | None, prefix: str = "") -> None:
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(prefix + redact(text))
    sys.stderr.flush()


def _redacting_excepthook(kind: type[BaseException], value: BaseException,
                          tb: TracebackType | None) -> None:
    """sys.excepthook: the usual traceback on stderr, without the token."""
    _print_redacted(kind, value, tb)


def _redacting_thread_excepthook(args: threading.ExceptHookArgs) -> None:
    """threading.excepthook: as Python's own, without the token."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else threading.get_ident()
    _print_redacted(args.exc_type, args.exc_value, args.exc_traceback,
                    f"Exception in thread {name}:\n")
