"""Scale a real store to 100k or 1M passages without embedding a million texts.

The real passages (SQuAD's paragraphs, embedded by the product) are kept as they are.
Filler documents are added until the store holds `size` passages: each is a copy of
a random real document (title, text, chunks, sentence vectors), whose chunk vectors
are the real ones plus Gaussian noise (`sigma` per dimension), normalised again. Noise
around real vectors keeps the cluster structure of real embeddings, which decides how
IVF behaves (uniform random vectors do not); copied texts keep BM25's posting lists
as long as a real corpus of that size would have them. FAISS and BM25 indexes are
then built by the product's own code (`store.vectors`, `index.lexical`).

The exact float vectors are kept beside the store (`bench-vectors.npy`) so that
approximate search can be compared with exact search. Run it to prebuild a store:

    python benchmarks/scaled_store.py --size 1000000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, SQUAD, WORK, log, squad_store

SIGMA = 0.04  # per dimension: |noise| ~ 0.78 for 384 dims; cosine to the source ~ 0.79
SEED = 0
BATCH = 20_000


def scaled_store(base: Path, size: int, *, sq8: bool = False, sigma: float = SIGMA,
                 seed: int = SEED, work: Path = WORK) -> Path:
    """The store of `size` passages made from `base` (built on first use, then reused)."""
    name = f"scaled-{size}-s{seed}-n{sigma:g}"
    target = work / name
    if not _up_to_date(target, base):
        _build(base, target, size, sigma, seed)
    if not sq8:
        return target
    variant = work / f"{name}-sq8"
    if not _up_to_date(variant, base):
        _variant_sq8(target, variant)
    return variant


def _up_to_date(target: Path, base: Path) -> bool:
    """Whether `target` was scaled from `base`'s live generation and this quotebot reads it.

    A store made from an older base (rebuilt since: new chunker, new format) or written
    in an older store format is made again.
    """
    from quotebot.errors import StoreError
    from store import generations as st

    done = target / "bench-done.json"
    if not done.is_file():
        return False
    try:
        base_folder = st.current_generation(base)
        folder = st.current_generation(target)
        if base_folder is None or folder is None:
            return False
        st.Manifest.read(folder)
        stamp = json.loads(done.read_text(encoding="utf-8")).get("base_generation")
        return stamp == _base_stamp(base_folder)
    except (StoreError, OSError, ValueError):
        return False


def _base_stamp(folder: Path) -> dict[str, Any]:
    from store import generations as st

    manifest = st.Manifest.read(folder)
    return {"folder": folder.name, "created": manifest.created,
            "format_version": manifest.format_version,
            "chunker_version": manifest.chunker_version}


def _index_config(sq8: bool) -> Any:
    from quotebot.config import load_config

    config = load_config(ROOT / "config.toml").index
    return dataclasses.replace(config, sq8=sq8)


def _build(base: Path, target: Path, size: int, sigma: float, seed: int) -> None:
    from index.lexical import build_lexical_tokens, lexical_text, tokenize
    from store import generations as st
    from store import meta
    from store.vectors import all_vectors, read_vectors, use_threads

    started = time.monotonic()
    use_threads(0)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    source = st.current_generation(base)
    manifest = st.Manifest.read(source)
    db_in = sqlite3.connect(f"file:{source / st.META}?mode=ro", uri=True)
    docs = db_in.execute("SELECT * FROM documents ORDER BY doc_id").fetchall()
    chunk_rows = db_in.execute("SELECT * FROM chunks ORDER BY chunk_id").fetchall()
    db_in.close()
    by_doc: dict[str, list[tuple]] = {}
    for row in chunk_rows:
        by_doc.setdefault(row[1], []).append(row)
    ids0, vectors0 = all_vectors(read_vectors(source / st.VECTORS))
    vector_of = {int(i): v for i, v in zip(ids0, vectors0, strict=True)}
    titles = {d[0]: d[2] for d in docs}
    tokens_of = {r[0]: tokenize(lexical_text(titles[r[1]], json.loads(r[11]), r[5]))
                 for r in chunk_rows}
    if size < len(chunk_rows):
        raise ValueError(f"the base store already has {len(chunk_rows)} passages")

    # Which real document each filler document copies, and the filler chunks' ids.
    rng = np.random.default_rng(seed)
    picks: list[int] = []
    total = len(chunk_rows)
    while total < size:
        d = int(rng.integers(len(docs)))
        if total + len(by_doc[docs[d][0]]) > size:
            continue
        picks.append(d)
        total += len(by_doc[docs[d][0]])
    n_filler = total - len(chunk_rows)
    new_ids = np.setdiff1d(rng.integers(1, 2**62, n_filler + 1000, dtype=np.int64), ids0)
    new_ids = rng.permutation(new_ids)[:n_filler]  # setdiff1d sorts: shuffle back
    log(f"scaling {base} to {size} passages: {len(picks)} filler documents")

    folder = target / "gen-000001.partial"
    folder.mkdir()
    db = meta.open_meta(folder / st.META)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    # Rows are copied whole, whatever columns this version of the schema has; a filler
    # document's vector is made again from its own (noisy) chunk vectors.
    doc_columns = [r[1] for r in db.execute("PRAGMA table_info(documents)")]
    doc_vector_column = doc_columns.index("vector") if "vector" in doc_columns else None
    insert_doc = f"INSERT INTO documents VALUES ({','.join('?' * len(docs[0]))})"
    insert_chunk = f"INSERT INTO chunks VALUES ({','.join('?' * len(chunk_rows[0]))})"
    db.executemany(insert_doc, docs)
    db.executemany(insert_chunk, chunk_rows)
    all_ids = np.empty(size, np.int64)
    all_vectors_ = np.empty((size, manifest.dimension), np.float32)
    sources = np.empty(size, np.int64)  # real chunk id each row copies (for BM25 tokens)
    all_ids[:len(chunk_rows)] = [r[0] for r in chunk_rows]
    sources[:len(chunk_rows)] = all_ids[:len(chunk_rows)]
    all_vectors_[:len(chunk_rows)] = [vector_of[r[0]] for r in chunk_rows]
    row, k = len(chunk_rows), 0
    doc_batch: list[tuple] = []
    chunk_batch: list[tuple] = []
    for i, d in enumerate(picks):
        doc = docs[d]
        doc_id = f"filler{i:07d}"
        first = row
        for c in by_doc[doc[0]]:
            chunk_id = int(new_ids[k])
            chunk_batch.append((chunk_id, doc_id, *c[2:]))
            noisy = vector_of[c[0]] + rng.normal(0, sigma, manifest.dimension)
            all_vectors_[row] = noisy / np.linalg.norm(noisy)
            all_ids[row], sources[row] = chunk_id, c[0]
            row, k = row + 1, k + 1
        doc_row = [doc_id, f"filler/{i:07d}.txt", *doc[2:]]
        if doc_vector_column is not None:
            doc_row[doc_vector_column] = np.asarray(
                meta.document_vector(all_vectors_[first:row]), np.float16).tobytes()
        doc_batch.append(tuple(doc_row))
        if len(chunk_batch) >= BATCH or i == len(picks) - 1:
            db.executemany(insert_doc, doc_batch)
            db.executemany(insert_chunk, chunk_batch)
            doc_batch, chunk_batch = [], []
    db.commit()
    n_docs = db.execute("SELECT count(*) FROM documents").fetchone()[0]
    db.close()
    meta_seconds = time.monotonic() - started
    log(f"metadata written ({meta_seconds:.0f} s)")

    order = np.argsort(all_ids)
    t = time.monotonic()
    build_lexical_tokens(folder, all_ids[order].tolist(),
                         [tokens_of[int(s)] for s in sources[order]])
    bm25_seconds = time.monotonic() - t
    log(f"BM25 built ({bm25_seconds:.0f} s)")
    np.save(target / "bench-ids.npy", all_ids)
    np.save(target / "bench-vectors.npy", all_vectors_)
    index_info = _write_vectors(folder, all_ids, all_vectors_, _index_config(False))

    details = {
        "how": "real SQuAD passages plus copies of random real documents whose chunk "
               f"vectors are the real ones + N(0, {sigma}^2) noise per dimension, normalised",
        "base_store": str(base), "base_generation": _base_stamp(source),
        "real_passages": len(chunk_rows), "filler_passages": n_filler,
        "sigma": sigma, "seed": seed,
        "mean_cosine_filler_to_source": round(float(np.mean([
            all_vectors_[r] @ vector_of[int(sources[r])]
            for r in range(len(chunk_rows), min(size, len(chunk_rows) + 2000))])), 3),
        "seconds": {"metadata": round(meta_seconds, 1), "bm25": round(bm25_seconds, 1),
                    **index_info["seconds"]},
    }
    _finish(target, folder, manifest, size, n_docs, index_info, details)
    models = base / "models"
    if models.is_dir():
        shutil.copytree(models, target / "models", copy_function=os.link)
    log(f"scaled store ready: {target} ({time.monotonic() - started:.0f} s)")


def _write_vectors(folder: Path, ids: np.ndarray, vectors: np.ndarray,
                   config: Any) -> dict[str, Any]:
    """The product's FAISS index for these vectors (type chosen by size, trained here)."""
    import faiss

    from store import generations as st
    from store.vectors import add_vectors, new_index, plan_index, training_sample

    plan = plan_index(len(ids), config)
    t = time.monotonic()
    index = new_index(vectors.shape[1], plan, training_sample(vectors, plan))
    train = time.monotonic() - t
    t = time.monotonic()
    add_vectors(index, ids, vectors)
    add = time.monotonic() - t
    faiss.write_index(index, str(folder / st.VECTORS))
    log(f"FAISS {plan.name}: trained in {train:.1f} s, added in {add:.1f} s")
    return {"plan": plan, "seconds": {"faiss_train": round(train, 1), "faiss_add": round(add, 1)}}


