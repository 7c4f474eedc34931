"""Incremental index builds: scan, load and chunk what changed, embed what is new, publish.

A content hash decides whether a document changed; unchanged documents cost a read
and a hash. Changed files are loaded and chunked in worker processes under a time and
memory budget (index/parsing.py): a file that fails in any way is skipped with its
reason, and remembered by its hash (index/skips.py) so it is not parsed again until it
changes. Chunks are embedded only when their text is not in the embedding cache.
The new generation is written beside the live one and switched in atomically
(see store/generations.py), under a lock so that two builds never interleave.

The model runs from the store's ONNX export (made by the first build, see
index/onnx_export.py) unless `model.runtime = "torch"`; the FAISS index type follows
the corpus size (store/vectors.py) and is retrained when the corpus outgrows it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from tqdm import tqdm

from index.cache import EmbeddingCache
from index.embedding import CONTEXT_MODES, Embedder, context_key, embedding_context, show_progress
from index.lexical import TOKENS_VERSION, chunk_lexical_tokens
from index.loaders import LoadOptions, SkipFile, indexed_suffixes, read_file, valid_text
from index.onnx_export import OnnxExport, ensure_export
from index.parsing import (
    ParseJob,
    ParsePool,
    ParserUnavailable,
    ParseSettings,
    parser_key,
    worker_count,
)
from index.progress import BuildProgress
from index.scan import scan_corpus, unreadable_folders
from index.skips import SKIPS, SkipMemory
from quotebot.config import Config, ConfigError
from quotebot.documents import Chunk, Document
from store import generations as st
from store import meta
from store.factory import check_backend, open_writer
from store.faiss import outdated
from store.writer import Previous, Tokenizer

# OCR in one file may use this share of loading.file_timeout_s; pages past it are named in
# the build report instead of the whole file being killed as too slow.
OCR_BUDGET_SHARE = 0.75
CHUNKER_VERSION = 23  # bump when chunking or loading rules change: stored chunks are redone
# (2: overlong sentences past a document's start are cut where they are, not further on;
# near repeats are looked for among recent alike sentences only: index/chunking.py;
# 3: chunks capped at MAX_CHUNK_CHARS characters, longer "words" cut: issue 14;
# 4: PDFs through PDFium: issue 12; 5: Markdown rendered, web pages' article only: issue 12;
# 6: PDF running headers matched with punctuation aside; 7: docx text as Word shows it:
# tracked insertions, content controls, fields, text boxes, nested tables; 8: list items in
# PDFs, docx and txt; 9: Markdown titles and headings (HTML headings, quoted and overlined
# ones, badges), tables of contents left out, PDF titles of one type size; 10: plain text
# read by its layout: headings, term items, running headers; 11: web pages' headings kept,
# navigation, permalink anchors and buttons left out; 12: a long list item starts a chunk;
# 13: overlong headings read as text, framed .txt titles kept, Markdown block titles;
# 14: a web page's <h2>..<h6> that is a whole sentence (a standfirst) is a paragraph;
# 15: a web page's data table read by rows (" | " between cells), short cells kept with them;
# 16: MediaWiki reference lists and citation marks ("[3]") left out of web pages;
# 17: a web page's table cell after </tr> with no <tr> of its own opens a row)
EMBED_GROUP = 256  # chunks embedded between cache commits
LOW_SPACE = 64 * 2**20  # a write error with less free space than this is called "disk full"


class BuildBusy(RuntimeError):
    """Another build holds the store's lock."""


class BuildError(RuntimeError):
    """The build could not write to the store (disk full, read-only...); the live index is
    untouched. The message says why and what to do."""


