"""What ordering passages by their best sentence (`Settings.sentence_rank_weight`) costs per
question: warm `Retriever.ask` on SQuAD v1.1 dev questions, the setting on and off
alternating question by question on one retriever, so both see the same machine load.

    python benchmarks/sentence_rank_latency.py --questions 300
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quotebot.config import load_config  # noqa: E402
from quotebot.evalstore import prepare  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval.evaluation import load_squad  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    evalset = load_squad(DATA / "squad-v1.1" / "dev-v1.1.json")
    config = prepare(evalset, load_config(None))
    ids = list(evalset.queries)
    ids = ids[::max(1, len(ids) // args.questions)][:args.questions]
    times: dict[str, list[float]] = {"on": [], "off": []}
    with Retriever.open(config) as retriever:
        on = retriever.settings
        off = replace(on, sentence_rank_weight=0.0)
        for qid in ids[:20]:  # warm up: model, caches
            retriever.ask(evalset.queries[qid])
        for i, qid in enumerate(ids):
            order = (("on", on), ("off", off)) if i % 2 else (("off", off), ("on", on))
            for name, settings in order:
                retriever.settings = settings
                started = time.perf_counter()
                retriever.ask(evalset.queries[qid])
                times[name].append(time.perf_counter() - started)
    for name, values in times.items():
        values.sort()
        print(f"sentence order {name}: median {1000 * statistics.median(values):.2f} ms, "
              f"p95 {1000 * values[int(0.95 * len(values))]:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
