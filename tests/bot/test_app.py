"""Token handling and log redaction, the Bot API URL, the terminal chat, safe upload names."""

from __future__ import annotations

import asyncio
import copy
import io
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from support.bot_runner import TOKEN
from support.fake_telegram import FakeTelegram

from bot.app import TokenError, api_urls, load_token, run_bot, webhook_options
from bot.chat import run_chat
from bot.uploads import safe_name, save_upload
from quotebot.config import Config, ConfigError


def test_token_from_environment_first(tmp_path: Path) -> None:
    config = Config()
    (tmp_path / "token").write_text("42:from-file\n")
    config.telegram.token_file = str(tmp_path / "token")
    assert load_token(config, {"TELEGRAM_BOT_TOKEN": "7:from-env"}) == "7:from-env"
    assert load_token(config, {}) == "42:from-file"


def test_missing_token_is_a_clear_error() -> None:
    with pytest.raises(TokenError, match="TELEGRAM_BOT_TOKEN") as caught:
        load_token(Config(), {})
    assert isinstance(caught.value, ConfigError)
    with pytest.raises(TokenError, match="cannot read"):
        config = Config()
        config.telegram.token_file = "/nonexistent/token"
        load_token(config, {})


def test_malformed_token_not_echoed() -> None:
    with pytest.raises(TokenError) as caught:
        load_token(Config(), {"TELEGRAM_BOT_TOKEN": "not a token at all"})
    assert "not a token at all" not in str(caught.value)


def test_run_bot_without_token_fails_before_loading_anything(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(TokenError):
        run_bot(Config())


def test_base_url_forms() -> None:
    assert api_urls("") == ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot")
    assert api_urls("http://localhost:8081") == ("http://localhost:8081/bot",
                                                 "http://localhost:8081/file/bot")
    assert api_urls("http://localhost:8081/bot/") == api_urls("http://localhost:8081")


def test_token_never_appears_in_captured_logs(fake: FakeTelegram, start_bot: Any,
                                              caplog: pytest.LogCaptureFixture,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram"):
        caplog.set_level(logging.DEBUG, logger=name)  # even at DEBUG nothing shows it
    runner = start_bot()
    fake.user_message(1001, "When did the first coffeehouse in London open?")
    answer = fake.wait_sent(1001)[0]
    fake.fail_next("editMessageText", 500)
    fake.press_button(1001, answer, "m:nonsense:1")
    fake.user_message(1001, "/help")
    fake.wait_sent(1001, 2)
    logging.getLogger("httpx").info("HTTP Request: POST %s", runner.application.bot.base_url)
    try:
        raise RuntimeError(f"boom {runner.application.bot.base_url}")
    except RuntimeError:
        logging.getLogger("some.module").exception("failed at %s", TOKEN)
    secret = TOKEN.split(":", 1)[1]
    assert caplog.records
    assert secret not in caplog.text
    assert all(secret not in r.getMessage() and secret not in (r.exc_text or "")
               for r in caplog.records)
    out, err = capfd.readouterr()
    assert secret not in out and secret not in err
    assert "<token>" in caplog.text  # the deliberate lines were redacted, not dropped


def test_terminal_chat_answers_in_plain_text(retriever: Any, session_config: Config) -> None:
    out = io.StringIO()
    questions = io.StringIO("When did the first coffeehouse in London open?\nmore\n"
                            "context 1\ncontext 99\nquit\nnever read\n")
    assert run_chat(session_config, questions, out, retriever=retriever) == 0
    text = out.getvalue()
    assert "documents" in text.splitlines()[0]
    assert "1652" in text and "A Short History of Coffee" in text
    assert "<blockquote>" not in text and "&amp;" not in text
    assert "Context" in text and "»The first coffeehouse in London opened in 1652." in text
    assert "context 1 to context" in text


def test_chat_marks_a_low_confidence_answer_and_shows_the_closest_quote(
        session_config: Config, retriever: Any) -> None:
    out = io.StringIO()
    run_chat(session_config, io.StringIO("How do I reset my router password?\ncontext 1\n"),
             out, retriever=retriever)
    text = out.getvalue()
    assert "Not sure this answers it \u2014 the closest passage is:" in text
    assert "  \u2502 " in text and "Context" in text  # the quote, and its passage on request


@pytest.mark.parametrize(("given", "expected"), [
    ("notes.txt", "notes.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\win.MD", "win.md"),
    (".hidden.txt", "hidden.txt"),
    ("..", "document"),
    ("a/b/../c.pdf", "c.pdf"),
    ("weird <name>|?*.docx", "weird _name.docx"),
    ("Café résumé.html", "Café résumé.html"),
    ("x" * 300 + ".txt", "x" * 80 + ".txt"),
    ("nul\x00byte.txt", "nul_byte.txt"),
])
def test_safe_names(given: str, expected: str) -> None:
    assert safe_name(given) == expected


def test_save_upload_never_overwrites(tmp_path: Path) -> None:
    first = save_upload(tmp_path, "a.txt", b"one")
    second = save_upload(tmp_path, "a.txt", b"two")
    third = save_upload(tmp_path, "../a.txt", b"three")
    assert [p.name for p in (first, second, third)] == ["a.txt", "a-2.txt", "a-3.txt"]
    assert first.read_bytes() == b"one" and third.read_bytes() == b"three"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-2.txt", "a-3.txt", "a.txt"]


def test_webhook_mode_receives_updates_with_secret(fake: FakeTelegram, start_bot: Any,
                                                   session_config: Config) -> None:
    import json
    import socket
    import urllib.error
    import urllib.request

    pytest.importorskip("tornado")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = copy.deepcopy(session_config)
    config.telegram.webhook_url = "https://bot.example.org/quotebot/hook"
    config.telegram.webhook_listen, config.telegram.webhook_port = "127.0.0.1", port
    config.telegram.webhook_secret = "hook-secret"
    options = webhook_options(config)
    assert options["url_path"] == "quotebot/hook" and TOKEN not in str(options)
    runner = start_bot(webhook=options)
    (registered,) = fake.calls_to("setWebhook")
    assert registered.params["url"] == config.telegram.webhook_url
    assert registered.params["secret_token"] == "hook-secret"

    def post(secret: str) -> int:
        update = {"update_id": 1, "message": {
            "message_id": 1, "date": int(time.time()), "text": "How many moons does Mars have?",
            "chat": {"id": 77, "type": "private"}, "from": {"id": 77, "is_bot": False,
                                                            "first_name": "W"}}}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/quotebot/hook", data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json",
                     "X-Telegram-Bot-Api-Secret-Token": secret})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert post("wrong") == 403
    assert post("hook-secret") == 200
    assert runner.services.journal.state(1) is not None  # recorded before the 200
    (reply,) = fake.wait_sent(77)
    assert "Phobos" in reply["text"]
    assert webhook_options(Config())["secret_token"]  # a random one when none is set


