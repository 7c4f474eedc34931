"""The cheap check the bot makes at start: has the corpus changed since the live index?"""

from __future__ import annotations

import os
from collections.abc import Callable

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
