"""PDF through PDFium (pypdfium2): the text a reader sees, page by page, with line numbers.

- Text: PDFium's text of each page, line by line, normalised (index/loaders/normalise.py:
  ligatures, compatibility forms, whitespace, words hyphenated across lines joined).
- Running headers and footers are dropped: a line among the first or last two of a page
  that repeats (digits aside) at the top or bottom of at least `REPEAT_SHARE` of the pages,
  and lone page numbers there.
- Pages without a text layer are read by OCR (index/loaders/ocr.py) when `options.ocr` is
  "auto" and Tesseract is installed; the document's notes say which pages were not.
- Pages are joined by a blank line; each line keeps its line number within its page.
- Title: the metadata title, unless it looks generated (`paper.dvi`, "Microsoft Word - x")
  or is not on the first page; then the first page's largest text.
- Paragraphs split after any line shorter than `PDF_SHORT_LINE` times the paragraph's
  longest line (the end of a paragraph or a heading).
- List items: a line opening with a bullet glyph ("• "), or with a number ("2. ", "2) ")
  when the list counts (number N - 1 or N + 1 opens a line within `PDF_LIST_LINES` lines),
  starts an "item" block after its marker, as Markdown's items are; section headings
  ("1. INTRODUCTION", pages apart) and a wrapped "257. Springer" are not items.

pypdf is no longer used: PDFium reads these files faster, resolves ligatures, marks line-end
hyphens and gives the font sizes and character boxes the title and page pictures need.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, replace

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from index.loaders import ocr
from index.loaders.common import (
    SENTENCE_END,
    Loaded,
    SkipFile,
    line_spans,
    paragraphs,
    short,
    trim,
)
from index.loaders.normalise import Joiner, fold_line, join_hyphenated, normalise_lines
from index.loaders.options import LoadOptions
from quotebot.documents import BULLETS, FOOTNOTE_MARK, Block

PDF_SHORT_LINE = 0.6  # a PDF line this much shorter than the lines around it ends a block
PDF_NEAR_LINES = 4  # lines on each side that say how long a line around here is
REPEAT_SHARE = 0.4  # a header/footer repeats on at least this share of pages (odd/even alike)
EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be header/footer
MIN_TEXT_CHARS = 16  # a page with fewer non-space characters has no usable text layer
TITLE_SCAN_CHARS = 3000  # characters of the first page searched for its largest text
TITLE_SCAN_LINES = 30  # ...and at most this many of its lines
TITLE_SIZE_RATIO = 1.15  # a title's letters are at least this much taller than the body's
# A title's next line is of its size within this share (sizes one step apart, 12.5 and
# 11.3, are 10% apart: a running head over a section label, "fonts-conf" / "Name").
TITLE_SAME_SIZE = 0.05
MAX_TITLE_CHARS = 200
PDF_LIST_LINES = 10  # a numbered line is a list item when its list's next number is this near
_BULLET_ITEM = re.compile(rf"[ \t]*[{BULLETS}][ \t]+(?=\S)")
_NUMBERED_ITEM = re.compile(r"[ \t]*(\d{1,3})[.)][ \t]+(?=\S)")
_PLACEHOLDER_TITLE = re.compile(r"\s*(untitled\S*|document\s*\d*|anonymous|\W*)\s*$", re.I)
_GENERATED_TITLE = re.compile(
    r"^(microsoft (word|powerpoint) - .*|.*\.(dvi|tex|pdf|ps|eps|docx?|rtf|odt|indd|qxd)"
    r"|untitled.*|[\w.-]*\d{3,}[\w.-]*|slide ?\d*)$", re.I)
_PAGE_NUMBER = re.compile(r"^[\W_]*((page|p\.|seite)\s*)?(\d{1,4}|[ivxlcdm]{1,6})"
                          r"(\s*(of|/)\s*\d{1,4})?[\W_]*$", re.I)
_DIGITS = re.compile(r"\d+")
_NOT_WORD = re.compile(r"[^\w#]+|_")
_FOOTNOTE = re.compile(FOOTNOTE_MARK)  # a footnote's first line
_CONTINUATION = frozenset(",;:.)]")  # a line opening with these goes on the line above
_AFTER_SOFT_BREAK = re.compile(r"(\ufffe\S*)[ \t]+(?=\S)")
# A page number that PDFium glued to the page's last word when that word is hyphenated
# ("Raft can exe\ufffe12", then "cute a command" on page 13): a line of its own.
_NUMBER_AFTER_SOFT_BREAK = re.compile(r"\ufffe(\d{1,4})[ \t]*$")


@dataclass
class _Page:
    lines: list[str]  # source lines (PDFium's text, or OCR's); line N of the page is lines[N-1]
    ocr: bool = False
    unreadable: bool = False  # PDFium could not load the page: no lines


def _open(data: bytes) -> pdfium.PdfDocument:
    """The PDF, opened (an empty user password is tried); SkipFile with a reason if not."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise SkipFile("PDF is encrypted (needs a password)") from exc
        raise SkipFile(f"PDF could not be parsed: {short(exc)}") from exc
    except Exception as exc:
        raise SkipFile(f"PDF could not be parsed: {short(exc)}") from exc