@dataclass
class BuildReport:
    """What a build did, for people (`summary`) and scripts (`to_dict`)."""

    store: str
    generation: int = 0
    full: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    skips_remembered: int = 0  # of `skipped`: unchanged files that failed before, not parsed
    parse_workers_replaced: int = 0  # workers killed (time) or dead (crash, memory)
    ignored: int = 0
    documents: int = 0
    chunks: int = 0
    chunks_embedded: int = 0
    chunks_from_cache: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0  # of `seconds`, spent loading and running the model
    runtime: str = ""  # what embedded: "onnx-fp32", "onnx-int8" or "torch"
    index_type: str = ""  # the FAISS index of the generation, as in its manifest
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        return data

    def summary(self, max_skipped: int | None = None) -> str:
        """The report in a few lines; the skipped files listed up to `max_skipped`."""
        lines = [
            f"Indexed {self.documents} documents as {self.chunks} chunks "
            f"in {self.seconds:.1f} s (generation {self.generation}, store {self.store}).",
            f"  documents: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {self.unchanged} unchanged, "
            f"{len(self.skipped)} skipped",
            f"  chunks embedded: {self.chunks_embedded} "
            f"(reused from cache: {self.chunks_from_cache})"
            + (f" in {self.embed_seconds:.1f} s ({self.runtime})" if self.chunks_embedded else ""),
        ]
        lines += [f"  note: {note}" for note in self.notes]
        if self.ignored:
            lines.append(f"  note: {self.ignored} file(s) ignored: not of a type quotebot "
                         "reads (loading.extensions in config.toml), or hidden")
        if self.skips_remembered:
            lines.append(f"  note: {self.skips_remembered} of the skipped files failed before "
                         "and are unchanged: not parsed again")
        shown = self.skipped if max_skipped is None else self.skipped[:max_skipped]
        lines += [f"  skipped {path}: {reason}" for path, reason in shown]
        if len(shown) < len(self.skipped):
            lines.append(f"  ... and {len(self.skipped) - len(shown)} more skipped "
                         "(`quotebot index --json` lists them all)")
        return "\n".join(lines)


