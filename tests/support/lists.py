"""One list in every format the loaders read: a sentence that introduces it, three short
items and a sentence after it; and the quote a question about the introduction gets
(the introduction with all three items)."""

from __future__ import annotations

import io

from index.chunking import chunk_document
from quotebot.documents import Document
from retrieval.excerpts import Excerpt, SentenceScore, excerpt_around
from support.pdfs import PdfSpec, pdf_bytes

INTRO = ("At PODC 2000, Brewer, in an invited talk, made the following conjecture: it is "
         "impossible for a web service to provide the following three guarantees:")
ITEMS = ["Consistency", "Availability", "Partition-tolerance"]
AFTER = "All three of these properties are desirable and expected from real-world web services."
# The PDF's lines, as in the paper: the introduction wraps, its short last line ends its
# block, and each item is a bullet line of its own.
PDF_LINES = ["At PODC 2000, Brewer, in an invited talk, made the following conjecture:",
             "it is impossible for a web service to provide the following three",
             "guarantees:",
             *[f"• {item}" for item in ITEMS],
             "All three of these properties are desirable and expected from real-world",
             "web services. In this note, we will first discuss what Brewer meant."]


def list_file(fmt: str, marker: str = "- ") -> tuple[str, bytes]:
    """(file name, content) of the list in `fmt` ("pdf", "docx", "html", "md", "txt"); a
    txt list uses `marker`, a docx list Word's "List Bullet" style."""
    if fmt == "pdf":
        return "list.pdf", pdf_bytes(PdfSpec([PDF_LINES]))
    if fmt == "docx":
        return "list.docx", word_list("List Bullet")
    if fmt == "html":
        items = "".join(f"<li>{item}</li>" for item in ITEMS)
        return "list.html", (f"<html><head><title>Conjecture</title></head><body>"
                             f"<h1>Conjecture</h1><p>{INTRO}</p><ul>{items}</ul>"
                             f"<p>{AFTER}</p></body></html>").encode()
    items = "".join(f"{marker}{item}\n" for item in ITEMS)
    if fmt == "md":
        return "list.md", f"# Conjecture\n\n{INTRO}\n\n{items}\n{AFTER}\n".encode()
    return "list.txt", f"Conjecture\n\n{INTRO}\n{items}\n{AFTER}\n".encode()


def word_list(style: str, items: list[str] = ITEMS) -> bytes:
    """A docx: a heading, INTRO, `items` as paragraphs of the Word list `style` ("List
    Bullet", "List Number"), then AFTER (python-docx)."""
    import docx

    document = docx.Document()
    document.add_heading("Conjecture", 1)
    document.add_paragraph(INTRO)
    for item in items:
        document.add_paragraph(item, style=style)
    document.add_paragraph(AFTER)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def sentences(doc: Document) -> list[tuple[int, int]]:
    """The document's sentences as the chunker splits them (each word one token)."""
    spans = {span for chunk in chunk_document(doc, lambda text: len(text.split()))
             for span in chunk.sentences}
    return sorted(spans)


def quote_of(doc: Document, needle: str) -> Excerpt:
    """The excerpt around the sentence holding `needle` when that sentence scores best."""
    spans = sentences(doc)
    best = next(i for i, (s, e) in enumerate(spans) if needle in doc.text[s:e])
    scores = [SentenceScore(i, s, e, 1.0 if i == best else 0.1)
              for i, (s, e) in enumerate(spans)]
    return excerpt_around(doc.text, scores, best)
