"""Opening a damaged store: refused at open with what to do, and a rebuild recovers."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from index.build import build_index
from quotebot.config import Config
from quotebot.errors import StoreError
from store.generations import CACHE, CURRENT, FORMAT_VERSION, META, VECTORS

QUESTION = "When did the first coffeehouse in London open?"


def overwrite(path: Path, at: float, data: bytes = b"\x5a" * 512) -> None:
    """Overwrite bytes of `path` in place at fraction `at` of its length (a bad sector)."""
    with open(path, "r+b") as f:
        f.seek(int(path.stat().st_size * at))
        f.write(data)


def truncate(path: Path, keep: float) -> None:
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])


def edit_manifest(**changes: object) -> Callable[[Path], None]:
    def edit(generation: Path) -> None:
        data = json.loads((generation / "manifest.json").read_text())
        data.update(changes)
        (generation / "manifest.json").write_text(json.dumps(data))
    return edit


DAMAGE: dict[str, Callable[[Path], None]] = {
    "vectors truncated": lambda g: truncate(g / VECTORS, 0.02),
    "vectors overwritten": lambda g: overwrite(g / VECTORS, 0.5),
    "metadata truncated": lambda g: truncate(g / META, 0.5),
    "metadata header overwritten": lambda g: overwrite(g / META, 0, b"not a database" * 8),
    "metadata page overwritten": lambda g: overwrite(g / META, 0.6),
    "metadata empty": lambda g: (g / META).write_bytes(b""),
    "lexical index missing": lambda g: shutil.rmtree(g / "bm25"),
    "lexical index overwritten": lambda g: overwrite(g / "bm25" / "vocab.index.json", 0.3),
    "manifest not JSON": lambda g: (g / "manifest.json").write_text("{not json"),
    "manifest of another version": edit_manifest(format_version=FORMAT_VERSION + 1),
    "manifest of another model": edit_manifest(model_name="other/model",
                                               model_fingerprint="0123456789abcdef"),
    "manifest with wrong counts": edit_manifest(n_chunks=1),
    "CURRENT not text": lambda g: (g.parent / CURRENT).write_bytes(b"\xff\xfe\x00"),
    "CURRENT names a missing generation": lambda g: (g.parent / CURRENT).write_text("gen-999999"),
}


def damaged_copy(fresh_copy: Callable[[], Config], damage: str) -> Config:
    config = fresh_copy()
    live = config.store / (config.store / CURRENT).read_text().strip()
    DAMAGE[damage](live)
    return config


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_store_is_refused_at_open_with_what_to_do(fresh_copy, damage: str) -> None:
    from retrieval import Retriever

    config = damaged_copy(fresh_copy, damage)
    with pytest.raises(StoreError, match=r"rebuild with `quotebot index --full`"):
        Retriever.open(config)


@pytest.mark.parametrize("damage", DAMAGE)
def test_rebuild_as_advised_recovers_a_damaged_store(fresh_copy, retriever, damage: str) -> None:
    from retrieval import Retriever

    config = damaged_copy(fresh_copy, damage)
    build_index(config, full=True, progress=False)
    rebuilt = Retriever.open(config)
    try:
        assert rebuilt.ask(QUESTION).to_dict() == retriever.ask(QUESTION).to_dict()
    finally:
        rebuilt.close()


def test_damaged_embedding_cache_is_set_aside_and_the_build_goes_on(fresh_copy) -> None:
    config = fresh_copy()
    (config.store / CACHE).write_bytes(b"this is not a database" * 100)
    (config.corpus / "sport" / "rowing.txt").write_text(
        "Rowing\n\nThe Boat Race between Oxford and Cambridge is rowed on the Thames.\n")
    report = build_index(config, progress=False)
    assert report.added == ["sport/rowing.txt"]
    assert any("embedding cache was damaged" in note for note in report.notes)
    assert (config.store / (CACHE + ".damaged")).is_file()
    db = sqlite3.connect(config.store / CACHE)  # a new cache, holding what was just embedded
    (table,) = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == report.chunks_embedded
    db.close()


def test_opening_an_untouched_store_does_not_hash_its_files(fresh_copy, monkeypatch) -> None:
    import hashlib

    from retrieval import Retriever

    config = fresh_copy()  # a copy keeps the files' modification times

    def no_hashing(*args: object, **kwargs: object) -> None:
        raise AssertionError("hashed a file whose size and mtime are as built")

    monkeypatch.setattr(hashlib, "file_digest", no_hashing)
    with Retriever.open(config) as retriever:
        assert retriever.ask(QUESTION).found


def test_damage_that_kept_its_mtime_is_caught_by_the_next_build(fresh_copy) -> None:
    import os

    config = fresh_copy()
    live = config.store / (config.store / CURRENT).read_text().strip()
    before = (live / VECTORS).stat()
    overwrite(live / VECTORS, 0.5)
    os.utime(live / VECTORS, ns=(before.st_atime_ns, before.st_mtime_ns))
    report = build_index(config, progress=False)  # builds hash everything they reuse
    assert any("unusable" in note and "damaged" in note for note in report.notes)
    assert report.chunks_embedded == 0  # rebuilt from the embedding cache


def test_a_store_file_this_user_cannot_read_is_one_line_not_a_traceback(fresh_copy) -> None:
    # A store built by root (or under umask 077) and asked by another user: sqlite3's
    # "unable to open database file" came out as a traceback.
    import os
    import subprocess
    import sys

    config = fresh_copy()
    live = config.store / (config.store / CURRENT).read_text().strip()
    (live / META).chmod(0)
    command = [sys.executable, "-m", "quotebot", "ask", "--corpus", str(config.corpus),
               "--store", str(config.store), QUESTION]
    if os.geteuid() == 0:  # root reads everything: drop the capabilities that allow it
        if shutil.which("setpriv") is None:
            pytest.skip("as root this needs setpriv to drop the file-permission capabilities")
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert str(live / META) in done.stderr and "readable" in done.stderr


@pytest.mark.parametrize("damage", ["vectors truncated", "metadata truncated"])
def test_status_calls_a_damaged_store_unusable(fresh_copy, damage: str) -> None:
    from index.status import store_status

    status = store_status(damaged_copy(fresh_copy, damage))
    assert status.generation is None
    assert status.problem.startswith("unusable") and "quotebot index --full" in status.problem
