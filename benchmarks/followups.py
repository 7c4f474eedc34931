"""Follow-up questions: are they answered in their conversation, and are standalone
questions left alone? (issue 17; the table is in BENCHMARKS.md, "Follow-up questions")

Conversations (benchmarks/conversations/):
- squad.jsonl: made from SQuAD dev by `benchmarks/conversations/make_squad.py`
  (consecutive questions about one paragraph, the later ones' subject turned into a
  pronoun or an ellipsis); their index is SQuAD's 2,067 paragraphs, as `quotebot eval`.
- handwritten.jsonl: written by hand over BBC tech news, real-pdfs and real-markdown;
  their index is those documents (BBC's tech section, the 16 papers, the 48 pages).

For every follow-up turn, excerpt hit@1 (the first quote holds an expected answer) is
measured three ways: the question as written in the conversation, asked alone (no
history); the same question with the conversation (the product); and the question
written out in full (the ceiling). Then 2,000 standalone SQuAD questions, each asked
after the one before it (another article), with the feature on and off: the rules must
not fire, and hit@1 must not drop. Run:

    nice python benchmarks/followups.py [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, ROOT, SQUAD, WORK, log, machine, squad_store, write_json  # noqa: E402

from retrieval.evaluation import contains_answer  # noqa: E402

HERE = Path(__file__).resolve().parent / "conversations"


def handwritten_store() -> tuple[Path, Path]:
    """(corpus, store) of the documents the hand-written conversations are about."""
    from index.build import build_index
    from quotebot.config import load_config

    root = WORK / "followups"
    corpus = root / "corpus"
    sources = {"bbc-tech": DATA / "bbc-news" / "bbc" / "tech",
               "real-pdfs": DATA / "real-pdfs", "real-markdown": DATA / "real-markdown"}
    for name, source in sources.items():
        if not (corpus / name).exists():
            shutil.copytree(source, corpus / name)
    config = load_config(ROOT / "config.toml")
    config.corpus, config.store = corpus, root / "store"
    report = build_index(config, progress=False)
    if report.chunks_embedded:
        log(f"indexed {report.documents} documents ({report.chunks_embedded} embedded)")
    return corpus, config.store


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def hit(answer: Any, expected: list[str]) -> float:
    return float(bool(answer.hits) and contains_answer(answer.hits[0].excerpt, expected))


def run_conversations(retriever: Any, conversations: list[dict[str, Any]]) -> dict[str, Any]:
    """Excerpt hit@1 of follow-up turns: alone, with the conversation, written in full."""
    from retrieval.conversation import Conversation

    alone, with_history, full, fired, first = [], [], [], [], []
    examples = []
    for conv in conversations:
        conversation = Conversation()
        for n, turn in enumerate(conv["turns"]):
            answer = retriever.ask(turn["question"], abstain=False, history=conversation)
            if n == 0:
                first.append(hit(answer, turn["answers"]))
            else:
                with_history.append(hit(answer, turn["answers"]))
                fired.append(float(answer.interpreted_as is not None))
                alone.append(hit(retriever.ask(turn["question"], abstain=False),
                                 turn["answers"]))
                full.append(hit(retriever.ask(turn["full"], abstain=False), turn["answers"]))
                if len(examples) < 5:
                    examples.append({"asked": turn["question"],
                                     "read_as": answer.interpreted_as,
                                     "full": turn["full"]})
            conversation.add(answer)
    mean = lambda xs: round(sum(xs) / max(len(xs), 1), 4)  # noqa: E731
    return {"conversations": len(conversations), "follow_up_turns": len(with_history),
            "first_turn_hit@1": mean(first),
            "follow_up_hit@1_alone": mean(alone),
            "follow_up_hit@1_with_conversation": mean(with_history),
            "follow_up_hit@1_written_in_full": mean(full),
            "share_of_full": round(mean(with_history) / max(mean(full), 1e-9), 4),
            "rules_fired_on_follow_ups": mean(fired), "examples": examples}


def run_standalone(retriever: Any, n: int) -> dict[str, Any]:
    """hit@1 of n standalone SQuAD questions, each asked after the previous one."""
    from bot.smalltalk import small_talk
    from retrieval.conversation import Conversation, resolve
    from retrieval.evaluation import load_squad
    from retrieval.retriever import clean_question

    evalset = load_squad(SQUAD)
    ids = list(evalset.queries)
    step = max(1, len(ids) // n)
    ids = ids[::step][:n]
    off, on, fired, talk = [], [], [], 0
    conversation = Conversation()
    rewritten = []
    for qid in ids:
        question = evalset.queries[qid]
        gold = evalset.answers[qid]
        plain = retriever.ask(question, abstain=False)
        # When no rule fires, `ask` with a history is `ask` without one (the same code
        # path; tests/retrieval/test_conversation.py checks the answers are equal), so
        # only questions a rule fires on are asked again.
        reading = resolve(clean_question(question), conversation, retriever.reader.idf)
        answer = (retriever.ask(question, abstain=False, history=conversation)
                  if reading.followup else plain)
        off.append(hit(plain, gold))
        on.append(hit(answer, gold))
        fired.append(answer.interpreted_as is not None)
        if answer.interpreted_as and len(rewritten) < 10:
            rewritten.append([question, answer.interpreted_as])
        talk += small_talk(question) is not None
        conversation.add(answer)
    mean = lambda xs: round(sum(xs) / max(len(xs), 1), 4)  # noqa: E731
    return {"questions": len(ids), "hit@1_feature_off": mean(off),
            "hit@1_feature_on": mean(on), "delta": round(mean(on) - mean(off), 4),
            "rules_fired": int(sum(fired)), "small_talk_fired": talk,
            "rewritten_examples": rewritten}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--standalone", type=int, default=2000,
                        help="standalone SQuAD questions (default 2000)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--only", choices=["squad", "handwritten"],
                        help="run one part (default: both)")
    args = parser.parse_args()
    from quotebot.config import load_config
    from retrieval import Retriever

    results: dict[str, Any] = {"machine": machine()}
    started = time.perf_counter()
    config = load_config(ROOT / "config.toml")
    if args.only != "handwritten":
        config.corpus, config.store = squad_store(SQUAD)
        with Retriever.open(config) as retriever:
            log("SQuAD conversations")
            results["squad"] = run_conversations(retriever, load(HERE / "squad.jsonl"))
            log(f"{args.standalone} standalone SQuAD questions")
            results["standalone"] = run_standalone(retriever, args.standalone)
    if args.only != "squad":
        config.corpus, config.store = handwritten_store()
        with Retriever.open(config) as retriever:
            log("hand-written conversations")
            results["handwritten"] = run_conversations(retriever,
                                                       load(HERE / "handwritten.jsonl"))
    results["seconds"] = round(time.perf_counter() - started, 1)
    write_json(args.json, results)


if __name__ == "__main__":
    main()
