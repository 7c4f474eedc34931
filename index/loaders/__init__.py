"""Turn corpus files into Documents: decoded, normalised text, blocks and maps back to the source.

Every loader keeps `Document.text` as close to the file as it can so quotes stay verbatim:
txt and md keep the file's lines one for one (only `\\r\\n`/`\\r` become `\\n` and control
characters become spaces), HTML keeps the visible text with whitespace collapsed inside each
block, PDF and docx keep what their parsers extract. Blocks are the spans no sentence may cross.
One module per format; `common` holds reading, decoding and the plain-text block rules.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import PurePosixPath

from index.loaders.common import (
    WHITESPACE,
    Loaded,
    SkipFile,
    decode_text,
    looks_wrapped,
    normalise,
    read_file,
    valid_text,
)
from index.loaders.docx import load_docx
from index.loaders.html import load_html
from index.loaders.markdown import load_md
from index.loaders.options import LoadOptions
from index.loaders.pdf import load_pdf
from index.loaders.txt import load_txt
from quotebot.config import ConfigError
from quotebot.documents import Block, Document, doc_id_for

__all__ = ["SUPPORTED_SUFFIXES", "LoadOptions", "SkipFile", "decode_text", "indexed_suffixes",
           "load_document", "looks_wrapped", "normalise", "read_file", "valid_text"]

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"})
MAX_TITLE = 200


def indexed_suffixes(extensions: list[str]) -> set[str]:
    """The file types to index: `loading.extensions` among the supported ones (empty: all).

    The supported list is this module's alone (config and docs refer to it). A name that
    is none of them is a ConfigError: `["*.txt", "*.md"]` matched no type, and the build
    then removed every document from the index.
    """
    named = {s: s.lower() if s.startswith(".") else f".{s.lower()}" for s in extensions}
    if unknown := [s for s, suffix in named.items() if suffix not in SUPPORTED_SUFFIXES]:
        raise ConfigError(f"loading.extensions: {unknown[0]!r} is not a type quotebot reads; "
                          "name them as " + ", ".join(f'"{s[1:]}"'
                                                      for s in sorted(SUPPORTED_SUFFIXES)))
    return set(named.values()) or set(SUPPORTED_SUFFIXES)


def load_document(rel_path: str, data: bytes, *, mtime: float = 0.0,
                  options: LoadOptions | None = None) -> Document:
    """Parse `data`, the content of the corpus file `rel_path`, into a Document.

    `options` (OCR, PDF caps) matter to PDFs only; the defaults suit everything else.
    """
    path = rel_path.replace(os.sep, "/")
    suffix = PurePosixPath(path).suffix.lower()
    if suffix not in _LOADERS:
        raise SkipFile(f"unsupported file type: {suffix or '(no suffix)'}")
    if not data:
        raise SkipFile("empty file")
    fmt, loader, empty_reason = _LOADERS[suffix]
    loaded = load_pdf(data, options) if fmt == "pdf" else loader(data)
    if not loaded.blocks:
        raise SkipFile("; ".join([empty_reason, *loaded.notes]))
    text = valid_text(loaded.text)  # the one place text is made valid: see valid_text
    title = _clean_title(loaded.title) or _clean_title(
        PurePosixPath(path).stem if fmt == "md" else _first_line(text, loaded.blocks[0]))
    return Document(
        doc_id=doc_id_for(path), path=path, title=title, text=text,
        format=fmt, blocks=loaded.blocks, line_anchors=loaded.line_anchors,
        page_starts=loaded.page_starts, content_hash=hashlib.sha256(data).hexdigest(),
        size=len(data), mtime=mtime, notes=loaded.notes)


def _first_line(text: str, block: Block) -> str:
    """The first line of a block: the title of last resort (Markdown's is its file name:
    its first line is body text or page furniture, where a plain-text file's is its title)."""
    return text[block.start:block.end].split("\n", 1)[0]


def _clean_title(title: str) -> str:
    """A valid title on one line, without markdown `#`, at most MAX_TITLE characters."""
    title = valid_text(title[:MAX_TITLE * 4])  # a 1 MB /Title costs no more than a short one
    return WHITESPACE.sub(" ", title).strip().lstrip("#").strip()[:MAX_TITLE].rstrip()



_LOADERS: dict[str, tuple[str, Callable[[bytes], Loaded], str]] = {
    ".txt": ("txt", load_txt, "no text (empty or whitespace only)"),
    ".md": ("md", load_md, "no text (empty, whitespace or markup only)"),
    ".markdown": ("md", load_md, "no text (empty, whitespace or markup only)"),
    ".html": ("html", load_html, "no visible text"),
    ".htm": ("html", load_html, "no visible text"),
    ".pdf": ("pdf", load_pdf, "no text layer (scanned?)"),
    ".docx": ("docx", load_docx, "no text"),
}
