"""Index builds on the real model and FAISS: incremental, crash-safe, locked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from index.build import EMBED_GROUP, BuildBusy, BuildLock, build_index
from index.embedding import Embedder
from quotebot.config import Config
from quotebot.errors import StoreError
from store.faiss import FaissReader
from store.generations import CACHE, LOCK, current_generation, generation_number

ROOT = Path(__file__).resolve().parents[2]


def stored_chunks(store: Path) -> dict[int, tuple[str, str]]:
    """chunk_id -> (path, text) of the live generation."""
    reader = FaissReader(store)
    try:
        return {cid: (path, text) for cid, path, text in reader.db.execute(
            "SELECT chunk_id, path, c.text FROM chunks c JOIN documents USING (doc_id)")}
    finally:
        reader.close()


def top_ids(store: Path, question: str, k: int = 5) -> list[int]:
    reader = FaissReader(store)
    vector = Embedder().encode_queries([question])
    _, ids = reader.index.search(vector, k)
    reader.close()
    return [int(i) for i in ids[0]]


def test_every_supported_format_is_indexed(session_config: Config) -> None:
    paths = {p for p, _ in stored_chunks(session_config.store).values()}
    assert {"astronomy/solar.md", "food/coffee.html", "geology/volcanoes.txt",
            "landmarks/eiffel.pdf", "news/raqqa.txt", "sport/cycling.txt"} <= paths


def test_bad_files_are_skipped_with_a_reason(session_config: Config) -> None:
    reader = FaissReader(session_config.store)
    skipped = dict(reader.skipped())
    reader.close()
    assert set(skipped) == {"broken/empty.txt", "broken/garbage.pdf"}
    assert all(reason.strip() for reason in skipped.values())


def test_stored_offsets_round_trip(session_config: Config) -> None:
    reader = FaissReader(session_config.store)
    rows = reader.db.execute("SELECT doc_id, start, end, text, sentences FROM chunks").fetchall()
    for doc_id, start, end, text, sentences in rows:
        doc_text = reader.document_text(doc_id)
        assert doc_text[start:end] == text
        for s, e in json.loads(sentences):
            assert start <= s < e <= end
            assert doc_text[s:e].strip() == doc_text[s:e]
    reader.close()


def test_pdf_chunks_carry_page_numbers(session_config: Config) -> None:
    reader = FaissReader(session_config.store)
    pages = {row[0] for row in reader.db.execute(
        "SELECT c.page_start FROM chunks c JOIN documents d USING (doc_id) "
        "WHERE d.path = 'landmarks/eiffel.pdf'")}
    reader.close()
    assert pages and pages <= {1, 2}


def test_vectors_are_normalised_and_match_the_model(session_config: Config) -> None:
    reader = FaissReader(session_config.store)
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


def test_a_new_bm25_tokenizer_version_rereads_every_document_but_embeds_nothing(
        fresh_copy, monkeypatch: pytest.MonkeyPatch) -> None:
    config = fresh_copy()
    before = current_generation(config.store)
    monkeypatch.setattr("index.build.TOKENS_VERSION", 99)
    report = build_index(config, progress=False)
    assert any("BM25 tokenizer changed" in note for note in report.notes)
    assert report.chunks_embedded == 0
    assert current_generation(config.store) != before
    assert build_index(config, progress=False).generation == report.generation  # once


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
    reader = FaissReader(config.store)
    assert reader.index.ntotal == len(after) == reader.manifest.n_chunks
    reader.close()


def test_a_skipped_file_renamed_to_its_real_type_is_read_again(fresh_copy) -> None:
    config = fresh_copy()
    wrong = config.corpus / "notes.pdf"
    wrong.write_text("The ferry to the island leaves at seven every morning.\n")
    first = build_index(config, progress=False)
    assert "notes.pdf" in dict(first.skipped)
    wrong.rename(config.corpus / "notes.txt")
    second = build_index(config, progress=False)
    assert second.added == ["notes.txt"] and "notes.txt" not in dict(second.skipped)


def _unlistable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Listing `folder` fails as a permission or a stale mount makes it (root reads any
    chmod 000 folder, so the failure is injected at the listing)."""
    import index.scan

    real = os.scandir

    def scandir(path):
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(index.scan.os, "scandir", scandir)


