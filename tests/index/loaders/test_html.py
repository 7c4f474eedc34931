"""Web pages are indexed as their article: page furniture left out, headings and lines kept."""

from __future__ import annotations

from support.documents import block_texts, load_bytes, source_line_of

PARAGRAPHS = [
    "The river authority opened the new flood barrier on Monday after six years of work.",
    "Engineers say the barrier can hold back a surge two metres higher than the 1953 flood.",
    "It cost 240 million pounds, most of it paid by the national infrastructure fund.",
    "Residents of the lower town were told they no longer need to keep sandbags at home.",
]
ARTICLE_PAGE = f"""<!DOCTYPE html>
<html><head><title>Barrier opens | Daily Example</title></head>
<body>
<header><a href="/">Daily Example</a>
<nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li></ul></nav></header>
<div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on Twitter</a>
<a href="#">Email this story</a></div>
<article>
<h1>Flood barrier opens after six years</h1>
<p>{PARAGRAPHS[0]}</p>
<p>{PARAGRAPHS[1]}</p>
<h2>Cost</h2>
<p>{PARAGRAPHS[2]}
{PARAGRAPHS[3]}</p>
</article>
<aside><h3>Most read</h3><ul><li><a href="/a">Celebrity chef opens third restaurant</a></li>
<li><a href="/b">Transfer window: five deals to watch</a></li></ul></aside>
<footer><p>Copyright 2024 Daily Example. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a></footer>
</body></html>
"""


def test_the_article_is_kept_and_nav_share_bar_aside_and_footer_are_left_out() -> None:
    doc = load_bytes("page.html", ARTICLE_PAGE)
    texts = block_texts(doc)
    assert texts == ["Flood barrier opens after six years", PARAGRAPHS[0], PARAGRAPHS[1], "Cost",
                     f"{PARAGRAPHS[2]} {PARAGRAPHS[3]}"]
    for furniture in ("Sport", "Share on", "Email this", "Most read", "Celebrity", "Privacy"):
        assert furniture not in doc.text


def test_headings_give_the_title_and_heading_path() -> None:
    doc = load_bytes("page.html", ARTICLE_PAGE)
    assert doc.title == "Flood barrier opens after six years"
    offset = doc.text.index("It cost")
    assert doc.heading_path_at(offset) == ["Flood barrier opens after six years", "Cost"]


def test_article_text_keeps_its_source_lines() -> None:
    doc = load_bytes("page.html", ARTICLE_PAGE)
    lines = ARTICLE_PAGE.split("\n")
    for paragraph in PARAGRAPHS:
        line = source_line_of(doc, paragraph)
        assert paragraph in lines[line - 1]


def test_a_bare_page_without_article_markup_keeps_all_its_text() -> None:
    doc = load_bytes("notes.html", "<p>Buy milk.</p>\nCall the plumber about the leak<br>\nDone.")
    assert block_texts(doc) == ["Buy milk.", "Call the plumber about the leak", "Done."]
    assert source_line_of(doc, "Done") == 3


def test_hidden_elements_are_not_text() -> None:
    page = ('<article><p>Visible words of the story stay in the index.</p>'
            '<p style="display: none">Invisible words.</p><div hidden><p>Also gone.</p></div>'
            '<span aria-hidden="true">Icon label</span></article>')
    assert "Visible words" in load_bytes("page.html", page).text
    assert not {"Invisible", "gone", "Icon"} & set(load_bytes("page.html", page).text.split())


def test_a_wiki_pages_reference_list_and_citation_marks_are_not_text() -> None:
    page = ('<article><p>On January 23, 1998, Netscape said the source code would be free.'
            '<sup id="cite_ref-3" class="reference"><a href="#cite_note-3">[3]</a></sup> '
            'One day later, Jamie Zawinski registered mozilla.org.</p>'
            '<h2>References</h2><div class="reflist"><ol class="references">'
            '<li id="cite_note-3"><a href="#cite_ref-3">^</a> "Mozilla.org WHOIS". '
            'DomainTools. Retrieved 1 May 2016.</li></ol></div></article>')
    text = load_bytes("wiki.html", page).text
    assert "free. One day later, Jamie Zawinski registered mozilla.org." in text
    assert "[3]" not in text and "Retrieved" not in text


def test_list_items_are_blocks_written_after_a_marker() -> None:
    page = "<p>Bring the following:</p><ul><li>a torch</li><li>water</li></ul><ol><li>Go</li></ol>"
    doc = load_bytes("page.html", page)
    assert block_texts(doc) == ["Bring the following:", "a torch", "water", "Go"]
    assert doc.text == "Bring the following:\n\n• a torch\n• water\n\n1. Go"


def test_unfinished_tags_and_thousands_of_unclosed_navs_are_read_as_text() -> None:
    page = "<p>a < b and 3<4</p>" + "<a" * 2000 + "<nav>menu " * 2000 + "<p>Last words.</p>"
    doc = load_bytes("page.html", page)
    assert doc.text.startswith("a < b and 3<4")
    assert "<a<a" in doc.text and "Last words." not in doc.text  # inside the unclosed navs


