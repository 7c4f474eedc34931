"""Small real documents of every supported format, written by the tests that need them."""

from __future__ import annotations

from pathlib import Path

SENTENCE = "The lighthouse keeper lit the lamp at dusk every evening."


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF with one drawn line per entry, one page per list (reportlab)."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    for lines in pages:
        for number, line in enumerate(lines):
            pdf.drawString(72, 780 - 14 * number, line)
        pdf.showPage()
    pdf.save()
    return path


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    """A docx with a heading and these paragraphs (python-docx)."""
    import docx

    document = docx.Document()
    document.add_heading("Keeper's log", 1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


def write_every_format(folder: Path) -> dict[str, Path]:
    """One file per format, each holding SENTENCE, keyed by format name."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "log.txt").write_text(f"Keeper's log\n\n{SENTENCE}\n")
    (folder / "log.md").write_text(f"# Keeper's log\n\n{SENTENCE.replace('lamp', '_lamp_')}\n")
    (folder / "log.html").write_text(
        f"<html><body><nav><a href='/'>Home</a></nav><h1>Keeper's log</h1>"
        f"<p>{SENTENCE}</p></body></html>")
    return {"txt": folder / "log.txt", "md": folder / "log.md", "html": folder / "log.html",
            "pdf": write_pdf(folder / "log.pdf", [["Keeper's log"], [SENTENCE]]),
            "docx": write_docx(folder / "log.docx", [SENTENCE])}
