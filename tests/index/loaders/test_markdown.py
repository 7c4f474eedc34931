"""Markdown is indexed as the text a reader of the rendered page sees, with source lines kept."""

from __future__ import annotations

from support.documents import block_texts, load_bytes, source_line_of

GUIDE = """# Guide

Intro text.

Setup
=====

## Install

Run the installer.
"""


def test_heading_levels_from_atx_and_setext_headings() -> None:
    doc = load_bytes("guide.md", GUIDE)
    headings = [(doc.text[b.start:b.end], b.level) for b in doc.blocks if b.kind == "heading"]
    assert headings == [("Guide", 1), ("Setup", 1), ("Install", 2)]
    assert doc.heading_path_at(doc.text.index("Run the")) == ["Setup", "Install"]


def test_title_is_the_first_top_level_heading_without_marks() -> None:
    doc = load_bytes("a.markdown", "Preface line\n\n# Main *Title* #\n\n## Minor\n")
    assert doc.title == "Main Title"


def test_a_lone_top_heading_after_the_sections_is_not_the_title() -> None:
    # A PyPI description: the README's sections, then its changelog appended as "# Changelog".
    doc = load_bytes("pkg-README.md", "Intro.\n\n## Install\n\nRun.\n\n# Changelog\n\nFixed.\n")
    assert doc.title == "pkg-README"


def test_first_of_several_top_level_sections_is_not_the_title() -> None:
    doc = load_bytes("tool.md", "Key Features\n===\n\nFast.\n\nOnline demo\n===\n\nTry.\n")
    assert doc.title == "tool"


def test_top_heading_over_sections_a_level_below_is_the_title() -> None:
    doc = load_bytes("x.md", "# Tool\n\n## Install\n\nRun.\n\n# Changelog\n\n## 1.0\n")
    assert doc.title == "Tool"


def test_a_lone_heading_far_down_the_page_is_not_the_title() -> None:
    body = "".join(f"Paragraph {n} says something about schemas.\n\n" for n in range(20))
    doc = load_bytes("schemas.md", body + "### Third party packages\n\nSee these.\n")
    assert doc.title == "schemas"


def test_the_first_of_many_release_headings_is_not_the_title() -> None:
    notes = "".join(f"## 0.{n}.0 (May {n}, 2025)\n\n### Fixed\n\n* A bug.\n\n"
                    for n in range(40, 30, -1))
    doc = load_bytes("release-notes.md", notes)
    assert doc.title == "release-notes"


def test_document_without_headings_is_titled_by_its_file_name() -> None:
    doc = load_bytes("docs/event-hooks.md", "HTTPX allows you to register event hooks.\n")
    assert doc.title == "event-hooks"


def test_html_heading_block_is_a_heading() -> None:
    doc = load_bytes("a.md", '<h1 align="center">Charset Detection 👋</h1>\n\n## Install\n')
    headings = [(doc.text[b.start:b.end], b.level) for b in doc.blocks if b.kind == "heading"]
    assert headings == [("Charset Detection 👋", 1), ("Install", 2)]
    assert doc.title == "Charset Detection 👋"


def test_badge_images_in_a_heading_are_left_out() -> None:
    source = "# Thread-pool Controls [![Build Status](b.svg)](ci) [![codecov](c.svg)](cov)\n"
    doc = load_bytes("a.md", source)
    assert block_texts(doc) == ["Thread-pool Controls"]


def test_heading_inside_a_block_quote_is_a_line_not_a_heading() -> None:
    # reStructuredText doctest in a .md file: ">>> # Normal matching." is a quoted "# " line.
    doc = load_bytes("a.md", "## Usage\n\n  >>> # Normal matching.\n  >>> regex.search(x)\n")
    assert [b.kind for b in doc.blocks] == ["heading", "line", "para"]
    assert doc.heading_path_at(doc.text.index("regex")) == ["Usage"]


def test_overline_of_a_setext_heading_is_not_its_text() -> None:
    doc = load_bytes("a.md", "===\ntld\n===\nExtract the top level domain.\n")
    assert block_texts(doc) == ["tld", "Extract the top level domain."]
    assert source_line_of(doc, "tld") == 2


def test_front_matter_is_not_text_and_gives_the_title() -> None:
    doc = load_bytes("a.md", '---\ntitle: "Front Title"\ntags: [x]\n---\nBody text.\n')
    assert block_texts(doc) == ["Body text."]
    assert doc.title == "Front Title"
    assert source_line_of(doc, "Body") == 5


def test_emphasis_and_inline_code_marks_are_dropped() -> None:
    source = "Rust has _Boxes_, **strong** words,\n`code spans` and ~~old~~ text.\n"
    doc = load_bytes("a.md", source)
    assert block_texts(doc) == ["Rust has Boxes, strong words, code spans and old text."]
    assert source_line_of(doc, "code spans") == 2


def test_blockquote_markers_are_dropped_and_lines_kept() -> None:
    doc = load_bytes("a.md", "Intro.\n\n> Rust does _not_ include\n> checks for this.\n")
    assert block_texts(doc) == ["Intro.", "Rust does not include checks for this."]
    assert source_line_of(doc, "checks") == 4


