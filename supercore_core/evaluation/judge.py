"""An LLM judge backed by ragas' LLM metrics (faithfulness, answer relevancy, precision).

Only built when the user configured a judge model with a key: nothing here runs in tests
or offline. ragas does not report the judge's token usage, so a judged run's judge tokens
are 0 and its cost is unpriced (None), never a silent $0. A metric the judge fails on is
NaN (unmeasured) with the reason kept in ``errors``.
"""

import functools
import math
from collections.abc import Mapping
from typing import Any

from supercore_core.config import Settings
from supercore_core.errors import ConfigurationError
from supercore_core.evaluation.ragas_metrics import Judgement, Sample, run_sync


def _arguments(name: str, sample: Sample) -> dict[str, Any] | None:
    """The metric's keyword arguments, or None when the sample lacks what it needs."""
    if sample.answer is None and name != "llm_context_precision":
        return None
    if name == "faithfulness":
        return {"user_input": sample.question, "response": sample.answer,
                "retrieved_contexts": list(sample.retrieved_contexts)}  # fmt: skip
    if name == "answer_relevancy":
        return {"user_input": sample.question, "response": sample.answer}
    if not sample.reference_answer:
        return None
    return {"user_input": sample.question, "reference": sample.reference_answer,
            "retrieved_contexts": list(sample.retrieved_contexts)}  # fmt: skip


class RagasJudge:
    """Scores samples with ragas LLM metrics (objects with ``async ascore(**kwargs)``)."""

    def __init__(self, provider: str, model: str, metrics: Mapping[str, Any]) -> None:
        self.provider = provider
        self.model = model
        self.metrics = dict(metrics)
        self.errors: list[str] = []

    def judge(self, sample: Sample) -> Judgement:
        """One score per metric; NaN when the sample cannot be judged or the judge failed."""
        scores: dict[str, float] = {}
        for name, metric in self.metrics.items():
            arguments = _arguments(name, sample)
            if arguments is None:
                scores[name] = math.nan
                continue
            try:
                result = run_sync(functools.partial(metric.ascore, **arguments))
                scores[name] = float(getattr(result, "value", result))
            except Exception as exc:  # a provider or parsing failure: unmeasured, reported
                self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                scores[name] = math.nan
        return Judgement(scores, cost_usd=None)


def ragas_judge_for(provider: str, model: str, settings: Settings) -> RagasJudge:
    """A ragas judge on ``provider/model`` with the configured key (anthropic or openai)."""
    from ragas.llms import llm_factory
    from ragas.metrics.collections import ContextPrecision, Faithfulness

    key = {"anthropic": settings.anthropic_api_key, "openai": settings.openai_api_key}.get(provider)
    if key is None:
        raise ConfigurationError(
            f"judge {provider}/{model} needs a key: set ANTHROPIC_API_KEY or OPENAI_API_KEY "
            "(judges are anthropic or openai models)"
        )
    client: Any
    if provider == "anthropic":
        from anthropic import AsyncAnthropic

        client = AsyncAnthropic(
            api_key=key.get_secret_value(), base_url=settings.anthropic_base_url
        )
    else:
        from openai import AsyncOpenAI

        client = AsyncOpenAI(api_key=key.get_secret_value(), base_url=settings.openai_base_url)
    llm = llm_factory(model, provider=provider, client=client)
    # answer_relevancy needs ragas embeddings as well: left unmeasured (NaN) by this judge.
    metrics = {
        "faithfulness": Faithfulness(llm=llm),
        "llm_context_precision": ContextPrecision(llm=llm),
    }
    return RagasJudge(provider, model, metrics)
