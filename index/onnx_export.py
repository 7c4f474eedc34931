"""Export the embedding model to ONNX once per store, so answering needs no torch.

Importing sentence-transformers costs seconds and hundreds of MB before the first
answer; onnxruntime and the model's `tokenizer.json` start in a fraction of that.
The build exports the model's transformer (token embeddings out; pooling and
normalisation are redone in numpy by `index.onnx_encoder`) into

    <store>/models/<model fingerprint>/
        export.json        fingerprint, dimension, window, input names, and the size and
                           SHA-256 of each file below (written last)
        model.onnx         fp32: the same vectors as sentence-transformers (checked here)
        model-int8.onnx    optional, per-channel int8 weights for faster indexing
        tokenizer.json     the model's tokenizer

Every generation of the store shares it. The folder is written under a temporary
name and renamed into place, and the int8 file is renamed in when complete, so a
killed build never leaves a half-written model that a reader would load.
Damage done later (overwritten bytes in the weights silently change every
vector) is caught by the checksums: a reader falls back to sentence-transformers
and the next build makes the export again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding import Embedder, ModelError
from index.onnx_encoder import OnnxEncoder
from store.generations import (
    FileIdentity,
    file_checksum,
    file_damage,
    fsync_dir,
    fsync_tree,
    write_atomic,
)

MODELS = "models"
EXPORT_JSON = "export.json"
FP32, INT8 = "model.onnx", "model-int8.onnx"
TOKENIZER = "tokenizer.json"
EXPORT_VERSION = 2  # 2: export.json lists [size, sha256, mtime_ns] of each file
OPSET = 17
# The export must reproduce sentence-transformers' vectors this closely (cosine) on the
# check texts, or it is not used.
CHECK_TOLERANCE = 1e-4
_CHECK_TEXTS = [
    "How many civilians are trapped in Raqqa?",
    "The Eiffel Tower was completed in 1889 for the World's Fair in Paris.",
    "short",
    "A longer passage, with punctuation; numbers like 3.14 and 1,000; and \u00e9l\u00e8ves "
    "plus \u4e2d\u6587 text, repeated. " * 12,
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnnxExport:
    """A complete export found in a store: where it is and what it was made from."""

    folder: Path
    fingerprint: str
    dimension: int
    window: int
    inputs: tuple[str, ...]
    files: dict[str, list[Any]] = field(default_factory=dict, compare=False)

    def model_path(self, precision: str = "fp32") -> Path:
        return self.folder / (INT8 if precision == "int8" else FP32)

    @property
    def tokenizer_path(self) -> Path:
        return self.folder / TOKENIZER

    def damage(self, precision: str = "fp32", *, full: bool = False) -> str:
        """Why this precision's model or the tokenizer is not as written ('' if whole).

        Like the store's files (`store.generations.verify_files`): a file whose size and mtime are
        still those recorded is trusted without hashing it, unless `full` (builds hash)."""
        for path in (self.model_path(precision), self.tokenizer_path):
            why = _file_damage(path, self.files.get(path.name), full)
            if why:
                return why
        return ""


# Files this process wrote and summed, so that checking them does not read them again.
_written: dict[FileIdentity, str] = {}


def _file_damage(path: Path, expected: Any, full: bool = False) -> str:
    """Why `path` differs from its recorded [size, sha256, mtime_ns] ('' if it does not)."""
    try:
        why = file_damage(path, expected, full=full, summed=_written)
    except (TypeError, ValueError):
        return f"{path} has no checksum in {EXPORT_JSON}"
    except OSError as exc:
        return f"{path} cannot be read ({exc})"
    return f"{path} is damaged ({why})" if why else ""


def _checksum(path: Path) -> list[Any]:
    return file_checksum(path, _written)


def export_folder(store: Path, fingerprint: str) -> Path:
    return Path(store) / MODELS / fingerprint


def find_export(store: Path, fingerprint: str) -> OnnxExport | None:
    """The store's export for this model, or None when it is missing, incomplete or damaged."""
    return check_export(store, fingerprint)[0]


def check_export(store: Path, fingerprint: str, *,
                 full: bool = False) -> tuple[OnnxExport | None, str]:
    """(the store's whole export for this model, '') or (None, why there is none).

    The fp32 model and the tokenizer must match the size and SHA-256 recorded when they
    were written: hashed (~90 MB, remembered for the process) when `full` or when their
    size or mtime changed since.
    """
    folder = export_folder(store, fingerprint)
    try:
        meta = json.loads((folder / EXPORT_JSON).read_text(encoding="utf-8"))
        export = OnnxExport(folder, str(meta["fingerprint"]), int(meta["dimension"]),
                            int(meta["window"]), tuple(meta["inputs"]),
                            dict(meta.get("files") or {}))
    except (OSError, ValueError, KeyError, TypeError):
        return None, "no ONNX export of the model in the store"
    if meta.get("version") != EXPORT_VERSION or export.fingerprint != fingerprint:
        return None, "the store's ONNX export is of another version or model"
    if not (export.model_path().is_file() and export.tokenizer_path.is_file()):
        return None, "the store's ONNX export is incomplete"
    damage = export.damage("fp32", full=full)
    return (None, damage) if damage else (export, "")


