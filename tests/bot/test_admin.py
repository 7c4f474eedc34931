"""Admin features end to end: uploads into the corpus, /reindex, escaping of new corpus text."""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

import pytest
from support.asking import ask, wait_answered
from support.fake_telegram import FakeTelegram
from support.html_check import well_formed

from bot.handlers import FAILED

ADMIN, OTHER = 1001, 2002  # ADMIN: the admin of `copy_bot`


def wait_text(fake: FakeTelegram, chat: int, needle: str, timeout: float = 30) -> dict:
    return fake.wait_for(lambda: next((m for m in fake.sent(chat) if needle in m["text"]),
                                      None), timeout)


ZORBLAX = ("Zorblax Festival\n\nThe Zorblax festival is held every March in the village "
           "of Kettleby, where people race wheels of cheese down Cooper's Hill.\n")


def test_admin_upload_saved_indexed_and_answered(fake: FakeTelegram, copy_bot: Any) -> None:
    runner, config = copy_bot()
    fake.upload(ADMIN, "../../zorblax festival.txt", ZORBLAX.encode())
    saved = wait_text(fake, ADMIN, "Saved as")
    assert "zorblax festival.txt" in saved["text"]
    assert (config.corpus / "zorblax festival.txt").is_file()
    assert not any(p.name.startswith(".upload") for p in config.corpus.iterdir())
    report = wait_text(fake, ADMIN, "Index updated")
    assert "1 added" in report["text"]
    fake.user_message(ADMIN, "Where is the Zorblax festival held?")
    answer = wait_text(fake, ADMIN, "Kettleby")
    assert "zorblax festival.txt" in answer["text"]
    assert "<blockquote>" in answer["html"]


def test_upload_never_overwrites(fake: FakeTelegram, copy_bot: Any) -> None:
    runner, config = copy_bot()
    before = (config.corpus / "sport" / "cycling.txt").read_bytes()
    fake.upload(ADMIN, "sport/cycling.txt", b"Completely different cycling text.")
    first = wait_text(fake, ADMIN, "Saved as cycling.txt")
    fake.upload(ADMIN, "cycling.txt", b"Second upload of the same name.")
    second = wait_text(fake, ADMIN, "Saved as cycling-2.txt")
    assert "already exists" in second["text"] and "overwrite" in second["text"]
    assert "already exists" not in first["text"]
    assert (config.corpus / "sport" / "cycling.txt").read_bytes() == before
    assert (config.corpus / "cycling-2.txt").read_bytes() == b"Second upload of the same name."
    fake.wait_for(lambda: sum("Index updated" in m["text"] for m in fake.sent(ADMIN)) == 2)


def test_the_same_file_sent_again_is_not_added_twice(fake: FakeTelegram,
                                                      copy_bot: Any) -> None:
    runner, config = copy_bot()
    fake.upload(ADMIN, "zorblax.txt", ZORBLAX.encode())
    wait_text(fake, ADMIN, "Index updated")
    fake.upload(ADMIN, "zorblax.txt", ZORBLAX.encode())
    again = wait_text(fake, ADMIN, "already in the corpus with the same content")
    assert "zorblax.txt" in again["text"] and "and indexed: nothing to add" in again["text"]
    assert not (config.corpus / "zorblax-2.txt").exists()
    assert sum("Index updated" in m["text"] for m in fake.sent(ADMIN)) == 1


def test_a_file_saved_but_not_indexed_is_indexed_when_sent_again(fake: FakeTelegram,
                                                                  copy_bot: Any) -> None:
    runner, config = copy_bot()
    (config.corpus / "zorblax.txt").write_text(ZORBLAX)  # saved, then killed before its build
    fake.upload(ADMIN, "zorblax.txt", ZORBLAX.encode())
    again = wait_text(fake, ADMIN, "not in the index yet")
    assert "zorblax.txt" in again["text"]
    report = wait_text(fake, ADMIN, "Index updated")
    assert "1 added" in report["text"]
    assert not (config.corpus / "zorblax-2.txt").exists()


def test_a_file_the_build_skipped_is_not_called_indexed_when_sent_again(
        fake: FakeTelegram, copy_bot: Any) -> None:
    runner, config = copy_bot()
    blank = b"   \n\n\t  \n"  # the build skips it: no text
    fake.upload(ADMIN, "blank.txt", blank)
    report = wait_text(fake, ADMIN, "Index updated")
    assert "blank.txt" in report["text"]  # listed as skipped
    fake.upload(ADMIN, "blank.txt", blank)
    again = wait_text(fake, ADMIN, "already in the corpus with the same content")
    assert "the last build skipped it" in again["text"] and "indexed" not in again["text"]
    # tried again (the operator may have raised a limit or turned OCR on since)
    fake.wait_for(lambda: sum("Index updated" in m["text"] for m in fake.sent(ADMIN)) == 2)


