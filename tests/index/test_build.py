"""Index builds on the real model and FAISS: incremental, crash-safe, locked."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from index.build import BuildBusy, BuildLock, build_index
from index.embedding import Embedder
from index.store import CACHE, LOCK, StoreError, StoreReader, current_generation
from quotebot.config import Config

ROOT = Path(__file__).resolve().parents[2]


def stored_chunks(store: Path) -> dict[int, tuple[str, str]]:
    """chunk_id -> (path, text) of the live generation."""
    reader = StoreReader(store)
    try:
        return {cid: (path, text) for cid, path, text in reader.db.execute(
            "SELECT chunk_id, path, c.text FROM chunks c JOIN documents USING (doc_id)")}
    finally:
        reader.close()


def top_ids(store: Path, question: str, k: int = 5) -> list[int]:
    reader = StoreReader(store)
    vector = Embedder().encode_queries([question])
    _, ids = reader.index.search(vector, k)
    reader.close()
    return [int(i) for i in ids[0]]


def test_every_supported_format_is_indexed(session_config: Config) -> None:
    paths = {p for p, _ in stored_chunks(session_config.store).values()}
    assert {"astronomy/solar.md", "food/coffee.html", "geology/volcanoes.txt",
            "landmarks/eiffel.pdf", "news/raqqa.txt", "sport/cycling.txt"} <= paths


def test_bad_files_are_skipped_with_a_reason(session_config: Config) -> None:
    reader = StoreReader(session_config.store)
    skipped = dict(reader.skipped())
    reader.close()
    assert set(skipped) == {"broken/empty.txt", "broken/garbage.pdf"}
    assert all(reason.strip() for reason in skipped.values())


def test_stored_offsets_round_trip(session_config: Config) -> None:
    reader = StoreReader(session_config.store)
    rows = reader.db.execute("SELECT doc_id, start, end, text, sentences FROM chunks").fetchall()
    for doc_id, start, end, text, sentences in rows:
        doc_text = reader.document_text(doc_id)
        assert doc_text[start:end] == text
        for s, e in json.loads(sentences):
            assert start <= s < e <= end
            assert doc_text[s:e].strip() == doc_text[s:e]
    reader.close()


def test_pdf_chunks_carry_page_numbers(session_config: Config) -> None:
    reader = StoreReader(session_config.store)
    pages = {row[0] for row in reader.db.execute(
        "SELECT c.page_start FROM chunks c JOIN documents d USING (doc_id) "
        "WHERE d.path = 'landmarks/eiffel.pdf'")}
    reader.close()
    assert pages and pages <= {1, 2}


def test_vectors_are_normalised_and_match_the_model(session_config: Config) -> None:
    reader = StoreReader(session_config.store)
    cid, text = reader.db.execute("SELECT chunk_id, text FROM chunks LIMIT 1").fetchone()
    stored = reader.index.reconstruct(int(cid))
    reader.close()
    fresh = Embedder().encode_queries([text])[0]
    assert abs(float(np.linalg.norm(stored)) - 1) < 1e-4
    assert float(stored @ fresh) > 0.9999


def test_second_build_embeds_nothing(fresh_copy) -> None:
    config = fresh_copy()
    before = current_generation(config.store)
    report = build_index(config, progress=False)
    assert report.chunks_embedded == 0
    assert report.added == report.changed == report.removed == []
    assert report.unchanged == report.documents == 7
    assert current_generation(config.store) == before


def test_changed_document_reembeds_only_its_new_chunks(fresh_copy) -> None:
    config = fresh_copy()
    before = stored_chunks(config.store)
    path = config.corpus / "geology" / "volcanoes.txt"
    path.write_text(path.read_text() + "\nMauna Loa in Hawaii is the largest active volcano "
                    "on Earth by volume.\n", encoding="utf-8")
    report = build_index(config, progress=False)
    after = stored_chunks(config.store)
    assert report.changed == ["geology/volcanoes.txt"]
    assert report.unchanged == report.documents - 1
    old_texts = {text for _, text in before.values()}
    new_texts = {text for p, text in after.values() if p == "geology/volcanoes.txt"}
    assert report.chunks_embedded == len(new_texts - old_texts) >= 1
    assert any("Mauna Loa" in text for text in new_texts)
    unchanged_ids = {cid for cid, (p, _) in before.items() if p != "geology/volcanoes.txt"}
    assert unchanged_ids <= set(after)


def test_removed_document_leaves_the_index(fresh_copy) -> None:
    config = fresh_copy()
    (config.corpus / "sport" / "cycling.txt").unlink()
    report = build_index(config, progress=False)
    assert report.removed == ["sport/cycling.txt"]
    after = stored_chunks(config.store)
    assert all(path != "sport/cycling.txt" for path, _ in after.values())
    reader = StoreReader(config.store)
    assert reader.index.ntotal == len(after) == reader.manifest.n_chunks
    reader.close()


def test_full_rebuild_matches_incremental_chunks(fresh_copy) -> None:
    config = fresh_copy()
    incremental = stored_chunks(config.store)
    report = build_index(config, full=True, progress=False)
    # The syndicated copy of the Raqqa story shares its chunk texts: each is embedded once.
    assert report.chunks_embedded == len({text for _, text in incremental.values()})
    assert report.chunks_embedded < report.chunks
    assert stored_chunks(config.store) == incremental


def test_querying_with_another_model_is_refused(session_config: Config) -> None:
    reader = StoreReader(session_config.store)
    with pytest.raises(StoreError, match="rebuild"):
        reader.check_model("some/other-model", "0123456789abcdef")
    reader.check_model("all-MiniLM-L6-v2", Embedder().fingerprint)
    reader.close()


def test_missing_store_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="quotebot index"):
        StoreReader(tmp_path / "nothing")


def test_truncated_vector_file_is_reported_not_crashed(fresh_copy) -> None:
    config = fresh_copy()
    vectors = current_generation(config.store) / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:100])
    with pytest.raises(StoreError, match="damaged"):
        StoreReader(config.store)


def test_second_build_at_once_is_refused(fresh_copy) -> None:
    config = fresh_copy()
    lock = BuildLock(config.store / LOCK)
    lock.acquire(wait=False)
    try:
        with pytest.raises(BuildBusy, match="another build is running"):
            build_index(config, progress=False)
    finally:
        lock.release()


def test_waiting_build_runs_after_the_first(fresh_copy) -> None:
    config = fresh_copy()
    lock = BuildLock(config.store / LOCK)
    lock.acquire(wait=False)
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(build_index(config, wait=True,
                                                                     progress=False)))
    worker.start()
    time.sleep(0.5)
    assert not done  # still waiting for the lock
    lock.release()
    worker.join(timeout=60)
    assert done and done[0].chunks_embedded == 0


def test_killed_build_leaves_old_index_whole_and_next_build_completes(fresh_copy) -> None:
    config = fresh_copy()
    question = "Which volcano buried Pompeii?"
    before_ids = top_ids(config.store, question)
    before_chunks = stored_chunks(config.store)
    for i in range(60):  # enough new text that embedding takes a while
        (config.corpus / "extra" / f"note{i:02d}.txt").parent.mkdir(exist_ok=True)
        (config.corpus / "extra" / f"note{i:02d}.txt").write_text(
            f"Note {i}. " + " ".join(f"Fact {i}-{j} concerns item {j * i} of the ledger."
                                     for j in range(40)), encoding="utf-8")
    env = dict(os.environ, QUOTEBOT_CORPUS=str(config.corpus), QUOTEBOT_STORE=str(config.store),
               PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "quotebot", "index", "--no-progress"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    cache = config.store / CACHE
    deadline = time.monotonic() + 120
    baseline = _cache_rows(cache)
    while _cache_rows(cache) <= baseline and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the build finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)  # mid-embedding, with a partial generation on disk
    proc.wait()

    assert stored_chunks(config.store) == before_chunks
    assert top_ids(config.store, question) == before_ids
    report = build_index(config, progress=False)
    assert report.added and report.chunks_embedded < report.chunks
    clean = Config()
    clean.corpus, clean.store = config.corpus, config.store.parent / "clean-store"
    build_index(clean, progress=False)
    assert stored_chunks(config.store) == stored_chunks(clean.store)
    assert not list(config.store.glob("gen-*.partial"))


def _cache_rows(path: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_documents_carry_the_mean_of_their_chunk_vectors(session_config: Config) -> None:
    reader = StoreReader(session_config.store)
    doc_id, n = reader.db.execute(
        "SELECT doc_id, n_chunks FROM documents ORDER BY n_chunks DESC LIMIT 1").fetchone()
    ids = [r[0] for r in reader.db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?",
                                           (doc_id,))]
    mean = np.mean([reader.index.reconstruct(int(i)) for i in ids], axis=0)
    stored = reader.document_vectors(ids)
    reader.close()
    assert n == len(ids) >= 2
    assert np.allclose(stored, mean / np.linalg.norm(mean), atol=2e-3)  # float16 on disk