def test_documents_under_a_folder_that_cannot_be_listed_stay_indexed(
        fresh_copy, monkeypatch: pytest.MonkeyPatch) -> None:
    config = fresh_copy()
    before = {path for path, _ in stored_chunks(config.store).values()}
    _unlistable(monkeypatch, config.corpus / "sport")
    report = build_index(config, progress=False)
    assert report.removed == []
    assert ("sport", "cannot read folder: Permission denied") in report.skipped
    assert {path for path, _ in stored_chunks(config.store).values()} == before


def test_a_corpus_folder_that_cannot_be_listed_stops_the_build(
        fresh_copy, monkeypatch: pytest.MonkeyPatch) -> None:
    from index.build import BuildError

    config = fresh_copy()
    live = current_generation(config.store)
    _unlistable(monkeypatch, config.corpus)
    with pytest.raises(BuildError, match="cannot read the corpus folder.*unchanged"):
        build_index(config, progress=False)
    assert current_generation(config.store) == live


def test_full_rebuild_matches_incremental_chunks(fresh_copy) -> None:
    config = fresh_copy()
    incremental = stored_chunks(config.store)
    report = build_index(config, full=True, progress=False)
    # The syndicated copy of the Raqqa story shares its chunk texts: each is embedded once.
    assert report.chunks_embedded == len({text for _, text in incremental.values()})
    assert report.chunks_embedded < report.chunks
    assert stored_chunks(config.store) == incremental


def test_querying_with_another_model_is_refused(session_config: Config) -> None:
    reader = FaissReader(session_config.store)
    with pytest.raises(StoreError, match="rebuild"):
        reader.check_model("some/other-model", "0123456789abcdef")
    reader.check_model("all-MiniLM-L6-v2", Embedder().fingerprint)
    reader.close()


def test_missing_store_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="quotebot index"):
        FaissReader(tmp_path / "nothing")


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


# --- crashes --------------------------------------------------------------------------------

QUESTIONS = ["When did the first coffeehouse in London open?", "How many moons does Mars have?",
             "How tall is the Eiffel Tower?", "Which volcano buried Pompeii?",
             "When was the Tour de France first organised?", "What is the Kettleby cheese race?"]
NEW_DOCS = {
    "extra/cheese.txt": "Cheese rolling\n\nEvery spring the village of Kettleby races wheels "
                        "of cheese down Cooper's Hill. The winner keeps the cheese.\n",
    "extra/ledger.md": "# Ledger\n\n" + " ".join(
        f"Entry {j} records a payment of {j * 7} crowns to the harbour master." for j in range(30)),
    "extra/tides.txt": "Tides\n\nSpring tides happen near full and new moon, when the Sun and "
                       "the Moon pull in line.\n",
}


def change_corpus(corpus: Path) -> None:
    """The rebuild every crash test interrupts: documents added, changed and removed."""
    for rel, text in NEW_DOCS.items():
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        (corpus / rel).write_text(text, encoding="utf-8")
    volcanoes = corpus / "geology" / "volcanoes.txt"
    volcanoes.write_text(volcanoes.read_text() + "\nMauna Loa in Hawaii is the largest "
                         "active volcano on Earth by volume.\n", encoding="utf-8")
    (corpus / "sport" / "cycling.txt").unlink()


def answers(config: Config) -> list[dict]:
    """The fixed questions' answers (JSON) from the live index of `config.store`."""
    from retrieval import Retriever

    retriever = Retriever.open(config)
    try:
        return [retriever.ask(q).to_dict() for q in QUESTIONS]
    finally:
        retriever.close()


@pytest.fixture(scope="module")
def rebuilt(session_dirs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory,
            ) -> tuple[dict[int, tuple[str, str]], list[dict], Path]:
    """A clean full build of the changed corpus: its chunks, its answers, its warm cache."""
    import shutil

    base = tmp_path_factory.mktemp("rebuilt")
    corpus, store = base / "corpus", base / "store"
    shutil.copytree(session_dirs[0], corpus)
    change_corpus(corpus)
    store.mkdir()
    shutil.copy(session_dirs[1] / CACHE, store / CACHE)  # vectors only: chunks are redone
    config = Config()
    config.corpus, config.store = corpus, store
    build_index(config, full=False, progress=False)
    return stored_chunks(store), answers(config), store / CACHE


