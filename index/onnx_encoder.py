"""Run the store's ONNX export of the embedding model: onnxruntime + `tokenizers`, no torch.

The export (`index.onnx_export`) outputs token embeddings; this module pools them
the way sentence-transformers does (mean over the attention mask, then L2
normalisation), so its vectors match the torch path to float rounding. The same
token embeddings give the per-sentence vectors (`index.embedding.pool_spans`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embedding import contextual_inputs, pool_contextual

if TYPE_CHECKING:  # only a type here: index.onnx_export itself runs this encoder
    from index.onnx_export import OnnxExport


class OnnxEncoder:
    """One onnxruntime session over an export; `threads` = intra-op threads (0: all cores)."""

    def __init__(self, export: OnnxExport, *, precision: str = "fp32", threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.export = export
        self.precision = precision
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(int(threads), 0)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(export.model_path(precision)), options,
                                            providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(export.tokenizer_path))
        pad = (tokenizer.padding or {}).get("pad_id")
        if pad is None:
            pad = tokenizer.token_to_id("[PAD]") or 0
        tokenizer.enable_truncation(max_length=export.window)
        tokenizer.enable_padding(pad_id=pad)  # to the longest text of each batch
        self.tokenizer = tokenizer  # not changed after this: safe to share between threads

    @property
    def dimension(self) -> int:
        return self.export.dimension

    def _forward(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        """Token embeddings (batch, tokens, dim), attention mask, and the encodings."""
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.export.inputs:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (tokens,) = self.session.run(None, {n: feeds[n] for n in self.export.inputs})
        return tokens, mask, encodings

    def encode(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """Normalised float32 vectors, one row per text (sentence-transformers' output)."""
        rows = [self._pooled(*self._forward(texts[i:i + batch_size])[:2])
                for i in range(0, len(texts), batch_size)]
        return np.vstack(rows) if rows else np.empty((0, self.dimension), np.float32)

    @staticmethod
    def _pooled(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        weights = mask[..., None].astype(np.float32)
        summed = (tokens * weights).sum(axis=1)
        mean = summed / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        return (mean / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed_chunks(self, texts: Sequence[str],
                     sentence_spans: Sequence[Sequence[tuple[int, int]]], batch_size: int = 16,
                     contexts: Sequence[str] | None = None, pool: str = "all",
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (chunk vector, sentence vectors) per text, as `Embedder.embed_chunks`."""
        inputs, shifts = contextual_inputs(texts, contexts, self._offsets,
                                           self.export.window)
        for i in range(0, len(inputs), batch_size):
            tokens, mask, encodings = self._forward(inputs[i:i + batch_size])
            chunks = self._pooled(tokens, mask)
            for j, encoding in enumerate(encodings):
                length = int(mask[j].sum())
                yield pool_contextual(tokens[j, :length], encoding.offsets[:length],
                                      sentence_spans[i + j], chunks[j], shifts[i + j],
                                      len(inputs[i + j]), pool)

    def _offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Character offsets of each text's word pieces, without special tokens."""
        return [e.offsets for e in self.tokenizer.encode_batch(list(texts),
                                                              add_special_tokens=False)]
