"""`quotebot chat`: the bot's conversation in a terminal, for when no Telegram token is set.

Same retriever call and the same page/context rendering as the bot, in plain text:
type a question; `more` shows further quotes, `context N` the passage around quote N,
`new` starts a new conversation, `quit` (or an empty line at EOF) ends. Follow-ups
("what is it used for?") are read in the light of the previous question, as in the bot,
and small talk gets the bot's short answer.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from bot.conversations import Conversations
from bot.handlers import HITS_PER_QUESTION, Answerer
from bot.render import PLAIN, paginate, render_context, render_page
from bot.smalltalk import small_talk, small_talk_reply
from quotebot.config import Config
from retrieval.answer import Answer

HELP = ("Type a question and press Enter. Then: 'more' for further quotes, "
        "'context N' for the passage around quote N, 'new' to start a new conversation "
        "(follow-ups such as 'what is it used for?' are read with the previous question), "
        "'quit' to leave.")
CONVERSATION = ("terminal",)
# "context", "context 2", "/context 2": a word after it at most, else it is a question
# ("Context of the talks?", "Contextual information about ...?").
_CONTEXT = re.compile(r"/?context(?:\s+\S+)?\s*")


def run_chat(config: Config, input: TextIO | None = None,  # noqa: A002 - the brief's name
             output: TextIO | None = None, *, retriever: Answerer | None = None) -> int:
    """Read questions from `input` (stdin), answer on `output` (stdout) until EOF or quit."""
    input = sys.stdin if input is None else input  # noqa: A001
    output = sys.stdout if output is None else output
    interactive = hasattr(input, "isatty") and input.isatty()
    if retriever is None:
        from retrieval import Retriever

        print("Loading the model and index ...", file=output, flush=True)
        retriever = Retriever.open(config)
    counts = retriever.counts()
    print(f"quotebot: answering from {counts.get('documents', 0)} documents "
          f"({counts.get('chunks', 0)} passages) with quotes and citations.", file=output)
    print(HELP, file=output, flush=True)
    answer: Answer | None = None
    page = 0
    tg = config.telegram
    conversations = Conversations(tg.conversation_ttl_s, tg.conversation_turns, 1)
    while True:
        if interactive:
            print("> ", end="", file=output, flush=True)
        line = input.readline()
        if not line:
            break
        text = " ".join(line.split())
        if not text:
            continue
        command = text.lower()
        if command in ("quit", "exit", "/quit"):
            break
        if command in ("help", "/help", "/start"):
            print(HELP, file=output)
        elif command in ("new", "/new"):
            conversations.reset(CONVERSATION)
            print("New conversation: the previous questions are forgotten.", file=output)
        elif (kind := small_talk(text)) is not None:
            titles = getattr(retriever, "titles", None)
            print(small_talk_reply(kind, counts.get("documents", 0),
                                   titles(3) if titles else [], PLAIN), file=output)
        elif command in ("more", "/more"):
            if answer is None or not answer.found:
                print("Ask a question first.", file=output)
            elif page + 1 >= len(paginate(answer)):
                print("No more quotes for this question.", file=output)
            else:
                page += 1
                print(render_page(answer, page, PLAIN), file=output)
        elif _CONTEXT.fullmatch(command):  # "context 2", not "Context of the talks?"
            number = command.split()[-1]
            shown = (0 if answer is None else len(answer.hits) if answer.found
                     else min(1, len(answer.hits)) if config.retrieval.show_closest else 0)
            if not shown:
                print("Ask a question first.", file=output)
            elif not (number.isascii() and number.isdigit()) or not 1 <= int(number) <= shown:
                print(f"Say which quote: context 1 to context {shown}.", file=output)
            else:
                print(render_context(answer.hits[int(number) - 1], PLAIN), file=output)
        else:
            question = text.removeprefix("/ask ").strip()
            history = conversations.history(CONVERSATION)
            answer = (retriever.ask(question, k=HITS_PER_QUESTION, history=history)
                      if history else retriever.ask(question, k=HITS_PER_QUESTION))
            conversations.record(CONVERSATION, answer)
            page = 0
            print(render_page(answer, 0, PLAIN, closest=config.retrieval.show_closest),
                  file=output)
            if answer.found and len(paginate(answer)) > 1:
                print("('more' for further quotes, 'context N' for a quote's passage)",
                      file=output)
        print(file=output, flush=True)
    return 0
