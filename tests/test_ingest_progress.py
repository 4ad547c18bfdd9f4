"""IngestMeter: texts/s of the embedder and the time left, on a clock the test drives."""

from collections.abc import Sequence

from supercore_core.ingest.progress import IngestMeter, tqdm_updater


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class SlowEmbedder:
    model_name, dimensions = "fake", 2

    def __init__(self, clock: Clock, seconds_per_text: float) -> None:
        self.clock, self.seconds_per_text = clock, seconds_per_text

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.clock.now += self.seconds_per_text * len(texts)
        return [[1.0, 0.0] for _ in texts]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class Bar:
    def __init__(self) -> None:
        self.n, self.postfix = 0, ""

    def update(self) -> None:
        self.n += 1

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text


def test_the_meter_reports_texts_per_second_and_time_left() -> None:
    clock = Clock()
    meter = IngestMeter(4, clock=clock)
    embedder = meter.metered(SlowEmbedder(clock, seconds_per_text=0.01))
    assert meter.summary() == "0/4 documents · embedding ..."
    assert embedder.model_name == "fake" and embedder.count_tokens("a b c") == 3
    assert embedder.embed(["x"] * 50) == [[1.0, 0.0]] * 50  # 0.5 s of embedding
    clock.now += 0.5  # storing takes as long again
    meter.document_done()
    assert meter.texts_per_s == 100.0
    assert meter.seconds_left == 3.0  # 1 s per document so far, 3 to go
    assert meter.summary() == "1/4 documents · 100 texts/s · 0:03 left"


def test_texts_from_the_cache_are_not_counted_as_embedded() -> None:
    clock = Clock()
    meter = IngestMeter(1, clock=clock)
    meter.metered(SlowEmbedder(clock, 0.01)).embed([])
    assert meter.texts == 0
    assert meter.rate_text() == "embedding ..."


def test_the_tqdm_updater_advances_the_bar_with_the_rate() -> None:
    clock = Clock()
    meter, bar = IngestMeter(2, clock=clock), Bar()
    meter.metered(SlowEmbedder(clock, 0.004)).embed(["a"] * 250)
    advance = tqdm_updater(bar, meter)
    advance(object())
    advance(object())
    assert (bar.n, meter.done, bar.postfix) == (2, 2, "250 texts/s")
    assert meter.seconds_left == 0.0
