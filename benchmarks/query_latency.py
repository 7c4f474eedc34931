"""Warm query latency through the public `Retriever.ask`, at 2k, 100k and 1M passages.

For each store size a fresh process first reads the store's files once (so they are
in the OS file cache, as for a store in use: a 1M store is ~8 GB, and a cold disk
read per question would be measured otherwise), opens the store as `quotebot ask`
would, asks SQuAD dev questions once to warm up, then times every `ask` (encode the question,
dense and BM25 search, fusion, excerpt choice, metadata reads): median and p95. A
second pass over the same questions times the stages alone. Recall@10 (and @50, the
depth hybrid search takes) of the store's FAISS index is measured against exact search
over the same float vectors, on the same questions, and for IVF indexes at other
`ivf_nprobe` values too. Memory (peak RSS) and bytes on disk per passage are recorded
too (see also benchmarks/memory.py).

2k is SQuAD's 2,067 paragraphs, indexed by the product. 100k and 1M are that store
scaled with filler (see benchmarks/scaled_store.py: noise around real vectors, copied
texts); built once (1M: several minutes, ~8 GB under .quotebot/bench), then reused.

    python benchmarks/query_latency.py                  # 2k, 100k, 1M; 300 questions
    python benchmarks/query_latency.py --sizes 100k --sq8
    python benchmarks/query_latency.py --quick          # < 1 minute: 200 paragraphs, 10k
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    ROOT,
    SQUAD,
    folder_bytes,
    log,
    machine,
    memory_mb,
    run_self,
    squad_questions,
    squad_store,
    summary_ms,
    write_json,
)

WARMUP = 20


def parse_size(text: str) -> int:
    text = text.lower().strip()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def measure(store: Path, squad: Path, n_questions: int) -> dict[str, Any]:
    """Open `store` in this (fresh) process and time `ask`; returns the figures."""
    import faiss

    from index.lexical import tokenize
    from quotebot.config import load_config
    from retrieval import Retriever
    from store.generations import current_generation
    from store.vectors import use_threads

    warm = _read_files(current_generation(store))
    before = memory_mb()
    config = load_config(ROOT / "config.toml")
    config.store = store
    started = time.perf_counter()
    retriever = Retriever.open(config)
    open_seconds = time.perf_counter() - started
    questions = squad_questions(squad, n_questions + WARMUP)
    warmup, questions = questions[:WARMUP], questions[WARMUP:]
    for q in warmup:
        retriever.ask(q)
    times = []
    found = 0
    for q in questions:
        t = time.perf_counter()
        answer = retriever.ask(q)
        times.append(time.perf_counter() - t)
        found += answer.found
    after = memory_mb()

    # The stages alone, on the same questions (a separate pass: the timed one is untouched).
    reader = retriever.reader
    lexical = reader.lexical
    depth = retriever.settings.depth
    stages: dict[str, list[float]] = {"encode": [], "dense_search": [], "bm25": []}
    vectors = []
    for q in questions:
        t = time.perf_counter()
        v = retriever.encode(q)
        stages["encode"].append(time.perf_counter() - t)
        vectors.append(v)
        use_threads(config.index.search_threads)
        t = time.perf_counter()
        reader.index.search(v.reshape(1, -1), depth)
        stages["dense_search"].append(time.perf_counter() - t)
        t = time.perf_counter()
        tokens = tokenize(q)
        ids, _ = lexical.search(tokens, depth)
        lexical.scores_for(tokens, ids)
        stages["bm25"].append(time.perf_counter() - t)

    queries = np.vstack(vectors)
    recall = _recall(reader, _exact(reader, store, queries, depth), queries, depth,
                     (8, 16, 24, 32, 64))
    generation = reader.folder
    disk = {name: folder_bytes(generation / name) if (generation / name).is_dir()
            else (generation / name).stat().st_size
            for name in ("vectors.faiss", "meta.sqlite", "bm25", "bm25_ids.npy")}
    n = reader.manifest.n_chunks
    return {
        "store": str(store), "passages": n, "index_type": reader.manifest.index_type,
        "nprobe": (faiss.extract_index_ivf(reader.index).nprobe
                   if "ivf" in reader.manifest.index_type else None),
        "runtime": retriever.embedder.runtime, "questions": len(questions),
        "prewarm_read_seconds": warm,
        "answered": found, "open_seconds": round(open_seconds, 3),
        "ask": summary_ms(times),
        "stages": {k: summary_ms(v) for k, v in stages.items()},
        "recall": recall,
        "memory_mb": {"before_open": before, "after_queries": after},
        "disk_bytes": disk, "disk_bytes_per_passage": round(sum(disk.values()) / n, 1),
        "ram_bytes_per_passage": round(after["peak_rss_mb"] * 2**20 / n, 1),
        "synthetic": reader.manifest.extra.get("synthetic"),
    }


def _read_files(folder: Path) -> float:
    """Read every file of the generation once (into the OS cache); seconds it took."""
    started = time.perf_counter()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                while f.read(1 << 24):
                    pass
    return round(time.perf_counter() - started, 1)


def _exact(reader: Any, store: Path, queries: np.ndarray, depth: int) -> np.ndarray:
    """The ids exact search ranks first for each query, over the store's float vectors."""
    import faiss

    from store.vectors import all_vectors, use_threads

    use_threads(0)
    if (store / "bench-vectors.npy").is_file():
        ids = np.load(store / "bench-ids.npy")
        vectors = np.load(store / "bench-vectors.npy")
    else:
        ids, vectors = all_vectors(reader.index)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, depth)
    return ids[truth]


