"""A corpus of hostile files: the build finishes, indexes every good file, reports each bad one.

The corpus is generated here (nothing from ../shared/data). Good documents are copies of the
session corpus under odd names, so their vectors come from the copied embedding cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.loaders import SkipFile, read_file
from store.faiss import FaissReader
from store.generations import CACHE
from tests.support import hostile_files as hf
from tests.support import parse_hooks

ROOT = Path(__file__).resolve().parents[2]
DEEP = 1100  # folders: past the ~1000 levels where a recursive walk fails, within PATH_MAX

# Good documents: path -> the session corpus file it copies.
GOOD = {
    "odd names/café ☕ résumé.txt": "geology/volcanoes.txt",
    "odd names/-starts with a dash.md": "astronomy/solar.md",
    "odd names/new\nline.html": "food/coffee.html",
    "odd names/<b>tag</b> & 'quotes' $(rm -rf).txt": "sport/cycling.txt",
    "odd names/" + "long" * 60 + ".txt": "geology/volcanoes.txt",
    "odd names/spaces   inside.pdf": "landmarks/eiffel.pdf",
    "deep/" + "d/" * DEEP + "bottom.txt": "sport/cycling.txt",
}
LATIN1 = ("Crème brûlée\n\nThe crème brûlée of the café in Zürich is made with vanilla from "
          "Madagascar and served with a crust of caramelised sugar.\n").encode("latin-1")
LONG_LINE = " ".join(f"Sentence {i} of the long line says that lighthouse {i} stands on "
                     f"rock {i * 3}." for i in range(150))  # ~12 KB, one line

# Bad files: path -> (what to write, the reason the report must give).
BAD = {
    "bad/empty.txt": (b"", "empty file"),
    "bad/blank.md": (b" \n\n\t\n", "no text"),
    "bad/random bytes.txt": (bytes(range(256)) * 16, "binary content"),
    "bad/random bytes.pdf": (os.urandom(4096), "PDF could not be parsed"),
    "bad/text named.pdf": (b"Just text, not a PDF at all.\n", "PDF could not be parsed"),
    "bad/truncated.pdf": (None, "PDF could not be parsed"),  # written from a real PDF
    "bad/random bytes.docx": (os.urandom(2048), "corrupt docx"),
    "bad/control characters.md": (bytes(range(1, 9)) * 64, "binary content"),
    "bad/just over the limit.txt": (b"word " * (2**20 // 5 + 1), "too large"),
    "bad/huge.txt": (None, "too large: 1,073,741,824 bytes"),  # sparse: no disk used
    "bad/fifo.txt": (None, "not a regular file"),
    "bad/loop.txt": (None, "Too many levels of symbolic links"),
    "bad/dangling.txt": (None, "file not found"),
    "bad/unreadable.txt": (b"secret words nobody may read", "permission denied"),
    "bad/unreadable folder": (None, "cannot read folder: Permission denied"),
    "bad/folder loop": (None, "symlinked folder not followed"),
    "caf\\xe9.txt": (None, "name is not valid UTF-8"),  # the byte 0xE9: Latin-1 "é"
}

# Files made to hurt the parsers (issue 14): path -> how to make it. Each must end up
# indexed or skipped with a reason, within the worker's limits, and never stop the build.
HOSTILE = {
    "hostile/surrogate.pdf": hf.surrogate_pdf,  # ToUnicode to U+D800: stopped every build
    "hostile/surrogate title.pdf": lambda: hf.surrogate_pdf(title_hex="FEFFD800"),
    "hostile/run of dots.txt": lambda: hf.run_of_dots(200_000).encode(),
    "hostile/author list.txt": lambda: hf.author_list(200_000).encode(),
    "hostile/long line.md": lambda: ("# " + hf.long_line(900_000)).encode(),
    "hostile/long title.pdf": lambda: hf.text_pdf("A page about lighthouses.",
                                                  title="Untitled " + " " * 40_000 + "x"),
    "hostile/navs.html": lambda: hf.nav_html(20_000),
    "hostile/empty pages.pdf": lambda: hf.text_pdf("The only page with text.", pages=8_000),
}
# Hostile files whose outcome is known: skipped, with this reason.
HOSTILE_SKIPPED = {
    "hostile/docx bomb.docx": (hf.docx_paragraph_bomb, "a decompression bomb?"),
    "hostile/zip bomb.docx": (lambda: hf.zip_bomb(210, level=6),
                              "docx unpacks to 220,200,960 bytes"),
    "hostile/segfault.txt": (lambda: parse_hooks.SEGFAULT, "the parser crashed (SIGSEGV)"),
    "hostile/endless.txt": (lambda: parse_hooks.HANG, "took longer than 5 s to parse"),
    "hostile/memory hog.txt": (lambda: parse_hooks.HOG, "needs more than 256 MB to parse"),
    "hostile/parser bug.txt": (lambda: parse_hooks.RAISE, "could not be parsed: TypeError"),
}


def make_deep(folder: Path, depth: int) -> Path:
    """`depth` nested folders named "d" below `folder` (by file descriptor, so any depth)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    return folder.joinpath(*["d"] * depth)