# SIGKILL at each step of a build (the real code and a real signal, in a subprocess):
# step -> (function to wrap, die before or after it runs, only when its first argument is
# a path of this name).
KILL_POINTS = {
    "embedding": ("index.cache:EmbeddingCache.put_many", "after", ""),  # first vectors cached
    "lexical": ("store.faiss:build_lexical_tokens", "before", ""),  # new metadata written
    "vectors": ("store.faiss:write_vectors", "before", ""),
    "manifest": ("store.generations:Manifest.write", "before", ""),
    "publish": ("store.generations:publish", "before", ""),  # renamed gen-N, CURRENT is the old one
    "switch": ("store.generations:write_atomic", "before", "CURRENT"),  # all flushed, not switched
    "prune": ("store.generations:prune", "before", ""),  # CURRENT switched, old ones not pruned
}
KILLER = """
import importlib, os, pathlib, signal, sys
target, when, only = sys.argv[1:4]
module_name, _, attribute = target.partition(":")
owner = importlib.import_module(module_name)
*path, name = attribute.split(".")
for part in path:
    owner = getattr(owner, part)
original = getattr(owner, name)

def killing(*args, **kwargs):
    if only and pathlib.Path(args[0]).name != only:
        return original(*args, **kwargs)
    if when == "after":
        original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

setattr(owner, name, killing)
from quotebot.cli import main
sys.exit(main(["index", "--no-progress"]))
"""


def build_killed_at(config: Config, point: str) -> int:
    """Run `quotebot index` on `config` in a subprocess that SIGKILLs itself at `point`."""
    env = dict(os.environ, QUOTEBOT_CORPUS=str(config.corpus), QUOTEBOT_STORE=str(config.store),
               PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", KILLER, *KILL_POINTS[point]], env=env, cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    return done.returncode


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_build_leaves_a_whole_index_and_next_build_completes(fresh_copy, rebuilt,
                                                                    point: str) -> None:
    import shutil

    clean_chunks, clean_answers, warm_cache = rebuilt
    config = fresh_copy()
    before_chunks, before_answers = stored_chunks(config.store), answers(config)
    old_generation = current_generation(config.store)
    change_corpus(config.corpus)
    if point != "embedding":  # vectors already cached: the build gets to its later steps fast
        shutil.copy(warm_cache, config.store / CACHE)

    assert build_killed_at(config, point) == -signal.SIGKILL

    if current_generation(config.store) == old_generation:  # killed before the switch
        assert stored_chunks(config.store) == before_chunks
        assert answers(config) == before_answers
    else:  # killed after it: the new index is whole
        assert point == "prune"
        assert stored_chunks(config.store) == clean_chunks
    report = build_index(config, progress=False)
    assert report.chunks_embedded == 0 or point == "embedding"
    assert stored_chunks(config.store) == clean_chunks
    assert answers(config) == clean_answers
    live = current_generation(config.store)
    assert sorted(p.name for p in config.store.glob("gen-*")) == sorted(
        {old_generation.name, live.name})  # nothing half-written or unpublished left


def test_documents_carry_the_mean_of_their_chunk_vectors(session_config: Config) -> None:
    reader = FaissReader(session_config.store)
    doc_id, n = reader.db.execute(
        "SELECT doc_id, n_chunks FROM documents ORDER BY n_chunks DESC LIMIT 1").fetchone()
    ids = [r[0] for r in reader.db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?",
                                           (doc_id,))]
    mean = np.mean([reader.index.reconstruct(int(i)) for i in ids], axis=0)
    stored = reader.document_vectors(ids)
    reader.close()
    assert n == len(ids) >= 2
    assert np.allclose(stored, mean / np.linalg.norm(mean), atol=2e-3)  # float16 on disk