def test_webhook_secret_never_appears_in_logs(fake: FakeTelegram, start_bot: Any,
                                              session_config: Config,
                                              caplog: pytest.LogCaptureFixture) -> None:
    import socket

    pytest.importorskip("tornado")
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram"):
        caplog.set_level(logging.DEBUG, logger=name)  # `quotebot bot -v` logs setWebhook
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = copy.deepcopy(session_config)
    config.telegram.webhook_url = "https://bot.example.org/hook"
    config.telegram.webhook_listen, config.telegram.webhook_port = "127.0.0.1", port
    options = webhook_options(config)  # a random secret: no webhook_secret is set
    start_bot(webhook=options)
    (registered,) = fake.calls_to("setWebhook")
    assert registered.params["secret_token"] == options["secret_token"]
    assert "setWebhook" in caplog.text
    assert options["secret_token"] not in caplog.text


def test_open_bot_warns_at_start(fake: FakeTelegram, start_bot: Any,
                                 caplog: pytest.LogCaptureFixture) -> None:
    start_bot(public=True)
    assert any(r.levelno == logging.WARNING and "anyone on Telegram" in r.getMessage()
               for r in caplog.records)


def test_a_token_file_that_is_not_text_is_a_clear_error(tmp_path: Path) -> None:
    config = Config()
    (tmp_path / "token").write_bytes(b"\x97\xff" + TOKEN.encode())  # a traceback before
    config.telegram.token_file = str(tmp_path / "token")
    with pytest.raises(TokenError, match="not UTF-8") as caught:
        load_token(config, {})
    assert TOKEN not in str(caught.value)


def test_a_journal_that_cannot_be_opened_is_a_config_error(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           session_config: Config) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    config = copy.deepcopy(session_config)
    config.telegram.journal = str(tmp_path)  # a folder: sqlite3.OperationalError before
    with pytest.raises(ConfigError, match="journal") as caught:
        run_bot(config, retriever=object())
    assert str(tmp_path) in str(caught.value) and TOKEN not in str(caught.value)


def test_a_bot_api_server_that_cannot_be_reached_is_one_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_config: Config) -> None:
    # A typo in telegram.base_url, or no network at start: six chained tracebacks before.
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    config = copy.deepcopy(session_config)
    config.telegram.journal = str(tmp_path / "journal.sqlite")
    for url in (f"http://127.0.0.1:{port}", "localhost-without-scheme"):
        config.telegram.base_url = url
        asyncio.set_event_loop(asyncio.new_event_loop())  # run_polling closes its loop
        with pytest.raises(ConfigError, match="cannot reach the Bot API server") as caught:
            run_bot(config, retriever=object())
        assert "telegram.base_url" in str(caught.value) and TOKEN not in str(caught.value)
