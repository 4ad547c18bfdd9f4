"""Parameter sweeps per oracle: mode x k x RRF k / weights x chunk size, and promotion.

A chunk size is evaluated on a scratch oracle of the same tenant (``<oracle>~chunks<N>``)
that holds the corpus re-chunked: a benchmark's corpus, or for a golden set copies of the
oracle's own documents (``rechunk``); every other parameter is a search-time setting.
Every configuration is a stored run; ``promote_config`` writes the chosen one into the
oracle's ``retrieval_config`` in one call (a new chunk size applies to what is ingested
from then on: the oracle's documents are not re-ingested).
"""

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import oracle_by_id
from supercore_core.db.sessions import tenant_session
from supercore_core.embedding import Embedder
from supercore_core.errors import UserError
from supercore_core.evaluation.beir import BeirDataset
from supercore_core.evaluation.golden import GoldenEvalSet
from supercore_core.evaluation.rechunk import CopyOptions, LiveCopy, copy_live_oracle
from supercore_core.evaluation.runner import (
    EvalRequest,
    QueryEmbedder,
    evaluate,
    ingest_dataset,
    oracle_config,
)
from supercore_core.evaluation.runs import RunList, RunSummary
from supercore_core.evaluation.scratch import scratch_oracle
from supercore_core.evaluation.sets import EvalSet
from supercore_core.ingest.chunking import ChunkingConfig
from supercore_core.models import Oracle
from supercore_core.oracle_settings import RETRIEVAL_FIELDS, check_retrieval
from supercore_core.retrieval import MODES, Fusion, Mode, RetrievalConfig

SEARCH_KEYS = ("mode", "k", "fusion", "rrf_k", "dense_weight", "lexical_weight")


@dataclass(frozen=True)
class SweepGrid:
    """The values to try; fusion and weights only vary for hybrid, RRF k only for
    ``fusion="rrf"``. No ``fusions``: the oracle's own."""

    modes: Sequence[Mode] = MODES
    ks: Sequence[int] = (8,)
    rrf_ks: Sequence[int] = (60,)
    weights: Sequence[tuple[float, float]] = ((1.0, 1.0),)  # (dense, lexical)
    chunk_tokens: Sequence[int | None] = (None,)  # None: the oracle's own chunking
    fusions: Sequence[Fusion] = ()

    def check(self) -> None:
        """Refuse a value out of range before anything runs (``InvalidSettingError``)."""
        for k in self.ks:
            check_retrieval({"k": k})
        for rrf_k in self.rrf_ks:
            check_retrieval({"rrf_k": rrf_k})
        for fusion in self.fusions:
            check_retrieval({"fusion": fusion})
        for dense, lexical in self.weights:
            check_retrieval({"dense_weight": dense, "lexical_weight": lexical})
        for chunks in self.chunk_tokens:
            if chunks is not None:
                check_chunk_tokens(chunks)

    def configs(self, base: RetrievalConfig) -> Iterator[tuple[int | None, RetrievalConfig]]:
        """Each distinct (chunk size, search config) of the grid."""
        seen: set[tuple[Any, ...]] = set()
        for chunks, mode, k, fusion, rrf_k, (dense, lexical) in itertools.product(
            self.chunk_tokens,
            self.modes,
            self.ks,
            self.fusions or (base.fusion,),
            self.rrf_ks,
            self.weights,
        ):
            if mode != "hybrid":
                fusion, dense, lexical = base.fusion, base.dense_weight, base.lexical_weight
            if mode != "hybrid" or fusion != "rrf":
                rrf_k = base.rrf_k
            config = replace(base, mode=mode, k=k, fusion=fusion, rrf_k=rrf_k,
                             dense_weight=dense, lexical_weight=lexical)  # fmt: skip
            key = (chunks, mode, k, fusion, rrf_k, dense, lexical)
            if key not in seen:
                seen.add(key)
                yield chunks, config


