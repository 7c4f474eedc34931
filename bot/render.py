"""Answers as message text: Telegram HTML (every piece of corpus text escaped) or plain text.

Pages hold at most `PER_PAGE` hits and always fit one message, so "More" can edit the
message in place; a quote longer than `MAX_QUOTE` is shortened at a word ("…") and the
"Context" view shows it whole. Anything longer than a message (a context passage) goes
through `split_html`, which cuts on paragraph boundaries and never inside a tag or entity.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from retrieval.answer import Answer, Citation, Hit

MESSAGE_LIMIT = 4096  # Telegram's limit for one message's text
PER_PAGE = 3  # the best quote and up to two more
MAX_QUOTE = 1200  # characters of one quote on a page; Context shows the rest
# A citation stays a line, whatever the document holds (a paragraph styled as a heading,
# a 40 KB PDF /Title): titles, paths and headings are shortened, and only the innermost
# headings are shown.
MAX_TITLE = 150
MAX_PATH = 200
MAX_HEADING = 80
MAX_HEADINGS = 3

NO_ANSWER = ("I could not find anything in the documents that answers this.")
NOT_SURE = "Not sure this answers it — the closest passage is:"
REPHRASE = ("Try rephrasing it with other words, or ask about something the documents "
            "cover (/help).")


@dataclass(frozen=True)
class Markup:
    """How to mark text up: Telegram HTML, or plain text for a terminal."""

    html: bool

    def text(self, value: str) -> str:
        return html.escape(value, quote=False) if self.html else value

    def bold(self, value: str) -> str:
        return f"<b>{self.text(value)}</b>" if self.html else value

    def italic(self, value: str) -> str:
        return f"<i>{self.text(value)}</i>" if self.html else value

    def quote(self, body: str) -> str:
        """`body` already marked up; HTML gets a blockquote, plain text a bar per line."""
        if self.html:
            return f"<blockquote>{body}</blockquote>"
        return "\n".join(f"  │ {line}" if line else "  │" for line in body.split("\n"))


def escape_html(value: str) -> str:
    """Text safe inside Telegram HTML: &, < and > escaped."""
    return html.escape(value, quote=False)


HTML = Markup(html=True)
PLAIN = Markup(html=False)


def shorten(text: str, limit: int = MAX_QUOTE, *, lines: bool = False) -> str:
    """`text` with collapsed whitespace (with `lines`, within each line, indentation
    kept), cut at a word boundary to `limit` characters."""
    if lines:
        text = "\n".join(line[:len(line) - len(line.lstrip())] + " ".join(line.split())
                         for line in text.split("\n") if line.strip())
    else:
        text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = max(text.rfind(" ", 0, limit - 1), text.rfind("\n", 0, limit - 1))
    return text[: cut if cut > limit // 2 else limit - 1].rstrip() + "…"


def citation_line(citation: Citation, m: Markup = HTML) -> str:
    """'— Title (path), page 2, lines 3-4', the title in bold; headings if any.

    Bounded: at most ~MAX_TITLE + MAX_PATH + MAX_HEADINGS * MAX_HEADING characters.
    """
    title, path = shorten(citation.title, MAX_TITLE), shorten(citation.path, MAX_PATH)
    parts = [m.bold(title) + m.text(f" ({path})") if title else m.bold(path)]
    headings = [shorten(h, MAX_HEADING) for h in citation.heading_path[-MAX_HEADINGS:]]
    if len(citation.heading_path) > MAX_HEADINGS:
        headings.insert(0, "…")
    if headings:
        parts.append(m.italic(" › ".join(headings)))
    parts += [m.text(where) for where in citation.location()]
    return "— " + ", ".join(parts)


def render_hit(hit: Hit, m: Markup = HTML, number: int | None = None) -> str:
    """One quote and its citation (and where else the same passage stands).

    `number` labels the citation ("[2] — ...") to match the Context buttons.
    """
    label = "" if number is None else f"[{number}] "
    lines = [m.quote(m.text(shorten(hit.display_excerpt(), lines=True))),
             label + citation_line(hit.citation, m)]
    lines += ["   also in: " + citation_line(c, m)[2:] for c in hit.also_in[:2]]
    return "\n".join(lines)


def render_interpretation(answer: Answer, m: Markup = HTML) -> str:
    """How a follow-up was read, "(reading this as: What is Chubby intended for?)", or ""."""
    if not answer.interpreted_as:
        return ""
    return m.italic(f"(reading this as: {shorten(answer.interpreted_as, 300)})")


def render_no_answer(answer: Answer, m: Markup = HTML) -> str:
    """Nothing answers: say so plainly, say why, suggest rephrasing."""
    parts = [NO_ANSWER]
    if answer.reason:
        parts.append(m.text(answer.reason))
    parts.append(REPHRASE)
    reading = render_interpretation(answer, m)
    return (reading + "\n" if reading else "") + " ".join(parts)


def render_closest(answer: Answer, m: Markup = HTML) -> str:
    """Low confidence: say so, and still show the closest quote, marked as such (after how
    a follow-up was read: the reader needs it most when the answer is uncertain)."""
    reading = render_interpretation(answer, m)
    return "\n".join([*([reading] if reading else []), m.italic(NOT_SURE),
                      render_hit(answer.hits[0], m)])


def paginate(answer: Answer, per_page: int = PER_PAGE,
             limit: int = MESSAGE_LIMIT - 200) -> list[list[int]]:
    """Hit indexes per page: at most `per_page` each, and each page fits `limit` (HTML)."""
    pages: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i, hit in enumerate(answer.hits):
        cost = len(render_hit(hit, number=i + 1)) + 2
        if current and (len(current) >= per_page or size + cost > limit):
            pages.append(current)
            current, size = [], 0
        current.append(i)
        size += cost
    if current:
        pages.append(current)
    return pages


def render_page(answer: Answer, page: int = 0, m: Markup = HTML,
                per_page: int = PER_PAGE, *, closest: bool = True) -> str:
    """The quotes of one page (page 0 = the best answer), with a page header after the first.

    An answer that was not found shows its closest quote, marked, when `closest` is true
    (config `retrieval.show_closest`) and there is one; otherwise a plain "nothing answers".
    """
    if not answer.found or not answer.hits:
        if closest and answer.hits:
            return render_closest(answer, m)
        return render_no_answer(answer, m)
    pages = paginate(answer, per_page)
    page = max(0, min(page, len(pages) - 1))
    numbered = len(answer.hits) > 1
    blocks = [render_hit(answer.hits[i], m, i + 1 if numbered else None) for i in pages[page]]
    if page > 0:
        first, last = pages[page][0] + 1, pages[page][-1] + 1
        span = f"{first}" if first == last else f"{first}–{last}"
        blocks.insert(0, m.italic(f"More results ({span} of {len(answer.hits)}):"))
    elif answer.interpreted_as:
        blocks.insert(0, render_interpretation(answer, m))
    return "\n\n".join(blocks)


def render_context(hit: Hit, m: Markup = HTML) -> str:
    """The whole passage around a quote, the quoted sentences underlined (HTML) or marked."""
    text = hit.text
    start = max(0, min(len(text), hit.excerpt_start - hit.passage_start))
    end = max(start, min(len(text), hit.excerpt_end - hit.passage_start))
    if hit.passage_end <= hit.passage_start or text[start:end] != hit.excerpt:
        start = end = 0  # offsets do not match the passage: show it without a mark
    before, quoted, after = text[:start], text[start:end], text[end:]
    marked = "" if not quoted else f"<u>{m.text(quoted)}</u>" if m.html else f"»{quoted}«"
    body = (m.text(before) + marked + m.text(after)).strip()
    body = re.sub(r"\n{3,}", "\n\n", body)
    return "\n".join([m.bold("Context"), m.quote(body), citation_line(hit.citation, m)])


# --- splitting -------------------------------------------------------------------------------

_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|\n\n|\s|[^<&\s]+|[<&]", re.S)
_TAG = re.compile(r"<(/?)([a-zA-Z0-9-]+)[^>]*>")


def _utf16(text: str) -> int:
    """Telegram counts UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _tokens(text: str) -> list[str]:
    """Tags, entities, paragraph breaks, single whitespace, and words split to short pieces."""
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        if len(tok) > 16 and not tok.startswith("<"):
            out += [tok[i:i + 16] for i in range(0, len(tok), 16)]
        else:
            out.append(tok)
    return out


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut `text` into messages of at most `limit` UTF-16 units, each well-formed HTML.

    Cuts prefer a paragraph break, then a line break, then a space; tags open at a cut are
    closed at the end of one part and reopened at the start of the next.
    """
    if _utf16(text) <= limit:
        return [text] if text.strip() else []
    tokens = _tokens(text)
    parts: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag name, opening tag) open before tokens[i]
    i = 0
    while i < len(tokens):
        while i < len(tokens) and tokens[i].isspace():
            i += 1
        if i >= len(tokens):
            break
        prefix = "".join(open_tag for _, open_tag in stack)
        size = _utf16(prefix)
        body_stack = list(stack)
        best: dict[int, tuple[int, list[tuple[str, str]]]] = {}  # priority -> (end, stack)
        j = i
        while j < len(tokens):
            tok = tokens[j]
            closers = _utf16("".join(f"</{name}>" for name, _ in body_stack))
            if size + _utf16(tok) + closers > limit and j > i:
                break
            size += _utf16(tok)
            tag = _TAG.fullmatch(tok)
            if tag and tag.group(1):
                if body_stack and body_stack[-1][0] == tag.group(2).lower():
                    body_stack.pop()
            elif tag and not tok.endswith("/>"):
                body_stack.append((tag.group(2).lower(), tok))
            j += 1
            priority = 3 if tok == "\n\n" else 2 if tok == "\n" else 1 if tok.isspace() else 0
            closers = _utf16("".join(f"</{name}>" for name, _ in body_stack))
            if size + closers <= limit:
                best[priority] = (j, list(body_stack))
        if j >= len(tokens):
            end, end_stack = j, body_stack
        else:
            end, end_stack = best[max(best)] if best else (j, body_stack)
            if end == i:  # a single token cannot be placed: never loop forever
                end, end_stack = i + 1, body_stack
        body = "".join(tokens[i:end]).rstrip()
        closing = "".join(f"</{name}>" for name, _ in reversed(end_stack))
        part = prefix + body + closing
        if re.sub(r"<[^>]*>", "", part).strip():
            parts.append(part)
        stack = end_stack
        i = end
    return parts


def plain_text(html_text: str) -> str:
    """What Telegram shows for `html_text`: tags dropped, entities decoded (for tests/logs)."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))
