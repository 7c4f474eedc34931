"""FAISS and Qdrant question by question: paired metrics, and each channel's raw scores.

Two parts, both reading what `quotebot eval` built (no embedding, no index building):

    # 1. Paired comparison of two `quotebot eval --details FILE` runs (same set, same
    #    --limit, one per backend): per metric the two means, their difference with a
    #    paired bootstrap 95% interval, and how many questions moved up or down. For SQuAD
    #    also the abstention decisions (confidence < retrieval.min_confidence) compared.
    python benchmarks/backend_parity.py pair faiss.jsonl qdrant.jsonl [--json out.json]

    # 2. The per-channel scores fusion is fed, on both stores, for N questions of a set:
    #    the candidates' cosine and BM25 scores and the fused score, compared id by id,
    #    and the scale of each channel (top score, spread) on each backend; and Qdrant's
    #    own search scores (its cosine, its IDF-modified sparse BM25) against FAISS' and
    #    bm25s' for the same ids. Fusion weights and the abstention threshold mean the
    #    same on both backends only if these agree.
    nice -n 10 python benchmarks/backend_parity.py channels \\
        --faiss-store F --qdrant-store Q --beir ../shared/data/scifact --questions 50

Embedded Qdrant serves one process at a time: run `channels` when no eval holds the store.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import log, machine  # noqa: E402

KEY = ("mode", "id")
SKIP = {"id", "mode", "backend", "confidence", "hidden_confidence"}


def read_details(path: Path) -> tuple[str, dict[tuple[str, str], dict[str, Any]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    backend = rows[0].get("backend", path.stem) if rows else path.stem
    return backend, {(r["mode"], r["id"]): r for r in rows}


def bootstrap(diffs: np.ndarray, rounds: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """Paired bootstrap 95% interval of the mean difference (questions resampled)."""
    if not len(diffs):
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, len(diffs), (rounds, len(diffs)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def pair(a_path: Path, b_path: Path, threshold: float) -> dict[str, Any]:
    a_name, a = read_details(a_path)
    b_name, b = read_details(b_path)
    shared = [k for k in a if k in b]
    log(f"{len(shared)} questions in both ({len(a)} in {a_path.name}, {len(b)} in {b_path.name})")
    out: dict[str, Any] = {"a": {"backend": a_name, "file": str(a_path)},
                           "b": {"backend": b_name, "file": str(b_path)},
                           "questions": len(shared), "modes": {}}
    for mode in sorted({m for m, _ in shared}):
        keys = [k for k in shared if k[0] == mode]
        metrics = [m for m in a[keys[0]] if m not in SKIP]
        rows: dict[str, Any] = {}
        for m in metrics:
            x = np.array([a[k][m] for k in keys], float)
            y = np.array([b[k][m] for k in keys], float)
            d = y - x
            low, high = bootstrap(d)
            rows[m] = {"a": round(x.mean(), 4), "b": round(y.mean(), 4),
                       "b_minus_a": round(d.mean(), 4), "ci95": [round(low, 4), round(high, 4)],
                       "b_better": int((d > 1e-9).sum()), "b_worse": int((d < -1e-9).sum()),
                       "same": int((np.abs(d) <= 1e-9).sum()),
                       "max_abs_diff": round(float(np.abs(d).max()), 4)}
        if "confidence" in a[keys[0]]:
            rows["confidence"] = _confidences(a, b, keys, threshold)
        out["modes"][mode] = {"questions": len(keys), "metrics": rows}
    return out


def _confidences(a: dict, b: dict, keys: list, threshold: float) -> dict[str, Any]:
    """Confidence differences, and the abstention decisions each backend makes."""
    result: dict[str, Any] = {"threshold": threshold}
    for field in ("confidence", "hidden_confidence"):
        pairs = [(a[k][field], b[k][field]) for k in keys if field in a[k] and field in b[k]]
        if not pairs:
            continue
        x, y = np.array(pairs).T
        declined_a, declined_b = x < threshold, y < threshold
        result[field] = {"max_abs_diff": round(float(np.abs(y - x).max()), 6),
                         "mean_abs_diff": round(float(np.abs(y - x).mean()), 6),
                         "declined_a": int(declined_a.sum()), "declined_b": int(declined_b.sum()),
                         "decisions_differ": int((declined_a != declined_b).sum())}
    if "hidden_confidence" in result:
        for side, rows in (("a", a), ("b", b)):
            answerable = [rows[k]["confidence"] for k in keys]
            hidden = [rows[k]["hidden_confidence"] for k in keys]
            right = sum(c < threshold for c in hidden)
            wrong = sum(c < threshold for c in answerable)
            result[f"abstain_{side}"] = {"precision": round(right / max(right + wrong, 1), 4),
                                         "recall": round(right / max(len(hidden), 1), 4)}
    return result


def questions_of(args: argparse.Namespace) -> list[str]:
    from retrieval.evaluation import load_beir, load_squad

    evalset = load_beir(args.beir) if args.beir else load_squad(args.squad)
    texts = list(evalset.queries.values())
    return random.Random(0).sample(texts, min(args.questions, len(texts)))


def native(opened: dict[str, Any], question: str, depth: int = 100) -> dict[str, Any]:
    """Qdrant's own search scores (its cosine; its sparse dot product with the IDF modifier,
    which picks the BM25 candidates) against the FAISS store's cosine and bm25s scores of
    the same ids, and whether both backends' top `depth` lists hold the same ids."""
    from index.lexical import tokenize

    faiss, qdrant = opened["faiss"].reader, opened["qdrant"].reader
    tokens, vector = tokenize(question), opened["faiss"].encode(question)
    row: dict[str, Any] = {}
    q_ids, q_scores = qdrant.lexical_search(tokens, depth)
    f_ids, _ = faiss.lexical_search(tokens, depth)
    if len(q_ids):
        theirs = faiss.lexical_scores(tokens, q_ids)
        row["native_bm25_max_rel_diff"] = float(np.abs(q_scores - theirs).max() / q_scores.max())
    row["bm25_same_ids"] = set(q_ids.tolist()) == set(f_ids.tolist())
    q_ids, q_scores = qdrant.vector_search(vector, depth)
    f_ids, _ = faiss.vector_search(vector, depth)
    row["native_dense_max_abs_diff"] = float(np.abs(q_scores - faiss.vector_scores(
        vector, q_ids)).max())
    row["dense_same_ids"] = set(q_ids.tolist()) == set(f_ids.tolist())
    return row


