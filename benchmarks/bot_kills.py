"""SIGKILL the bot again and again under steady traffic: is any question lost or answered twice?

Run from the repository root (the figures in RELIABILITY.md, "A bot killed mid-answer",
come from this script):

    python benchmarks/bot_kills.py                 # 30 kills, 300 BBC documents
    python benchmarks/bot_kills.py --kills 5 --json kills.json

`quotebot bot` runs in a subprocess against the fake Bot API server (tests/bot/
fake_telegram.py, in this process, so it outlives every kill) with its update journal in
the store. Questions arrive steadily (--rate a second, each from its own chat, each with
an answer recognised by its first quote); the bot is SIGKILLed at a random moment 1 to 6 s
after it starts polling, and started again at once. After the last kill it runs until
every question is answered or nothing moves for 30 s. Each question must be answered
exactly once: lost (no answer) and twice (two answers) are counted, as are the answers
the journal found "being sent" at a kill (never resent: they count as lost if they did
not arrive). Data: BBC News from --bbc (copied into --workdir, never into the repository).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from soak import TOKEN, Traffic, config_for, copy_docs, headline_questions, signatures  # noqa: E402
from support.fake_telegram import FakeTelegram  # noqa: E402

from index.build import build_index  # noqa: E402
from retrieval import Retriever  # noqa: E402

log = logging.getLogger("bot_kills")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--docs", type=int, default=300, help="BBC documents to index")
    parser.add_argument("--rate", type=float, default=1.0,
                        help="questions per second (keep it below what the bot answers: "
                        "questions that wait past telegram.stale_after_s get an apology)")
    parser.add_argument("--bbc", type=Path, default=ROOT.parent / "shared/data/bbc-news/bbc")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rng = random.Random(args.seed)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="qb-bot-kills-"))
    corpus, store = work / "corpus", work / "store"
    shutil.rmtree(work / "corpus", ignore_errors=True)
    docs = sorted(args.bbc.glob("*/*.txt"))
    if not docs:
        raise SystemExit(f"no BBC documents in {args.bbc} (see --bbc)")
    copy_docs(rng.sample(docs, min(args.docs, len(docs))), args.bbc, corpus)
    log.info("indexing %d documents into %s ...", args.docs, store)
    build_index(config_for(corpus, store), progress=False)
    with Retriever.open(config_for(corpus, store)) as retriever:
        chosen = signatures(retriever, headline_questions(corpus, rng, 90), 30)
    log.info("%d questions with distinct answers", len(chosen))

    fake = FakeTelegram(TOKEN).start()
    journal = work / "journal.sqlite"  # a new fake numbers updates from 1: a new journal
    journal.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN=TOKEN,
               QUOTEBOT_TELEGRAM_RATE_PER_MINUTE="0", QUOTEBOT_TELEGRAM_JOURNAL=str(journal),
               QUOTEBOT_TELEGRAM_PUBLIC="true")
    argv_bot = [sys.executable, "-m", "quotebot", "bot", "--corpus", str(corpus), "--store",
                str(store), "--base-url", fake.base_url]
    traffic = Traffic(fake, chosen)
    names = list(chosen)
    stop = threading.Event()

    def steady() -> None:
        i = 0
        while not stop.is_set():
            traffic.ask(140_000 + i, names[i % len(names)])  # one chat per question
            i += 1
            stop.wait(1.0 / args.rate)

    worker = threading.Thread(target=steady, daemon=True)
    logfile = work / "bot.log"
    started = time.monotonic()
    kills = 0
    try:
        with logfile.open("wb") as out:
            for round_ in range(args.kills + 1):
                polls = len(fake.polls)
                process = subprocess.Popen(argv_bot, env=env, cwd=ROOT, stdout=out, stderr=out)
                fake.wait_for(lambda p=polls: len(fake.polls) > p, timeout=300)
                if round_ == 0:
                    worker.start()
                if round_ < args.kills:
                    time.sleep(rng.uniform(1.0, 6.0))
                    process.send_signal(signal.SIGKILL)
                    process.wait(60)
                    kills += 1
                    log.info("kill %d/%d; %d questions asked so far", kills, args.kills,
                             len(traffic.asked))
            time.sleep(3)
            stop.set()
            worker.join()
            traffic.wait(600, idle=30)
            process.send_signal(signal.SIGINT)
            process.wait(120)
    finally:
        stop.set()
        fake.stop()
    tally = traffic.tally()
    text = logfile.read_text(errors="replace")
    figures = {
        "kills": kills, **tally,
        "replayed_after_restart": sum(int(line.split("handling ")[1].split()[0])
                                      for line in text.splitlines()
                                      if "received but not answered" in line),
        "being_sent_at_a_kill": text.count("may or may not have arrived"),
        "sorry_i_was_restarting": sum(1 for m in fake.sent()
                                      if m["text"].startswith("Sorry, I was restarting")),
        "minutes": round((time.monotonic() - started) / 60, 1),
        "docs": args.docs, "rate": args.rate, "seed": args.seed,
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = tally["lost"] == 0 and tally["answered_twice_or_more"] == 0
    print("every question answered exactly once" if ok else "FAILED: lost or repeated answers")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