class BuildLock:
    """An exclusive lock on the store; the kernel releases it if the build dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def acquire(self, wait: bool) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(self.fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(self.fd)
            raise BuildBusy(
                f"another build is running on {self.path.parent} (pid {holder}); "
                "wait for it to finish, or pass --wait to queue behind it") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1


@dataclass
class _Previous:
    """The live generation, when the new build can start from it."""

    folder: Path
    manifest: st.Manifest
    hashes: dict[str, tuple[str, str]]  # path -> (doc_id, content_hash)
    skipped: list[tuple[str, str]]  # (path, reason) of the files it lists as skipped


def _previous(store: Path, compatible: Callable[[st.Manifest], str],
              ) -> tuple[_Previous | None, str]:
    """The live generation if the new build can reuse it, else None and why not."""
    try:
        folder = st.current_generation(store)
        if folder is None:
            return None, ""
        manifest = st.Manifest.read(folder)
        reason = compatible(manifest)
        if reason:
            return None, reason
        st.verify_files(folder, manifest, full=True)
        hashes, skipped = meta.previous_state(folder / st.META)
        return _Previous(folder, manifest, hashes, skipped), ""
    except (st.StoreError, sqlite3.DatabaseError) as exc:
        return None, f"previous index unusable ({exc}); building from scratch"


def _live(store: Path) -> Path | None:
    """The live generation; None when there is none or CURRENT is damaged (build anew)."""
    try:
        return st.current_generation(store)
    except st.StoreError:
        return None


def build_index(config: Config, *, full: bool = False, wait: bool = False,
                progress: bool | None = None) -> BuildReport:
    """Bring the store up to date with the corpus folder and return what was done."""
    started = time.monotonic()
    corpus, store = Path(config.corpus), Path(config.store)
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus} does not exist")
    progress = show_progress() if progress is None else progress
    lock = BuildLock(store / st.LOCK)
    try:
        store.mkdir(parents=True, exist_ok=True)
        lock.acquire(wait)
    except OSError as exc:
        raise BuildError(write_failure(store, exc, _live(store))) from exc
    tracker = BuildProgress(store)
    try:
        report = _build_locked(config, corpus, store, full, progress, tracker)
    finally:
        tracker.finish()
        lock.release()
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _build_locked(config: Config, corpus: Path, store: Path, full: bool,
                  progress: bool, tracker: BuildProgress) -> BuildReport:
    report = BuildReport(store=str(store), full=full)
    check_backend(config.backend)
    embedder = Embedder(config.model.name, batch_size=config.model.batch_size,
                        allow_download=config.model.allow_download)
    export, precision = _model_export(config, store, embedder, report)
    context = config.model.context
    if context not in CONTEXT_MODES:
        raise ConfigError(f"model.context must be one of {', '.join(CONTEXT_MODES)}, "
                          f"not {context!r}")
    window = export.window if export else model_window(embedder)
    params = {"max_tokens": min(config.chunking.max_tokens, window - 2),
              "overlap_sentences": config.chunking.overlap_sentences, "window": window}

    def compatible(m: st.Manifest) -> str:
        if m.backend != config.backend:
            return f"store backend changed ({m.backend} -> {config.backend}): rebuilding"
        if m.model_fingerprint != embedder.fingerprint:
            return f"model changed ({m.model_name} -> {config.model.name}): re-embedding everything"
        if (m.max_tokens, m.overlap_sentences, m.window, m.chunker_version) != (
                params["max_tokens"], params["overlap_sentences"], window, CHUNKER_VERSION):
            return "chunking settings changed: re-chunking every document"
        if m.embedding_precision != precision:
            return (f"embedding precision changed ({m.embedding_precision} -> {precision}): "
                    "re-embedding everything")
        built_with = m.extra.get("embedding_context", "none")
        if built_with != context:
            return f"embedding context changed ({built_with} -> {context}): re-embedding everything"
        # Stores from before the version was recorded hold version-2 tokens.
        tokens = m.extra.get("tokens_version", 2)
        if tokens != TOKENS_VERSION:
            # Questions are tokenized by the code that runs: documents' BM25 words must be
            # too, or the two stop matching (nothing is embedded again: the cache has it).
            return (f"BM25 tokenizer changed (version {tokens} -> {TOKENS_VERSION}): "
                    "re-reading every document")
        return ""

    previous, why = (None, "full rebuild requested") if full else _previous(store, compatible)
    if why and _live(store) is not None:
        report.notes.append(why)

    suffixes = indexed_suffixes(config.loading.extensions)
    files, report.skipped, report.ignored = scan_corpus(corpus, suffixes)
    unreadable = unreadable_folders(report.skipped)
    if "." in unreadable:  # a permission or a stale mount, not an empty corpus
        raise BuildError(f"cannot read the corpus folder {corpus}: "
                         f"{dict(report.skipped)['.'].split(': ', 1)[-1]}. "
                         "The live index is unchanged.")
    tracker.update("reading", 0, len(files))
    settings = ParseSettings(
        tokenizer=embedder.resolved.location, **params,
        timeout_s=config.loading.file_timeout_s, memory_mb=config.loading.file_memory_mb,
        workers=min(worker_count(config.loading.workers), max(1, len(files))),
        load=LoadOptions.from_config(config.loading, store, progress=progress,
                                     ocr_budget_s=OCR_BUDGET_SHARE * config.loading.file_timeout_s))
    try:
        memory = SkipMemory(store / SKIPS, parser_key(settings))
    except sqlite3.OperationalError as exc:  # full, read-only: the write below says it better
        raise BuildError(write_failure(store, exc, _live(store))) from exc
    try:
        if full:
            memory.clear()
        new_docs, seen_paths = _parse_changed(files, previous, settings, memory,
                                              int(config.loading.max_file_mb * 1024 * 1024),
                                              report, progress)
    except ParserUnavailable as exc:
        raise BuildError(f"{exc}. No file was skipped for it; the live index is "
                         "unchanged.") from exc
    finally:
        memory.close()

    # What was indexed under a folder that cannot be listed now stays: unknown, not gone.
    gone = sorted(p for p in set(previous.hashes) - seen_paths
                  if not any(p.startswith(f"{folder}/") for folder in unreadable)
                  ) if previous else []
    report.removed = gone
    if (previous and not new_docs and not gone and not _index_outdated(config, previous)
            and previous.skipped == report.skipped):
        # Nothing changed: keep the live generation. (A new skip list makes a new
        # generation, so that what the index lists as skipped, /stats included, is true.)
        st.mark_checked(previous.folder)  # a skipped file edited before now is not pending
        report.generation = previous.manifest.generation
        report.documents, report.chunks = previous.manifest.n_documents, previous.manifest.n_chunks
        report.index_type = previous.manifest.index_type
        return report

    tracker.update("embedding", 0, sum(len(cs) for _, cs in new_docs))
    try:
        inputs = embedding_inputs(new_docs, context)
        vectors = _embed(embedder, list(inputs.values()), store, full, progress,
                         report, _Runtime(export, precision, config.model.threads), tracker,
                         context)
        tracker.update("writing")
        _write_generation(config, store, embedder, params, previous, new_docs, gone,
                          {key: vectors[key] for key in inputs}, report, precision, context)
    except (OSError, sqlite3.OperationalError) as exc:  # disk full, read-only, no permission
        live = _live(store)
        st.discard_unpublished(store, live)  # give back the space the new generation took
        raise BuildError(write_failure(store, exc, live)) from exc
    return report


def skip_key(rel: str, content_hash: str) -> str:
    """What the skip memory remembers a failed file by: its content and its type, so the
    same bytes renamed from notes.pdf to notes.txt are read again, by the other parser."""
    return f"{content_hash}:{PurePosixPath(rel).suffix.lower()}"


def _parse_changed(files: list[tuple[str, Path]], previous: _Previous | None,
                   settings: ParseSettings, memory: SkipMemory, max_bytes: int,
                   report: BuildReport, progress: bool,
                   ) -> tuple[list[tuple[Document, list[Chunk]]], set[str]]:
    """Parse the new and changed files in the worker pool: (their documents and chunks,
    in path order; the paths that stay indexed). Skips go to the report and the memory."""
    seen_paths: set[str] = set()
    hashes: dict[str, str] = {}
    was_indexed: set[str] = set()

    def jobs() -> Iterator[ParseJob]:
        for rel, path in tqdm(files, desc="reading", unit="file", disable=not progress):
            # The time before the read: a save during or after it then leaves the file
            # newer than the index says (index.changes hashes it), never the same.
            try:
                mtime = path.stat().st_mtime
            except OSError:
                mtime = 0.0  # read_file says why it cannot be read
            try:
                data = read_file(path, max_bytes)
            except SkipFile as exc:
                report.skipped.append((rel, str(exc)))
                continue
            except OSError as exc:
                report.skipped.append((rel, f"cannot read: {exc.strerror or exc}"))
                continue
            content_hash = hashlib.sha256(data).hexdigest()
            old = previous.hashes.get(rel) if previous else None
            if old and old[1] == content_hash:
                report.unchanged += 1
                seen_paths.add(rel)
                continue
            remembered = memory.get(skip_key(rel, content_hash))
            if remembered is not None:
                report.skipped.append((rel, remembered))
                report.skips_remembered += 1
                continue
            hashes[rel] = content_hash
            if old:
                was_indexed.add(rel)
            yield ParseJob(rel, data, mtime)

    parsed_docs: list[tuple[Document, list[Chunk]]] = []
    with ParsePool(settings) as pool:
        for parsed in pool.map(jobs()):
            if parsed.document is None:  # a parser's message may quote the file: made valid
                reason = valid_text(parsed.skipped or "could not be parsed")[:300]
                report.skipped.append((parsed.rel, reason))
                if not parsed.transient:  # a full disk is not the file's fault
                    memory.put(skip_key(parsed.rel, hashes[parsed.rel]), reason)
                continue
            seen_paths.add(parsed.rel)
            report.notes += [f"{parsed.rel}: {note}" for note in parsed.document.notes]
            (report.changed if parsed.rel in was_indexed else report.added).append(parsed.rel)
            parsed_docs.append((parsed.document, parsed.chunks))
        report.parse_workers_replaced = pool.replaced
    parsed_docs.sort(key=lambda item: item[0].path)
    report.added.sort()
    report.changed.sort()
    report.skipped.sort()
    return parsed_docs, seen_paths


@dataclass
class _Runtime:
    """How to run the model if anything needs embedding: the ONNX export, or torch (None)."""

    export: OnnxExport | None
    precision: str  # "fp32" | "int8"
    threads: int


def _model_export(config: Config, store: Path, embedder: Embedder,
                  report: BuildReport) -> tuple[OnnxExport | None, str]:
    """The store's ONNX export (made now if missing) and the precision chunks are embedded in."""
    runtime, precision = config.model.runtime, config.model.index_precision
    if runtime not in ("onnx", "torch"):
        raise ConfigError(f"model.runtime must be onnx or torch, not {runtime!r}")
    if precision not in ("fp32", "int8"):
        raise ConfigError(f"model.index_precision must be fp32 or int8, not {precision!r}")
    export = ensure_export(store, embedder, int8=precision == "int8") \
        if runtime == "onnx" else None
    if export is None and runtime == "onnx":
        report.notes.append("no ONNX export of the model: embedding with sentence-transformers")
    if precision == "int8" and (export is None or not export.model_path("int8").is_file()):
        report.notes.append("int8 embedding needs the ONNX export: embedding in fp32")
        precision = "fp32"
    return export, precision


