"""Security end to end: who may read the corpus, the bot token, uploads, corpus text as HTML.

Refusals are checked for every way in (private chats, groups, buttons, uploads) and for what
the bot sends back: a refusal, and never a word of the corpus.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.bot_runner import ADMIN, TOKEN
from support.fake_telegram import BOT_USERNAME, FakeTelegram
from support.html_check import well_formed

from bot.handlers import ADMIN_ONLY, EXPIRED, REFUSAL
from bot.uploads import save_upload

ROOT = Path(__file__).resolve().parents[2]
USER, OTHER, MEMBER = 1001, 2002, 3003  # USER is allowed (and the admin of copy_bot)
OPEN_GROUP, ALLOWED_GROUP = -7001, -7002
COFFEE = "When did the first coffeehouse in London open?"
# Words of the tiny corpus: none may reach someone outside the allowlist.
CORPUS_WORDS = ["1652", "coffeehouse in London", "Phobos", "Vesuvius", "Eiffel", "Raqqa",
                "yellow jersey", "<blockquote>"]


def corpus_text_in(messages: list[dict[str, Any]]) -> list[str]:
    return [w for m in messages for w in CORPUS_WORDS if w in m["html"]]


def settle(seconds: float = 1.0) -> None:
    """Give the bot time to (wrongly) do more than it should have."""
    time.sleep(seconds)


# --- allowlist ---------------------------------------------------------------------------


def test_outsider_in_a_group_is_refused_every_way(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot(allowed_users=[USER], allowed_chats=[ALLOWED_GROUP], admins=[USER])
    earlier = {"message_id": 1, "date": int(time.time()), "text": "an earlier answer",
               "chat": {"id": OPEN_GROUP, "type": "supergroup", "title": "G"},
               "from": fake.bot_user}
    for text in [f"/ask {COFFEE}", f"@{BOT_USERNAME} {COFFEE}", "/help", "/stats",
                 "/reindex", "/start"]:
        fake.user_message(OTHER, text, chat_id=OPEN_GROUP)
    fake.user_message(OTHER, COFFEE, chat_id=OPEN_GROUP, reply_to=earlier)
    # An allowed user (an admin even) in a group that is not listed: every member would see
    # the quotes, so the group is refused too.
    fake.user_message(USER, f"/ask {COFFEE}", chat_id=OPEN_GROUP)
    fake.user_message(MEMBER, f"/ask {COFFEE}", chat_id=ALLOWED_GROUP)  # an allowed group
    fake.wait_for(lambda: corpus_text_in(fake.sent(ALLOWED_GROUP)), timeout=30)
    settle()
    to_group = fake.sent(OPEN_GROUP)
    refusals = [m for m in to_group if m["text"] == REFUSAL]
    assert len(refusals) == 2 and len(to_group) == 2  # one polite refusal each, then silence
    assert all(m["from"]["id"] == fake.bot_user["id"] for m in to_group)
    assert not corpus_text_in(refusals)
    assert len(fake.sent(ALLOWED_GROUP)) == 1
    assert not fake.calls_to("getFile")


def test_outsider_upload_is_refused_and_never_downloaded(fake: FakeTelegram,
                                                         copy_bot: Any) -> None:
    runner, config = copy_bot(allowed_users=[USER])
    before = sorted(p.relative_to(config.corpus) for p in config.corpus.rglob("*"))
    fake.upload(OTHER, "notes.txt", b"Something to add.")
    fake.upload(USER, "group.txt", b"An upload in a group.", chat_id=OPEN_GROUP)
    (refusal,) = fake.wait_sent(OTHER)
    settle()
    assert refusal["text"] == REFUSAL and fake.sent(OPEN_GROUP) == []
    assert not fake.calls_to("getFile")
    assert sorted(p.relative_to(config.corpus) for p in config.corpus.rglob("*")) == before


def test_allowed_non_admin_upload_is_refused(fake: FakeTelegram, copy_bot: Any) -> None:
    runner, config = copy_bot(allowed_users=[USER, OTHER])
    fake.upload(OTHER, "notes.txt", b"Something to add.")
    (refusal,) = fake.wait_sent(OTHER)
    assert refusal["text"] == ADMIN_ONLY
    assert not fake.calls_to("getFile") and not (config.corpus / "notes.txt").exists()


def test_button_forged_with_another_chats_answer_is_refused(fake: FakeTelegram,
                                                            start_bot: Any) -> None:
    start_bot(allowed_users=[USER, MEMBER], allowed_chats=[ALLOWED_GROUP])
    fake.user_message(USER, COFFEE)
    (answer,) = fake.wait_sent(USER)
    data = {b["text"]: b["callback_data"]
            for row in answer["reply_markup"]["inline_keyboard"] for b in row}
    elsewhere = [{"id": MEMBER, "type": "private", "first_name": "M"},
                 {"id": ALLOWED_GROUP, "type": "supergroup", "title": "G"}]
    queries = []
    for chat in elsewhere:  # an allowed user replays USER's button data in other chats
        forged = dict(answer, chat=chat)
        for value in data.values():
            queries.append(fake.press_button(MEMBER, forged, value))
    for query in queries:
        call = fake.wait_for(lambda q=query: [c for c in fake.calls_to("answerCallbackQuery")
                                              if c.params["callback_query_id"] == q])[0]
        assert call.params["text"] == EXPIRED
    settle()
    assert len(fake.sent()) == 1 and not fake.calls_to("editMessageText")


# --- the bot token -----------------------------------------------------------------------


def test_rejected_token_is_a_clear_error_that_never_shows_it(fake: FakeTelegram,
                                                             session_config: Any) -> None:
    wrong = "987654321:WRONG-recognisable-s3cret_TOKEN"
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=wrong, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "quotebot", "bot", "--corpus", str(session_config.corpus),
         "--store", str(session_config.store), "--base-url", fake.base_url],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    secret = wrong.split(":", 1)[1]
    assert done.returncode == 2
    assert "rejected the bot token" in done.stderr
    assert secret not in done.stderr and secret not in done.stdout


def test_uncaught_errors_print_no_token() -> None:
    script = (
        "import threading\n"
        "from bot.redact import protect_token\n"
        f"token = {TOKEN!r}\n"
        "protect_token(token)\n"
        "def fail():\n"
        "    raise RuntimeError(f'thread failed at https://api.telegram.org/bot{token}/x')\n"
        "worker = threading.Thread(target=fail)\n"
        "worker.start()\n"
        "worker.join()\n"
        "raise ConnectionError(f'cannot reach https://api.telegram.org/bot{token}/getMe')\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    secret = TOKEN.split(":", 1)[1]
    assert done.returncode == 1
    assert "thread failed at" in done.stderr and "cannot reach" in done.stderr
    assert secret not in done.stderr and done.stderr.count("<token>") == 2


def test_failed_file_download_shows_no_token(fake: FakeTelegram, copy_bot: Any,
                                             caplog: pytest.LogCaptureFixture) -> None:
    copy_bot()
    message = fake.upload(ADMIN, "notes.txt", b"Notes to add.")
    del fake.files[message["document"]["file_id"]]  # the download will fail (404)
    (apology,) = fake.wait_sent(ADMIN)
    settle()
    secret = TOKEN.split(":", 1)[1]
    assert "something went wrong" in apology["text"]
    assert any(r.exc_info or r.exc_text for r in caplog.records)  # the error was logged
    assert secret not in caplog.text
    assert all(secret not in m["html"] for m in fake.sent())


# --- uploads -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["/etc/cron.daily/evil.txt", "..\\..\\..\\evil.txt",
                                  "evil\x00.md\x00.txt", "../.bashrc.txt"])
def test_uploaded_file_lands_inside_the_corpus(fake: FakeTelegram, copy_bot: Any,
                                               name: str) -> None:
    runner, config = copy_bot()
    outside = sorted(p for p in config.corpus.parent.iterdir())
    before = set(config.corpus.rglob("*"))
    fake.upload(ADMIN, name, b"Evil notes\n\nThe quorblat is a small blue bird.\n")
    saved = fake.wait_for(lambda: next((m for m in fake.sent(ADMIN)
                                        if "Saved as" in m["text"]), None))
    assert well_formed(saved["html"])
    new = sorted(set(config.corpus.rglob("*")) - before)
    assert len(new) == 1 and new[0].parent == config.corpus
    assert "\x00" not in new[0].name and not new[0].name.startswith(".")
    assert sorted(p for p in config.corpus.parent.iterdir()) == outside
    fake.wait_for(lambda: any("Index updated" in m["text"] for m in fake.sent(ADMIN)))


def test_upload_over_the_limit_is_refused_even_if_its_size_is_not_told(fake: FakeTelegram,
                                                                       copy_bot: Any) -> None:
    runner, config = copy_bot(max_upload_mb=0.01)
    fake.upload(ADMIN, "big.txt", b"word " * 5000, declared_size=None)
    fake.upload(ADMIN, "lying.txt", b"word " * 5000, declared_size=100)
    fake.wait_for(lambda: sum("too large" in m["text"] for m in fake.sent(ADMIN)) == 2)
    assert not (config.corpus / "big.txt").exists()
    assert not (config.corpus / "lying.txt").exists()


@settings(deadline=None)  # examples: the profile in tests/conftest.py (more in the soak)
@given(name=st.text(max_size=120))
def test_any_upload_name_is_saved_inside_the_folder(tmp_path_factory: Any, name: str) -> None:
    folder = tmp_path_factory.mktemp("uploads")
    saved = save_upload(folder, name, b"data")
    assert saved.parent == folder and saved.resolve().parent == folder.resolve()
    assert saved.read_bytes() == b"data"
    assert not saved.name.startswith(".") and "\x00" not in saved.name
    assert [p.name for p in folder.iterdir()] == [saved.name]


# --- corpus text as Telegram HTML --------------------------------------------------------

HOSTILE_TXT = ("Menu notes\n\nThe zorblax soup recipe says: <a href=\"https://evil.example/x\">"
               "click here</a> for <tg-spoiler>secret</tg-spoiler> <code>pepper</code> "
               "&amp; salt &lt;b&gt; never sugar.\n")
HOSTILE_HTML = ("<html><head><title>&lt;a href=\"https://evil.example\"&gt;Pies&lt;/a&gt;"
                "</title></head><body><p>The quorblat pie uses &lt;i&gt;eleven&lt;/i&gt; eggs "
                "and &lt;a href=\"tg://user?id=1\"&gt;a link&lt;/a&gt; to nowhere.</p>"
                "</body></html>")
HOSTILE_NAME = "<b>menu & <a href='tg:x'>.txt"  # a file name may hold anything but "/"


def test_hostile_corpus_text_is_shown_as_text_never_as_markup(fake: FakeTelegram,
                                                              copy_bot: Any) -> None:
    runner, config = copy_bot()
    (config.corpus / "kitchen").mkdir()
    (config.corpus / "kitchen" / HOSTILE_NAME).write_text(HOSTILE_TXT, encoding="utf-8")
    (config.corpus / "kitchen" / "pies.html").write_text(HOSTILE_HTML, encoding="utf-8")
    fake.user_message(ADMIN, "/reindex")
    report = fake.wait_for(lambda: next((m for m in fake.sent(ADMIN)
                                         if "Index updated" in m["text"]), None), timeout=60)
    assert "2 added" in report["text"] and well_formed(report["html"])
    fake.user_message(ADMIN, "What does the zorblax soup recipe say?")
    fake.user_message(ADMIN, "How many eggs does the quorblat pie use?")
    soup = fake.wait_for(lambda: next((m for m in fake.sent(ADMIN)
                                       if "zorblax soup" in m["text"]), None))
    pie = fake.wait_for(lambda: next((m for m in fake.sent(ADMIN)
                                      if "quorblat pie" in m["text"]), None))
    button = soup["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    fake.press_button(ADMIN, soup, button)  # the Context view of the first quote
    context = fake.wait_for(lambda: next((m for m in fake.sent(ADMIN)
                                          if m["text"].startswith("Context")), None))
    for message in (soup, pie, context):
        html = message["html"]
        assert well_formed(html), html
        assert "<a" not in html and "<tg-spoiler" not in html and "<code>" not in html
    assert ('<a href="https://evil.example/x">click here</a> for <tg-spoiler>secret'
            '</tg-spoiler> <code>pepper</code> &amp; salt &lt;b&gt; never sugar.'  # verbatim
            ) in soup["text"]
    assert f"kitchen/{HOSTILE_NAME}" in soup["text"]  # the file name, as text
    assert '<i>eleven</i> eggs and <a href="tg://user?id=1">a link</a>' in pie["text"]
    assert '<a href="https://evil.example">Pies</a>' in pie["text"]  # the title, as text
    assert all(c.params.get("parse_mode") == "HTML" and "entities" not in c.params
               for c in fake.calls_to("sendMessage"))