@dataclass(frozen=True)
class SweepResult:
    """One stored run per configuration, and the run of the oracle's current settings."""

    oracle_id: UUID
    runs: tuple[RunSummary, ...]
    baseline: RunSummary | None = None
    copies: tuple[LiveCopy, ...] = ()  # the re-chunked copies of a live oracle, if any

    def to_frame(self) -> Any:
        """One row per configuration: its parameters and metric means with intervals."""
        import pandas as pd

        rows = []
        for run in self.runs:
            params = {key: run.config.get(key) for key in SEARCH_KEYS}
            params["chunk_tokens"] = run.config.get("chunk_tokens")
            rows.append({**params, **run.row()})
        return pd.DataFrame(rows)

    def best(self, metric: str = "nDCG@10") -> RunSummary:
        """The run with the highest mean of ``metric``."""
        scored = [r for r in self.runs if metric in r.metrics]
        if not scored:
            raise UserError(f"no run of this sweep measured {metric!r}")
        return max(scored, key=lambda r: r.metrics[metric].mean)

    def plot(self, metric: str = "nDCG@10") -> Any:
        """A plotly bar chart of ``metric`` per configuration with its interval."""
        figure = RunList(self.runs).plot(metric)
        figure.data[0].x = [_label(row) for row in self.to_frame().to_dict("records")]
        figure.update_layout(title=f"{metric} per configuration (95% bootstrap CI)", height=420)
        return figure


def _label(row: Mapping[str, Any]) -> str:
    label = f"{row['mode']} k={row['k']}"
    if row["mode"] == "hybrid":
        # runs recorded before score fusion existed fused by rank: no "fusion" key is rrf
        fusion = "convex" if row.get("fusion") == "convex" else f"rrf={row['rrf_k']}"
        label += f" {fusion} w={row['dense_weight']:g}:{row['lexical_weight']:g}"
    if row.get("chunk_tokens"):
        label += f" chunks={row['chunk_tokens']}"
    return label


def check_chunk_tokens(value: Any) -> int:
    """``value`` as a chunk size, checked on its own (the overlap follows from it)."""
    checked: int = check_retrieval({"chunk_tokens": value, "overlap_tokens": 0})["chunk_tokens"]
    return checked


