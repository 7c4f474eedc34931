"""Small talk ("hi", "thanks", "who are you?") recognised and answered kindly, not searched.

Only whole messages that are one of a few fixed phrases count (after lowercasing and
dropping punctuation and emoji), so no real question is ever taken for small talk
(BENCHMARKS.md, "Follow-up questions", counts how often it fires on SQuAD questions).
The reply points to /help and names the corpus: how many documents, and a few titles.
"""

from __future__ import annotations

import re

from bot.render import HTML, Markup

_PHRASES: dict[str, tuple[str, ...]] = {
    "greeting": ("hi", "hello", "hey", "hi there", "hello there", "hey there", "hiya", "yo",
                 "good morning", "good afternoon", "good evening", "greetings", "howdy",
                 "hi bot", "hello bot", "how are you", "how are you doing"),
    "thanks": ("thanks", "thank you", "thx", "ty", "thanks a lot", "thank you very much",
               "many thanks", "cheers", "thanks a bunch", "great thanks", "ok thanks",
               "ok thank you", "perfect thanks", "thanks bot"),
    "ack": ("ok", "okay", "k", "kk", "cool", "great", "nice", "good", "got it", "i see",
            "alright", "all right", "sure", "fine", "perfect", "awesome", "wow", "yes", "no",
            "lol", "hmm", "ah", "oh", "right"),
    "bye": ("bye", "goodbye", "bye bye", "see you", "see ya", "good night", "later"),
    "identity": ("who are you", "what are you", "what is your name", "what's your name",
                 "whats your name", "are you a bot", "are you human", "who made you"),
    "abilities": ("what can you do", "what do you do", "what do you know",
                  "what can i ask", "what can i ask you", "how do you work", "help me",
                  "what are you for", "how does this work", "what is this"),
}
KINDS = {phrase: kind for kind, phrases in _PHRASES.items() for phrase in phrases}
_NOT_WORDS = re.compile(r"[^\w\s']+")


def small_talk(text: str) -> str | None:
    """The kind of small talk `text` is ("greeting", "thanks", "ack", "bye", "identity",
    "abilities"), or None for anything else (a question to search for)."""
    words = " ".join(_NOT_WORDS.sub(" ", text.lower().replace("’", "'")).split())
    return KINDS.get(words)


def describe_corpus(documents: int, titles: list[str], m: Markup = HTML) -> str:
    """'I know 12 documents, among them “A”, “B” and “C”.'"""
    if documents == 0:
        return "I have no documents yet."
    noun = "document" if documents == 1 else "documents"
    shown = [f"“{m.text(t)}”" for t in titles[:3]]
    if not shown:
        return f"I know {documents} {noun}."
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    among = "" if documents <= len(shown) else "among them "
    return f"I know {documents} {noun}, {among}{listed}."


def small_talk_reply(kind: str, documents: int, titles: list[str], m: Markup = HTML) -> str:
    """A short, kind answer to small talk: what the bot is for, its corpus, /help."""
    corpus = describe_corpus(documents, titles, m)
    ask = "Ask me a question: I answer with quotes from the documents, saying where each stands."
    opening = {
        "greeting": "Hello!",
        "thanks": "You're welcome!",
        "ack": "Glad to help.",
        "bye": "Goodbye, and come back with more questions!",
        "identity": "I'm quotebot: I answer questions by quoting documents, never in my "
                    "own words.",
        "abilities": "I find the passages of my documents that answer your question and "
                     "quote them, with the document, page and lines.",
    }[kind]
    return f"{opening} {corpus} {ask} /help says more; /new starts a new conversation."
