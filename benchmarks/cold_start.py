"""Cold start: seconds from `quotebot ask` process start to its first answer, and peak RSS.

Runs the real command (`python -m quotebot ask --json ...`) as a new process and
times until its answer line arrives on stdout, on

- the bundled `seeds/` corpus, with the ONNX runtime (the default) and, side by side,
  with `QUOTEBOT_MODEL_RUNTIME=torch` (sentence-transformers, as before the export);
- a 100k-passage store (SQuAD scaled with filler, see benchmarks/scaled_store.py).

Runs alternate between the variants and the median of `--repeat` runs is reported:
the machine is shared, so side-by-side ratios are what holds. The OS file cache is
warm (the files were read moments before), as after any earlier run. The time the
store's checksum check at open takes alone (it reads every file of the index, so it
grows with the store) is measured once per store and reported beside.

    python benchmarks/cold_start.py
    python benchmarks/cold_start.py --quick        # seeds only, 3 runs each
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from common import PYTHON, ROOT, SQUAD, WORK, log, machine, squad_store, write_json

QUESTION = "How many civilians are trapped in Raqqa?"
SQUAD_QUESTION = "Which NFL team represented the AFC at Super Bowl 50?"


def first_answer(store: Path, question: str, env: dict[str, str]) -> dict[str, Any]:
    """One `quotebot ask` run: seconds to the answer line, peak RSS of the process."""
    started = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-m", "quotebot", "ask", "--json", "--store", str(store),
                             question], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    seconds = time.perf_counter() - started
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    if proc.returncode != 0 or not line.startswith("{"):
        raise RuntimeError(f"quotebot ask failed ({proc.returncode}): {err[-2000:]}")
    return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024}


def verify_seconds(store: Path) -> float:
    """Seconds the store's checksum check at open takes (files in the OS cache): the part of
    the cold start that grows with the store's size on disk."""
    from store import generations as st

    folder = st.current_generation(store)
    started = time.perf_counter()
    st.verify_files(folder, st.Manifest.read(folder))
    return round(time.perf_counter() - started, 3)


def seeds_store() -> Path:
    """The seeds/ corpus indexed into a benchmark store (incremental: instant when built)."""
    from index.build import build_index
    from quotebot.config import load_config

    config = load_config(ROOT / "config.toml")
    config.corpus, config.store = ROOT / "seeds", WORK / "seeds-store"
    build_index(config, progress=False)
    return config.store


def compare(variants: dict[str, tuple[Path, str, dict[str, str]]],
            repeat: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for store, question, env in variants.values():
        first_answer(store, question, env)  # file cache warm-up, not counted
    for i in range(repeat):
        for name, (store, question, env) in variants.items():
            runs[name].append(first_answer(store, question, env))
            log(f"run {i + 1}/{repeat} {name}: {runs[name][-1]['seconds']:.2f} s")
    return {name: {"median_seconds": round(statistics.median(r["seconds"] for r in rs), 3),
                   "min_seconds": round(min(r["seconds"] for r in rs), 3),
                   "peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in rs), 1),
                   "runs": len(rs)} for name, rs in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=SQUAD, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--size", default="100000", help="passages of the large store")
    parser.add_argument("--repeat", type=int, default=7, help="runs per variant")
    parser.add_argument("--quick", action="store_true", help="seeds only, 3 runs each")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTEBOT_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    seeds = seeds_store()
    variants = {"seeds_onnx": (seeds, QUESTION, env),
                "seeds_torch": (seeds, QUESTION, {**env, "QUOTEBOT_MODEL_RUNTIME": "torch"})}
    if not args.quick:
        from scaled_store import scaled_store

        _, base = squad_store(args.squad)
        big = scaled_store(base, int(args.size))
        variants[f"{int(args.size) // 1000}k_onnx"] = (big, SQUAD_QUESTION, env)
    results = compare(variants, 3 if args.quick else args.repeat)
    for name, (store, _, _) in variants.items():
        results[name]["verify_checksums_seconds"] = verify_seconds(store)
    onnx, torch = results["seeds_onnx"], results["seeds_torch"]
    write_json(args.json, {
        "benchmark": "cold_start", "machine": machine(),
        "command": "python benchmarks/cold_start.py" + (" --quick" if args.quick else ""),
        "results": results,
        "torch_over_onnx": round(torch["median_seconds"] / onnx["median_seconds"], 2)})


if __name__ == "__main__":
    main()
