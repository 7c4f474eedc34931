"""A corpus of one good file and hostile files of every kind of issue 14, built twice.

The corpus (generated in a scratch folder): the bundled seed article, plus a PDF whose
ToUnicode map gives U+D800 (in its text, and one in its /Title), 1 MB of dots, a 1 MB
"J. Smith, " author list, a 1 MB line (.txt and .md), a PDF with a 1 MB /Title, an HTML
page of 20k nested <nav>s, a docx of 200k empty paragraphs, a 1 GB zip bomb named .docx,
a PDF of 10,000 empty pages, random bytes named .txt, and three files that make the
parser misbehave through the test hook (tests/support/parse_hooks.py): a segfault, an
endless loop and an 8 GB allocation. `quotebot index --json` runs on it (as a user
would), then again with nothing changed. Checked: exit code 0, the time of each build,
every hostile file indexed or skipped with a reason, the second build parsing nothing
(skips remembered), and the good file answering its question.

    python benchmarks/hostile_corpus.py                    # file_timeout_s 20 (see --timeout)
    python benchmarks/hostile_corpus.py --timeout 60 --json out.json

The build's file time budget is set to --timeout (20 s by default, so that the endless
file costs 20 s; `loading.file_timeout_s` defaults to 60 s for large real documents).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from common import PYTHON, ROOT, log, machine, write_json

from tests.support import hostile_files as hf
from tests.support import parse_hooks

QUESTION = "How many civilians are trapped in Raqqa?"


def make_corpus(corpus: Path) -> dict[str, bytes]:
    """Write the corpus; return the hostile files (path -> bytes)."""
    corpus.mkdir(parents=True)
    shutil.copy(ROOT / "seeds" / "000_88f3b2186c936a7a.txt", corpus / "good.txt")
    files = {
        "surrogate.pdf": hf.surrogate_pdf(),
        "surrogate title.pdf": hf.surrogate_pdf(title_hex="FEFFD800"),
        "run of dots.txt": hf.run_of_dots(2**20).encode(),
        "author list.txt": hf.author_list(2**20).encode(),
        "one megabyte line.txt": hf.long_line(2**20).encode(),
        "one megabyte line.md": ("# " + hf.long_line(2**20)).encode(),
        "long title.pdf": hf.text_pdf("A page about lighthouses.",
                                      title="Untitled" + " " * 2**20 + "x"),
        "navs.html": hf.nav_html(20_000),
        "docx bomb.docx": hf.docx_paragraph_bomb(200_000),
        "zip bomb.docx": hf.zip_bomb(1024),
        "empty pages.pdf": hf.text_pdf("The only page with text.", pages=10_000),
        "binary.txt": os.urandom(65536),
        "segfault.txt": parse_hooks.SEGFAULT,
        "endless.txt": parse_hooks.HANG,
        "memory hog.txt": parse_hooks.HOG,
    }
    for name, data in files.items():
        (corpus / name).write_bytes(data)
    return files


def run(command: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([PYTHON, "-m", "quotebot", *command], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    return done, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=20.0, help="loading.file_timeout_s")
    parser.add_argument("--store-cache", type=Path, default=Path("/tmp/qb/bbc-store"),
                        help="a store whose ONNX export to copy (saves the first export)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hostile-corpus-"))
    corpus, store = work / "corpus", work / "store"
    try:
        files = make_corpus(corpus)
        store.mkdir()
        if (args.store_cache / "models").is_dir():
            shutil.copytree(args.store_cache / "models", store / "models")
        env = dict(os.environ, QUOTEBOT_CORPUS=str(corpus), QUOTEBOT_STORE=str(store),
                   QUOTEBOT_LOADING_FILE_TIMEOUT_S=str(args.timeout),
                   QUOTEBOT_TEST_PARSE_HOOK=parse_hooks.SPEC, PYTHONPATH=str(ROOT))
        log(f"corpus: 1 good file + {len(files)} hostile files, "
            f"{sum(len(d) for d in files.values()) / 2**20:.1f} MB on disk")
        builds = []
        for label in ("first build", "second build (nothing changed)"):
            done, seconds = run(["index", "--json", "--no-progress"], env)
            report = json.loads(done.stdout) if done.returncode == 0 else {}
            builds.append({"label": label, "exit_code": done.returncode,
                           "seconds": round(seconds, 1), "report": report,
                           "stderr_tail": done.stderr[-1500:] if done.returncode else ""})
            log(f"{label}: exit {done.returncode} in {seconds:.1f} s (process included); "
                f"skips remembered: {report.get('skips_remembered')}, workers replaced: "
                f"{report.get('parse_workers_replaced')}")
        first = builds[0]["report"]
        skipped = {s["path"]: s["reason"] for s in first.get("skipped", [])}
        indexed = set(first.get("added", []))
        outcome = {}
        for name in files:
            outcome[name] = ("indexed" if name in indexed
                             else f"skipped: {skipped[name]}" if name in skipped else "MISSING")
            log(f"  {name:24s} {outcome[name]}")
        done, seconds = run(["ask", "--json", QUESTION], env)
        answer = json.loads(done.stdout) if done.returncode == 0 else {}
        answered = bool(answer.get("found")) and answer["hits"][0]["citation"]["path"] == "good.txt"
        log(f"good file answers {QUESTION!r}: {answered} "
            f"({answer.get('hits', [{}])[0].get('excerpt', '')[:80]!r})")
        checks = {
            "both builds exit 0": all(b["exit_code"] == 0 for b in builds),
            "first build under a minute": builds[0]["seconds"] < 60,
            "every hostile file indexed or skipped with a reason": "MISSING" not in
            outcome.values(),
            "second build parses no skipped file again": builds[1]["report"].get(
                "parse_workers_replaced") == 0 and builds[1]["report"].get(
                "skips_remembered", 0) >= len(skipped),
            "the good file answers": answered,
        }
        for check, ok in checks.items():
            log(f"{'ok  ' if ok else 'FAIL'} {check}")
        write_json(args.json, {"machine": machine(), "timeout_s": args.timeout,
                               "builds": [{k: v for k, v in b.items() if k != "report"}
                                          for b in builds],
                               "outcome": outcome, "checks": checks})
        raise SystemExit(0 if all(checks.values()) else 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