@dataclass(frozen=True)
class EmbeddingInput:
    """A chunk as the model reads it: its text after `context` (index/embedding.py)."""

    key: str  # the embedding cache key (`context_key`)
    chunk: Chunk
    context: str


def embedding_inputs(docs: list[tuple[Document, list[Chunk]]],
                     mode: str) -> dict[str, EmbeddingInput]:
    """What to embed for these documents' chunks, by embedding cache key (a chunk text seen
    twice in the same context is embedded once)."""
    out: dict[str, EmbeddingInput] = {}
    for doc, chunks in docs:
        for chunk in chunks:
            context = (embedding_context(doc.title, chunk.heading_path, chunk.text)
                       if mode != "none" else "")
            key = context_key(chunk.text_hash, context, mode)
            out.setdefault(key, EmbeddingInput(key, chunk, context))
    return out


def chunk_key(doc: Document, chunk: Chunk, mode: str) -> str:
    """The embedding cache key of one chunk of `doc` (see `embedding_inputs`)."""
    context = embedding_context(doc.title, chunk.heading_path, chunk.text) if mode != "none" else ""
    return context_key(chunk.text_hash, context, mode)


def cache_key(fingerprint: str, precision: str) -> str:
    """The embedding cache's key for vectors of this model made at this precision."""
    return fingerprint if precision == "fp32" else f"{fingerprint}_{precision}"


