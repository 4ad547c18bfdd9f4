"""Ingestion progress for the surfaces: documents done, texts embedded per second, time left.

``IngestMeter.metered(embedder)`` wraps the embedder handed to ``ingest``; texts served
from the embedding cache are not embedded and so not counted in texts/s.
"""

import time
from collections.abc import Callable, Sequence
from typing import Any

from supercore_core.embedding import Embedder


class IngestMeter:
    """Counts documents done and texts embedded; says texts/s and the time left."""

    def __init__(self, total: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.clock = total, clock
        self.started = clock()
        self.done = self.texts = 0
        self.embed_seconds = 0.0

    def metered(self, embedder: Embedder) -> Embedder:
        """``embedder``, counting what it embeds into this meter."""
        return _Metered(embedder, self)

    def document_done(self) -> None:
        """One more document finished (completed, unchanged or failed)."""
        self.done += 1

    @property
    def texts_per_s(self) -> float | None:
        """Texts embedded per second spent embedding (None before the first batch)."""
        return self.texts / self.embed_seconds if self.embed_seconds > 0 else None

    @property
    def seconds_left(self) -> float | None:
        """Estimated from the documents done so far (None before the first one)."""
        if not self.done:
            return None
        elapsed = self.clock() - self.started
        return elapsed / self.done * max(self.total - self.done, 0)

    def rate_text(self) -> str:
        """``"212 texts/s"`` (or ``"embedding ..."`` before the first batch)."""
        rate = self.texts_per_s
        return "embedding ..." if rate is None else f"{rate:,.0f} texts/s"

    def summary(self) -> str:
        """``"12/40 documents · 212 texts/s · 0:42 left"``."""
        left = self.seconds_left
        parts = [f"{self.done}/{self.total} documents", self.rate_text()]
        if left is not None:
            parts.append(f"{int(left) // 60}:{int(left) % 60:02d} left")
        return " · ".join(parts)


class _Metered:
    """The wrapped embedder: same name, vectors and token counts; embedding is timed."""

    def __init__(self, inner: Embedder, meter: IngestMeter) -> None:
        self.inner, self.meter = inner, meter
        self.model_name, self.dimensions = inner.model_name, inner.dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        started = self.meter.clock()
        vectors = self.inner.embed(texts)
        self.meter.embed_seconds += self.meter.clock() - started
        self.meter.texts += len(texts)
        return vectors

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def tqdm_updater(bar: Any, meter: IngestMeter) -> Callable[[object], None]:
    """An ``on_done`` callback for ``ingest`` that advances a tqdm bar (its own ETA) and
    shows the embedding rate next to it."""

    def advance(_: object) -> None:
        meter.document_done()
        bar.set_postfix_str(meter.rate_text(), refresh=False)
        bar.update()

    return advance
