"""What the index sees of a file: its text, blocks, pages and lines, and what is left out.

For `quotebot extract`, the answer to "why doesn't it find my document?": the file is read
and loaded exactly as a build does (`read_file`, `load_document`), and the chunker's own
rules say which sentences are left out (page chrome, repeats); for a web page, the blocks the
loader leaves out as furniture (navigation, footers, share bars) are listed too. Nothing is
embedded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from index.chunking import left_out_sentences
from index.loaders import SUPPORTED_SUFFIXES, SkipFile, load_document, read_file
from index.loaders.html import page_furniture
from index.scan import printable_name, scan_corpus, utf8_name
from quotebot.documents import Document


@dataclass
class BlockView:
    """A block of the document: a span no sentence crosses, where it stands in the source."""

    kind: str
    level: int
    start: int
    end: int
    line: int
    page: int | None
    text: str


@dataclass
class LeftOut:
    """A sentence the index leaves out, and why (web page furniture has no offsets: it is not
    in the document's text)."""

    start: int | None
    end: int | None
    line: int
    page: int | None
    reason: str
    text: str


@dataclass
class Extraction:
    """One file as the index sees it, or the reason it is skipped."""

    path: str
    title: str = ""
    format: str = ""
    text: str = ""
    pages: list[dict[str, int]] | None = None  # {"page", "start", "end"} for paged formats
    blocks: list[BlockView] = field(default_factory=list)
    skipped: list[LeftOut] = field(default_factory=list)
    error: str = ""  # why the whole file is not indexed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def extract(path: Path, max_bytes: int, name: str | None = None) -> Extraction:
    """What a build would index of the file at `path` (`name`: the path to report)."""
    shown = name or str(path)
    if not utf8_name(shown):
        return Extraction(path=printable_name(shown),
                          error="name is not valid UTF-8: rename it to index it")
    try:
        data = read_file(path, max_bytes)
        doc = load_document(shown, data)
    except SkipFile as exc:
        return Extraction(path=shown, error=str(exc))
    found = describe(doc)
    if doc.format == "html":
        found.skipped = [LeftOut(None, None, line, None, "page furniture", text)
                         for line, text in page_furniture(data)] + found.skipped
    return found


def describe(doc: Document) -> Extraction:
    """The Extraction of a loaded document."""
    pages = None
    if doc.page_starts is not None:
        ends = [*doc.page_starts[1:], len(doc.text)]
        pages = [{"page": number, "start": start, "end": end}
                 for number, (start, end) in enumerate(zip(doc.page_starts, ends, strict=True),
                                                       1)]
    blocks = [BlockView(b.kind, b.level, b.start, b.end, doc.line_at(b.start),
                        doc.page_at(b.start), doc.text[b.start:b.end]) for b in doc.blocks]
    skipped = [LeftOut(start, end, doc.line_at(start), doc.page_at(start), reason,
                       doc.text[start:end]) for start, end, reason in left_out_sentences(doc)]
    return Extraction(path=doc.path, title=doc.title, format=doc.format, text=doc.text,
                      pages=pages, blocks=blocks, skipped=skipped)


def expand(paths: list[Path]) -> list[Path | Extraction]:
    """The files named, folders replaced by the files a build would read under them
    (`scan_corpus`: no hidden files, no symlinks leading out); a file a build would
    report instead (a name that is not UTF-8) comes as its Extraction with the reason."""
    files: list[Path | Extraction] = []
    for path in paths:
        if path.is_dir():
            found, problems, _ = scan_corpus(path, SUPPORTED_SUFFIXES)
            files += [p for _, p in found]
            files += [Extraction(path=str(path / rel), error=why) for rel, why in problems]
        else:
            files.append(path)
    return files


def format_extraction(found: Extraction) -> str:
    """A file's extraction as a person reads it: each block with its line, then left-outs."""
    if found.error:
        return f"== {found.path}: not indexed: {found.error}"
    where = "page {page}, line {line}" if found.pages is not None else "line {line}"
    lines = [f"== {found.path}  ({found.format}, {len(found.text):,} characters, "
             f"{len(found.blocks)} blocks{_pages(found)})", f"title: {found.title}"]
    for block in found.blocks:
        place = where.format(page=block.page, line=block.line)
        mark = "#" * block.level + " " if block.kind == "heading" else ""
        body = block.text.replace("\n", "\n    ")
        lines.append(f"[{place}] {block.kind}: {mark}{body}")
    if found.skipped:
        lines.append(f"left out ({len(found.skipped)}):")
        for item in found.skipped:
            place = where.format(page=item.page, line=item.line)
            lines.append(f"  [{place}] {item.reason}: {' '.join(item.text.split())}")
    return "\n".join(lines)


def _pages(found: Extraction) -> str:
    return f", {len(found.pages)} pages" if found.pages is not None else ""