def remove_deep(folder: Path) -> None:
    """Remove a tree too deep for shutil.rmtree (it recurses), bottom up."""
    stack, order = [folder], []
    while stack:
        here = stack.pop()
        order.append(here)
        with os.scandir(here) as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    os.unlink(entry.path)
    for here in reversed(order):
        os.rmdir(here)


def make_hostile_corpus(corpus: Path, session_corpus: Path) -> None:
    from support.corpus import write_pdf

    for rel, source in GOOD.items():
        path = corpus / rel
        if rel.startswith("deep/"):
            (corpus / "deep").mkdir(parents=True)
            make_deep(corpus / "deep", DEEP)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(session_corpus / source, path)
    (corpus / "latin-1.txt").write_bytes(LATIN1)
    (corpus / "long line.txt").write_text(LONG_LINE, encoding="utf-8")
    bad = corpus / "bad"
    bad.mkdir()
    for rel, (data, _) in BAD.items():
        if data is not None:
            (corpus / rel).write_bytes(data)
    write_pdf(bad / "whole.pdf", ["A page of text that will be cut short."])
    (bad / "truncated.pdf").write_bytes((bad / "whole.pdf").read_bytes()[:300])
    (bad / "whole.pdf").unlink()
    with open(bad / "huge.txt", "wb") as f:
        f.truncate(2**30)  # a 1 GB file that takes no disk
    os.mkfifo(bad / "fifo.txt")
    (bad / "loop.txt").symlink_to("loop.txt")
    (bad / "dangling.txt").symlink_to("nowhere.txt")
    (bad / "unreadable.txt").chmod(0)
    (bad / "unreadable folder").mkdir()
    (bad / "unreadable folder" / "hidden.txt").write_text("Words nobody may read.")
    (bad / "unreadable folder").chmod(0)
    (bad / "folder loop").symlink_to("..")
    shutil.copy(session_corpus / "sport" / "cycling.txt", os.fsencode(corpus) + b"/caf\xe9.txt")
    (corpus / "hostile").mkdir()
    for rel, make in HOSTILE.items():
        (corpus / rel).write_bytes(make())
    for rel, (make, _) in HOSTILE_SKIPPED.items():
        (corpus / rel).write_bytes(make())


