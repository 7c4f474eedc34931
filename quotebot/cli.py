"""The `quotebot` command: one subcommand per job, all sharing the config flags."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from quotebot.config import Config, ConfigError, load_config
from quotebot.errors import DocumentChanged, StoreError
from retrieval.answer import Answer
from retrieval.search import MODES
from store.factory import BACKENDS

if TYPE_CHECKING:
    from retrieval.evaluation import Question

EXAMPLES = """\
examples:
  quotebot index                      index ./seeds (or the corpus in config.toml)
  quotebot index --corpus ~/notes     index another folder
  quotebot index --full --json        rebuild from scratch, report as JSON
  quotebot index --watch              keep the index up to date as files change
  quotebot status                     live index, skipped files, build running, changes
  quotebot ask "Who designed the tower?"
  quotebot chat                       ask in the terminal, as the bot would answer
  quotebot extract docs/guide.md      the text the index sees in a file
  TELEGRAM_BOT_TOKEN=... quotebot bot the Telegram bot (long polling, or a webhook)

Every flag has a config.toml key and a QUOTEBOT_* environment variable:
  --corpus  corpus        QUOTEBOT_CORPUS
  --store   store         QUOTEBOT_STORE
  --model   model.name    QUOTEBOT_MODEL_NAME
  --backend backend       QUOTEBOT_BACKEND   (faiss, or qdrant: see [qdrant] in config.toml)
"""


def _common(parser: argparse.ArgumentParser) -> None:
    """Flags every subcommand takes: where the config, corpus and store are."""
    group = parser.add_argument_group("configuration")
    group.add_argument("--config", metavar="FILE", type=Path,
                       help="config file (default: $QUOTEBOT_CONFIG, else ./config.toml)")
    group.add_argument("--corpus", metavar="DIR", type=Path,
                       help="folder of documents to answer from ($QUOTEBOT_CORPUS)")
    group.add_argument("--store", metavar="DIR", type=Path,
                       help="folder where the index is kept ($QUOTEBOT_STORE)")
    group.add_argument("--model", metavar="NAME",
                       help="embedding model: name, hub id or local folder ($QUOTEBOT_MODEL_NAME)")
    group.add_argument("--backend", choices=BACKENDS,
                       help="where the index is searched: faiss (files in the store folder) or "
                       "qdrant (embedded, or the server at qdrant.url) ($QUOTEBOT_BACKEND)")


def _positive(text: str) -> int:
    """An argparse type: a whole number above 0 (-k 0 and -k -5 answered nothing)."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number above 0, not {text!r}")
    return number