def _index_outdated(config: Config, previous: _Previous) -> bool:
    """Whether the index settings now call for another FAISS index than the live one."""
    return config.backend == "faiss" and bool(outdated(config.index, previous.manifest))


def _free_bytes(store: Path) -> int | None:
    try:
        stats = os.statvfs(store)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def write_failure(store: Path, exc: Exception, live: Path | None = None) -> str:
    """Why the build could not write, that the live index is intact, and what to do."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    code, text = getattr(exc, "errno", None), reason.lower()
    free = _free_bytes(store)
    if (code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or "full" in text or "space" in text
            or (free is not None and free < LOW_SPACE)):  # SQLite may only say "I/O error"
        where = "" if free is None else f"; {free // 1024:,} KB are free there"
        advice = f"free some disk space{where} (or use another store folder with --store)"
    elif (code in (errno.EROFS, errno.EACCES, errno.EPERM) or "read-only" in text
          or "readonly" in text or "permission" in text):
        advice = "make the store folder writable (or use another one with --store)"
    elif code == errno.EIO or "i/o" in text:
        advice = "check that its disk has free space and works"
    else:
        advice = "fix that"
    advice += ", then run `quotebot index` again"
    kept = (f"the live index ({live.name}) is untouched and still answers" if live
            else "no index was published")
    return f"cannot write the index in {store}: {reason}. Nothing was changed: {kept}; {advice}."


def model_window(embedder: Embedder) -> int:
    """The model's window in word pieces, read from its config so no torch import is needed."""
    config = Path(embedder.resolved.location) / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text())["max_seq_length"])
    return embedder.window


