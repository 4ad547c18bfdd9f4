"""What an evaluation runs over: a BEIR folder or an oracle's golden set."""

from collections.abc import Mapping
from typing import Any, Protocol

from supercore_core.retrieval import Hit


class EvalSet(Protocol):
    """Judged queries, how a retrieved chunk maps to a judged document, and references."""

    @property
    def name(self) -> str:
        """What ``eval_runs.dataset`` records."""
        ...

    @property
    def queries(self) -> dict[str, str]:
        """Query key to question text (judged queries only)."""
        ...

    @property
    def qrels(self) -> dict[str, dict[str, int]]:
        """Query key to {document key: grade}."""
        ...

    def doc_key(self, hit: Hit) -> str:
        """The document key (as in ``qrels``) of a retrieved chunk."""
        ...

    def reference_answers(self) -> dict[str, str]:
        """Query key to reference answer, where there is one."""
        ...

    def reference_texts(self) -> dict[str, str]:
        """Document key to text, for the reference contexts of the ragas metrics."""
        ...

    def snapshot(self) -> Mapping[str, Any]:
        """What a run records about the set it ran against (stored in the run's metadata)."""
        ...