def _folder(text: str) -> str:
    """An argparse type: a folder of the corpus, which may not climb out of it."""
    from retrieval.retriever import normalise_scope

    try:
        normalise_scope([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def config_from_args(args: argparse.Namespace) -> Config:
    """The one config: file, then environment, then these flags."""
    config = load_config(args.config)
    config.override("corpus", args.corpus)
    config.override("store", args.store)
    config.override("model.name", args.model)
    config.override("backend", args.backend)
    config.check()  # the flags too
    return config


def quiet_libraries() -> None:
    """Libraries' INFO lines are not ours to show an operator: httpx logs every request,
    faiss that it could not load its AVX-512 build (and then loads another, as it should)."""
    import logging

    for name in ("httpx", "faiss"):
        logging.getLogger(name).setLevel(logging.WARNING)


def cmd_index(args: argparse.Namespace) -> int:
    from index.build import build_index

    config = config_from_args(args)
    progress = None if args.progress is None else args.progress
    if not args.json:
        print(f"Indexing {config.corpus} into {config.store} ...", file=sys.stderr)
    if args.watch:
        return watch_index(config, args, progress)
    report = build_index(config, full=args.full, wait=args.wait, progress=progress)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.summary())
    return 0


def watch_index(config: Config, args: argparse.Namespace, progress: bool | None) -> int:
    """`quotebot index --watch`: build, then build again after each settled corpus change."""
    import logging

    from index.build import BuildReport, build_index
    from index.watch import watch_corpus

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    quiet_libraries()
    first = [args.full]

    def build(wait: bool) -> BuildReport:
        full, first[0] = first[0], False  # --full applies to the first build only
        return build_index(config, full=full, wait=wait or args.wait, progress=progress)

    def show(report: BuildReport) -> None:
        print(json.dumps(report.to_dict()) if args.json else report.summary(), flush=True)

    import signal
    import threading

    stop = threading.Event()  # SIGTERM (a service manager) stops it as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"Watching {config.corpus} (Ctrl-C to stop) ...", file=sys.stderr)
    watch_corpus(config, build, on_report=show, stop=stop)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from index.status import store_status

    status = store_status(config_from_args(args))
    if args.json:
        print(json.dumps(status.to_dict(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(status.lines()))
    return 0


NOT_SURE = "Not sure this answers it \u2014 the closest passage is:"


def format_answer(answer: Answer, pictures: dict[int, str] | None = None,
                  closest: bool = True) -> str:
    """An answer as a person reads it in a terminal: quotes, citations, scores (and the
    page picture written for a hit, when there is one).

    Not found: the closest quote, marked "not sure" (when `closest` and there is one), else
    a plain "nothing answers"."""
    reading = (f"(reading this as: {answer.interpreted_as})\n"
               if answer.interpreted_as else "")
    if not answer.found and not answer.hits and answer.reason.startswith("The question"):
        return f"{reading}{answer.reason}"  # not searched: too long, or no words
    if not answer.found and not (closest and answer.hits):
        reason = f" ({answer.reason.rstrip('.').lower()})" if answer.reason else ""
        return (f"{reading}Nothing in the corpus answers this{reason}. "
                "Try rephrasing with the words a document would use.")
    lines = [reading.rstrip()] if reading else []
    if not answer.found:
        lines.append(NOT_SURE)
    for hit in answer.hits if answer.found else answer.hits[:1]:
        quote = hit.display_excerpt().replace("\n", "\n   ")  # code keeps its lines
        lines.append(f"{hit.rank}. \u201c{quote}\u201d")
        lines.append(f"   \u2014 {hit.citation.label()}  [score {hit.score:.3f}, "
                     f"confidence {hit.confidence:.2f}]")
        lines += [f"   also in: {c.label()}" for c in hit.also_in]
        if pictures and hit.rank in pictures:
            lines.append(f"   picture: {pictures[hit.rank]}")
    return "\n".join(lines)


def write_pictures(config: Config, answer: Answer, folder: Path, number: int) -> dict[int, str]:
    """A PNG of the page, quote highlighted, for each PDF hit: {rank: path written}."""
    from retrieval.pictures import picture_png

    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for hit in answer.hits:
        try:
            png = picture_png(config, hit)
        except DocumentChanged as exc:
            print(f"note: no picture for hit {hit.rank}: {exc}", file=sys.stderr)
            continue
        if png is None:
            continue
        path = folder / f"q{number}-hit{hit.rank}-page{hit.citation.page}.png"
        path.write_bytes(png)
        written[hit.rank] = str(path)
    return written


def cmd_ask(args: argparse.Namespace) -> int:
    from retrieval import Retriever

    config = config_from_args(args)
    if args.conversation and args.question != "-":
        raise ConfigError("--conversation reads the questions of stdin as one conversation: "
                          "use it with - (quotebot ask - --conversation < questions.txt)")
    if args.pictures:
        try:
            args.pictures.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--pictures {args.pictures}: cannot be made a folder "
                              f"({exc.strerror or exc})") from None
    retriever = Retriever.open(config)
    if args.question == "-" and hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="replace")  # a line that is not UTF-8 is still asked
    questions = sys.stdin if args.question == "-" else [args.question]
    number = 0
    conversation = None
    if args.conversation:
        from retrieval.conversation import Conversation

        conversation = Conversation()
    for line in questions:
        question = line.strip()
        if args.question == "-" and not question:
            continue
        number += 1
        answer = retriever.ask(question, k=args.k, mode=args.mode, history=conversation,
                               within=args.within)
        if conversation is not None:
            conversation.add(answer)
        pictures = write_pictures(config, answer, args.pictures, number) \
            if args.pictures else {}
        if args.json:
            data = answer.to_dict()
            for hit in data["hits"]:
                if hit["rank"] in pictures:
                    hit["picture"] = pictures[hit["rank"]]
            print(json.dumps(data, ensure_ascii=False), flush=True)
        else:
            if args.question == "-":
                print(f"? {question}")
            print(format_answer(answer, pictures, config.retrieval.show_closest),
                  end="\n\n" if args.question == "-" else "\n", flush=True)
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from index.extraction import Extraction, expand, extract, format_extraction

    config = config_from_args(args)
    max_bytes = int(config.loading.max_file_mb * 1024 * 1024)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    for path in expand(args.paths):
        found = path if isinstance(path, Extraction) else extract(path, max_bytes)
        if args.json:
            print(json.dumps(found.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(format_extraction(found), end="\n\n", flush=True)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.chat import run_chat

    return run_chat(config_from_args(args))


def cmd_bot(args: argparse.Namespace) -> int:
    import logging

    from bot.app import run_bot

    config = config_from_args(args)
    config.override("telegram.base_url", args.base_url)
    if args.watch:
        config.index.watch = True
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        quiet_libraries()
    return run_bot(config)


def metrics_table(results: Sequence[dict], width: int) -> str:
    """One row per mode, one column per metric any mode has ("-" where a mode has none:
    BM25 alone has no confidence, and a mode may count no hidden-source question)."""
    names = list(dict.fromkeys(n for r in results for n in r["metrics"]))
    rows = [f"{'mode':<8} " + " ".join(f"{n:>{width}}" for n in names)]
    for r in results:
        rows.append(f"{r['mode']:<8} " + " ".join(
            f"{r['metrics'][n]:>{width}.4f}" if n in r["metrics"] else f"{'-':>{width}}"
            for n in names))
    return "\n".join(rows)


def cmd_eval(args: argparse.Namespace) -> int:
    from quotebot.evalstore import prepare
    from retrieval import Retriever
    from retrieval.evaluation import EvalDataError, load_beir, load_squad, run

    if args.questions:
        return _eval_questions(args)
    if args.hide_sources:
        raise ConfigError("--hide-sources goes with --questions (--squad already asks every "
                          "question again with its article hidden)")
    try:
        evalset = load_beir(args.beir, args.split) if args.beir else load_squad(args.squad)
    except EvalDataError as exc:
        print(f"quotebot: cannot evaluate: {exc}", file=sys.stderr)
        return 2
    base = load_config(args.config)
    base.override("model.name", args.model)
    base.override("backend", args.backend)
    print(f"Evaluating on {evalset.name}: {len(evalset.corpus)} documents, "
          f"{len(evalset.queries)} questions", file=sys.stderr)
    config = prepare(evalset, base, corpus=args.corpus, store=args.store,
                     progress=args.progress)
    retriever = Retriever.open(config)
    modes = ["bm25", "dense", "hybrid"] if args.mode == "all" else [args.mode]
    results, details = [], []
    for mode in modes:
        result = {**run(retriever, evalset, mode=mode, limit=args.limit, details=details),
                  "backend": config.backend}
        results.append(result)
        if args.json:
            print(json.dumps(result), flush=True)
    if args.details:
        args.details.write_text("".join(json.dumps({**row, "backend": config.backend}) + "\n"
                                        for row in details), encoding="utf-8")
    if not args.json:
        print(metrics_table(results, 17))
        print(f"({results[0]['questions']} questions, {evalset.name}, "
              f"{config.backend} backend)")
    return 0


def unknown_paths(questions: Sequence[Question], config: Config) -> list[str]:
    """The files questions name that no indexed file of the corpus is (a typo, a rename)."""
    from index.loaders import indexed_suffixes
    from index.scan import scan_corpus
    from retrieval.evaluation import same_file

    suffixes = indexed_suffixes(config.loading.extensions)
    files = [rel for rel, _ in scan_corpus(Path(config.corpus), suffixes)[0]]
    named = dict.fromkeys(p for q in questions for p in q.paths)
    return [p for p in named if not any(same_file(rel, (p,)) for rel in files)]


def _eval_questions(args: argparse.Namespace) -> int:
    """`quotebot eval --questions FILE --corpus DIR`: excerpt hits on your own documents."""
    from quotebot.evalstore import prepare_folder
    from retrieval import Retriever
    from retrieval.evaluation import evaluate_questions, load_questions

    if args.corpus is None:
        raise ConfigError("--questions needs --corpus DIR, the folder the questions are about")
    try:
        questions = load_questions(args.questions)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if not questions:
        raise ConfigError(f"{args.questions}: no questions (one JSON object per line)")
    base = load_config(args.config)
    base.override("model.name", args.model)
    print(f"Evaluating {len(questions)} questions over {args.corpus}", file=sys.stderr)
    config = prepare_folder(args.corpus, base, store=args.store, progress=args.progress)
    named = unknown_paths(questions, config)
    if named:
        print(f"note: {len(named)} question(s) name a file not in {args.corpus}, so they can "
              f"never hit: {', '.join(named[:5])}{', ...' if len(named) > 5 else ''}",
              file=sys.stderr)
    with Retriever.open(config) as retriever:
        modes = ["bm25", "dense", "hybrid"] if args.mode == "all" else [args.mode]
        results = []
        for mode in modes:
            result = evaluate_questions(retriever, questions, mode=mode, k=3,
                                        hide_sources=args.hide_sources)
            result = {"dataset": args.questions.name, "mode": mode, **result}
            results.append(result)
            if args.json:
                print(json.dumps(result, ensure_ascii=False), flush=True)
    if not args.json:
        for result in results:
            for d in result["details"]:
                got = d["top"][0]["excerpt"] if d["top"] else "(nothing)"
                if not d["answers"] and not d["declined"]:
                    what = "answered, but nothing should answer"
                elif d["answers"] and d["excerpt_rank"] != 1:
                    what = f"miss (rank {d['excerpt_rank'] or '-'})"
                else:
                    continue
                print(f"[{result['mode']}] {what}: {d['question']}\n"
                      f"    first quote: {' '.join(got.split())[:200]}")
        print(metrics_table(results, 15))
        print(f"({results[0]['questions']} questions, {args.questions.name})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quotebot",
        description="Answer questions from your documents with quoted excerpts and citations.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("index", help="build or update the index of the corpus folder",
                       description="Index the corpus: only new or changed documents are read, "
                       "and only chunk texts never seen before are embedded. The new index "
                       "replaces the old one atomically when it is complete.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    p.add_argument("--full", action="store_true",
                   help="rebuild from scratch: re-read and re-embed every document")
    p.add_argument("--wait", action="store_true",
                   help="if another build is running, wait for it instead of refusing")
    p.add_argument("--json", action="store_true", help="print the build report as JSON")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars (default: on a terminal only)")
    p.add_argument("--watch", action="store_true",
                   help="keep running: update the index after files in the corpus are added, "
                   "changed, removed or renamed (once index.watch_debounce_s seconds pass "
                   "with no further change); a running bot or `quotebot chat` answers from "
                   "each new index by itself")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("status", help="the index: live generation, documents, skipped files, "
                       "running build, changes not indexed yet, watch mode",
                       description="Show the state of the store: the live index generation "
                       "and when it was built, its documents and passages, the files skipped "
                       "and why, whether a build is running (and how far it is), whether the "
                       "corpus has changes not indexed yet (by file size and time, no file is "
                       "read), and whether a watcher keeps it up to date.",
                       epilog="examples:\n  quotebot status\n"
                       "  quotebot status --json | jq .pending",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    p.add_argument("--json", action="store_true", help="the same as a JSON object")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("ask", help="answer a question from the index with quoted excerpts",
                       description="Print the passages that answer a question: the quoted "
                       "sentence(s), where they stand (document, lines, page) and a score. "
                       "When no passage is close enough (confidence below "
                       "retrieval.min_confidence), it says so and still shows the closest "
                       "quote, marked 'Not sure this answers it' (retrieval.show_closest = "
                       "false: a plain 'nothing answers'); --json then has found: false and "
                       "the hits.",
                       epilog="examples:\n"
                       "  quotebot ask \"How many civilians are trapped in Raqqa?\"\n"
                       "  quotebot ask -k 5 --json \"Who designed the tower?\"\n"
                       "  quotebot ask --pictures pics/ \"How tall is the tower?\"   "
                       "(page pictures of PDF hits)\n"
                       "  cat questions.txt | quotebot ask - --json   "
                       "(one JSON object per line)\n"
                       "  quotebot ask --in reports/2024 \"What was the revenue?\"   "
                       "(quotes only from that folder)\n"

                       "  printf 'What is Chubby?\\nWhat is it for?\\n' | quotebot ask - "
                       "--conversation   (follow-ups read with the line before)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    p.add_argument("question", help="the question, or - to read one question per line from stdin")
    p.add_argument("-k", type=_positive, default=None, metavar="N",
                   help="passages to return (default: retrieval.k in config, 3)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--mode", choices=MODES, default=None,
                   help="ranking: hybrid (default), dense or bm25 alone")
    p.add_argument("--in", dest="within", action="append", metavar="FOLDER", type=_folder,
                   help="answer only from documents under this folder (or this document), "
                   "relative to the corpus; repeat for several")
    p.add_argument("--conversation", action="store_true",
                   help="with -: the lines are one conversation, so a follow-up such as "
                   "'what is it for?' is read with the question before it (the answer "
                   "says how: 'interpreted_as' in JSON)")
    p.add_argument("--pictures", type=Path, metavar="DIR",
                   help="write a PNG of the page, quote highlighted, for each hit from a PDF "
                   "into DIR (q<N>-hit<rank>-page<page>.png); --json adds its path as "
                   "\"picture\" to that hit")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("extract", help="show the text the index sees in files (why isn't "
                       "my document found?)",
                       description="Print what indexing reads from each file: its title, "
                       "every block (heading, paragraph, list item, table cell, code) with the "
                       "source line (and page) it comes from, and what is left out: a web "
                       "page's furniture (navigation, footers, share bars) and sentences that "
                       "are page chrome, a table of contents, a PDF's list of references or "
                       "repeats. A file that cannot be indexed says why; a folder is read as "
                       "indexing reads it (no hidden files). Nothing is embedded or written.",
                       epilog="examples:\n"
                       "  quotebot extract docs/guide.md\n"
                       "  quotebot extract page.html paper.pdf --json   (one object per file: "
                       "path, title, format, text, pages, blocks, skipped, error)\n"
                       "  quotebot extract seeds/                        (every file in a folder)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("chat", help="ask questions in the terminal (the bot's answers, "
                       "in plain text)",
                       description="An interactive chat in the terminal with the same answers "
                       "as the Telegram bot: type a question; 'more' shows further quotes, "
                       "'context N' the passage around quote N, 'new' starts a new "
                       "conversation, 'quit' ends. A follow-up ('what is it used for?') is "
                       "read with the question before it, and the answer says how. Reads "
                       "questions from stdin when it is not a terminal.",
                       epilog="examples:\n  quotebot chat\n"
                       "  echo 'Who designed the tower?' | quotebot chat",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("bot", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)",
                       description="Serve the Telegram bot: loads the model and index once, "
                       "then long-polls Telegram (or serves a webhook when telegram.webhook_url "
                       "is set). The token is read from $TELEGRAM_BOT_TOKEN or the file named "
                       "by telegram.token_file, and is never printed or logged. Who may use "
                       "the bot is set by telegram.allowed_users / admins (private chats) and "
                       "allowed_chats (groups, listed themselves) in config.toml; nothing "
                       "listed means nobody, unless telegram.public = true opens it to "
                       "everyone. Each user's updates are rate limited, and all output is "
                       "paced to Telegram's flood limits.",
                       epilog="examples:\n"
                       "  TELEGRAM_BOT_TOKEN=123:abc quotebot bot\n"
                       "  quotebot bot --base-url http://localhost:8081   "
                       "(a self-hosted Bot API server)\n"
                       "  QUOTEBOT_TELEGRAM_ALLOWED_USERS=11,22 quotebot bot\n"
                       "  QUOTEBOT_TELEGRAM_PUBLIC=true quotebot bot   (anyone may ask)",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    p.add_argument("--base-url", metavar="URL",
                   help="Bot API server (telegram.base_url, $TELEGRAM_API_BASE_URL; "
                   "default: Telegram's)")
    p.add_argument("--watch", action="store_true",
                   help="watch the corpus folder and update the index after files change "
                   "(index.watch in config.toml); admins get each build's report if "
                   "telegram.notify_rebuilds is on")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.set_defaults(func=cmd_bot)

    p = sub.add_parser("eval", help="measure retrieval on a BEIR folder, a SQuAD file or "
                       "your own questions about a folder of documents",
                       description="Index an evaluation corpus (kept and reused under "
                       "--store) and report ranking metrics: nDCG@10, Recall@10/100 and "
                       "MRR@10 for BEIR; passage hit@1/5/10, excerpt hit@1 and abstention "
                       "precision/recall for SQuAD. With --questions FILE --corpus DIR: "
                       "excerpt and passage hits at 1 and 3 for your own questions about "
                       "your own documents. FILE is JSON lines, one question each: "
                       '{"question": "...", "answers": ["exact phrase", "alternative"], '
                       '"path": "paper.pdf"} ("path" optional: the hit must come from that '
                       "file). A quote hits when it contains an answer, compared "
                       "case-insensitively with whitespace collapsed and NFKC-normalised. "
                       'A question with "answers": [] is one the documents do not answer: '
                       "it should be declined, and the share declined is reported "
                       "(absent_declined; answerable_declined for the others). "
                       "Misses are listed with the quote that came first.",
                       epilog="examples:\n"
                       "  quotebot eval --beir ../shared/data/scifact --mode all\n"
                       "  quotebot eval --squad ../shared/data/squad-v1.1/dev-v1.1.json "
                       "--limit 1000 --json\n"
                       "  quotebot eval --questions benchmarks/questions/real-pdfs.jsonl "
                       "--corpus ../shared/data/real-pdfs\n"
                       "  quotebot eval --squad my-squad-v2.json   # v2.0: abstention on "
                       "is_impossible",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--beir", type=Path, metavar="DIR",
                        help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
    source.add_argument("--squad", type=Path, metavar="FILE",
                        help="SQuAD v1.1 or v2.0 JSON file (title optional; "
                        "v2.0 is_impossible questions are scored as should-decline)")
    source.add_argument("--questions", type=Path, metavar="FILE",
                        help="your questions (JSON lines) about the documents in --corpus")
    p.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    p.add_argument("--mode", choices=[*MODES, "all"], default="hybrid",
                   help="ranking to measure; all = bm25, dense and hybrid side by side")
    p.add_argument("--limit", type=int, metavar="N", help="use only N questions (spread evenly)")
    p.add_argument("--json", action="store_true", help="one JSON object per mode")
    p.add_argument("--hide-sources", action="store_true",
                   help="--questions: also ask each question that names its file as if that "
                   "file were not indexed, and report the share declined (hidden_declined): "
                   "how often it says 'nothing answers' when the answer is not there, "
                   "without writing such questions yourself")
    p.add_argument("--details", type=Path, metavar="FILE",
                   help="BEIR and SQuAD: also write each question's own figures to FILE, one JSON "
                   "object per line (for paired comparisons: benchmarks/backend_parity.py)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars while indexing (default: on a terminal only)")
    p.set_defaults(func=cmd_eval)
    return parser


def _readable_output(json_output: bool) -> None:
    """JSON is written in UTF-8 whatever the terminal's encoding; text is written in the
    terminal's, with what it cannot show replaced (an answer's quotes and dashes would
    otherwise stop the command on an ASCII or Latin-1 terminal), and with no control
    character a terminal would obey (`_Printable`)."""
    if hasattr(sys.stdout, "reconfigure"):
        if json_output:
            sys.stdout.reconfigure(encoding="utf-8")
        else:
            sys.stdout.reconfigure(errors="replace")
    if not json_output and not isinstance(sys.stdout, _Printable):
        sys.stdout = _Printable(sys.stdout)


# C0 and C1 control characters but newline and tab: ESC starts the sequences that set a
# terminal's title or clear its screen, and a file may be named with them.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class _Printable:
    """Standard output for people: a control character from a file's name, a title or a
    quote (a corpus file named "ferry\\x1b]0;pwned\\x07.txt" is cited by name) is written
    as its escape ("\\x1b"), never obeyed."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    _readable_output(json_output=getattr(args, "json", False))
    from index.build import BuildBusy, BuildError
    from index.embedding import ModelError

    try:
        return func(args)
    except ConfigError as exc:
        print(f"quotebot: config error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `quotebot ask - --json | head -1`: the reader has had enough
        import contextlib
        import os

        with contextlib.suppress(OSError, ValueError):  # no flush error at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a program killed by SIGPIPE
    except (StoreError, ModelError, BuildBusy, BuildError, OSError) as exc:
        # OSError: a path the operator gave is missing, unreadable or of the wrong kind.
        print(f"quotebot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("quotebot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
