"""Word lists: a paragraph numbered by Word (its own numbering or its style's) is a list
item, written after the marker Word shows, outside its block."""

from __future__ import annotations

from support.documents import load_bytes
from support.lists import INTRO, ITEMS, word_list


def test_a_bullet_list_paragraph_is_an_item_after_a_bullet() -> None:
    doc = load_bytes("list.docx", word_list("List Bullet"))
    items = [b for b in doc.blocks if b.kind == "item"]
    assert [doc.text[b.start:b.end] for b in items] == ITEMS
    assert all(doc.text[b.start - 2:b.start] == "• " for b in items)


def test_a_numbered_list_is_numbered_as_word_shows_it() -> None:
    doc = load_bytes("list.docx", word_list("List Number"))
    assert "1. Consistency\n2. Availability\n3. Partition-tolerance" in doc.text


def test_items_follow_each_other_on_the_next_line() -> None:
    doc = load_bytes("list.docx", word_list("List Bullet"))
    assert f"{INTRO}\n\n• Consistency\n• Availability\n• Partition-tolerance\n\n" in doc.text


def test_an_item_is_cited_by_its_paragraph_number() -> None:
    doc = load_bytes("list.docx", word_list("List Bullet"))
    # paragraph 1 is the heading, 2 the introduction, 3-5 the items
    assert [doc.line_at(doc.text.index(f"• {item}")) for item in ITEMS] == [3, 4, 5]
    assert [doc.line_at(doc.text.index(item)) for item in ITEMS] == [3, 4, 5]


def test_a_paragraph_of_the_list_style_without_numbering_is_no_item() -> None:
    doc = load_bytes("list.docx", word_list("List Paragraph"))
    assert not [b for b in doc.blocks if b.kind == "item"]
    assert "•" not in doc.text