def test_generation_left_unpublished_by_a_kill_does_not_block_builds(fresh_copy) -> None:
    import shutil

    config = fresh_copy()
    live = current_generation(config.store)
    orphan = config.store / f"gen-{generation_number(live) + 1:06d}"
    shutil.copytree(live, orphan)  # what a kill between the rename and the switch leaves
    (config.corpus / "sport" / "cycling.txt").unlink()
    report = build_index(config, progress=False)
    assert report.removed == ["sport/cycling.txt"]
    assert current_generation(config.store).name == orphan.name
    assert all(p != "sport/cycling.txt" for p, _ in stored_chunks(config.store).values())


# --- disk full, read-only store -------------------------------------------------------------

def run_index(config: Config, limit_file_size: int | None = None) -> subprocess.CompletedProcess:
    """`quotebot index` on `config` in a subprocess, optionally under RLIMIT_FSIZE."""
    import resource

    def limit() -> None:
        if limit_file_size is not None:  # writes past the limit fail with EFBIG, not SIGXFSZ
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    env = dict(os.environ, QUOTEBOT_CORPUS=str(config.corpus), QUOTEBOT_STORE=str(config.store),
               PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "quotebot", "index", "--no-progress"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          preexec_fn=limit)


@pytest.fixture
def mount():
    """mount(*options, target): a real mount (tmpfs, bind), undone after the test; skips
    unless this runs as root where mounting is allowed."""
    mounted: list[Path] = []

    def do(*options: str, target: Path) -> None:
        if os.geteuid() != 0:
            pytest.skip("mounting needs root")
        done = subprocess.run(["mount", *options, str(target)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount here: {done.stderr.strip()}")
        if target not in mounted:
            mounted.append(target)

    yield do
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], check=False)


def used_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize


def assert_untouched(config: Config, generation: Path, before: list[dict]) -> None:
    """The failed build left the live index as it was and nothing of its own."""
    assert current_generation(config.store) == generation
    assert sorted(p.name for p in config.store.glob("gen-*")) == [generation.name]
    assert answers(config) == before


@pytest.mark.parametrize("limit", ["tmpfs", "file size"])
def test_disk_full_is_a_clear_error_and_leaves_the_old_index(fresh_copy, rebuilt, mount,
                                                             tmp_path: Path, limit: str) -> None:
    import shutil

    clean_chunks, _, warm_cache = rebuilt
    config = fresh_copy()
    before = answers(config)
    if limit == "tmpfs":  # a real ENOSPC: a filesystem with room for the old index only
        disk = tmp_path / "disk"
        disk.mkdir()
        # Room for the store (with its ONNX model export) and 16 MB of work.
        room = sum(f.stat().st_size for f in config.store.rglob("*") if f.is_file()) + 2**24
        mount("-t", "tmpfs", "-o", f"size={room}", "tmpfs", target=disk)
        shutil.copytree(config.store, disk / "store")
        config.store = disk / "store"
    generation = current_generation(config.store)
    change_corpus(config.corpus)
    shutil.copy(warm_cache, config.store / CACHE)  # the build goes straight to writing
    if limit == "tmpfs":
        # Room for the cache's shared-memory file, not for a copy of the metadata.
        mount("-o", f"remount,size={used_bytes(disk) + 64 * 1024}", "tmpfs", target=disk)
        failed = run_index(config)
    else:  # RLIMIT_FSIZE: no file may grow as large as the metadata (EFBIG when copying it)
        failed = run_index(config, (generation / "meta.sqlite").stat().st_size - 4096)

    assert failed.returncode == 1
    assert "cannot write the index" in failed.stderr and "free some disk space" in failed.stderr
    assert "untouched" in failed.stderr and "Traceback" not in failed.stderr
    assert_untouched(config, generation, before)
    if limit == "tmpfs":
        mount("-o", f"remount,size={room}", "tmpfs", target=disk)
    assert run_index(config).returncode == 0
    assert stored_chunks(config.store) == clean_chunks


