"""Shared fixtures: a tiny corpus in every format, indexed once per session with the real model.

Tests that change a corpus work on a copy of the session's corpus and store
(`fresh_copy`): the copied embedding cache means they embed only what they change.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from quotebot.config import Config

os.environ["HF_HUB_OFFLINE"] = "1"  # tests never touch the network
os.environ["TRANSFORMERS_OFFLINE"] = "1"

# Property tests without their own max_examples run this many; the soak script runs the
# same tests with QUOTEBOT_HYPOTHESIS=soak.
settings.register_profile("ci", max_examples=200)
settings.register_profile("soak", max_examples=5000)
settings.load_profile(os.environ.get("QUOTEBOT_HYPOTHESIS", "ci"))

ROOT = Path(__file__).resolve().parent.parent
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


@pytest.fixture(scope="session")
def session_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(corpus, store) of the session's tiny corpus, indexed once with the real model."""
    from index.build import build_index

    base = tmp_path_factory.mktemp("session")
    corpus = make_corpus(base / "corpus")
    store = base / "store"
    build_index(make_config(corpus, store), progress=False)
    return corpus, store


@pytest.fixture(scope="session")
def session_config(session_dirs: tuple[Path, Path]) -> Config:
    """Config of the session's indexed tiny corpus; do not modify its folders."""
    return make_config(*session_dirs)


@pytest.fixture
def fresh_copy(session_dirs: tuple[Path, Path], tmp_path: Path) -> Callable[[], Config]:
    """A private copy of the indexed corpus and store, for tests that change them."""

    def copy() -> Config:
        corpus, store = session_dirs
        shutil.copytree(corpus, tmp_path / "corpus")
        shutil.copytree(store, tmp_path / "store")
        return make_config(tmp_path / "corpus", tmp_path / "store")

    return copy


@pytest.fixture(scope="session")
def retriever(session_config: Config) -> Iterator[Any]:
    """One Retriever on the session's tiny corpus: the model is loaded once per session."""
    from retrieval import Retriever

    opened = Retriever.open(session_config)
    yield opened
    opened.close()