def _page_text(page: pdfium.PdfPage, limit: int) -> tuple[str, bool]:
    """PDFium's text of a page (at most `limit` characters) and whether it was cut."""
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, min(count, limit)) if count > 0 else ""
        return text, count > limit
    finally:
        textpage.close()


def _has_images(page: pdfium.PdfPage) -> bool:
    """Whether the page draws any image (a scan); blank pages are not worth OCR."""
    for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        return True
    return False


def _split_lines(text: str) -> list[str]:
    """PDFium's lines: CRLF separates them; a lone CR is OT1's fl slot, kept for folding.

    PDFium puts a word hyphenated at a line end (marked U+FFFE) and the whole next line on
    one line; the page's line breaks it after that word, as the page shows it (the word
    stays whole on the first line).
    """
    text = _NUMBER_AFTER_SOFT_BREAK.sub("\ufffe\n\\1", text.replace("\r\n", "\n"))
    text = _AFTER_SOFT_BREAK.sub(lambda m: m.group(1) + "\n", text)
    return text.split("\n")


def _read_pages(document: pdfium.PdfDocument, data: bytes, options: LoadOptions,
                notes: list[str]) -> list[_Page]:
    """Every page's source lines, OCR'd where there is no text layer and OCR can run."""
    pages: list[_Page] = []
    cut: list[int] = []
    scanned: list[int] = []
    ocr_done: list[int] = []
    why_not = "" if options.ocr == "auto" else "OCR is off (loading.ocr)"
    content_hash = ""
    bar = None
    late: list[int] = []  # scanned pages left unread: the OCR time budget ran out
    started = time.monotonic()
    unreadable: list[int] = []  # pages PDFium cannot load (a broken page tree)
    for index in range(len(document)):
        if bar is not None:
            bar.update(1)
        try:
            page = document[index]
        except pdfium.PdfiumError:
            unreadable.append(index + 1)
            pages.append(_Page([], unreadable=True))  # the page keeps its number
            continue
        try:
            text, was_cut = _page_text(page, options.max_page_chars)
            if was_cut:
                cut.append(index + 1)
            if len("".join(text.split())) >= MIN_TEXT_CHARS or not _has_images(page):
                pages.append(_Page(_split_lines(text)))
                continue
            scanned.append(index + 1)
            why_not = why_not or ocr.unavailable() or ocr.language_missing(options.ocr_language)
            if not why_not and options.ocr_budget_s and \
                    time.monotonic() - started > options.ocr_budget_s:
                late.append(index + 1)
                pages.append(_Page(_split_lines(text)))
                continue
            if why_not:
                pages.append(_Page(_split_lines(text)))
                continue
            if bar is None and options.progress:
                from tqdm import tqdm

                bar = tqdm(total=len(document), initial=index, desc="OCR", unit="page",
                           leave=False)
            content_hash = content_hash or hashlib.sha256(data).hexdigest()
            result = ocr.read_page(page, content_hash=content_hash, number=index + 1,
                                   language=options.ocr_language,
                                   cache=ocr.OcrCache(options.ocr_cache))
            ocr_done.append(index + 1)
            pages.append(_Page(result.lines, ocr=True))
        finally:
            page.close()
    if bar is not None:
        bar.close()
    if unreadable:
        notes.append(f"pages {_ranges(unreadable)} cannot be read (the PDF is damaged there)")
    if cut:
        notes.append(f"text cut at {options.max_page_chars:,} characters on pages "
                     f"{_ranges(cut)}")
    if scanned and why_not:
        notes.append(f"pages {_ranges(scanned)} have no text layer and were not read: "
                     f"{why_not}")
    elif ocr_done:
        notes.append(f"pages {_ranges(ocr_done)} read by OCR ({options.ocr_language})")
    if late:
        notes.append(f"pages {_ranges(late)} have no text layer and were not read: OCR ran "
                     f"out of time ({options.ocr_budget_s:g} s); raise loading.file_timeout_s "
                     "and run quotebot index --full (pages already read are cached)")
    return pages


