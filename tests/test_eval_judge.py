"""The ragas-backed judge: argument mapping, NaN for what cannot be judged, failures kept."""

import math
from typing import Any

import pytest

from supercore_core import Settings
from supercore_core.errors import ConfigurationError
from supercore_core.evaluation.judge import RagasJudge, ragas_judge_for
from supercore_core.evaluation.ragas_metrics import Sample, judged_scores


class FakeMetric:
    """Stands in for a ragas collections metric: records its arguments, returns a value."""

    def __init__(self, value: float | Exception) -> None:
        self.value = value
        self.calls: list[dict[str, Any]] = []

    async def ascore(self, **kwargs: Any) -> float:
        self.calls.append(kwargs)
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


SAMPLE = Sample("What grew?", ["Revenue grew."], ["d1"], ["Revenue grew 12%."], ["d1"],
                answer="Revenue.", reference_answer="revenue")  # fmt: skip


def test_metrics_get_their_ragas_arguments() -> None:
    faithful, precise = FakeMetric(0.8), FakeMetric(0.5)
    judge = RagasJudge("fake", "m", {"faithfulness": faithful, "llm_context_precision": precise})
    (result,) = judged_scores([SAMPLE], judge)
    assert result.scores["faithfulness"] == pytest.approx(0.8)
    assert result.scores["llm_context_precision"] == pytest.approx(0.5)
    assert math.isnan(result.scores["answer_relevancy"])  # not configured: unmeasured
    assert result.cost_usd is None  # ragas reports no usage: unpriced, not $0
    assert faithful.calls == [{"user_input": "What grew?", "response": "Revenue.",
                               "retrieved_contexts": ["Revenue grew."]}]  # fmt: skip
    assert precise.calls[0]["reference"] == "revenue"


def test_no_answer_or_reference_means_unmeasured() -> None:
    faithful, precise = FakeMetric(1.0), FakeMetric(1.0)
    judge = RagasJudge("fake", "m", {"faithfulness": faithful, "llm_context_precision": precise})
    bare = Sample("q", ["c"], ["d"], [], [])
    scores = judge.judge(bare).scores
    assert math.isnan(scores["faithfulness"]) and math.isnan(scores["llm_context_precision"])
    assert faithful.calls == [] and precise.calls == []


def test_a_failing_judge_call_is_unmeasured_and_reported() -> None:
    judge = RagasJudge("fake", "m", {"faithfulness": FakeMetric(RuntimeError("rate limited"))})
    assert math.isnan(judge.judge(SAMPLE).scores["faithfulness"])
    assert judge.errors == ["faithfulness: RuntimeError: rate limited"]


def test_a_judge_needs_a_key() -> None:
    with pytest.raises(ConfigurationError, match="needs a key"):
        ragas_judge_for("anthropic", "claude-3-5-haiku-latest", Settings(anthropic_api_key=None))