STANDFIRST = ("The regional council approved the new ferry timetable on Tuesday after a "
              "year of complaints from island residents.")
QUESTION = "What will the new timetable cost the passengers who travel to the island every day?"
STANDFIRST_PAGE = f"""<html><head><title>Ferry timetable | Example News</title></head><body>
<article>
<h1>Ferries to run every hour</h1>
<h2>{STANDFIRST}</h2>
<p>The first boat will leave the harbour at six in the morning and the last at midnight.</p>
<h2>{QUESTION}</h2>
<p>Fares stay the same until the end of the year, the operator said in a statement.</p>
<h2>Reaction</h2>
<p>Residents welcomed the change but asked for more boats at weekends in the summer.</p>
</article></body></html>
"""


def test_a_heading_that_is_a_whole_sentence_is_a_paragraph_a_reader_can_quote() -> None:
    # News sites mark the standfirst up as <h2>; indexing never quotes a heading.
    doc = load_bytes("page.html", STANDFIRST_PAGE)
    kinds = {doc.text[b.start:b.end]: b.kind for b in doc.blocks}
    assert kinds[STANDFIRST] == "para"
    assert kinds["Ferries to run every hour"] == "heading"
    assert kinds["Reaction"] == "heading"
    # a question, however long, is a section's title
    assert kinds[QUESTION] == "heading"
    offset = doc.text.index("Residents welcomed")
    assert doc.heading_path_at(offset) == ["Ferries to run every hour", "Reaction"]


def test_a_standfirst_ending_in_a_quoted_question_is_a_paragraph_too() -> None:
    standfirst = ("The mayor's spokesman asked reporters on Friday whether anyone had "
                  "\u201cever seen a quieter election night?\u201d")
    page = STANDFIRST_PAGE.replace(STANDFIRST, standfirst)
    doc = load_bytes("page.html", page)
    kinds = {doc.text[b.start:b.end]: b.kind for b in doc.blocks}
    assert kinds[standfirst] == "para"


TABLE_PAGE = """<html><head><title>Smaller updates | Example Blog</title></head><body>
<nav><a href="/">Home</a> <a href="/archive">Archive</a></nav>
<article>
<h1>App updates got smaller this year</h1>
<p>We changed how the store builds the patches that bring each installed app up to date.
Here are the sizes of a few updates before and after the change, measured last month.</p>
<table>
<tr><th>Application</th><th>Original size</th><th>New patch size</th></tr>
<tr><td><div><a href="https://example.com/apps/maps">Street Maps</a></div></td>
<td>32.7 MB</td><td>9.6 MB (-71%)</td></tr>
<tr><td><div><a href="https://example.com/apps/films">Film Club</a></div></td>
<td>16.2 MB</td><td>1.2 MB (-92%)</td></tr>
</table>
<p>The patches are made on our servers, so developers do not need to change anything at
all to benefit from them, and users save data on every automatic update they install.</p>
</article></body></html>
"""


def test_a_table_row_is_one_line_and_keeps_the_link_that_names_it() -> None:
    # trafilatura drops a cell's <div> that is all link: the row's figures lost their name.
    doc = load_bytes("page.html", TABLE_PAGE)
    assert "Application | Original size | New patch size\n" in doc.text
    assert "\nStreet Maps | 32.7 MB | 9.6 MB (-71%)\n" in doc.text
    assert "\nFilm Club | 16.2 MB | 1.2 MB (-92%)\n\nThe patches" in doc.text
    assert "Archive" not in doc.text
    assert source_line_of(doc, "Film Club") == TABLE_PAGE.split("\n").index(
        '<tr><td><div><a href="https://example.com/apps/films">Film Club</a></div></td>') + 1


def test_cells_after_a_closed_row_without_their_own_tr_are_a_row_of_their_own() -> None:
    # "</tr><td>..." (a <tr> left out): browsers open a new row; it was read into the last.
    page = TABLE_PAGE.replace("<tr><td><div><a href=\"https://example.com/apps/films\">",
                              "<td><div><a href=\"https://example.com/apps/films\">")
    doc = load_bytes("page.html", page)
    assert "\nStreet Maps | 32.7 MB | 9.6 MB (-71%)\nFilm Club | 16.2 MB" in doc.text


def test_a_page_laid_out_in_a_table_keeps_its_paragraphs() -> None:
    # A cell of several blocks is layout, not data: its paragraphs stay paragraphs.
    page = ARTICLE_PAGE.replace("<article>", "<table><tr><td><article>").replace(
        "</article>", "</article></td></tr></table>")
    doc = load_bytes("page.html", page)
    assert f"{PARAGRAPHS[0]}\n\n{PARAGRAPHS[1]}" in doc.text
