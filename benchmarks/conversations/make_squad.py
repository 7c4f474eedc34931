"""Make benchmarks/conversations/squad.jsonl: two- and three-turn conversations from SQuAD dev.

Consecutive questions about the same paragraph are a conversation. Each later question
is rewritten as a person would ask it next, by one of two edits (it is kept only if one
applies):
- ellipsis: when it differs from the question before it in one span of at most four
  words, it becomes "What about <that span>?" ("... the AFC ..." -> "What about the NFC?");
- pronoun: the longest phrase it shares with the question before it (a name, or two or
  more words, never starting or ending with a function word) becomes "it" ("its" before
  "'s"; a "the" before the phrase goes too).
The original question is kept as "full" (the question written out), with its answers.
Deterministic; run from the repository root:

    python benchmarks/conversations/make_squad.py [--squad ../shared/data/squad-v1.1/dev-v1.1.json]
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SQUAD = HERE.parent.parent.parent / "shared" / "data" / "squad-v1.1" / "dev-v1.1.json"
def _set(text: str) -> set[str]:
    return set(text.split())


FUNCTION = _set("""a an the and or of in on at by for from to with as is are was were be been
did do does what which who whom whose when where why how that this these those it its
their his her they he she many much""")
PREPOSITIONS = _set("of in on at by for from to with about")
KEEP = 400  # conversations kept, spread evenly over the articles
WORD = re.compile(r"\w+(?:['’.\-]\w+)*")


def words(text: str) -> list[re.Match[str]]:
    return list(WORD.finditer(text))


def ellipsis(previous: str, question: str) -> str | None:
    """ "What about X?" when `question` is `previous` with one span of <= 4 words changed."""
    a, b = [m.group() for m in words(previous)], [m.group() for m in words(question)]
    ops = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
           if op[0] != "equal"]
    if len(ops) != 1 or ops[0][0] != "replace":
        return None
    _, i1, i2, j1, j2 = ops[0]
    if not (1 <= j2 - j1 <= 3 and 1 <= i2 - i1 <= 3) or len(b) < 5:
        return None
    if any(w.lower() in FUNCTION for w in a[i1:i2] + b[j1:j2]):
        return None  # a changed verb or question word, not a changed subject
    span = " ".join(b[j1:j2])
    if j1 > 0 and b[j1 - 1].lower() == "the":
        span = "the " + span
    return f"What about {span}?"


def shared_phrase(previous: str, question: str) -> tuple[int, int] | None:
    """Character span in `question` of the longest phrase it shares with `previous`."""
    toks = words(question)
    prev = [m.group() for m in words(previous)]
    prev_grams = {tuple(prev[i:i + n]) for n in range(1, 6) for i in range(len(prev) - n + 1)}
    best: tuple[int, int, int] | None = None  # (length, -start index, end index)
    for n in range(5, 0, -1):
        for i in range(len(toks) - n + 1):
            gram = [t.group() for t in toks[i:i + n]]
            if tuple(gram) not in prev_grams:
                continue
            if gram[0].lower() in FUNCTION or gram[-1].lower() in FUNCTION:
                continue
            named = any(g[:1].isupper() and len(g) > 1 for k, g in enumerate(gram) if i + k > 0)
            if not named or question[toks[i + n - 1].end():][:1] in ("&", "-"):
                continue
            neighbours = ([toks[i - 1].group()] if i > 1 else []) + (
                [toks[i + n].group()] if i + n < len(toks) else [])
            if any(w[:1].isupper() for w in neighbours):
                continue  # part of a longer name: "New" of "New York"
            if best is None or n > best[0]:
                best = (n, i, i + n)
        if best:
            break
    if best is None:
        return None
    _, i, j = best
    return toks[i].start(), toks[j - 1].end()


def pronoun(previous: str, question: str) -> str | None:
    span = shared_phrase(previous, question)
    if span is None:
        return None
    start, end = span
    before, after = question[:start], question[end:]
    if before.lower().endswith("the "):
        before = before[:-4]
    phrase = question[start:end]
    if phrase.endswith(("'s", "’s")) or after.startswith(("'s", "’s")):
        return before + "its" + (after[2:] if after.startswith(("'s", "’s")) else after)
    previous_word = before.split()[-1].lower() if before.split() else ""
    next_word = after.split()[0] if after.split() else ""
    attributive = ((previous_word in PREPOSITIONS or question[:start] != before)
                   and next_word[:1].islower() and next_word.lower() not in FUNCTION)
    text = before + ("its" if attributive else "it") + after
    return text[0].upper() + text[1:] if not before else text


def follow_up(previous: str, question: str) -> tuple[str, str] | None:
    """(rewritten question, edit) or None."""
    made = ellipsis(previous, question)
    if made:
        return made, "ellipsis"
    made = pronoun(previous, question)
    if made and made != question:
        return made, "pronoun"
    return None


def conversations(squad: dict) -> list[dict]:
    """At most one conversation per paragraph, from its first questions that allow one."""
    found = []
    for article in squad["data"]:
        for p_index, paragraph in enumerate(article["paragraphs"]):
            qas = paragraph["qas"]
            for i in range(len(qas) - 1):
                first, second = qas[i], qas[i + 1]
                made = follow_up(first["question"], second["question"])
                if made is None:
                    continue
                turns = [{"question": first["question"].strip(), "full": first["question"].strip(),
                          "answers": sorted({a["text"] for a in first["answers"]})},
                         {"question": made[0].strip(), "full": second["question"].strip(),
                          "edit": made[1],
                          "answers": sorted({a["text"] for a in second["answers"]})}]
                if i + 2 < len(qas):
                    third = qas[i + 2]
                    made3 = follow_up(second["question"], third["question"])
                    if made3 is not None:
                        turns.append({"question": made3[0].strip(),
                                      "full": third["question"].strip(), "edit": made3[1],
                                      "answers": sorted({a["text"] for a in third["answers"]})})
                found.append({"id": f"{article['title']}/{p_index}", "turns": turns})
                break
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    parser.add_argument("--out", type=Path, default=HERE / "squad.jsonl")
    args = parser.parse_args()
    squad = json.loads(args.squad.read_text(encoding="utf-8"))
    found = conversations(squad)
    found = found[:: max(1, len(found) // KEEP)][:KEEP]
    with args.out.open("w", encoding="utf-8") as out:
        for conv in found:
            out.write(json.dumps(conv, ensure_ascii=False) + "\n")
    turns = sum(len(c["turns"]) - 1 for c in found)
    print(f"{len(found)} conversations, {turns} follow-up turns -> {args.out}")


if __name__ == "__main__":
    main()
