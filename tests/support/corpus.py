"""The tiny test corpus, in every format: written by `make_corpus`, indexed once per test
session (tests/conftest.py) and by the benchmarks that run a bot on it (flood, soak)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from quotebot.config import Config

ROOT = Path(__file__).resolve().parent.parent.parent
SEEDS = ROOT / "seeds"

CORPUS_FILES: dict[str, str] = {
    "astronomy/solar.md": """# The Solar System

## Planets

Jupiter is the largest planet in the Solar System, with a mass more than twice that of all \
the other planets combined. Saturn is famous for its bright rings made of ice and rock.

Mars has two small moons, Phobos and Deimos. Its red colour comes from iron oxide dust.

## The Sun

The Sun is a G-type main-sequence star. Light from the Sun takes about eight minutes \
to reach the Earth.
""",
    "food/coffee.html": """<!DOCTYPE html>
<html><head><title>A Short History of Coffee</title>
<script>var tracking = "do not index me";</script><style>p { color: red }</style></head>
<body>
<nav>Home | About | Subscribe</nav>
<h1>A Short History of Coffee</h1>
<p>Coffee was first cultivated in Yemen in the fifteenth century, where Sufi monks drank it
to stay awake during night prayers.</p>
<p>The first coffeehouse in London opened in 1652. Coffee &amp; tea soon became the
drinks of merchants, and the <b>Lloyd's</b> insurance market began in a coffeehouse.</p>
</body></html>
""",
    "geology/volcanoes.txt": """Volcanoes

Mount Vesuvius erupted in the year 79 and buried the Roman towns of Pompeii and \
Herculaneum under ash. Krakatoa's eruption in 1883 was heard nearly 5,000 kilometres away.

The largest volcano in the Solar System is Olympus Mons on Mars, about three times \
the height of Mount Everest.
""",
    "sport/cycling.txt": """Tour de France

The Tour de France is a multiple-stage bicycle race held mainly in France each July. \
The race was first organised in 1903 to increase sales of the newspaper L'Auto.

The leader of the general classification wears the yellow jersey.
""",
    "broken/empty.txt": "",
}


def write_pdf(path: Path, pages: list[str], title: str = "") -> None:
    """A real PDF with one paragraph of text per page (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    if title:
        c.setTitle(title)
    for text in pages:
        y = 800
        words, line = text.split(), ""
        for word in words:
            if len(line) + len(word) > 80:
                c.drawString(50, y, line)
                y, line = y - 15, ""
            line = f"{line} {word}".strip()
        c.drawString(50, y, line)
        c.showPage()
    c.save()


def make_corpus(folder: Path) -> Path:
    """Write the tiny test corpus into `folder`."""
    for rel, text in CORPUS_FILES.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (folder / "broken" / "garbage.pdf").write_bytes(os.urandom(2048))
    (folder / "landmarks").mkdir()
    write_pdf(folder / "landmarks" / "eiffel.pdf", [
        "The Eiffel Tower was completed in 1889 for the World's Fair in Paris. "
        "It was designed by the engineering company of Gustave Eiffel.",
        "The tower is 330 metres tall. It was the tallest man-made structure in the world "
        "until the Chrysler Building was finished in New York in 1930.",
    ], title="The Eiffel Tower")
    (folder / "news").mkdir()
    shutil.copy(SEEDS / "000_88f3b2186c936a7a.txt", folder / "news" / "raqqa.txt")
    # The same wire story syndicated under another name: retrieval must cite it, not repeat it.
    shutil.copy(SEEDS / "000_88f3b2186c936a7a.txt", folder / "news" / "raqqa-wire.txt")
    return folder


def make_config(corpus: Path, store: Path) -> Config:
    config = Config()
    config.corpus, config.store = corpus, store
    return config
