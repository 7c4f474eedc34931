"""What parsing every file in worker processes costs: BBC News loaded and chunked in this
process (as builds did before issue 14) and in the worker pool (index/parsing.py).

Only loading and chunking are timed (no embedding): the files are read into memory first,
then parsed (a) in-process, (b) by the pool with 1 worker and (c) with the default
(`loading.workers = 0`: one per core, at most 4). The pool's first run also starts the
forkserver (once per build process), reported apart. Runs alternate, `--repeat` times;
the figure is the median. The pool's documents and chunks are checked equal to in-process.

    python benchmarks/parse_workers.py                  # 2,225 BBC articles
    python benchmarks/parse_workers.py --limit 300      # a quick look
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from common import BBC, log, machine, write_json

from index.chunking import load_token_counter
from index.embedding import resolve_model
from index.parsing import ParseJob, ParsePool, ParseSettings, parse, worker_count
from quotebot.config import Config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BBC, help="folder of .txt documents")
    parser.add_argument("--limit", type=int, default=0, help="parse only this many files")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each mode")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    paths = sorted(args.corpus.rglob("*.txt"))[: args.limit or None]
    jobs = [ParseJob(p.relative_to(args.corpus).as_posix(), p.read_bytes()) for p in paths]
    config = Config()
    base = ParseSettings(tokenizer=resolve_model(config.model.name).location,
                         max_tokens=min(config.chunking.max_tokens, 254),
                         overlap_sentences=config.chunking.overlap_sentences, window=256,
                         timeout_s=config.loading.file_timeout_s,
                         memory_mb=config.loading.file_memory_mb)
    default_workers = worker_count(config.loading.workers)
    log(f"{len(jobs)} files, {sum(len(j.data) for j in jobs) / 2**20:.1f} MB; "
        f"default workers here: {default_workers}")

    count_tokens = load_token_counter(base.tokenizer)
    reference = {}

    def in_process() -> float:
        started = time.perf_counter()
        for job in jobs:
            reference[job.rel] = parse(job, count_tokens, base.chunking())
        return time.perf_counter() - started

    def pooled(workers: int) -> float:
        settings = ParseSettings(**{**base.__dict__, "workers": workers})
        started = time.perf_counter()
        with ParsePool(settings) as pool:
            results = list(pool.map(jobs))
        seconds = time.perf_counter() - started
        for r in results:
            ref = reference[r.rel]
            assert (r.document, r.chunks, r.skipped) == (ref.document, ref.chunks, ref.skipped)
        return seconds

    in_process()  # warm the OS cache and the reference
    started = time.perf_counter()
    with ParsePool(ParseSettings(**{**base.__dict__, "workers": 1})) as pool:
        list(pool.map(jobs[:1]))
    first_start = time.perf_counter() - started
    log(f"forkserver start + one file: {first_start:.2f} s")
    times: dict[str, list[float]] = {"in_process": [], "pool_1": [],
                                     f"pool_{default_workers}": []}
    for i in range(args.repeat):
        times["in_process"].append(in_process())
        times["pool_1"].append(pooled(1))
        times[f"pool_{default_workers}"].append(pooled(default_workers))
        log(f"run {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
    median = {k: round(statistics.median(v), 2) for k, v in times.items()}
    base_s = median["in_process"]
    result = {
        "files": len(jobs), "machine": machine(),
        "forkserver_start_and_one_file_s": round(first_start, 2),
        "median_seconds": median,
        "files_per_second": {k: round(len(jobs) / v, 1) for k, v in median.items()},
        "ratio_to_in_process": {k: round(v / base_s, 3) for k, v in median.items()},
        "runs": {k: [round(x, 2) for x in v] for k, v in times.items()},
    }
    for key, value in result.items():
        log(f"{key}: {value}")
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    main()