def channels(args: argparse.Namespace) -> dict[str, Any]:
    from quotebot.config import load_config
    from retrieval import Retriever

    opened = {}
    for backend, store in (("faiss", args.faiss_store), ("qdrant", args.qdrant_store)):
        config = load_config(None)
        config.override("store", store)
        config.override("backend", backend)
        opened[backend] = Retriever.open(config)
    per_question = []
    for n, question in enumerate(questions_of(args)):
        found = {}
        for backend, retriever in opened.items():
            _, candidates = retriever.candidates(question, mode="hybrid")
            found[backend] = {c.chunk_id: c for c in candidates}
        f, q = found["faiss"], found["qdrant"]
        shared = [i for i in f if i in q]
        row = {"candidates_faiss": len(f), "candidates_qdrant": len(q), "shared": len(shared),
               "same_top10": list(f)[:10] == list(q)[:10]}
        for side, cands in (("faiss", f), ("qdrant", q)):
            dense = np.array([c.dense for c in cands.values()], float)
            lexical = np.array([c.lexical for c in cands.values()], float)
            row[f"dense_top_{side}"] = float(dense.max()) if len(dense) else 0.0
            row[f"dense_spread_{side}"] = float(dense.max() - dense.min()) if len(dense) else 0.0
            row[f"bm25_top_{side}"] = float(lexical.max()) if len(lexical) else 0.0
        if shared:
            for field in ("dense", "lexical", "score"):
                d = np.array([abs(getattr(f[i], field) - getattr(q[i], field)) for i in shared])
                row[f"{field}_max_abs_diff"] = float(d.max())
            top = max(f[i].lexical for i in shared) or 1.0
            row["lexical_max_rel_diff"] = row["lexical_max_abs_diff"] / top
        row.update(native(opened, question))
        per_question.append(row)
        if (n + 1) % 10 == 0:
            log(f"{n + 1} questions")
    for retriever in opened.values():
        retriever.close()

    def agg(field: str, how: Any = np.max) -> float:
        values = [r[field] for r in per_question if field in r]
        return round(float(how(values)), 7) if values else 0.0

    summary = {
        "questions": len(per_question),
        "same_candidate_sets": sum(r["shared"] == r["candidates_faiss"] == r["candidates_qdrant"]
                                   for r in per_question),
        "same_top10_order": sum(r["same_top10"] for r in per_question),
        "max_abs_diff": {f: agg(f"{f}_max_abs_diff") for f in ("dense", "lexical", "score")},
        "lexical_max_rel_diff": agg("lexical_max_rel_diff"),
        "qdrant_native": {"bm25_max_rel_diff": agg("native_bm25_max_rel_diff"),
                          "dense_max_abs_diff": agg("native_dense_max_abs_diff"),
                          "same_bm25_top100_ids": sum(r["bm25_same_ids"] for r in per_question),
                          "same_dense_top100_ids": sum(r["dense_same_ids"]
                                                       for r in per_question)},
        "scale": {side: {"dense_top_mean": agg(f"dense_top_{side}", np.mean),
                         "dense_spread_mean": agg(f"dense_spread_{side}", np.mean),
                         "bm25_top_mean": agg(f"bm25_top_{side}", np.mean),
                         "bm25_top_max": agg(f"bm25_top_{side}")}
                  for side in ("faiss", "qdrant")},
    }
    return {"summary": summary, "per_question": per_question}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pair", help="paired comparison of two --details files")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--threshold", type=float, default=None,
                   help="abstention threshold (default: retrieval.min_confidence)")
    p.add_argument("--json", type=Path, help="also write the result here")
    c = sub.add_parser("channels", help="per-channel scores of both stores, id by id")
    c.add_argument("--faiss-store", type=Path, required=True)
    c.add_argument("--qdrant-store", type=Path, required=True)
    source = c.add_mutually_exclusive_group(required=True)
    source.add_argument("--beir", type=Path)
    source.add_argument("--squad", type=Path)
    c.add_argument("--questions", type=int, default=50)
    c.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    if args.command == "pair":
        if args.threshold is None:
            from quotebot.config import Config

            args.threshold = Config().retrieval.min_confidence
        result = pair(args.a, args.b, args.threshold)
    else:
        result = channels(args)
    result = {"benchmark": f"backend_parity {args.command}", "machine": machine(),
              "command": "python benchmarks/backend_parity.py " + " ".join(sys.argv[1:]),
              **result}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "per_question"}, indent=2))


if __name__ == "__main__":
    main()
