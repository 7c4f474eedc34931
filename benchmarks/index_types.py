"""FAISS index types side by side on the same vectors: search time, recall, build time, size.

Supports the defaults in config.toml: where exact flat search stops being fast
enough (`index.flat_max`), IVF's lists and depth (`ivf_nlist`, `ivf_nprobe`), SQ8, how
many OpenMP threads one question should use (`search_threads`), and whether HNSW
would win. Vectors are those of a scaled store (benchmarks/scaled_store.py: real SQuAD
passage vectors plus noise around them); queries are real SQuAD questions encoded by
the product. One question at a time, as `ask` searches, k = the hybrid depth (100).

    python benchmarks/index_types.py                       # 10k, 25k, 50k, 100k
    python benchmarks/index_types.py --sizes 1000000 --hnsw
    python benchmarks/index_types.py --quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, SQUAD, log, machine, squad_questions, squad_store, write_json

from retrieval.retriever import Settings

K = Settings.depth  # candidates `ask` takes from the dense index


def _time_searches(index: Any, queries: np.ndarray, threads: int, result: dict[str, Any],
                   label: str) -> list[np.ndarray]:
    """Search one question at a time; median and p95 ms into `result`; the ids found."""
    from store.vectors import use_threads

    use_threads(threads)
    for q in queries[:20]:
        index.search(q[None], K)
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, got = index.search(q[None], K)
        times.append(time.perf_counter() - t)
        found.append(got[0])
    result[f"search_ms_{label}"] = round(statistics.median(times) * 1000, 3)
    result[f"search_p95_ms_{label}"] = round(float(np.percentile(times, 95)) * 1000, 3)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=SQUAD, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--sizes", default="10000,25000,50000,100000", help="vector counts")
    parser.add_argument("--questions", type=int, default=200, help="questions timed")
    parser.add_argument("--hnsw", action="store_true", help="also build HNSW (slow at 1M)")
    parser.add_argument("--quick", action="store_true", help="10k and 25k, 50 questions")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    import faiss
    from scaled_store import scaled_store

    from quotebot.config import load_config
    from retrieval import Retriever
    from store.vectors import (
        IndexPlan,
        add_vectors,
        auto_nlist,
        new_index,
        search_nprobe,
        training_sample,
        use_threads,
    )

    sizes = [10_000, 25_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    n_questions = 50 if args.quick else args.questions
    _, base = squad_store(args.squad)
    store = scaled_store(base, max(max(sizes), 100_000))
    all_ids = np.load(store / "bench-ids.npy")
    all_vectors = np.load(store / "bench-vectors.npy", mmap_mode="r")
    config = load_config(ROOT / "config.toml")
    config.store = base
    retriever = Retriever.open(config)
    queries = np.vstack([retriever.encode(q) for q in squad_questions(args.squad, n_questions)])
    retriever.close()

    rows: list[dict[str, Any]] = []
    for n in sizes:
        ids, vectors = all_ids[:n], np.asarray(all_vectors[:n])
        use_threads(0)
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        _, truth = exact.search(queries, K)
        truth = ids[truth]
        candidates: list[tuple[str, Any]] = [
            ("flat", IndexPlan("flat")), ("flat-sq8", IndexPlan("flat", 0, True)),
            (f"ivf{auto_nlist(n)}", IndexPlan("ivf", auto_nlist(n))),
            (f"ivf{auto_nlist(n)}-fp16", IndexPlan("ivf", auto_nlist(n), fp16=True)),
            (f"ivf{auto_nlist(n)}-sq8", IndexPlan("ivf", auto_nlist(n), True))]
        if args.hnsw:
            candidates.append(("hnsw32", None))
        for name, plan in candidates:
            use_threads(0)  # builds use every core
            started = time.perf_counter()
            if plan is None:
                hnsw = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
                hnsw.hnsw.efSearch = 64  # >= k
                index = faiss.IndexIDMap2(hnsw)
                index.add_with_ids(vectors, ids)
            else:
                index = new_index(vectors.shape[1], plan, training_sample(vectors, plan))
                add_vectors(index, ids, vectors)
                if plan.kind == "ivf":
                    faiss.extract_index_ivf(index).nprobe = search_nprobe(plan.nlist, config.index)
            build = time.perf_counter() - started
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "v.faiss")
                faiss.write_index(index, path)
                result = {"vectors": n, "index": name, "build_seconds": round(build, 2),
                          "bytes_per_vector": round(os.path.getsize(path) / n, 1)}
                loaded = {"ram": index}
                if plan is not None:  # as answering opens it, and FAISS' older on-disk lists
                    loaded["mmap"] = faiss.read_index(path, faiss.IO_FLAG_MMAP_IFC)
                    if plan.kind == "ivf":
                        loaded["mmap_ondisk_lists"] = faiss.read_index(path, faiss.IO_FLAG_MMAP)
                for how, opened in loaded.items():
                    if plan is not None and plan.kind == "ivf":
                        nprobe = search_nprobe(plan.nlist, config.index)
                        faiss.extract_index_ivf(opened).nprobe = nprobe
                    for threads in ((1, 2) if how == "ram" else (1,)):
                        found = _time_searches(opened, queries, threads, result,
                                               f"{how}_{threads}_thread")
                loaded.clear()
            result["recall@10"] = round(float(np.mean(
                [len(set(t[:10]) & set(g[:10])) / 10 for t, g in zip(truth, found, strict=True)])),
                4)
            result[f"recall@{K}"] = round(float(np.mean(
                [len(set(t) & set(g)) / K for t, g in zip(truth, found, strict=True)])), 4)
            rows.append(result)
            log(f"{n} {name}: {result['search_ms_ram_1_thread']} ms (1 thread), "
                f"{result['search_ms_ram_2_thread']} ms (2), recall@10 {result['recall@10']}, "
                f"built in {build:.1f} s")
    write_json(args.json, {"benchmark": "index_types", "machine": machine(),
                           "command": "python benchmarks/index_types.py"
                           + (" --quick" if args.quick else f" --sizes {args.sizes}"
                              + (" --hnsw" if args.hnsw else "")),
                           "nprobe": config.index.ivf_nprobe or "auto", "k": K,
                           "questions": n_questions, "results": rows})


if __name__ == "__main__":
    main()
