"""The cheap check the bot makes at start: has the corpus changed since the live index?"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from index.build import build_index
from index.changes import corpus_changes
from quotebot.config import Config


def test_an_indexed_corpus_has_no_changes(fresh_copy: Callable[[], Config]) -> None:
    assert not corpus_changes(fresh_copy())


def test_added_changed_and_removed_files_are_seen(fresh_copy: Callable[[], Config]) -> None:
    config = fresh_copy()
    (config.corpus / "new.txt").write_text("A new file.", encoding="utf-8")
    edited = config.corpus / "sport" / "cycling.txt"
    text = edited.read_bytes()
    edited.write_bytes(text.swapcase())  # the same size, other bytes
    os.utime(edited, (edited.stat().st_atime, edited.stat().st_mtime + 10))
    (config.corpus / "geology" / "volcanoes.txt").unlink()
    (config.corpus / ".upload-0123.part").write_text("hidden", encoding="utf-8")
    changes = corpus_changes(config)
    assert changes.added == ["new.txt"]
    assert changes.changed == ["sport/cycling.txt"]
    assert changes.removed == ["geology/volcanoes.txt"]


def test_a_touched_file_with_the_same_bytes_is_not_a_change(
        fresh_copy: Callable[[], Config]) -> None:
    config = fresh_copy()
    touched = config.corpus / "sport" / "cycling.txt"
    os.utime(touched, (touched.stat().st_atime, touched.stat().st_mtime + 10))
    assert not corpus_changes(config)


def test_a_store_without_an_index_is_a_change(fresh_copy: Callable[[], Config]) -> None:
    config = fresh_copy()
    config.store = config.store.parent / "empty-store"
    assert corpus_changes(config).no_index


def test_a_file_saved_again_while_the_build_reads_it_is_a_change(
        fresh_copy: Callable[[], Config], monkeypatch: object) -> None:
    import index.build as build

    config = fresh_copy()
    edited = config.corpus / "sport" / "cycling.txt"
    first = edited.read_bytes().replace(b"yellow", b"orange")
    edited.write_bytes(first)
    real_read = build.read_file

    def read_then_saved_again(path: os.PathLike, max_bytes: int) -> bytes:
        data = real_read(path, max_bytes)
        if path == edited:  # an editor saves the file again just after the build read it
            edited.write_bytes(data.replace(b"orange", b"purple"))  # the same size
        return data

    monkeypatch.setattr(build, "read_file", read_then_saved_again)  # type: ignore[attr-defined]
    build.build_index(config, progress=False)
    assert b"purple" in edited.read_bytes()
    assert corpus_changes(config).changed == ["sport/cycling.txt"]  # not indexed yet


def test_a_skipped_file_replaced_by_a_good_one_is_a_pending_change(
        fresh_copy: Callable[[], Config]) -> None:
    config = fresh_copy()
    assert "broken/empty.txt" in corpus_changes(config).skipped
    assert not corpus_changes(config)
    fixed = config.corpus / "broken" / "empty.txt"
    fixed.write_text("The night ferry leaves the harbour at ten.\n")  # repaired in place
    os.utime(fixed, (time.time() + 2, time.time() + 2))
    assert corpus_changes(config).added == ["broken/empty.txt"]


def test_a_skipped_file_still_broken_after_a_build_is_no_pending_change(
        fresh_copy: Callable[[], Config]) -> None:
    config = fresh_copy()
    broken = config.corpus / "notes.pdf"
    broken.write_text("not a PDF at all\n")
    build_index(config, progress=False)
    broken.write_text("still not a PDF\n")  # edited, still broken
    os.utime(broken, (time.time() - 5, time.time() - 5))
    time.sleep(0.01)
    build_index(config, progress=False)  # skips it again: nothing else to do
    assert not corpus_changes(config)
