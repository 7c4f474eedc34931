"""Incremental rebuild: add one article to the indexed BBC corpus; ratio to a full build.

A copy of the corpus without one article (default `tech/401.txt`) is indexed from
scratch (`quotebot index --full`, timed: the full build). The article is then copied
in and `quotebot index` runs again (timed: the incremental build), as a user would
run it. Figures are wall times of the command, process start included; the build
report gives the part spent embedding the article's chunks, so the rest is the
product's own overhead. The article is then removed and added back three times
(its vectors now come from the embedding cache) for a steadier overhead figure.

    python benchmarks/incremental_rebuild.py
    python benchmarks/incremental_rebuild.py --quick    # 100 articles, < 1 minute
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from pathlib import Path

from common import BBC, WORK, empty_store, log, machine, quotebot, write_json

WORKDIR = WORK / "incremental"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=BBC, help="folder of documents")
    parser.add_argument("--article", default="tech/401.txt",
                        help="the article added (a path inside the corpus)")
    parser.add_argument("--quick", action="store_true", help="100 articles (< 1 minute)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    corpus = WORKDIR / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    if args.quick:
        files = sorted(p for p in args.corpus.rglob("*.txt")
                       if p.relative_to(args.corpus).as_posix() != args.article)[::22][:99]
        for path in files:
            target = corpus / path.relative_to(args.corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    else:
        shutil.copytree(args.corpus, corpus)
    article = corpus / args.article
    article.unlink(missing_ok=True)
    store = empty_store(WORKDIR / "store")
    where = ["--corpus", str(corpus), "--store", str(store)]

    full, full_wall = quotebot("index", "--full", *where)
    log(f"full build: {full['documents']} documents, {full['chunks']} chunks, "
        f"{full_wall:.1f} s")

    def add() -> tuple[dict, float]:
        article.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(args.corpus / args.article, article)
        return quotebot("index", *where)

    first, first_wall = add()
    log(f"added {args.article}: {first_wall:.2f} s, of which embedding "
        f"{first['embed_seconds']:.2f} s ({first['chunks_embedded']} chunks)")
    again, removed = [], []
    for _ in range(3):
        article.unlink()
        removed.append(quotebot("index", *where)[1])
        report, wall = add()
        if report["chunks_embedded"]:
            raise RuntimeError("the article's vectors should have come from the cache")
        again.append(wall)
    overhead = first_wall - first["embed_seconds"]
    write_json(args.json, {
        "benchmark": "incremental_rebuild", "machine": machine(),
        "command": "python benchmarks/incremental_rebuild.py" + (" --quick" if args.quick else ""),
        "corpus_documents": full["documents"] + 1, "article": args.article,
        "full_build": {"seconds": round(full_wall, 2), "chunks": full["chunks"],
                       "embed_seconds": full["embed_seconds"]},
        "add_one_article": {
            "seconds": round(first_wall, 2), "chunks_embedded": first["chunks_embedded"],
            "embed_seconds": first["embed_seconds"],
            "seconds_besides_embedding": round(overhead, 2),
            "in_process_seconds": first["seconds"]},
        "add_again_from_cache_median_seconds": round(statistics.median(again), 2),
        "remove_median_seconds": round(statistics.median(removed), 2),
        "incremental_over_full": round(first_wall / full_wall, 4)})


if __name__ == "__main__":
    main()