def _finish(target: Path, folder: Path, manifest: Any, size: int, n_docs: int,
            index_info: dict[str, Any], details: dict[str, Any],
            files: dict[str, list[Any]] | None = None) -> None:
    """Publish the generation, its manifest listing every file's checksum as a build does
    (`files`: the checksums when already known)."""
    from store import generations as st

    plan = index_info["plan"]
    new = dataclasses.replace(
        manifest, generation=1, n_documents=n_docs, n_chunks=size, index_type=plan.name,
        index_trained_size=size if plan.trained else 0,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        extra={"synthetic": details}, files=files if files is not None
        else st.file_checksums(folder))
    new.write(folder)
    final = target / "gen-000001"
    os.replace(folder, final)
    st.publish(target, final)
    (target / "bench-done.json").write_text(json.dumps(details, indent=2), encoding="utf-8")


def _variant_sq8(source_store: Path, target: Path) -> None:
    """The same scaled store with an SQ8 index: metadata and BM25 hard-linked, not copied."""
    from store import generations as st

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    source = st.current_generation(source_store)
    folder = target / "gen-000001.partial"
    shutil.copytree(source, folder, copy_function=os.link,
                    ignore=shutil.ignore_patterns(st.VECTORS, st.MANIFEST))
    ids = np.load(source_store / "bench-ids.npy")
    vectors = np.load(source_store / "bench-vectors.npy", mmap_mode="r")
    for name in ("bench-ids.npy", "bench-vectors.npy"):
        os.link(source_store / name, target / name)
    index_info = _write_vectors(folder, ids, np.asarray(vectors), _index_config(True))
    manifest = st.Manifest.read(source)
    details = dict(manifest.extra.get("synthetic", {}))
    details["seconds"] = {**details.get("seconds", {}), **index_info["seconds"]}
    # Every file but the vectors is a hard link of the source's: its checksum is known.
    files = {name: sums for name, sums in manifest.files.items() if name != st.VECTORS}
    files[st.VECTORS] = st.file_checksum(folder / st.VECTORS)
    _finish(target, folder, manifest, manifest.n_chunks, manifest.n_documents, index_info,
            details, files)
    shutil.copytree(source_store / "models", target / "models", copy_function=os.link)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=SQUAD, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--size", type=int, default=100_000, help="passages in the store")
    parser.add_argument("--sq8", action="store_true", help="also make the SQ8 variant")
    parser.add_argument("--paragraphs", type=int, default=None,
                        help="base the store on this many SQuAD paragraphs (default: all)")
    args = parser.parse_args()
    _, base = squad_store(args.squad, args.paragraphs)
    print(scaled_store(base, args.size, sq8=args.sq8))


if __name__ == "__main__":
    main()
