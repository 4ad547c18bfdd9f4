"""Embedders behind one Protocol; the default is all-MiniLM-L6-v2, bundled and offline.

The bundled model has three implementations (``SUPERCORE_EMBEDDER``): ONNX Runtime fp32
(default), ONNX Runtime int8 and the PyTorch reference; see ``choice``. Each is loaded
once per process and shared by every caller.
"""

import functools
import logging
from pathlib import Path

from supercore_core.config import Settings
from supercore_core.embedding.base import DEFAULT_DIMENSIONS, DEFAULT_MODEL, Embedder
from supercore_core.embedding.choice import (
    IMPLEMENTATIONS,
    Implementation,
    effective,
    has_vnni,
    model_file,
)
from supercore_core.embedding.minilm_torch import MiniLMEmbedder, model_dir
from supercore_core.embedding.onnx_runtime import OnnxMiniLMEmbedder
from supercore_core.embedding.remote import OpenAIEmbedder
from supercore_core.models import Oracle

__all__ = [
    "DEFAULT_DIMENSIONS",
    "DEFAULT_MODEL",
    "IMPLEMENTATIONS",
    "Embedder",
    "Implementation",
    "MiniLMEmbedder",
    "OnnxMiniLMEmbedder",
    "OpenAIEmbedder",
    "embedder_for",
    "minilm_embedder",
    "onnx_embedder",
]

logger = logging.getLogger(__name__)


def minilm_embedder(settings: Settings, implementation: Implementation | None = None) -> Embedder:
    """The bundled MiniLM in the configured implementation (``settings.embedder``).

    ``onnx-int8`` becomes ``onnx`` on a CPU without VNNI (logged once).
    """
    chosen = effective(implementation or settings.embedder, vnni=has_vnni())
    if chosen == "torch":
        return MiniLMEmbedder()
    return onnx_embedder(settings.models_dir, chosen)


@functools.cache
def onnx_embedder(models_dir: Path, variant: Implementation) -> OnnxMiniLMEmbedder:
    """The ONNX embedder of ``variant``, exporting its model file first if missing."""
    path = model_file(models_dir, variant)
    if not path.exists():
        from supercore_core.embedding.onnx_export import build

        logger.warning("exporting all-MiniLM-L6-v2 to ONNX (%s), once: %s", variant, path)
        build(model_dir(), path, int8=variant == "onnx-int8")
    return OnnxMiniLMEmbedder(path, model_dir(), variant)


def embedder_for(oracle: Oracle, settings: Settings) -> Embedder:
    """The oracle's embedder: the bundled MiniLM by default, else an OpenAI-compatible API."""
    if oracle.embedding_model == DEFAULT_MODEL:
        return minilm_embedder(settings)
    return OpenAIEmbedder(oracle.embedding_model, settings, oracle.embedding_dimensions)
