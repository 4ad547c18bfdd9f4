"""ragas metrics: context and answer metrics offline, LLM-judged ones through a judge.

The non-LLM metrics (``NonLLMContextPrecisionWithReference``, ``NonLLMContextRecall``,
``IDBasedContextPrecision/Recall``, exact match, string presence, Levenshtein similarity,
ROUGE-L) need no network. LLM-judged metrics (faithfulness, answer relevancy, context
precision) run only through a ``Judge`` the caller passes in; tests inject a fake one.
ragas' analytics are switched off and its cache kept inside the project.
"""

import asyncio
import math
import os
import warnings
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar, runtime_checkable

from supercore_core.config import PROJECT_ROOT

os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
os.environ.setdefault("RAGAS_CACHE_HOME", str(PROJECT_ROOT / ".supercore" / "ragas"))

T = TypeVar("T")
CONTEXT_METRICS = (
    "context_precision",
    "context_recall",
    "id_context_precision",
    "id_context_recall",
)
ANSWER_METRICS = ("exact_match", "string_presence", "string_similarity", "rouge_l")
JUDGED_METRICS = ("faithfulness", "answer_relevancy", "llm_context_precision")


@dataclass(frozen=True)
class Sample:
    """What one query produced and what it should have produced."""

    question: str
    retrieved_contexts: Sequence[str]
    retrieved_ids: Sequence[str]
    reference_contexts: Sequence[str]
    reference_ids: Sequence[str]
    answer: str | None = None
    reference_answer: str | None = None


@dataclass(frozen=True)
class Judgement:
    """An LLM judge's scores for one sample and the tokens the judging took."""

    scores: dict[str, float]
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal | None = Decimal(0)  # None: the judge model is unpriced


@runtime_checkable
class Judge(Protocol):
    """Scores a sample with an LLM (faithfulness, answer relevancy, context precision)."""

    provider: str
    model: str

    def judge(self, sample: Sample) -> Judgement:
        """Scores in [0, 1] keyed by names in ``JUDGED_METRICS``; NaN when not judged."""
        ...


def _legacy_metrics() -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ragas.metrics import (
            ExactMatch,
            IDBasedContextPrecision,
            IDBasedContextRecall,
            NonLLMContextPrecisionWithReference,
            NonLLMContextRecall,
            NonLLMStringSimilarity,
            RougeScore,
            StringPresence,
        )

    return {
        "context_precision": NonLLMContextPrecisionWithReference(),
        "context_recall": NonLLMContextRecall(),
        "id_context_precision": IDBasedContextPrecision(),
        "id_context_recall": IDBasedContextRecall(),
        "exact_match": ExactMatch(),
        "string_presence": StringPresence(),
        "string_similarity": NonLLMStringSimilarity(),
        "rouge_l": RougeScore(rouge_type="rougeL"),
    }


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion, also from inside a running loop (Jupyter)."""

    async def main() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _single_turn(sample: Sample) -> Any:
    from ragas.dataset_schema import SingleTurnSample

    return SingleTurnSample(
        user_input=sample.question,
        retrieved_contexts=list(sample.retrieved_contexts),
        reference_contexts=list(sample.reference_contexts),
        retrieved_context_ids=list(sample.retrieved_ids),
        reference_context_ids=list(sample.reference_ids),
        response=sample.answer,
        reference=sample.reference_answer,
    )


def _unscorable(name: str, sample: Sample) -> float | None:
    """The value of a metric the sample cannot be scored on, or None when it can.

    Nothing retrieved: recall is 0 (something was expected), precision is unmeasured.
    """
    if name in ANSWER_METRICS:
        return None if sample.answer is not None and sample.reference_answer else math.nan
    contexts, references = (
        (sample.retrieved_ids, sample.reference_ids)
        if name.startswith("id_")
        else (sample.retrieved_contexts, sample.reference_contexts)
    )
    if not references:
        return math.nan
    if not contexts:
        return 0.0 if name.endswith("recall") else math.nan
    return None


async def _score_one(metrics: dict[str, Any], sample: Sample) -> dict[str, float]:
    converted = _single_turn(sample)
    scores: dict[str, float] = {}
    for name, metric in metrics.items():
        if name in ANSWER_METRICS and sample.answer is None:
            continue  # no answers in this run: answer metrics are not part of it
        fixed = _unscorable(name, sample)
        if fixed is not None:
            scores[name] = fixed
            continue
        value = await metric.single_turn_ascore(converted)
        scores[name] = math.nan if value is None else float(value)
    return scores


def ragas_scores(samples: Sequence[Sample]) -> list[dict[str, float]]:
    """Non-LLM ragas scores per sample; NaN where a sample lacks what a metric needs."""
    metrics = _legacy_metrics()

    async def score_all() -> list[dict[str, float]]:
        return [await _score_one(metrics, s) for s in samples]

    return run_sync(score_all)


def judged_scores(samples: Sequence[Sample], judge: Judge | None) -> list[Judgement]:
    """The judge's scores per sample; without a judge every judged metric is NaN."""
    if judge is None:
        return [Judgement(dict.fromkeys(JUDGED_METRICS, math.nan)) for _ in samples]
    judged = []
    for sample in samples:
        result = judge.judge(sample)
        scores = {name: float(result.scores.get(name, math.nan)) for name in JUDGED_METRICS}
        judged.append(Judgement(scores, result.input_tokens, result.output_tokens, result.cost_usd))
    return judged