def _embed(embedder: Embedder, items: list[EmbeddingInput], store: Path, full: bool,
           progress: bool, report: BuildReport, runtime: _Runtime,
           tracker: BuildProgress | None = None, context: str = "none",
           ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Vectors for every input, by key, from the cache or computed now (and cached as they
    come)."""
    by_hash = {item.key: item for item in items}
    if not by_hash:
        return {}
    dimension = runtime.export.dimension if runtime.export else _dimension(embedder, store)
    cache, found = _open_cache(store, cache_key(embedder.fingerprint, runtime.precision),
                               dimension, full, list(by_hash), report)
    try:
        # Sorted by length, so each batch pads little (padding is wasted model time).
        todo = sorted((c for h, c in by_hash.items() if h not in found),
                      key=lambda c: len(c.context) + len(c.chunk.text))
        report.chunks_from_cache = sum(1 for c in items if c.key in found)
        report.chunks_embedded = len(todo)
        started = time.monotonic()
        if todo and runtime.export is not None:
            from index.runtime import store_encoder

            encoder, why = store_encoder(embedder.fingerprint, store,
                                         precision=runtime.precision, threads=runtime.threads)
            if why and runtime.precision != "fp32":
                raise RuntimeError(f"{why}: cannot embed in {runtime.precision}; "
                                   "set model.index_precision = \"fp32\"")
            if why:
                report.notes.append(f"{why}: embedding with sentence-transformers")
            else:  # the model, now loaded with the export as its runtime
                embedder = Embedder(embedder.resolved.name, batch_size=embedder.batch_size,
                                    allow_download=embedder.allow_download, encoder=encoder)
        if todo:
            report.runtime = embedder.runtime
        bar = tqdm(total=len(todo), desc="embedding", unit="chunk", disable=not progress)
        for i in range(0, len(todo), EMBED_GROUP):
            group = todo[i:i + EMBED_GROUP]
            spans = [[(s - c.chunk.start, e - c.chunk.start) for s, e in c.chunk.sentences]
                     for c in group]
            embedded = embedder.embed_chunks([c.chunk.text for c in group], spans,
                                             [c.context for c in group], pool=context)
            rows = []
            for c, (v, s) in zip(group, embedded, strict=True):  # vectors come per batch
                rows.append((c.key, v, s))
                bar.update(1)
                if tracker is not None:  # `status` and /stats see it move (written 2x a second)
                    tracker.update("embedding", i + len(rows), len(todo))
            cache.put_many(rows)
            found.update({h: (v, s) for h, v, s in rows})
        bar.close()
        report.embed_seconds = round(time.monotonic() - started, 3)
        return found
    finally:
        cache.close()


def _open_cache(store: Path, key: str, dimension: int, full: bool, hashes: list[str],
                report: BuildReport,
                ) -> tuple[EmbeddingCache, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The embedding cache and the vectors it has for `hashes`.

    The cache is only a cache: a damaged one is moved aside (for inspection) and the
    build starts a new one, instead of failing.
    """
    path = store / st.CACHE

    def attempt() -> tuple[EmbeddingCache, dict[str, tuple[np.ndarray, np.ndarray]]]:
        cache = EmbeddingCache(path, key, dimension)
        try:
            if full:
                cache.clear()
            return cache, cache.get_many(hashes)
        except BaseException:
            cache.close()
            raise

    try:
        return attempt()
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError):
            raise  # full, read-only, locked: not damage
        damaged = path.with_name(path.name + ".damaged")
        os.replace(path, damaged)
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        report.notes.append(f"the embedding cache was damaged ({exc}); moved it to "
                            f"{damaged.name} and started a new one")
        return attempt()


def _dimension(embedder: Embedder, store: Path) -> int:
    """The model's output size: from the live manifest when it used this model, else the model."""
    try:
        folder = st.current_generation(store)
        if folder is not None:
            manifest = st.Manifest.read(folder)
            if manifest.model_fingerprint == embedder.fingerprint:
                return manifest.dimension
    except st.StoreError:
        pass
    return embedder.dimension


def _write_generation(config: Config, store: Path, embedder: Embedder, params: dict[str, int],
                      previous: _Previous | None, new_docs: list[tuple[Document, list[Chunk]]],
                      gone: list[str], vectors: dict[str, tuple[np.ndarray, np.ndarray]],
                      report: BuildReport, precision: str, context: str = "none") -> None:
    """Write the next generation with the configured store backend and make it live."""
    first = next(iter(vectors.values()), (None,))[0]
    dimension = previous.manifest.dimension if previous else (
        len(first) if first is not None else embedder.dimension)
    template = st.Manifest(
        generation=0, model_name=config.model.name, model_fingerprint=embedder.fingerprint,
        dimension=dimension, chunker_version=CHUNKER_VERSION, embedding_precision=precision,
        extra={"embedding_context": context, "tokens_version": TOKENS_VERSION}, **params)
    writer = open_writer(config, template,
                         Previous(previous.folder, previous.manifest) if previous else None,
                         Tokenizer(chunk_lexical_tokens, TOKENS_VERSION))
    try:
        writer.remove_documents([previous.hashes[p][0] for p in report.changed + gone]
                                if previous else [])
        for doc, chunks in new_docs:
            keys = [chunk_key(doc, c, context) for c in chunks]
            writer.add_document(doc, chunks, [vectors[k][0] for k in keys],
                                [vectors[k][1] for k in keys])
        writer.set_skipped(report.skipped)
        published = writer.publish()
    except BaseException:
        writer.abort()
        raise
    writer.prune(config.index.keep_generations)
    report.notes += published.notes
    report.index_type = published.index_type
    report.generation, report.documents, report.chunks = (
        published.generation, published.documents, published.chunks)
