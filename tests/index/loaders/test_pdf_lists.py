"""List items in PDFs: a bullet line, or a numbered line of a list that counts, starts an
item block after its marker, as Markdown's list items are."""

from __future__ import annotations

from support.documents import block_texts, load_bytes
from support.lists import ITEMS, PDF_LINES
from support.pdfs import PdfSpec, pdf_bytes


def items_of(lines: list[str]) -> list[str]:
    """The text of each item block of a one-page PDF of these lines."""
    doc = load_bytes("paper.pdf", pdf_bytes(PdfSpec([lines])))
    block_texts(doc)  # blocks are sorted, trimmed spans
    return [" ".join(doc.text[b.start:b.end].split()) for b in doc.blocks if b.kind == "item"]


def test_a_bullet_line_is_an_item_starting_after_its_marker() -> None:
    doc = load_bytes("paper.pdf", pdf_bytes(PdfSpec([PDF_LINES])))
    items = [b for b in doc.blocks if b.kind == "item"]
    assert [doc.text[b.start:b.end] for b in items] == ITEMS
    assert all(doc.text[b.start - 3:b.start] == "\n• " for b in items)


def test_a_wrapped_bullet_item_runs_on_until_the_next_bullet() -> None:
    assert items_of([
        "For this purpose, we employ a service, called the master, that",
        "• informs each server in the chain of its new predecessor or",
        "new successor in the new chain obtained by deleting the server,",
        "• informs clients which server is the head and which is the tail.",
    ]) == ["informs each server in the chain of its new predecessor or new successor in the "
           "new chain obtained by deleting the server,",
           "informs clients which server is the head and which is the tail."]


def test_numbered_lines_that_count_are_items() -> None:
    assert items_of([
        "The complete transaction lifecycle is as follows:",
        "1. Read: Obtain the timestamp and log position of the last committed transaction.",
        "2. Application logic: Read from Bigtable and gather writes into a log entry.",
        "3. Commit: Use Paxos to achieve consensus for appending that entry to the log.",
    ]) == ["Read: Obtain the timestamp and log position of the last committed transaction.",
           "Application logic: Read from Bigtable and gather writes into a log entry.",
           "Commit: Use Paxos to achieve consensus for appending that entry to the log."]


def test_a_numbered_line_alone_is_no_item() -> None:
    assert items_of([
        "P. Syverson. Onion routing for resistance to traffic analysis. In Information",
        "Hiding (IH 2001), Springer-Verlag, LNCS 2137, pages 245-",
        "257. Springer-Verlag, LNCS 2137, 2001.",
    ]) == []


def test_numbered_section_headings_far_apart_are_no_items() -> None:
    body = [f"Sentence {n} of the section says something long enough to be a line of prose."
            for n in range(12)]
    assert items_of(["1. INTRODUCTION", *body, "2. MODEL OF A DISTRIBUTED SYSTEM", *body]) == []