def test_reference_links_keep_their_text_only_and_comments_are_dropped() -> None:
    source = ('See the [“Data Types”][data-types]<!-- ignore --> section and\n'
              '[the guide](https://example.org/guide "Guide").\n\n'
              '<!-- a comment\nover two lines -->\n\nAfter.\n\n'
              '[data-types]: ch03-02-data-types.html\n')
    doc = load_bytes("a.md", source)
    assert block_texts(doc) == ["See the “Data Types” section and the guide.", "After."]
    assert source_line_of(doc, "the guide") == 2
    assert source_line_of(doc, "After") == 7


def test_list_items_are_blocks_of_their_own_after_a_marker() -> None:
    doc = load_bytes("a.md", "Shopping:\n\n- eggs\n* milk\n\n1. flour\n2. _salt_\n")
    assert block_texts(doc) == ["Shopping:", "eggs", "milk", "flour", "salt"]
    assert [b.kind for b in doc.blocks] == ["para"] + ["item"] * 4
    assert doc.text == "Shopping:\n\n• eggs\n\n• milk\n\n1. flour\n2. salt"
    assert source_line_of(doc, "salt") == 7


def test_table_cells_are_blocks_of_their_own() -> None:
    doc = load_bytes("a.md", "Text.\n\n| Name | Default |\n|---|:-:|\n| `timeout` | 5 *s* |\n")
    assert block_texts(doc) == ["Text.", "Name", "Default", "timeout", "5 s"]
    assert "Name | Default\ntimeout | 5 s" in doc.text
    assert source_line_of(doc, "timeout") == 5


def test_code_is_one_verbatim_block_without_fences() -> None:
    doc = load_bytes("a.md", "Run:\n\n```sh\npip install x\n  x --help\n```\nDone.\n")
    assert block_texts(doc) == ["Run:", "pip install x\n  x --help", "Done."]
    assert source_line_of(doc, "x --help") == 5


def test_admonition_markers_are_dropped_and_an_explicit_title_kept() -> None:
    source = ('!!! note "Connection pooling"\n    Clients reuse connections.\n\n'
              "!!! warning\n    Never share a client across _processes_.\n")
    doc = load_bytes("a.md", source)
    assert block_texts(doc) == ["Connection pooling", "Clients reuse connections.",
                                "Never share a client across processes."]
    assert source_line_of(doc, "Never") == 5


def test_badge_only_paragraphs_are_dropped_and_inline_alt_text_kept() -> None:
    source = "[![Build](b.svg)](ci) ![Cov](c.svg)\n\nPress ![the gear](g.png) icon.\n"
    doc = load_bytes("a.md", source)
    assert block_texts(doc) == ["Press the gear icon."]


def test_every_character_maps_to_its_source_line() -> None:
    source = "# T\n\nOne _a_\ntwo `b`\nthree.\n\n- x\n  y\n\n> q\n> r\n"
    doc = load_bytes("a.md", source)
    lines = source.split("\n")
    for word in ("One", "two", "three", "x", "y", "q", "r"):
        assert word in lines[source_line_of(doc, word) - 1], word


def test_code_lines_keep_their_numbers_past_a_unicode_line_separator() -> None:
    # U+2028 is a line break to str.splitlines, but not to the file's line count
    source = "Intro.\n\n```\nalpha\u2028beta\ngamma\n```\n\nAfter delta.\n"
    doc = load_bytes("code.md", source)
    lines = source.split("\n")
    for word in ("alpha", "beta", "gamma", "delta"):
        assert word in lines[source_line_of(doc, word) - 1], word


def test_a_front_matter_title_written_as_a_yaml_block_is_its_text() -> None:
    for value in (">\n  Harbour rules\n  for small boats", "|-\n  Harbour rules for small boats",
                  "\n  Harbour rules for small boats"):
        doc = load_bytes("rules.md", f"---\ntitle: {value}\nauthor: x\n---\n\nBody text.\n")
        assert doc.title == "Harbour rules for small boats", value


def test_a_top_heading_over_sections_is_the_title_among_many_top_headings() -> None:
    sections = "".join(f"# {name}\n\nText of {name}.\n\n"
                       for name in ("Usage", "Configuration", "License"))
    doc = load_bytes("README.md", "# MyTool\n\n## Install\n\nRun it.\n\n" + sections)
    assert doc.title == "MyTool"


def test_an_introduction_above_the_title_heading_keeps_it_the_title() -> None:
    intro = "MyTool is a small program that does one thing well, " * 5
    body = "".join(f"## Part {n}\n\n" + "It explains a detail at length. " * 20 + "\n\n"
                   for n in range(4))
    doc = load_bytes("README.md", intro + "\n\n# MyTool\n\n" + body)
    assert len(intro) > 200 and doc.title == "MyTool"


def test_the_newest_release_of_a_changelog_is_not_its_title() -> None:
    releases = "".join(f"# {n}.0.0 (2024-04-{n:02d})\n\n## Added\n\n* A thing.\n\n"
                       for n in range(30, 0, -1))
    assert load_bytes("CHANGELOG.md", releases).title == "CHANGELOG"
