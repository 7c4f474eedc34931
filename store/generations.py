"""Index generations on disk: immutable folders switched atomically, with checksums.

Layout of the store folder:

    CURRENT              name of the live generation (replaced atomically)
    gen-000007/          one complete, never-modified index:
        manifest.json    model, dimension, fingerprint, chunking, counts
        meta.sqlite      documents (with text and hash) and chunks (text, offsets, sentences)
        vectors.faiss    FAISS backend: the chunk vectors under their int64 chunk ids (flat
                         or IVF, see store/vectors.py; the manifest names the type)
        bm25/            FAISS backend: lexical index over the same chunks (store/bm25.py)
        qdrant/          embedded Qdrant backend: the collection (store/qdrant.py); with a
                         Qdrant server the points live there, named in the manifest
    gen-000008.partial/  a build in progress (or one that was killed: removed by the next build)
    embeddings.sqlite    embedding cache shared by all generations
    models/<fingerprint>/  ONNX export of the embedding model, shared by all generations
                         (index/onnx_export.py)
    build.lock           held by the one running build

A build writes a new generation beside the live one and only then replaces CURRENT,
so readers never see a half-written index and a killed build leaves the old one whole.
Only the `store` package reads or writes these files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from quotebot.errors import StoreError

FORMAT_VERSION = 2  # 2: documents carry a vector (mean of their chunk vectors)
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
META = "meta.sqlite"
VECTORS = "vectors.faiss"
CACHE = "embeddings.sqlite"
LOCK = "build.lock"
QDRANT_DIR = "qdrant"  # embedded Qdrant's collections (all generations')


_GENERATION = re.compile(r"gen-(\d{6,})(\.partial)?")


@dataclass
class Manifest:
    """What a generation was built with; a reader refuses a store it cannot use."""

    generation: int
    model_name: str
    model_fingerprint: str
    dimension: int
    max_tokens: int
    overlap_sentences: int
    window: int
    chunker_version: int
    n_documents: int = 0
    n_chunks: int = 0
    index_type: str = "flat"  # IndexPlan.name: "flat", "ivf1024-fp16", "ivf1024-sq8", ...
    index_trained_size: int = 0  # passages the IVF lists / SQ8 ranges were trained on
    embedding_precision: str = "fp32"  # model weights the chunks were embedded with
    backend: str = "faiss"  # the store backend that holds the search side (store/factory.py)
    created: str = ""
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    # [size, sha256, mtime_ns] of every other file of the generation, checked when it is
    # opened (empty in stores written before checksums: then only presence is checked).
    files: dict[str, list[Any]] = field(default_factory=dict)

    def write(self, folder: Path) -> None:
        write_atomic(folder / MANIFEST, json.dumps(asdict(self), indent=2).encode())

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if data.get("format_version") != FORMAT_VERSION:
                raise StoreError(
                    f"store {folder} has format version {data.get('format_version')}, this "
                    f"quotebot reads version {FORMAT_VERSION}: "
                    "rebuild with `quotebot index --full`")
            known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
            return cls(**known)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise StoreError(f"store manifest {folder / MANIFEST} is unreadable ({exc}): "
                             "rebuild with `quotebot index --full`") from exc


FileIdentity = tuple[int, int, int, int]  # device, inode, size, mtime_ns


def _identity(stat: os.stat_result) -> FileIdentity:
    """Stays the same while a file is unchanged, across renames."""
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def file_checksum(path: Path, summed: dict[FileIdentity, str] | None = None) -> list[Any]:
    """[size, sha256, mtime_ns] of a file, as manifests record it (noted in `summed`)."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    stat = path.stat()
    if summed is not None:
        summed[_identity(stat)] = digest
    return [stat.st_size, digest, stat.st_mtime_ns]


def file_damage(path: Path, expected: Sequence[Any], *, full: bool = False,
                summed: dict[FileIdentity, str] | None = None) -> str:
    """How `path` differs from its recorded [size, sha256, mtime_ns] ('' if it does not).

    A file whose size and mtime are still those recorded is trusted without hashing it
    (hashing a million-passage store takes seconds at every start); any write changes
    the mtime, so written damage is hashed. `full` hashes anyway, except a file `summed`
    (by `file_checksum`) as it is now. OSError when unreadable; TypeError or ValueError
    when `expected` is not such a record.
    """
    size, digest, *written = expected
    stat = path.stat()
    if stat.st_size != size:
        return f"{stat.st_size:,} bytes, expected {size:,}"
    if not full and written and stat.st_mtime_ns == written[0]:
        return ""  # untouched since it was summed
    if summed is not None and summed.get(_identity(stat)) == digest:
        return ""
    with open(path, "rb") as f:
        if hashlib.file_digest(f, "sha256").hexdigest() != digest:
            return "its content changed since it was written"
    return ""