def index_as_a_user(corpus: Path, store: Path) -> subprocess.CompletedProcess:
    """`quotebot index --json` with a 1 MB file limit, unable to read mode-000 files, files
    parsed within 5 s and 256 MB, and the test hook that makes marked files misbehave.

    Root reads everything, so as root the build runs without the capabilities that let it
    bypass file permissions (setpriv), as any other user would.
    """
    env = dict(os.environ, QUOTEBOT_CORPUS=str(corpus), QUOTEBOT_STORE=str(store),
               QUOTEBOT_LOADING_MAX_FILE_MB="1", QUOTEBOT_LOADING_FILE_TIMEOUT_S="5",
               QUOTEBOT_LOADING_FILE_MEMORY_MB="256", QUOTEBOT_TEST_PARSE_HOOK=parse_hooks.SPEC,
               PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "quotebot", "index", "--json", "--no-progress"]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("as root this needs setpriv to drop the file-permission capabilities")
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def hostile_build(session_dirs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory):
    """(build report, stored paths, the process) of one build of the hostile corpus."""
    base = tmp_path_factory.mktemp("hostile")
    corpus, store = base / "corpus", base / "store"
    make_hostile_corpus(corpus, session_dirs[0])
    store.mkdir()
    shutil.copy(session_dirs[1] / CACHE, store / CACHE)
    done = index_as_a_user(corpus, store)
    report = json.loads(done.stdout) if done.returncode == 0 else None
    paths = set()
    if report is not None:
        reader = FaissReader(store)
        paths = {p for (p,) in reader.db.execute("SELECT path FROM documents")}
        reader.close()
    again = index_as_a_user(corpus, store)  # nothing changed: the next build
    yield report, paths, done, again
    (corpus / "bad" / "unreadable folder").chmod(0o755)
    remove_deep(base)


def test_hostile_corpus_build_finishes(hostile_build) -> None:
    report, _, done, _ = hostile_build
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_every_good_file_is_indexed(hostile_build) -> None:
    report, paths, _, _ = hostile_build
    assert set(GOOD) | {"latin-1.txt", "long line.txt"} == paths - set(HOSTILE)
    assert report["documents"] == len(paths)


def test_every_bad_file_is_reported_with_its_reason(hostile_build) -> None:
    report, _, _, _ = hostile_build
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    expected = {**BAD, **HOSTILE_SKIPPED}
    assert set(skipped) - set(HOSTILE) == set(expected)
    for path, (_, reason) in expected.items():
        assert reason in skipped[path], (path, skipped[path])


def test_every_hostile_file_is_indexed_or_skipped_with_a_reason(hostile_build) -> None:
    report, paths, _, _ = hostile_build
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    for path in HOSTILE:
        assert (path in paths) != (path in skipped), path
        assert path in paths or skipped[path].strip(), path


def test_the_next_build_parses_no_skipped_file_again(hostile_build) -> None:
    first, _, _, again = hostile_build
    assert again.returncode == 0, again.stderr[-2000:]
    second = json.loads(again.stdout)
    assert second["skipped"] == first["skipped"]
    parse_skips = [s for s in first["skipped"] if s["path"].startswith("hostile/")]
    assert second["skips_remembered"] >= len(parse_skips) > 0  # bad/ has some too
    assert second["parse_workers_replaced"] == 0 and second["generation"] == first["generation"]
    assert second["seconds"] < 5 + first["seconds"] / 2  # no time budget spent again


def test_legacy_encoded_and_long_line_files_are_searchable(hostile_build, session_config,
                                                           tmp_path: Path) -> None:
    report, _, _, _ = hostile_build
    from retrieval import Retriever

    config = session_config.__class__()
    config.store = Path(report["store"])
    retriever = Retriever.open(config)
    try:
        cream = retriever.ask("Where does the vanilla of the crème brûlée come from?")
        assert cream.found and "Madagascar" in cream.hits[0].excerpt
        assert "crème brûlée" in cream.hits[0].excerpt  # decoded as Latin-1, not mojibake
        light = retriever.ask("Which rock does lighthouse 77 stand on?")
        assert light.found and "rock 231" in light.hits[0].excerpt
    finally:
        retriever.close()


def test_oversized_file_is_never_read_into_memory(tmp_path: Path) -> None:
    io_stats = Path("/proc/self/io")
    if not io_stats.exists():
        pytest.skip("needs /proc/self/io (Linux) to count the bytes read")

    def bytes_read() -> int:
        return int(next(line.split()[1] for line in io_stats.read_text().splitlines()
                        if line.startswith("rchar:")))

    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(2**30)
    before = bytes_read()
    with pytest.raises(SkipFile, match="too large"):
        read_file(huge, 50 * 2**20)  # the default loading.max_file_mb
    assert bytes_read() - before < 2**20