def ensure_export(store: Path, embedder: Embedder, *, int8: bool = False) -> OnnxExport | None:
    """The store's export, made now if missing (imports torch once). None if not possible.

    Only models that sentence-transformers runs as transformer + mean pooling
    (+ normalisation) are exported: their vectors are then reproduced exactly.
    Call under the store's build lock.
    """
    export, why = check_export(store, embedder.fingerprint, full=True)  # builds hash
    if export is None:
        if "damaged" in why:
            log.warning("%s: exporting the model again", why)
        try:
            export = _export(store, embedder)
        except ModelError:
            raise  # the model itself cannot be loaded: the slower path would fail the same
        except Exception as exc:  # noqa: BLE001 - no export only means the slower path
            log.warning("ONNX export of %s failed (%s); using sentence-transformers",
                        embedder.resolved.name, exc)
            return None
    if export is not None and int8 and export.damage("int8", full=True):
        try:
            quantize_int8(export)
        except Exception as exc:  # noqa: BLE001 - the caller falls back to fp32
            log.warning("int8 quantisation of %s failed (%s)", embedder.resolved.name, exc)
    return export


def _export(store: Path, embedder: Embedder) -> OnnxExport | None:
    import torch

    model = embedder.model
    reason = _unsupported(model)
    if reason:
        log.warning("not exporting %s to ONNX: %s", embedder.resolved.name, reason)
        return None
    models = Path(store) / MODELS
    models.mkdir(parents=True, exist_ok=True)
    for stale in models.glob("*.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = models / f"{embedder.fingerprint}.partial-{os.getpid()}"
    tmp.mkdir()
    try:
        tokenizer = model.tokenizer
        inputs = tuple(n for n in ("input_ids", "attention_mask", "token_type_ids")
                       if n in tokenizer.model_input_names)
        transformer = model[0].auto_model.eval()
        # Trace with real padding, so no shortcut for all-ones attention masks is baked in.
        sample = tokenizer(["a padded sample text for tracing", "short"], padding=True,
                           return_tensors="pt")
        args = tuple(sample[n] for n in inputs)
        axes = {n: {0: "batch", 1: "tokens"} for n in (*inputs, "token_embeddings")}
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shapes that are fixed anyway
            torch.onnx.export(_token_embeddings(transformer, inputs), args, str(tmp / FP32),
                              input_names=list(inputs), output_names=["token_embeddings"],
                              dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        tokenizer.backend_tokenizer.save(str(tmp / TOKENIZER))
        dimension = int(embedder.dimension)
        export = OnnxExport(tmp, embedder.fingerprint, dimension, int(model.max_seq_length),
                            inputs)
        _check(export, embedder)
        meta = {"version": EXPORT_VERSION, "fingerprint": export.fingerprint,
                "dimension": dimension, "window": export.window, "inputs": list(inputs),
                "model": embedder.resolved.name, "opset": OPSET, "torch": torch.__version__,
                "files": {name: _checksum(tmp / name) for name in (FP32, TOKENIZER)}}
        (tmp / EXPORT_JSON).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        fsync_tree(tmp)
        final = export_folder(store, embedder.fingerprint)
        if final.exists():  # an incomplete one (export.json missing): replace it
            shutil.rmtree(final)
        os.rename(tmp, final)
        fsync_dir(models)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return find_export(store, embedder.fingerprint)


def _unsupported(model: object) -> str:
    """Why this sentence-transformers model cannot be exported as token embeddings + mean."""
    modules = [type(m).__name__ for m in model]  # type: ignore[attr-defined]
    if modules[:2] != ["Transformer", "Pooling"] or modules[2:] not in ([], ["Normalize"]):
        return f"modules {modules} are not transformer + pooling (+ normalize)"
    pooling = model[1]  # type: ignore[index]
    mode = getattr(pooling, "pooling_mode", None) or (
        "mean" if getattr(pooling, "pooling_mode_mean_tokens", False) else "other")
    if mode != "mean" or getattr(pooling, "include_prompt", True) is False:
        return f"pooling {mode!r} is not mean pooling"
    return ""


def _token_embeddings(transformer: object, inputs: tuple[str, ...]) -> object:
    """The transformer as a torch module taking positional inputs, returning token embeddings."""
    import torch

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.transformer(**dict(zip(inputs, args, strict=True))).last_hidden_state

    return TokenEmbeddings()


def _check(export: OnnxExport, embedder: Embedder) -> None:
    """Refuse an export whose vectors differ from sentence-transformers' (ValueError)."""
    reference = embedder.encode_queries(_CHECK_TEXTS)
    got = OnnxEncoder(export, threads=1).encode(_CHECK_TEXTS)
    worst = float(np.min(np.sum(reference * got, axis=1)))
    if worst < 1 - CHECK_TOLERANCE:
        raise ValueError(f"exported model disagrees with sentence-transformers (cosine {worst})")


def quantize_int8(export: OnnxExport) -> None:
    """Write the int8 model beside the fp32 one (renamed in when complete).

    Weights are int8 per output channel, activations are quantised on the fly. Per-tensor
    int8 lost too much retrieval quality; keeping the feed-forward down-projections in
    fp32 brought the vectors closer to fp32 but SciFact no closer, and cost speed.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = export.model_path("int8")
    tmp = target.with_name(f"{target.name}.partial-{os.getpid()}")
    try:
        quiet = logging.getLogger()
        level, quiet.level = quiet.level, logging.ERROR  # "consider pre-processing" advice
        try:
            quantize_dynamic(str(export.model_path()), str(tmp), per_channel=True,
                             weight_type=QuantType.QInt8)
        finally:
            quiet.level = level
        _fsync_file(tmp)
        # Its checksum goes in first: a kill before the rename leaves it listed but absent,
        # which reads as "no int8 model" (quantised again), never as an unchecked file.
        meta_path = export.folder / EXPORT_JSON
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["files"][target.name] = _checksum(tmp)
        write_atomic(meta_path, json.dumps(meta, indent=2).encode())
        export.files[target.name] = meta["files"][target.name]
        os.replace(tmp, target)
        fsync_dir(export.folder)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())
