"""all-MiniLM-L6-v2 on ONNX Runtime: the fast tokenizer, mean pooling, normalisation.

Imports neither torch nor transformers, so a CLI call that only embeds a query starts in
well under a second once the model file exists. Pooling and normalisation are those of
sentence-transformers (mean over the attention mask, then unit length); texts are cut at
256 word pieces like the reference model.
"""

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from supercore_core.embedding.base import DEFAULT_DIMENSIONS, DEFAULT_MODEL, MAX_TOKENS

BATCH = 32  # texts per run; sorted by length first, so little padding


@functools.cache
def _tokenizers(model_dir: Path) -> tuple[Any, Any]:
    """(for embedding: truncated at 256, padded per batch; for counting: neither)."""
    from tokenizers import Tokenizer

    counting = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    counting.no_truncation()
    counting.no_padding()
    embedding = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    embedding.enable_truncation(MAX_TOKENS)
    embedding.no_padding()  # padded per batch in _run
    return embedding, counting


@functools.cache
def _session(model_file: Path) -> Any:
    """One inference session per model file and process (thread spinning off: the
    machine is shared, and spinning threads steal the cores other work needs)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(
        str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
    )


def mean_pooled(hidden: Any, mask: Any) -> Any:
    """Mean of the token vectors under the mask, scaled to unit length."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return pooled / np.clip(norms, 1e-12, None)


class OnnxMiniLMEmbedder:
    """The bundled MiniLM exported to ONNX (fp32, or int8 with ``variant="onnx-int8"``)."""

    dimensions = DEFAULT_DIMENSIONS

    def __init__(self, model_file: Path, model_dir: Path, variant: str) -> None:
        self.model_file, self.model_dir, self.implementation = model_file, model_dir, variant
        self.model_name = f"{DEFAULT_MODEL}+{variant}"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalised embeddings in input order (batched by length internally)."""
        if not texts:
            return []
        tokenizer, _ = _tokenizers(self.model_dir)
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=True)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chosen = order[start : start + BATCH]
            out[chosen] = self._run([encodings[i] for i in chosen])
        return [list(map(float, v)) for v in out]

    def _run(self, encodings: Sequence[Any]) -> Any:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = e.attention_mask
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = _session(self.model_file).run(["last_hidden_state"], feeds)
        return mean_pooled(hidden, mask)

    def count_tokens(self, text: str) -> int:
        """Word pieces of the model's own tokenizer (no truncation, no special tokens)."""
        _, counting = _tokenizers(self.model_dir)
        return len(counting.encode(text, add_special_tokens=False).ids)