@pytest.mark.parametrize("how", ["read-only mount", "no write permission"])
def test_read_only_store_is_a_clear_error_and_still_answers(fresh_copy, rebuilt, mount,
                                                            how: str) -> None:
    import shutil

    clean_chunks, _, warm_cache = rebuilt
    config = fresh_copy()
    before = answers(config)
    generation = current_generation(config.store)
    change_corpus(config.corpus)
    shutil.copy(warm_cache, config.store / CACHE)
    if how == "read-only mount":  # EROFS, as on a read-only volume
        mount("--bind", str(config.store), target=config.store)
        mount("-o", "remount,bind,ro", target=config.store)
    else:  # EACCES; root ignores permissions, so this one runs for other users only
        if os.geteuid() == 0:
            pytest.skip("root writes through missing write permission")
        for path in [config.store, *config.store.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)

    failed = run_index(config)
    assert failed.returncode == 1
    assert "cannot write the index" in failed.stderr and "writable" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert_untouched(config, generation, before)  # and it still answers from it
    if how == "read-only mount":
        subprocess.run(["umount", str(config.store)], check=True)
    else:
        for path in [config.store, *config.store.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert run_index(config).returncode == 0
    assert stored_chunks(config.store) == clean_chunks


def test_build_summary_lists_skipped_files_up_to_a_limit() -> None:
    from index.build import BuildReport

    report = BuildReport(store="s", skipped=[(f"bad-{i}.txt", "empty file") for i in range(30)])
    lines = report.summary(max_skipped=20).splitlines()
    assert sum(line.startswith("  skipped bad-") for line in lines) == 20
    assert lines[-1] == "  ... and 10 more skipped (`quotebot index --json` lists them all)"


def test_a_symlinked_file_is_followed_only_within_the_corpus(tmp_path: Path) -> None:
    # Whoever may add files to the corpus folder must not make the bot quote files from
    # elsewhere (a token file, ~/.ssh keys, /proc/self/environ) through a symlink.
    from index.scan import scan_corpus

    corpus, outside = tmp_path / "corpus", tmp_path / "secrets"
    corpus.mkdir()
    outside.mkdir()
    (outside / "token").write_text("123:secret-token")
    (corpus / "notes.txt").write_text("Notes about harbours.")
    (corpus / "token.txt").symlink_to(outside / "token")
    (corpus / "relative.txt").symlink_to(Path("..") / "secrets" / "token")
    (corpus / "alias.txt").symlink_to("notes.txt")  # inside the corpus: followed
    files, problems, _ = scan_corpus(corpus, {".txt"})
    assert [rel for rel, _ in files] == ["alias.txt", "notes.txt"]
    assert [rel for rel, _ in problems] == ["relative.txt", "token.txt"]
    assert all("outside the corpus" in why for _, why in problems)


def test_a_store_that_cannot_be_locked_says_the_live_index_is_untouched(fresh_copy) -> None:
    # A read-only store fails at its lock, before anything else: the message said "no
    # index was published" while the live one was there and answering.
    from index.build import BuildError

    config = fresh_copy()
    (config.store / LOCK).unlink()
    (config.store / LOCK).mkdir()  # EISDIR when opened for writing, as EROFS/EACCES would
    live = current_generation(config.store)
    with pytest.raises(BuildError) as failed:
        build_index(config)
    assert f"the live index ({live.name}) is untouched" in str(failed.value)


def test_embedding_progress_moves_within_a_group_of_chunks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A corpus smaller than one cache group (EMBED_GROUP chunks) still shows embedding
    progress between 0 and done, for `quotebot status` and the bot's /stats."""
    from index.progress import BuildProgress

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(40):
        (corpus / f"note{n}.txt").write_text(f"Note {n} says the tide rose {n} metres.\n")
    seen: list[tuple[int, int]] = []
    update = BuildProgress.update

    def record(self, phase: str, done: int = 0, total: int = 0, **kw) -> None:
        if phase == "embedding":
            seen.append((done, total))
        update(self, phase, done, total, **kw)

    monkeypatch.setattr(BuildProgress, "update", record)
    build_index(Config(corpus=corpus, store=tmp_path / "store"), progress=False)
    total = seen[-1][1]
    assert 0 < total < EMBED_GROUP
    assert any(0 < done < total for done, _ in seen)
