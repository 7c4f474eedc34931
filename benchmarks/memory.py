"""Memory: bytes per passage on disk and in RAM at 100k and 1M passages, default index and SQ8.

Each store is opened in a fresh process that answers 100 SQuAD questions through
`Retriever.ask` (benchmarks/query_latency.py --measure); its peak RSS (VmHWM, which
counts the memory-mapped index pages the questions touched) and anonymous memory are
recorded, and the store's files are measured on disk. RAM per passage is given both
as peak RSS / passages and as the growth over the 2k SQuAD store (what each further
passage costs). Stores are the scaled ones of benchmarks/scaled_store.py.

    python benchmarks/memory.py
    python benchmarks/memory.py --quick      # 10k only (< 1 minute once built)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import SQUAD, log, machine, run_self, squad_store, write_json

LATENCY = Path(__file__).resolve().parent / "query_latency.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=SQUAD, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--sizes", default="100000,1000000", help="store sizes")
    parser.add_argument("--questions", type=int, default=100, help="questions asked per store")
    parser.add_argument("--quick", action="store_true", help="one 10k store from 200 paragraphs")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    from scaled_store import scaled_store

    paragraphs, sizes = (200, [10_000]) if args.quick else (
        None, [int(s) for s in args.sizes.split(",")])
    _, base = squad_store(args.squad, paragraphs)
    n = 30 if args.quick else args.questions

    def measure(store: Path) -> dict:
        log(f"measuring {store.name}")
        return run_self(LATENCY, ["--measure", str(store), "--squad", str(args.squad),
                                  "--questions", str(n)])

    reference = measure(base)
    rows = []
    for size in sizes:
        for sq8 in (False, True):
            r = measure(scaled_store(base, size, sq8=sq8))
            peak = r["memory_mb"]["after_queries"]["peak_rss_mb"]
            growth = (peak - reference["memory_mb"]["after_queries"]["peak_rss_mb"]) * 2**20
            rows.append({
                "passages": r["passages"], "index_type": r["index_type"],
                "peak_rss_mb": peak, "anon_mb": r["memory_mb"]["after_queries"]["anon_mb"],
                "ram_bytes_per_passage": round(peak * 2**20 / r["passages"], 1),
                "ram_bytes_per_added_passage": round(
                    growth / (r["passages"] - reference["passages"]), 1),
                "disk_bytes": r["disk_bytes"],
                "disk_bytes_per_passage": r["disk_bytes_per_passage"],
                "recall@10": r["recall"]["recall@10"], "ask_median_ms": r["ask"]["median_ms"]})
            log(f"  {rows[-1]['passages']} {rows[-1]['index_type']}: peak RSS {peak} MB, "
                f"disk {rows[-1]['disk_bytes_per_passage']} B/passage")
    write_json(args.json, {
        "benchmark": "memory", "machine": machine(),
        "command": "python benchmarks/memory.py" + (" --quick" if args.quick else ""),
        "reference_2k": {"passages": reference["passages"],
                         "peak_rss_mb": reference["memory_mb"]["after_queries"]["peak_rss_mb"],
                         "disk_bytes_per_passage": reference["disk_bytes_per_passage"]},
        "stores": rows})


if __name__ == "__main__":
    main()
