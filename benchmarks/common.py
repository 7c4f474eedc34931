"""Shared helpers of the benchmark scripts: machine description, memory, timing, data sets.

Benchmarks read the public sets in ../shared/data (never copied into the repo) and keep
their stores under .quotebot/ (git-ignored), reusing them between runs: embedding is
the expensive step and is never redone for what a previous run already embedded.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"
SQUAD = DATA / "squad-v1.1" / "dev-v1.1.json"
BBC = DATA / "bbc-news" / "bbc"
SCIFACT = DATA / "scifact"
WORK = ROOT / ".quotebot" / "bench"
PYTHON = sys.executable


def machine() -> dict[str, Any]:
    """What the figures were measured on (the machine is shared: load is recorded too)."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"cpu": cpu or platform.processor(), "cores": len(os.sched_getaffinity(0)),
            "ram_mb": mem, "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "date": datetime.now(UTC).isoformat(timespec="seconds")}


def memory_mb() -> dict[str, float]:
    """This process's memory now: resident (VmRSS), peak resident (VmHWM), anonymous."""
    wanted = {"VmRSS": "rss_mb", "VmHWM": "peak_rss_mb", "RssAnon": "anon_mb",
              "RssFile": "file_mb"}
    found: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in wanted:
            found[wanted[key]] = round(int(line.split()[1]) / 1024, 1)
    return found


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linear interpolation."""
    data = sorted(values)
    if not data:
        return 0.0
    k = (len(data) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"median_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 95), 2),
            "mean_ms": round(statistics.fmean(ms), 2), "n": len(ms)}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def write_json(path: Path | None, data: Any) -> None:
    """Print the result as JSON, and write it to `path` when given."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n", encoding="utf-8")
    print(text)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def spread(items: Sequence[Any], n: int) -> list[Any]:
    """`n` of `items` (all when fewer) spread evenly from first to last: `items[::len //
    n][:n]` keeps only the first n when there are fewer than 2n."""
    count = min(n, len(items))
    return [items[i * len(items) // count] for i in range(count)]


def squad_questions(path: Path, n: int, seed: int = 0) -> list[str]:
    """`n` SQuAD dev questions spread evenly over all articles (deterministic)."""
    from retrieval.evaluation import load_squad

    questions = list(load_squad(path).queries.values())
    step = max(1, len(questions) // n)
    return questions[seed::step][:n]


def squad_store(path: Path, paragraphs: int | None = None) -> tuple[Path, Path]:
    """(corpus, store) of SQuAD's paragraphs, indexed by the product, reused between runs.

    All 2,067 paragraphs live where `quotebot eval --squad` keeps them
    (.quotebot/eval/squad-v1.1), so either command reuses the other's embeddings;
    a subset (`paragraphs`, for --quick runs) lives under .quotebot/bench.
    """
    from index.build import build_index
    from quotebot.config import load_config
    from retrieval.evaluation import load_squad, materialise

    evalset = load_squad(path)
    if paragraphs:
        keep = list(evalset.corpus)[:: max(1, len(evalset.corpus) // paragraphs)][:paragraphs]
        evalset.corpus = {k: evalset.corpus[k] for k in keep}
        root = WORK / f"squad-{paragraphs}"
    else:
        root = ROOT / ".quotebot" / "eval" / evalset.name
    config = load_config(ROOT / "config.toml")
    config.corpus, config.store = root / "corpus", root / "store"
    materialise(evalset, config.corpus)
    report = build_index(config, progress=False)
    if report.chunks_embedded:
        log(f"indexed {report.documents} SQuAD paragraphs ({report.chunks_embedded} embedded)")
    return config.corpus, config.store


def run_self(script: Path, args: Sequence[str], timeout: float = 3600) -> dict[str, Any]:
    """Run a benchmark script in a fresh process and return its JSON output (for RSS)."""
    out = subprocess.run([PYTHON, str(script), *args], cwd=ROOT, capture_output=True,
                         text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{script.name} {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def exported_model() -> Path:
    """A store folder holding only the ONNX export of the configured model (fp32 and int8).

    Made once (imports torch) and reused: benchmark stores start from a hard-linked copy
    of it, as every build after a store's first does.
    """
    from index.embedding import Embedder
    from index.onnx_export import MODELS, ensure_export
    from quotebot.config import load_config

    folder = WORK / "exported-model"
    model = load_config(ROOT / "config.toml").model
    embedder = Embedder(model.name, batch_size=model.batch_size,
                        allow_download=model.allow_download)
    export = ensure_export(folder, embedder, int8=True)
    if export is None or not export.model_path("int8").is_file():
        raise RuntimeError("the model could not be exported to ONNX")
    return folder / MODELS


def empty_store(path: Path) -> Path:
    """A new store folder with nothing but the model's ONNX export (hard links)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    shutil.copytree(exported_model(), path / "models", copy_function=os.link)
    return path


def quotebot(*args: str, env: dict[str, str] | None = None) -> tuple[dict[str, Any], float]:
    """Run `python -m quotebot ARGS --json`; (its JSON output, wall seconds of the process)."""
    started = time.perf_counter()
    out = subprocess.run([PYTHON, "-m", "quotebot", *args, "--json"], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"quotebot {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout), seconds
