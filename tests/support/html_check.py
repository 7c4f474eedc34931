"""Checks that a message's HTML is what Telegram accepts: balanced, known tags, escaped text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED_TAGS = {"b", "i", "u", "s", "blockquote", "code", "pre", "a"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"unknown tag {tag}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")


def well_formed(text: str) -> bool:
    """Balanced known tags, and no bare '<' or '&' that is not an entity."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    bare = re.search(r"<(?![a-z/])|&(?!(?:amp|lt|gt|quot|#\d+);)", text)
    return not checker.errors and not checker.stack and bare is None
