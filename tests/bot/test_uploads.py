"""Uploads that survive hostile names and kills, and a corpus changed while the bot was down."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from support.bot_runner import ADMIN
from support.fake_telegram import FakeTelegram
from test_admin import ZORBLAX, wait_text

from bot import uploads
from bot.uploads import clean_stale_parts, safe_name, save_upload


@pytest.mark.parametrize("stem", ["𠀀" * 80, "é" * 300, "x" * 300, "日本語" * 100],
                         ids=["4-byte", "2-byte", "ascii", "cjk"])
def test_any_name_fits_255_bytes_even_when_taken(tmp_path: Path, stem: str) -> None:
    name = safe_name(stem + ".markdown")
    assert len(name.encode()) <= 255 - len("-9999") and name.endswith(".markdown")
    first = save_upload(tmp_path, stem + ".markdown", b"one")
    second = save_upload(tmp_path, stem + ".markdown", b"two")
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"


def test_upload_is_fsynced_file_and_folder_before_it_is_confirmed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(uploads.os, "fsync", fsync)
    save_upload(tmp_path, "notes.txt", b"data")
    assert any(".upload-" in s for s in synced)  # the bytes, before they get their name
    assert synced[-1] == str(tmp_path)  # then the folder holding the new name


def test_stale_parts_are_removed_but_fresh_ones_kept(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".upload-aaaa.part", tmp_path / ".upload-bbbb.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    assert clean_stale_parts(tmp_path) == [stale]
    assert fresh.exists() and not stale.exists()


def test_at_start_parts_are_cleaned_and_a_changed_corpus_is_indexed(
        fake: FakeTelegram, fresh_copy: Any, start_bot: Any) -> None:
    from retrieval import Retriever

    config = fresh_copy()  # indexed; then, while "the bot was down", a kill left a part
    part = config.corpus / ".upload-0123456789ab.part"  # and an upload was saved
    part.write_bytes(b"half an upload")
    os.utime(part, (time.time() - 600, time.time() - 600))
    (config.corpus / "zorblax.txt").write_text(ZORBLAX, encoding="utf-8")
    retriever = Retriever.open(config)
    try:
        before = retriever.counts()["documents"]
        start_bot(config=config, retriever_=retriever, admins=[ADMIN], build_at_start=True)
        fake.wait_for(lambda: retriever.counts()["documents"] > before, timeout=120)
        assert not part.exists()
        fake.user_message(ADMIN, "Where is the Zorblax festival held?")
        wait_text(fake, ADMIN, "Kettleby")
    finally:
        retriever.close()
