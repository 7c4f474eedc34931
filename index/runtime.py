"""The embedding model, with its runtime chosen once when it is loaded (like
sentence-transformers' `backend=`): the store's ONNX export through onnxruntime, or
sentence-transformers (torch) when there is none or `model.runtime = "torch"`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from index.embedding import Embedder
from index.onnx_encoder import OnnxEncoder
from index.onnx_export import check_export

log = logging.getLogger(__name__)


def load_embedder(name: str, *, store: Path, runtime: str = "onnx", precision: str = "fp32",
                  threads: int = 0, batch_size: int = 16,
                  allow_download: bool = False) -> tuple[Embedder, str]:
    """The model `name`, running on `runtime`; and why not ONNX when it asked for it ('')."""
    embedder = Embedder(name, batch_size=batch_size, allow_download=allow_download)
    if runtime != "onnx":
        return embedder, ""
    encoder, why = store_encoder(embedder.fingerprint, store, precision=precision,
                                 threads=threads)
    if encoder is None:
        return embedder, why
    return Embedder(name, batch_size=batch_size, allow_download=allow_download,
                    encoder=encoder), ""


def store_encoder(fingerprint: str, store: Path, *, precision: str = "fp32",
                  threads: int = 0) -> tuple[OnnxEncoder | None, str]:
    """An encoder running the store's ONNX export of a model, or None and why not.

    A missing, incomplete, damaged or unloadable export leaves the embedder on
    sentence-transformers: slower to start, same vectors (the next build makes it again).
    """
    export, why = check_export(store, fingerprint)
    if export is None:
        if "damaged" in why:
            log.warning("%s; using sentence-transformers: run `quotebot index` to export "
                        "the model again", why)
        return None, why
    if not export.model_path(precision).is_file():
        return None, f"no {precision} ONNX model in the store"
    damage = export.damage(precision)
    if damage:
        log.warning("%s; using sentence-transformers: run `quotebot index` to export the "
                    "model again", damage)
        return None, damage
    try:
        return OnnxEncoder(export, precision=precision, threads=threads), ""
    except Exception as exc:  # noqa: BLE001 - a damaged export means the slower path
        log.warning("ONNX model in %s is unusable (%s); using sentence-transformers",
                    export.folder, exc)
        return None, f"ONNX model unusable ({exc})"