def file_checksums(folder: Path) -> dict[str, list[Any]]:
    """`file_checksum` of every file of a generation folder but its manifest."""
    return {path.relative_to(folder).as_posix(): file_checksum(path)
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != MANIFEST}


def verify_files(folder: Path, manifest: Manifest, *, full: bool = False) -> None:
    """StoreError unless every file the manifest lists is present, whole and unchanged.

    Catches what opening alone misses: a truncated or overwritten file whose damage would
    otherwise surface as wrong results or an error deep in a search. See `file_damage`
    for when a file is hashed; builds pass `full`, as a scrub of the index they reuse.
    """
    rebuild = "rebuild with `quotebot index --full`"
    names = list(manifest.files) or ([META, VECTORS] if manifest.backend == "faiss" else [META])
    for name in names:
        path = folder / name
        if not path.is_file():
            raise StoreError(f"store {folder} lacks {name}: {rebuild}")
        if name not in manifest.files:
            continue
        try:
            why = file_damage(path, manifest.files[name], full=full)
        except (OSError, TypeError, ValueError) as exc:
            raise StoreError(f"store file {path} cannot be checked ({exc}): {rebuild}") from exc
        if why:
            raise StoreError(f"store file {path} is damaged ({why}): {rebuild}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that it is either the old content or the new one, never a mix."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file under `folder` and the folders themselves to disk."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                os.fsync(f.fileno())
        fsync_dir(Path(root))


def current_generation(store: Path) -> Path | None:
    """The live generation folder, or None when nothing was built yet."""
    try:
        name = (store / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"store {store}: CURRENT is unreadable ({exc}): "
                         "rebuild with `quotebot index --full`") from exc
    folder = store / name
    match = _GENERATION.fullmatch(name)
    if not match or match.group(2) or not folder.is_dir():
        raise StoreError(f"store {store}: CURRENT names {name[:80]!r}, which is not a "
                         "complete index: rebuild with `quotebot index --full`")
    return folder


def checked_at(folder: Path) -> float:
    """When the generation `folder` was last found to match the corpus: written, or kept by
    a build that found nothing to change (`mark_checked`); 0 when unknown."""
    try:
        return (folder / META).stat().st_mtime
    except OSError:
        return 0.0


def mark_checked(folder: Path) -> None:
    """Note that a build found the generation `folder` up to date with the corpus now (a
    skipped file changed before this is no pending change: `index.changes`)."""
    with contextlib.suppress(OSError):  # read-only: status may call an old skip pending
        os.utime(folder / META)


def generation_number(folder: Path) -> int:
    return int(folder.name.split("-")[1].split(".")[0])


def _generations(store: Path) -> list[tuple[int, bool, Path]]:
    """(number, complete, folder) of every generation folder in the store."""
    found = []
    for folder in store.glob("gen-*"):
        match = _GENERATION.fullmatch(folder.name)
        if match and folder.is_dir():
            found.append((int(match.group(1)), match.group(2) is None, folder))
    return sorted(found)


def publish(store: Path, folder: Path) -> None:
    """Make a complete generation live: one atomic rename of the CURRENT pointer."""
    fsync_tree(folder)
    write_atomic(store / CURRENT, folder.name.encode())


def prune(store: Path, keep: int) -> None:
    """Remove unfinished generations and all but the newest `keep` complete ones.

    Readers that still hold an older generation keep reading it (open files outlive
    their names); keeping the previous one covers readers that are just opening it.
    """
    live = current_generation(store)
    generations = _generations(store)
    complete = [folder for _, done, folder in generations if done]
    keepers = {p for p in complete[-max(keep, 1):]} | ({live} if live else set())
    for _, _, folder in generations:
        if folder not in keepers:
            shutil.rmtree(folder, ignore_errors=True)


def discard_unpublished(store: Path, live: Path | None) -> None:
    """Remove what a killed or failed build left: partial generations, and complete ones
    newer than `live` that were never published (killed between their rename and the
    switch of CURRENT). Readers only open what CURRENT names, so none is in use.
    """
    live_number = generation_number(live) if live else 0
    for number, done, folder in _generations(store):
        if not done or number > live_number:
            shutil.rmtree(folder, ignore_errors=True)