def _ranges(numbers: list[int]) -> str:
    """1, 2, 3, 7 -> "1-3, 7"."""
    parts: list[str] = []
    for n in numbers:
        if parts and n == int(parts[-1].split("-")[-1]) + 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{n}"
        else:
            parts.append(str(n))
    return ", ".join(parts)


def _edge_key(line: str) -> str:
    """What a running header/footer line has in common across pages: digits, punctuation
    and spacing aside (a scan's stray "-" before one page's header must not hide it)."""
    return " ".join(_NOT_WORD.sub(" ", _DIGITS.sub("#", line.casefold())).split())


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the first and last `EDGE_LINES` non-empty lines of a page."""
    filled = [i for i, line in enumerate(lines) if line]
    return sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Header/footer keys: edge lines repeating on at least REPEAT_SHARE of the pages."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_edge_key(lines[i]) for i in _edges(lines)})
    least = max(2, math.ceil(REPEAT_SHARE * len(pages)))
    return {key for key, n in counts.items() if n >= least}


def _drop_running(pages: list[list[str]]) -> list[list[str]]:
    """Pages with running headers/footers and edge page numbers emptied (lines kept)."""
    running = _running_lines(pages)
    out = []
    for lines in pages:
        lines = list(lines)
        for i in _edges(lines):
            if _edge_key(lines[i]) in running or _PAGE_NUMBER.match(lines[i]):
                lines[i] = ""
        out.append(lines)
    return out


def _list_items(text: str, lines: list[tuple[int, int]]) -> dict[int, int]:
    """Where each list item's marker ends, by the start of its line: lines opening with a
    bullet glyph, and numbered lines whose list counts (N - 1 or N + 1 opens a line at most
    `PDF_LIST_LINES` lines away)."""
    items: dict[int, int] = {}
    numbered: dict[int, tuple[int, int, int]] = {}  # line index: (number, start, marker end)
    for index, span in enumerate(lines):
        start, end = trim(text, *span) or span
        if bullet := _BULLET_ITEM.match(text, start, end):
            items[start] = bullet.end()
        elif number := _NUMBERED_ITEM.match(text, start, end):
            numbered[index] = (int(number.group(1)), start, number.end())
    for index, (n, start, marker_end) in numbered.items():
        before = ((index - d, n - 1) for d in range(1, PDF_LIST_LINES + 1))
        after = ((index + d, n + 1) for d in range(1, PDF_LIST_LINES + 1))
        if any(numbered.get(line, (None,))[0] == wanted for line, wanted in (*before, *after)):
            items[start] = marker_end
    return items


def _pdf_paragraph_blocks(text: str, paragraph: list[tuple[int, int]],
                          items: dict[int, int] | None = None) -> list[Block]:
    """Wrapped PDF lines as blocks, ending a block after each noticeably short line and
    before a footnote (a line opening with a footnote mark: ∗, †, ‡, or "1Eric") or a list
    item (`items`: where the marker ends, by line start; the item's block starts there). A
    short line followed by one opening with "," ";" ":" "." ")" "]" goes on (PDFium breaks
    the line at a raised footnote mark: "…Brewer1" / ", in an invited talk…").

    "Short" is against the lines around it (the median length of up to `PDF_NEAR_LINES`
    lines on each side), not the page's widest: one page mixes full-width abstracts,
    two columns and figure text, and a column's lines must not look short beside them.
    """
    items = items or {}
    lengths = [end - start for start, end in paragraph]
    blocks, first = [], paragraph[0][0]
    for index, (start, end) in enumerate(paragraph):
        near = (lengths[max(0, index - PDF_NEAR_LINES):index]
                + lengths[index + 1:index + 1 + PDF_NEAR_LINES])
        typical = statistics.median(near) if near else lengths[index]
        if (index + 1 < len(paragraph) and first != paragraph[index + 1][0]
                and (_FOOTNOTE.match(text, *paragraph[index + 1])
                     or paragraph[index + 1][0] in items)):
            blocks.append(_block(first, end, "para", items))  # a footnote or item below
            first = paragraph[index + 1][0]
            continue
        continues = (index + 1 < len(paragraph)
                     and text[paragraph[index + 1][0]] in _CONTINUATION)  # ", in a talk"
        if (lengths[index] < PDF_SHORT_LINE * typical and not continues) \
                or index == len(paragraph) - 1:
            standalone = first == start and not SENTENCE_END.search(text[start:end])
            blocks.append(_block(first, end, "line" if standalone else "para", items))
            if index + 1 < len(paragraph):
                first = paragraph[index + 1][0]
    return blocks


def _block(start: int, end: int, kind: str, items: dict[int, int]) -> Block:
    """The block of lines [start, end): a list item after its marker when one opens it."""
    return Block(items[start], end, "item") if start in items else Block(start, end, kind)


def load_pdf(data: bytes, options: LoadOptions | None = None) -> Loaded:
    """PDF: pages joined by a blank line, line numbers counted within each page."""
    options = options or LoadOptions()
    document = _open(data)
    try:
        if len(document) > options.max_pdf_pages:
            raise SkipFile(f"too many pages: {len(document):,} "
                           f"(limit {options.max_pdf_pages:,}, loading.max_pdf_pages)")
        notes: list[str] = []
        pages = _read_pages(document, data, options, notes)
        title = _title(document, pages)
    finally:
        document.close()
    folded = _drop_running([[fold_line(line) for line in page.lines] for page in pages])
    joiner = Joiner([line for page in folded for line in page])
    normalised = [normalise_lines(page_lines, joiner=joiner) for page_lines in folded]
    _join_across_pages(normalised, joiner)
    parts, page_starts, anchors, start = [], [], [], 0
    for page_lines in normalised:
        kept = [(number, line) for number, line in enumerate(page_lines, 1) if line]
        body = "\n".join(line for _, line in kept)
        page_starts.append(start)
        offset = start
        for number, line in kept:
            anchors.append((offset, number))
            offset += len(line) + 1
        parts.append(body)
        start += len(body) + 2
    text = "\n\n".join(parts)
    items = _list_items(text, line_spans(text))
    blocks: list[Block] = []
    for page_start, body in zip(page_starts, parts, strict=True):
        page_blocks = [block for paragraph in paragraphs(
            text, line_spans(text, page_start, page_start + len(body)))
            for block in _pdf_paragraph_blocks(text, paragraph, items)]
        if blocks and page_blocks and _continues(text, blocks[-1], page_blocks[0]):
            blocks[-1] = replace(blocks[-1], end=page_blocks.pop(0).end)
        blocks += page_blocks
    return Loaded(text, blocks, title, anchors, page_starts, notes=notes)


def _continues(text: str, last: Block, first: Block) -> bool:
    """Whether a page's first block goes on with the sentence the previous page's last
    block breaks off: the last is a paragraph or list item ending without a sentence's end,
    and the first a paragraph opening in lowercase ("Raft can execute" / "a command
    multiple times: ..."). About a third of the pages of 16 real papers begin so; read as
    two blocks, every such sentence was quoted as two fragments."""
    return (last.kind in ("para", "item") and first.kind == "para"
            and not SENTENCE_END.search(text, last.start, last.end)
            and text[first.start:first.start + 1].islower())


def _join_across_pages(pages: list[list[str]], joiner: Joiner) -> None:
    """A word hyphenated at the end of a page's last line is joined with its rest, the
    first word of the next page's first line (running headers already dropped): it stays
    on the page where it starts, as a word split across lines does."""
    for this, after in itertools.pairwise(pages):
        last = next((i for i in range(len(this) - 1, -1, -1) if this[i]), None)
        first = next((j for j, line in enumerate(after) if line), None)
        if last is None or first is None:
            continue
        joined = join_hyphenated(this[last], after[first], joiner)
        if joined:
            this[last], after[first] = joined


# --- title -------------------------------------------------------------------------------------

def _title(document: pdfium.PdfDocument, pages: list[_Page]) -> str:
    """The metadata title when it is real and on the first page, else the largest text there."""
    try:
        meta = (document.get_metadata_dict().get("Title") or "").strip()
    except Exception:
        meta = ""
    meta = " ".join(meta.removeprefix("Microsoft Word - ").split())
    first = " ".join(" ".join(pages[0].lines).split()).casefold() if pages else ""
    if (meta and not _PLACEHOLDER_TITLE.match(meta) and not _GENERATED_TITLE.match(meta)
            and fold_line(meta).casefold() in fold_line(first)):
        return meta
    largest = (_largest_text(document)
               if pages and not pages[0].ocr and not pages[0].unreadable else "")
    if largest:
        return largest
    return meta if meta and not _PLACEHOLDER_TITLE.match(meta) else ""


def _char_height(textpage: pdfium.PdfTextPage, index: int) -> float:
    """The rendered size of a character: its loose box's height (font size times scaling)."""
    try:
        _, bottom, _, top = textpage.get_charbox(index, loose=True)
    except pdfium.PdfiumError:
        return 0.0
    return round(abs(top - bottom), 1)


def _largest_text(document: pdfium.PdfDocument) -> str:
    """The first page's largest text: the lines whose letters are tallest (median height),
    with the lines right after them of the same size, as one line; "" when no line is
    clearly larger than the page's body text."""
    if len(document) == 0:
        return ""
    page = document[0]
    textpage = page.get_textpage()
    try:
        count = min(textpage.count_chars(), TITLE_SCAN_CHARS)
        text = textpage.get_text_range(0, count) if count > 0 else ""
        lines, start = [], 0
        for line in text.split("\r\n"):
            heights = [_char_height(textpage, start + i) for i, c in enumerate(line)
                       if c.isalpha()]
            lines.append((line, statistics.median(heights) if len(heights) >= 4 else 0.0))
            start += len(line) + 2
    finally:
        textpage.close()
        page.close()
    body = statistics.median([height for _, height in lines if height > 0] or [0.0])
    lines = lines[:TITLE_SCAN_LINES]
    top = max((height for _, height in lines), default=0.0)
    if top <= 0 or top < TITLE_SIZE_RATIO * body:
        return ""  # nothing stands out: no title by size
    first = next(i for i, (_, height) in enumerate(lines) if height == top)
    title = [lines[first][0]]
    for line, height in lines[first + 1:]:
        if abs(height - top) > TITLE_SAME_SIZE * top:
            break
        title.append(line)
    return fold_line(" ".join(title).replace("\ufffe", "-"))[:MAX_TITLE_CHARS].strip(" -:,;")