def _recall(reader: Any, truth: np.ndarray, queries: np.ndarray, depth: int,
            nprobes: tuple[int, ...] = ()) -> dict[str, Any]:
    """Overlap of the index's top 10 / top `depth` with exact search's; for IVF, also at
    other nprobe values, with the mean search time per question."""
    import faiss

    from store.vectors import use_threads

    def overlap(k: int) -> float:
        _, got = reader.index.search(queries, depth)
        return round(float(np.mean([len(set(t[:k]) & set(g[:k])) / k
                                    for t, g in zip(truth, got, strict=True)])), 4)

    use_threads(1)
    result: dict[str, Any] = {"recall@10": overlap(10), f"recall@{depth}": overlap(depth)}
    if "ivf" in reader.manifest.index_type and nprobes:
        ivf = faiss.extract_index_ivf(reader.index)
        configured, rows = ivf.nprobe, []
        for nprobe in nprobes:
            ivf.nprobe = nprobe
            started = time.perf_counter()
            for q in queries:
                reader.index.search(q[None], depth)
            ms = (time.perf_counter() - started) / len(queries) * 1000
            rows.append({"nprobe": nprobe, "recall@10": overlap(10),
                         f"recall@{depth}": overlap(depth), "search_ms_mean": round(ms, 3)})
        ivf.nprobe = configured
        result["by_nprobe"] = rows
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=SQUAD, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--sizes", default="2k,100k,1m",
                        help="store sizes, comma-separated (2k = SQuAD itself)")
    parser.add_argument("--questions", type=int, default=300, help="timed questions per size")
    parser.add_argument("--sq8", action="store_true",
                        help="also measure the SQ8 variant of each scaled store")
    parser.add_argument("--quick", action="store_true",
                        help="200 SQuAD paragraphs scaled to 10k, 50 questions (< 1 minute)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: one store
    args = parser.parse_args()
    if args.measure:
        write_json(None, measure(args.measure, args.squad, args.questions))
        return

    from scaled_store import scaled_store

    paragraphs, sizes, n = (200, ["0", "10k"], 50) if args.quick else (
        None, args.sizes.split(","), args.questions)
    _, base = squad_store(args.squad, paragraphs)
    runs = []
    for size in sizes:
        target = parse_size(size)
        stores = [base] if target <= 2067 else [scaled_store(base, target)]
        if args.sq8 and target > 2067:
            stores.append(scaled_store(base, target, sq8=True))
        for store in stores:
            log(f"measuring {store.name} ({n} questions)")
            result = run_self(Path(__file__), ["--measure", str(store), "--squad",
                                               str(args.squad), "--questions", str(n)])
            runs.append(result)
            log(f"  {result['passages']} passages, {result['index_type']}: ask median "
                f"{result['ask']['median_ms']} ms, p95 {result['ask']['p95_ms']} ms, "
                f"recall@10 {result['recall']['recall@10']}")
    write_json(args.json, {"benchmark": "query_latency", "machine": machine(),
                           "command": "python benchmarks/query_latency.py"
                           + (" --quick" if args.quick else f" --sizes {args.sizes}"
                              + (" --sq8" if args.sq8 else "")),
                           "runs": runs})


if __name__ == "__main__":
    main()