def test_a_start_task_that_builds_nothing_does_not_hold_back_a_needed_build(
        fake: FakeTelegram, copy_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.handlers as handlers

    real = handlers.clean_stale_parts

    def slow(folder: Any, *args: Any) -> Any:  # widens the start task's window to 3 s
        time.sleep(3)
        return real(folder, *args)

    monkeypatch.setattr(handlers, "clean_stale_parts", slow)
    runner, config = copy_bot()
    (config.corpus / "zorblax.txt").write_text(ZORBLAX)  # saved, then killed before its build
    fake.upload(ADMIN, "zorblax.txt", ZORBLAX.encode())
    wait_text(fake, ADMIN, "already in the corpus with the same content")
    report = wait_text(fake, ADMIN, "Index updated", timeout=20)
    assert "1 added" in report["text"]


def test_upload_of_unsupported_or_large_file_refused(fake: FakeTelegram,
                                                     copy_bot: Any) -> None:
    runner, config = copy_bot(max_upload_mb=0.001)
    fake.upload(ADMIN, "tool.exe", b"MZ...")
    wait_text(fake, ADMIN, "I can only add")
    fake.upload(ADMIN, "big.txt", b"word " * 1000)
    wait_text(fake, ADMIN, "too large")
    assert not (config.corpus / "tool.exe").exists() and not (config.corpus / "big.txt").exists()
    assert not fake.calls_to("getFile")


def test_non_admin_upload_refused(fake: FakeTelegram, copy_bot: Any) -> None:
    runner, config = copy_bot()
    before = sorted(p.name for p in config.corpus.rglob("*"))
    fake.upload(OTHER, "notes.txt", b"Something to add.")
    refused = wait_text(fake, OTHER, "only the bot's admins")
    assert refused
    assert sorted(p.name for p in config.corpus.rglob("*")) == before
    assert not fake.calls_to("getFile")
    fake.user_message(OTHER, "/reindex")
    fake.wait_sent(OTHER, 2)
    assert "only the bot's admins" in fake.sent(OTHER)[1]["text"]


def test_corpus_html_is_escaped_after_reindex(fake: FakeTelegram, copy_bot: Any) -> None:
    runner, config = copy_bot()
    (config.corpus / "kitchen").mkdir()
    (config.corpus / "kitchen" / "soup.txt").write_text(
        "Soup notes\n\nThe secret ingredient of zorblax soup is <b>pepper</b> & salt "
        "</blockquote> <i>never</i> sugar.\n", encoding="utf-8")
    fake.user_message(ADMIN, "/reindex")
    report = wait_text(fake, ADMIN, "Index updated")
    assert "1 added" in report["text"]
    fake.user_message(ADMIN, "What is the secret ingredient of zorblax soup?")
    answer = wait_text(fake, ADMIN, "secret ingredient")
    html = answer["html"]
    assert well_formed(html), html
    assert ("&lt;b&gt;pepper&lt;/b&gt; &amp; salt &lt;/blockquote&gt; &lt;i&gt;never&lt;/i&gt;"
            in html)
    assert html.count("<blockquote>") == html.count("</blockquote>")
    assert "<b>pepper</b> & salt </blockquote> <i>never</i> sugar." in answer["text"]


def test_questions_during_a_rebuild_use_the_old_index_then_the_new(
        fake: FakeTelegram, copy_bot: Any, caplog: pytest.LogCaptureFixture) -> None:
    runner, config = copy_bot()
    asker, question = 4242, "Where is the Zorblax festival held?"
    fake.user_message(asker, question)
    old = fake.wait_sent(asker)[0]["text"]  # not in the old index: not found
    assert "could not find" in old or old.startswith("Not sure this answers it")
    notes = config.corpus / "notes"
    notes.mkdir()
    for i in range(40):  # enough new text that the build embeds for a few seconds
        (notes / f"note{i:02d}.txt").write_text(f"Note {i}\n\n" + " ".join(
            f"Item {j} of note {i} is a crate of {j * i + 7} lanterns for the harbour."
            for j in range(25)), encoding="utf-8")
    (config.corpus / "zorblax.txt").write_text(ZORBLAX, encoding="utf-8")
    background = ask(fake, range(60_000, 60_020), questions=3)
    fake.user_message(ADMIN, "/reindex")
    wait_text(fake, ADMIN, "Updating the index")
    found: list[bool] = []  # one question at a time, each after the previous answer
    while not any("Index updated" in m["text"] for m in fake.sent(ADMIN)) or found[-2:] != [
            True, True]:
        fake.user_message(asker, question)
        reply = fake.wait_sent(asker, len(found) + 2, timeout=60)[-1]
        found.append("Kettleby" in reply["text"])
        assert len(found) < 500, "the new index never answered"
    switch = found.index(True)
    assert switch >= 1, "no question was answered while the index was being rebuilt"
    assert found == [False] * switch + [True] * (len(found) - switch)  # switched once, for good
    counts = wait_answered(fake, background)
    assert counts == Counter({key: 1 for key in background})
    assert not [m for m in fake.sent() if m["text"] == FAILED]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
