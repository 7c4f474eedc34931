"""Which folders a question may quote from: the chat's (`[telegram.scopes]`) and its `in:`.

A chat listed in `telegram.scopes` only ever sees quotes from its folders: a question's
own `in:folder` can narrow that, never widen it. Chats not listed search the whole
corpus unless they say `in:`. Buttons replay answers already scoped this way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

PREFIX = "in:"


def split_scope(text: str) -> tuple[str, list[str]]:
    """("question", ["folder", ...]) from "in:folder in:other question" (`in:` words anywhere)."""
    words, folders = [], []
    for word in text.split():
        if word.lower().startswith(PREFIX) and len(word) > len(PREFIX):
            folders += [f for f in word[len(PREFIX):].split(",") if f.strip("/")]
        else:
            words.append(word)
    return " ".join(words), [f.strip("/") for f in folders]


def _under(path: str, folder: str) -> bool:
    return folder == "" or path == folder or path.startswith(folder + "/")


def effective_scope(scopes: Mapping[int, Sequence[str]], chat_id: int,
                    requested: Sequence[str]) -> list[str] | None:
    """The folders to search: None = the whole corpus; [] = nothing this chat may see."""
    allowed = [f.strip("/") for f in scopes.get(chat_id, [])] if chat_id in scopes else None
    if allowed is None:
        return list(requested) or None
    if not requested:
        return allowed
    narrowed = [r for r in requested if any(_under(r, a) for a in allowed)]
    narrowed += [a for a in allowed if any(_under(a, r) and a != r for r in requested)]
    return list(dict.fromkeys(narrowed))
