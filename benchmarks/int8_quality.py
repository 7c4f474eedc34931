"""Does the opt-in int8 indexing model keep retrieval quality? SciFact nDCG@10, fp32 vs int8.

SciFact (BEIR layout) is indexed twice by the product: with the fp32 model (the
default; the store `quotebot eval --beir` keeps) and with `model.index_precision =
"int8"` (per-channel int8 weights; questions are still encoded in fp32). Both are
evaluated on the same test questions in dense and hybrid modes. The int8 model is
acceptable as an opt-in when nDCG@10 stays within 0.005 of fp32 (the issue's bar).

    python benchmarks/int8_quality.py
    python benchmarks/int8_quality.py --quick     # 250 abstracts, 40 questions
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from pathlib import Path

from common import ROOT, SCIFACT, WORK, log, machine, write_json

TOLERANCE = 0.005


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beir", type=Path, default=SCIFACT, help="BEIR folder (SciFact)")
    parser.add_argument("--quick", action="store_true", help="250 abstracts, 40 questions")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    from index.build import build_index
    from quotebot.config import load_config
    from retrieval import Retriever
    from retrieval.evaluation import evaluate_beir, load_beir, materialise

    evalset = load_beir(args.beir)
    if args.quick:
        queries = dict(list(evalset.queries.items())[:40])
        relevant = {d for q in queries for d in evalset.qrels[q]}
        others = random.Random(0).sample(sorted(set(evalset.corpus) - relevant), 200)
        evalset = dataclasses.replace(
            evalset, queries=queries,
            corpus={d: evalset.corpus[d] for d in sorted(relevant | set(others))})
        root = WORK / "scifact-quick"
        stores = {"fp32": root / "store", "int8": root / "store-int8"}
    else:
        root = ROOT / ".quotebot" / "eval" / evalset.name  # shared with `quotebot eval`
        stores = {"fp32": root / "store", "int8": WORK / "scifact-int8" / "store"}
    materialise(evalset, root / "corpus")
    results = {}
    for precision, store in stores.items():
        config = load_config(ROOT / "config.toml")
        config.corpus, config.store = root / "corpus", store
        config.model.index_precision = precision
        report = build_index(config, progress=False)
        log(f"{precision}: {report.chunks} chunks ({report.chunks_embedded} embedded now, "
            f"{report.embed_seconds:.0f} s)")
        retriever = Retriever.open(config)
        results[precision] = {mode: evaluate_beir(retriever, evalset, mode=mode)
                              for mode in ("dense", "hybrid")}
        results[precision]["chunks"] = report.chunks
        retriever.close()
    deltas = {mode: round(results["int8"][mode]["nDCG@10"] - results["fp32"][mode]["nDCG@10"], 4)
              for mode in ("dense", "hybrid")}
    write_json(args.json, {
        "benchmark": "int8_quality", "machine": machine(),
        "command": "python benchmarks/int8_quality.py" + (" --quick" if args.quick else ""),
        "dataset": evalset.name, "documents": len(evalset.corpus),
        "questions": len(evalset.queries), "results": results,
        "ndcg@10_int8_minus_fp32": deltas,
        "within_tolerance": all(abs(d) <= TOLERANCE for d in deltas.values()),
        "tolerance": TOLERANCE})


if __name__ == "__main__":
    main()