def chunking_for(chunk_tokens: int) -> dict[str, int]:
    """The chunking a swept chunk size is evaluated (and promoted) with."""
    overlap = min(ChunkingConfig.overlap_tokens, chunk_tokens // 5)
    return {"chunk_tokens": chunk_tokens, "overlap_tokens": overlap}


def _evaluated_chunking(config: Mapping[str, Any]) -> dict[str, Any]:
    """The run's chunk size, and its overlap unless that is the default ingestion applies."""
    evaluated = chunking_for(check_chunk_tokens(config["chunk_tokens"]))
    if config.get("overlap_tokens") is not None:
        evaluated["overlap_tokens"] = config["overlap_tokens"]
    if evaluated["overlap_tokens"] == ChunkingConfig.overlap_tokens:
        del evaluated["overlap_tokens"]
    return evaluated


def rechunked_copy(
    sessions: sessionmaker[Session],
    dataset: BeirDataset,
    *,
    solution_id: UUID,
    oracle_id: UUID,
    chunk_tokens: int,
    embedder: Embedder,
) -> UUID:
    """The corpus re-chunked at ``chunk_tokens`` into the scratch ``<oracle>~chunks<N>``."""
    chunking = chunking_for(chunk_tokens)
    with tenant_session(sessions, solution_id=solution_id) as session:
        name = f"{oracle_by_id(session, oracle_id).oracle_name}~chunks{chunk_tokens}"
        scratch = scratch_oracle(session, solution_id=solution_id, name=name,
                                 purpose="rechunk", source=dataset.name)  # fmt: skip
        scratch.retrieval_config = chunking
        scratch_id = scratch.id
    ingest_dataset(sessions, dataset, solution_id=solution_id, oracle_id=scratch_id,
                   embedder=embedder, chunking=ChunkingConfig(**chunking))  # fmt: skip
    return scratch_id


@dataclass(frozen=True)
class _Variant:
    """Where one chunk size is evaluated: the oracle, the set as scored there, what to record."""

    oracle_id: UUID
    dataset: EvalSet
    metadata: dict[str, Any]
    copy: LiveCopy | None = None


def _variant(
    sessions: sessionmaker[Session], dataset: EvalSet, chunk_tokens: int, *,
    solution_id: UUID, oracle_id: UUID, embedder: Embedder, copies: CopyOptions | None,
) -> _Variant:  # fmt: skip
    """A benchmark corpus, or the golden set's own oracle, re-chunked in a scratch copy.

    Raises:
        UserError: The set is neither; the oracle has no documents; the copy lacks a
            judged document (the message names it and why).
    """
    if isinstance(dataset, BeirDataset):
        scratch_id = rechunked_copy(sessions, dataset, solution_id=solution_id,
                                    oracle_id=oracle_id, chunk_tokens=chunk_tokens,
                                    embedder=embedder)  # fmt: skip
        return _Variant(scratch_id, dataset, {})
    if not isinstance(dataset, GoldenEvalSet):
        raise UserError("chunk sizes can be swept on a golden set or a benchmark dataset only")
    copy = copy_live_oracle(sessions, solution_id=solution_id, oracle_id=oracle_id,
                            chunking=ChunkingConfig(**chunking_for(chunk_tokens)),
                            embedder=embedder, options=copies)  # fmt: skip
    missing = copy.missing(dataset.judged_documents)
    if missing:
        why = "; ".join(copy.failed) or "not ingested into the copy"
        raise UserError(f"the re-chunked copy {copy.name!r} lacks judged document(s) "
                        f"{', '.join(missing)} ({why}): chunk size {chunk_tokens} cannot be "
                        "compared on the same judgements")  # fmt: skip
    return _Variant(copy.oracle_id, dataset.on_copy(copy.aliases), {"rechunk": copy.snapshot()},
                    copy)  # fmt: skip


def run_sweep(
    sessions: sessionmaker[Session],
    dataset: EvalSet,
    *,
    solution_id: UUID,
    oracle_id: UUID,
    embedder: Embedder,
    grid: SweepGrid,
    on_run: Callable[[RunSummary], None] | None = None,
    copies: CopyOptions | None = None,
) -> SweepResult:
    """Evaluate the oracle's current settings (the baseline), then every configuration of
    ``grid`` on the oracle as it is (or, for chunk sizes, a re-chunked scratch copy).

    Every configuration is checked, and every re-chunked copy made, before the first run
    (``InvalidSettingError``, ``UserError``). On a golden set, a chunk size is evaluated
    on a copy of the oracle's own documents (``rechunk.copy_live_oracle``; ``copies`` says
    where their originals are kept), scored on the same judgements; the oracle itself is
    only read.
    """
    grid.check()
    sizes = sorted({c for c in grid.chunk_tokens if c is not None})
    variants = {
        size: _variant(sessions, dataset, size, solution_id=solution_id, oracle_id=oracle_id,
                       embedder=embedder, copies=copies)
        for size in sizes
    }  # fmt: skip
    base = oracle_config(sessions, solution_id, oracle_id)
    configs = list(grid.configs(base))
    embedder = QueryEmbedder(embedder)  # each query embedded once for the whole sweep
    sweep_of = {"sweep_of": str(oracle_id)}
    baseline = evaluate(sessions, EvalRequest(dataset, solution_id, oracle_id, base,
                                              kind="sweep", canaries=False,
                                              metadata={**sweep_of, "baseline": True}),
                        embedder=embedder)  # fmt: skip
    runs = []
    for chunks, config in configs:
        where = variants[chunks] if chunks is not None else _Variant(oracle_id, dataset, {})
        request = EvalRequest(where.dataset, solution_id, where.oracle_id, config, kind="sweep",
                              metadata={**sweep_of, **where.metadata})  # fmt: skip
        run = evaluate(sessions, request, embedder=embedder)
        runs.append(run)
        if on_run is not None:
            on_run(run)
    made = tuple(v.copy for v in variants.values() if v.copy is not None)
    return SweepResult(oracle_id, tuple(runs), baseline, made)


def promote_config(session: Session, *, oracle_id: UUID, config: Mapping[str, Any]) -> Oracle:
    """Write a run's search settings (and chunk size, if swept) into the oracle's config.

    A new chunk size (with the overlap it was evaluated with) applies to documents
    ingested from now on; re-ingest to apply it to the existing ones.

    Raises:
        InvalidSettingError: A value out of range; nothing is written.
    """
    oracle = oracle_by_id(session, oracle_id)
    chosen = {key: config[key] for key in SEARCH_KEYS if key in config}
    current = dict(oracle.retrieval_config)
    if config.get("chunk_tokens") is not None:
        chosen |= _evaluated_chunking(config)
        current.pop("overlap_tokens", None)  # the old overlap belonged to the old size
    stored = {k: v for k, v in current.items() if k in RETRIEVAL_FIELDS}
    checked = check_retrieval(stored | check_retrieval(chosen))  # before anything is written
    oracle.retrieval_config = {**current, **checked}
    session.flush()
    return oracle
