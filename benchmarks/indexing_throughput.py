"""Indexing throughput: `quotebot index` against plain `SentenceTransformer.encode`, one run.

The corpus (default: the 2,225 BBC articles) is chunked with the product's own chunker
to get the exact chunk texts `quotebot index` will embed (each distinct text once).
Then, side by side and each in a fresh process:

1. plain sentence-transformers: `model.encode(texts)` (model loaded first, not timed);
2. `quotebot index` into an empty store (fp32, the default), wall time of the command:
   reading, chunking, embedding, cache, BM25, FAISS, publishing;
3. `quotebot index` with `model.index_precision = "int8"` (the opt-in model);
4. plain onnxruntime on the same texts with the product's batch size and threads: the
   model alone, without the product around it;
5. plain sentence-transformers again.

Ratios are chunks/s over the mean of runs 1 and 5 (the machine is shared: runs are
interleaved so drift hits both sides). The empty stores already hold the ONNX export,
as every build after a store's first does; the one-time export is timed separately.

With `--sweep`, instead: the product's embedder (chunk and sentence vectors, ONNX
fp32) on a sample of the chunk texts for each model.threads x model.batch_size, three
interleaved rounds, best round reported (what config.toml's defaults rest on).

    python benchmarks/indexing_throughput.py
    python benchmarks/indexing_throughput.py --quick      # 30 articles, < 1 minute
    python benchmarks/indexing_throughput.py --sweep      # threads x batch size
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    BBC,
    PYTHON,
    ROOT,
    WORK,
    empty_store,
    exported_model,
    log,
    machine,
    quotebot,
    write_json,
)

WORKDIR = WORK / "indexing"


def chunk_texts(corpus: Path) -> dict[str, list[tuple[int, int]]]:
    """The distinct chunk texts `quotebot index` embeds for this corpus (its own chunker),
    with their sentence spans."""
    from index.build import model_window
    from index.chunking import chunk_document, load_token_counter
    from index.embedding import Embedder
    from index.loaders import SkipFile, indexed_suffixes, load_document, read_file
    from index.scan import scan_corpus
    from quotebot.config import load_config

    config = load_config(ROOT / "config.toml")
    embedder = Embedder(config.model.name)
    window = model_window(embedder)
    counter = load_token_counter(embedder.resolved.location)
    suffixes = indexed_suffixes(config.loading.extensions)
    files, _, _ = scan_corpus(corpus, suffixes)
    texts: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    for rel, path in files:
        try:
            doc = load_document(rel, read_file(path, 50 * 2**20), mtime=0)
        except SkipFile:
            continue
        for chunk in chunk_document(doc, counter,
                                    max_tokens=min(config.chunking.max_tokens, window - 2),
                                    overlap_sentences=config.chunking.overlap_sentences,
                                    window=window):
            spans = [(s - chunk.start, e - chunk.start) for s, e in chunk.sentences]
            texts.setdefault(chunk.text_hash, (chunk.text, spans))
    return dict(texts.values())


def encode_plain(runtime: str, texts_file: Path) -> dict[str, Any]:
    """Time one plain encode of the texts in this process: "torch" or "onnx"."""
    texts = json.loads(texts_file.read_text(encoding="utf-8"))
    from quotebot.config import load_config

    config = load_config(ROOT / "config.toml")
    if runtime == "torch":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        from index.embedding import resolve_model

        model = SentenceTransformer(resolve_model(config.model.name).location, device="cpu")
        model.encode(texts[:8])
        started = time.perf_counter()
        model.encode(texts)  # its defaults: batches of 32, sorted by length
    else:
        from index.embedding import Embedder
        from index.onnx_encoder import OnnxEncoder
        from index.onnx_export import find_export

        export = find_export(exported_model().parent, Embedder(config.model.name).fingerprint)
        encoder = OnnxEncoder(export, threads=config.model.threads)
        texts = sorted(texts, key=len)  # as the product and sentence-transformers do
        encoder.encode(texts[:8])
        started = time.perf_counter()
        encoder.encode(texts, batch_size=config.model.batch_size)
    seconds = time.perf_counter() - started
    return {"chunks": len(texts), "seconds": round(seconds, 2),
            "chunks_per_second": round(len(texts) / seconds, 2)}


def sweep(texts: dict[str, list[tuple[int, int]]], sample: int = 400) -> list[dict[str, Any]]:
    """chunks/s of `Embedder.embed_chunks` (ONNX fp32) per threads x batch size."""
    import random

    from index.embedding import Embedder
    from index.runtime import load_embedder

    picked = sorted(random.Random(0).sample(sorted(texts), min(sample, len(texts))), key=len)
    spans = [texts[t] for t in picked]
    embedders = {}
    for threads in (1, 2):
        embedders[threads], _ = load_embedder(Embedder().resolved.location,
                                              store=exported_model().parent, threads=threads)
    best: dict[tuple[int, int], float] = {}
    for _ in range(3):
        for threads, embedder in embedders.items():
            for batch in (4, 8, 16, 32):
                embedder.batch_size = batch
                started = time.perf_counter()
                list(embedder.embed_chunks(picked, spans))
                rate = len(picked) / (time.perf_counter() - started)
                best[threads, batch] = max(best.get((threads, batch), 0.0), rate)
                log(f"threads {threads}, batch {batch}: {rate:.1f} chunks/s")
    return [{"threads": t, "batch_size": b, "chunks_per_second": round(r, 1)}
            for (t, b), r in sorted(best.items())]


def export_seconds() -> float:
    """Seconds of the one-time ONNX export (torch import, export, check) in a new process."""
    with tempfile.TemporaryDirectory() as tmp:
        code = ("import sys, time; t = time.perf_counter()\n"
                "from index.embedding import Embedder\n"
                "from index.onnx_export import ensure_export\n"
                "assert ensure_export(sys.argv[1], Embedder())\n"
                "print(time.perf_counter() - t)")
        started = time.perf_counter()
        out = subprocess_run([PYTHON, "-c", code, tmp])
        return round(time.perf_counter() - started, 1) if out else 0.0


def subprocess_run(args: list[str]) -> str:
    import subprocess

    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BBC, help="folder of documents")
    parser.add_argument("--quick", action="store_true", help="30 articles (< 1 minute)")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 run")
    parser.add_argument("--sweep", action="store_true",
                        help="time the embedder per threads x batch size instead")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--encode", choices=["torch", "onnx"], help=argparse.SUPPRESS)
    parser.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.encode:
        print(json.dumps(encode_plain(args.encode, args.texts)))
        return

    WORKDIR.mkdir(parents=True, exist_ok=True)
    exported_model()
    corpus = args.corpus
    if args.quick:
        corpus = WORKDIR / "quick-corpus"
        shutil.rmtree(corpus, ignore_errors=True)
        for category in sorted(p for p in args.corpus.iterdir() if p.is_dir()):
            (corpus / category.name).mkdir(parents=True)
            for path in sorted(category.glob("*.txt"))[:6]:
                shutil.copy(path, corpus / category.name / path.name)
    texts = chunk_texts(corpus)
    texts_file = WORKDIR / "texts.json"
    texts_file.write_text(json.dumps(list(texts)), encoding="utf-8")
    log(f"{len(texts)} distinct chunk texts from {corpus}")
    if args.sweep:
        write_json(args.json, {"benchmark": "indexing_sweep", "machine": machine(),
                               "command": "python benchmarks/indexing_throughput.py --sweep",
                               "corpus": str(corpus), "results": sweep(texts)})
        return

    def plain(runtime: str) -> dict[str, Any]:
        result = json.loads(subprocess_run([PYTHON, str(Path(__file__)), "--encode", runtime,
                                            "--texts", str(texts_file)]))
        log(f"plain {runtime}: {result['chunks_per_second']} chunks/s")
        return result

    def index(precision: str) -> dict[str, Any]:
        store = empty_store(WORKDIR / f"store-{precision}")
        report, wall = quotebot("index", "--corpus", str(corpus), "--store", str(store),
                                env={"QUOTEBOT_MODEL_INDEX_PRECISION": precision})
        if report["chunks_embedded"] != len(texts):
            raise RuntimeError(f"index embedded {report['chunks_embedded']} chunks, "
                               f"expected {len(texts)}")
        result = {"chunks": report["chunks_embedded"], "seconds": round(wall, 2),
                  "chunks_per_second": round(report["chunks_embedded"] / wall, 2),
                  "embed_seconds": report["embed_seconds"], "runtime": report["runtime"],
                  "in_process_seconds": report["seconds"]}
        log(f"quotebot index ({precision}): {result['chunks_per_second']} chunks/s")
        shutil.rmtree(store, ignore_errors=True)
        return result

    runs: dict[str, Any] = {"st_encode_1": plain("torch"), "index_fp32": index("fp32")}
    if not args.no_int8:
        runs["index_int8"] = index("int8")
    runs["onnx_encode"] = plain("onnx")
    runs["st_encode_2"] = plain("torch")
    baseline = statistics.fmean([runs["st_encode_1"]["chunks_per_second"],
                                 runs["st_encode_2"]["chunks_per_second"]])
    ratios = {"index_fp32_over_st_encode":
              round(runs["index_fp32"]["chunks_per_second"] / baseline, 2),
              "index_fp32_over_onnx_encode":
              round(runs["index_fp32"]["chunks_per_second"]
                    / runs["onnx_encode"]["chunks_per_second"], 2)}
    if "index_int8" in runs:
        ratios["index_int8_over_st_encode"] = round(
            runs["index_int8"]["chunks_per_second"] / baseline, 2)
    once = 0.0 if args.quick else export_seconds()
    if once:
        fp32 = runs["index_fp32"]
        ratios["first_build_fp32_over_st_encode"] = round(
            fp32["chunks"] / (fp32["seconds"] + once) / baseline, 2)
    write_json(args.json, {
        "benchmark": "indexing_throughput", "machine": machine(),
        "command": "python benchmarks/indexing_throughput.py" + (" --quick" if args.quick else ""),
        "corpus": str(corpus), "chunks": len(texts), "runs": runs,
        "st_encode_mean_chunks_per_second": round(baseline, 2), "ratios": ratios,
        "one_time_export_seconds": once or None,
        "settings": _settings()})


def _settings() -> dict[str, Any]:
    from quotebot.config import load_config

    model = load_config(ROOT / "config.toml").model
    return {"batch_size": model.batch_size, "threads": model.threads}


if __name__ == "__main__":
    sys.exit(main())
