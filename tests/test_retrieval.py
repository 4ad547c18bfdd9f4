"""Dense, lexical and hybrid search over a small ingested corpus, as the application login.

The corpus is ingested once per module (ingestion commits) into tenants of its own. Chunk
texts are never repeated within a tenant, so ingestion never hits the embedding cache.
"""

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import tenant_session
from supercore_core.embedding import Embedder, MiniLMEmbedder
from supercore_core.errors import NotFoundError
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.retrieval import RetrievalConfig, SearchResults, search
from tests.factories import make_oracle, make_solution
from tests.fakes import HashingEmbedder

CORPUS = {
    "volcano.txt": "Volcanic eruptions spew lava and ash across the mountain slopes.",
    "bakery.txt": "The bakery sells sourdough bread, croissants and sweet pastries every morning.",
    "football.txt": "The football team scored three goals in the championship final.",
    "astronomy.txt": "Telescopes reveal distant galaxies, nebulae and quasars in the night sky.",
    "finance.txt": "Quarterly revenue grew while operating costs fell, lifting the profit margin.",
    "garden.txt": "Tomatoes and basil thrive in the sunny garden beside the greenhouse.",
    "audit.txt": "The zyxomorph compliance audit covered every subsidiary ledger.",
}
# Another oracle of the same tenant, and another tenant: words that would match queries
# on the main corpus, so a missing filter would show up in the hits.
OTHER_ORACLE = {
    "lava.txt": "Lava and ash from volcanic eruptions buried the quokkaberry village.",
}
OTHER_TENANT = {
    "eruption.txt": "Mountain slopes covered in volcanic lava, ash and quokkaberry bushes.",
}
CONFIGURED = {
    "one.txt": "Harbour cranes unload containers at dawn.",
    "two.txt": "Harbour pilots guide tankers past the breakwater.",
    "three.txt": "Harbour seals bask on the warm pier.",
}
FRAME_COLUMNS = [
    "rank",
    "score",
    "filename",
    "chunk_index",
    "retrievers",
    "content",
    "chunk_id",
    "document_id",
]


@dataclass(frozen=True)
class Corpus:
    solution_id: uuid.UUID
    oracle_id: uuid.UUID
    other_oracle_id: uuid.UUID
    other_solution_id: uuid.UUID
    other_tenant_oracle_id: uuid.UUID
    configured_solution_id: uuid.UUID
    configured_oracle_id: uuid.UUID
    chunk_ids: frozenset[uuid.UUID]


def load(
    sessions: sessionmaker[Session],
    solution_id: uuid.UUID,
    oracle_id: uuid.UUID,
    docs: dict[str, str],
    embedder: Embedder,
) -> None:
    outcomes = ingest(
        sessions,
        solution_id=solution_id,
        oracle_id=oracle_id,
        sources=[SourceFile(name, body.encode()) for name, body in docs.items()],
        embedder=embedder,
    )
    assert [o.status for o in outcomes] == ["completed"] * len(docs)


@pytest.fixture(scope="module")
def corpus(owner_engine: Engine, app_sessions: sessionmaker[Session]) -> Corpus:
    with Session(owner_engine) as session, session.begin():
        main = make_solution(session)
        oracles = [make_oracle(session, main), make_oracle(session, main)]
        oracles.append(make_oracle(session, make_solution(session)))
        oracles.append(
            make_oracle(
                session, make_solution(session), retrieval_config={"mode": "lexical", "k": 2}
            )
        )
        (sid, oid), (_, other_oid), (tenant_sid, tenant_oid), (conf_sid, conf_oid) = [
            (o.solution_id, o.id) for o in oracles
        ]
    embedder = HashingEmbedder()
    load(app_sessions, sid, oid, CORPUS, embedder)
    load(app_sessions, sid, other_oid, OTHER_ORACLE, embedder)
    load(app_sessions, tenant_sid, tenant_oid, OTHER_TENANT, embedder)
    load(app_sessions, conf_sid, conf_oid, CONFIGURED, embedder)
    with owner_engine.connect() as conn:
        chunk_ids = conn.execute(
            text("SELECT id FROM document_chunks WHERE oracle_id = :o"), {"o": oid}
        ).scalars()
        return Corpus(
            sid, oid, other_oid, tenant_sid, tenant_oid, conf_sid, conf_oid, frozenset(chunk_ids)
        )


@pytest.fixture
def find(app_sessions: sessionmaker[Session], corpus: Corpus) -> Any:
    """Search the main oracle (or another one of the tenant) as the app login."""

    def run(query: str, **kwargs: Any) -> SearchResults:
        solution_id = kwargs.pop("solution_id", corpus.solution_id)
        oracle_id = kwargs.pop("oracle_id", corpus.oracle_id)
        with tenant_session(app_sessions, solution_id=solution_id) as session:
            return search(
                session, oracle_id=oracle_id, query=query, embedder=HashingEmbedder(), **kwargs
            )

    return run


def filenames(results: SearchResults) -> list[str]:
    return [hit.filename for hit in results.hits]


def test_corpus_has_one_chunk_per_document(corpus: Corpus) -> None:
    assert len(corpus.chunk_ids) == len(CORPUS)


def test_dense_ranks_the_document_sharing_words_first(find: Any) -> None:
    results = find("lava and ash from the volcanic eruptions", mode="dense")

    assert results.mode == "dense"
    assert results.hits[0].filename == "volcano.txt"
    assert results.hits[0].content == CORPUS["volcano.txt"]
    assert results.hits[0].retrievers == ("dense",)
    assert results.hits[0].score > results.hits[1].score


def test_lexical_finds_a_document_by_an_exact_rare_term(find: Any) -> None:
    results = find("zyxomorph", mode="lexical")

    assert filenames(results) == ["audit.txt"]
    assert results.hits[0].retrievers == ("lexical",)
    assert results.hits[0].score > 0


def test_lexical_finds_nothing_for_a_term_only_other_oracles_have(find: Any) -> None:
    assert find("quokkaberry", mode="lexical").hits == ()


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_hits_come_only_from_the_searched_oracle(find: Any, corpus: Corpus, mode: str) -> None:
    results = find("volcanic lava ash mountain quokkaberry village bushes", mode=mode, k=50)

    assert {hit.chunk_id for hit in results.hits} <= corpus.chunk_ids
    assert "volcano.txt" in filenames(results)
    assert not {"lava.txt", "eruption.txt"} & set(filenames(results))


def test_dense_returns_every_chunk_of_the_oracle_and_no_other(find: Any, corpus: Corpus) -> None:
    results = find("volcanic lava ash", mode="dense", k=50)

    assert {hit.chunk_id for hit in results.hits} == corpus.chunk_ids


def test_the_other_oracle_is_searchable_on_its_own(find: Any, corpus: Corpus) -> None:
    results = find("quokkaberry", mode="lexical", oracle_id=corpus.other_oracle_id)

    assert filenames(results) == ["lava.txt"]


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_another_tenants_oracle_is_not_found(find: Any, corpus: Corpus, mode: str) -> None:
    with pytest.raises(NotFoundError, match=str(corpus.other_tenant_oracle_id)):
        find("quokkaberry", mode=mode, oracle_id=corpus.other_tenant_oracle_id)


@pytest.mark.parametrize(
    ("fusion", "top_score"),
    [("convex", 2.0), ("rrf", 2 / 61)],  # best of both lists; rank 1 in both, rrf_k 60
)
def test_hybrid_ranks_a_document_both_retrievers_found_first(
    find: Any, fusion: str, top_score: float
) -> None:
    config = RetrievalConfig(mode="hybrid", k=50, fusion=fusion)  # type: ignore[arg-type]
    results = find("bakery sourdough bread", config=config)

    top, *rest = results.hits
    assert top.filename == "bakery.txt"
    assert top.retrievers == ("dense", "lexical")
    assert top.score == pytest.approx(top_score)
    assert rest
    assert {hit.retrievers for hit in rest} == {("dense",)}
    assert all(hit.score < top.score for hit in rest)


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_k_limits_hits_and_ranks_run_from_one(find: Any, mode: str, k: int) -> None:
    results = find("volcanic bakery football telescopes", mode=mode, k=k)

    assert len(results.hits) == k
    assert [hit.rank for hit in results.hits] == list(range(1, k + 1))
    scores = [hit.score for hit in results.hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", ["", "   \n\t "])
@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_empty_query_has_no_hits(find: Any, query: str, mode: str) -> None:
    results = find(query, mode=mode)

    assert (results.query, results.mode, results.hits) == (query, mode, ())


def test_unknown_mode_is_refused(find: Any) -> None:
    with pytest.raises(ValueError, match="unknown retrieval mode 'fuzzy'"):
        RetrievalConfig(mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown retrieval mode 'fuzzy'"):
        find("bakery", mode="fuzzy")


def test_oracle_retrieval_config_applies_without_overrides(find: Any, corpus: Corpus) -> None:
    results = find(
        "harbour", solution_id=corpus.configured_solution_id, oracle_id=corpus.configured_oracle_id
    )

    assert results.mode == "lexical"
    assert len(results.hits) == 2
    assert {hit.retrievers for hit in results.hits} == {("lexical",)}


def test_call_overrides_win_over_the_oracle_config(find: Any, corpus: Corpus) -> None:
    where = {"solution_id": corpus.configured_solution_id, "oracle_id": corpus.configured_oracle_id}

    overridden = find("harbour", mode="dense", k=3, **where)
    given = find("harbour", config=RetrievalConfig(mode="hybrid", k=3), **where)

    assert (overridden.mode, len(overridden.hits)) == ("dense", 3)
    assert {hit.retrievers for hit in overridden.hits} == {("dense",)}
    assert (given.mode, len(given.hits)) == ("hybrid", 3)
    assert {hit.retrievers for hit in given.hits} == {("dense", "lexical")}


def test_to_frame_has_one_row_per_hit(find: Any) -> None:
    results = find("bakery sourdough bread", mode="hybrid", k=3)

    frame = results.to_frame()

    assert list(frame.columns) == FRAME_COLUMNS
    assert frame["rank"].tolist() == [1, 2, 3]
    assert frame["filename"].tolist() == filenames(results)
    assert frame["chunk_id"].tolist() == [hit.chunk_id for hit in results.hits]
    assert frame["retrievers"].iloc[0] == "dense+lexical"
    assert frame["content"].iloc[0] == CORPUS["bakery.txt"]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def test_real_embedder_finds_a_paraphrase_without_shared_words(
    owner_engine: Engine, app_sessions: sessionmaker[Session], minilm: MiniLMEmbedder
) -> None:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session))
        ids = (oracle.solution_id, oracle.id)
    docs = {
        "sales.txt": "The company's sales increased strongly last year.",
        "cat.txt": "A cat slept on the warm windowsill all afternoon.",
        "rain.txt": "Heavy rain flooded the mountain roads overnight.",
        "violin.txt": "She practiced the violin for the school concert.",
    }
    load(app_sessions, *ids, docs, minilm)

    with tenant_session(app_sessions, solution_id=ids[0]) as session:
        results = search(
            session, oracle_id=ids[1], query="revenue growth", embedder=minilm, mode="dense"
        )

    assert filenames(results)[0] == "sales.txt"
    assert len(results.hits) == 4
    assert results.hits[0].score > results.hits[1].score + 0.1


def test_every_hit_carries_its_cosine_similarity(find: Any) -> None:
    query = "bakery bread galaxies"
    dense = find(query, mode="dense").hits
    by_chunk = {h.chunk_id: h.similarity for h in dense}

    hybrid = find(query, mode="hybrid", k=7).hits

    assert dense and all(h.similarity == pytest.approx(h.score) for h in dense)
    assert all(h.similarity == pytest.approx(by_chunk[h.chunk_id]) for h in hybrid)
    assert all(h.similarity is None for h in find(query, mode="lexical").hits)


_FLOORS = {"dense": -1.0, "lexical": 0.0}


def _reference_fusion(
    lists: dict[str, list[Any]], cfg: RetrievalConfig
) -> list[tuple[uuid.UUID, float, tuple[str, ...]]]:
    """Hybrid fusion as the retrieval docs define it, from each retriever's own ranking."""
    weights = {"dense": cfg.dense_weight, "lexical": cfg.lexical_weight}
    scores: dict[uuid.UUID, float] = {}
    found: dict[uuid.UUID, list[str]] = {}
    for name, hits in lists.items():
        for rank, hit in enumerate(hits, start=1):
            spread = hits[0].score - _FLOORS[name]
            if cfg.fusion == "rrf":
                part = 1 / (cfg.rrf_k + rank)
            else:
                part = (hit.score - _FLOORS[name]) / spread if spread > 0 else 1.0
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + weights[name] * part
            found.setdefault(hit.chunk_id, []).append(name)
    best = sorted(scores, key=lambda c: scores[c], reverse=True)[: cfg.k]
    return [(c, scores[c], tuple(found[c])) for c in best]


@pytest.mark.parametrize(
    ("query", "fusion", "weights", "candidates"),
    [
        ("bakery bread galaxies", "convex", (1.0, 1.0), 100),
        ("bakery bread galaxies", "rrf", (1.0, 1.0), 100),
        ("revenue margin telescopes garden", "convex", (0.3, 2.0), 3),
        ("revenue margin telescopes garden", "rrf", (2.0, 0.5), 2),
        ("qwzx unseen words", "convex", (1.0, 1.0), 100),  # no lexeme in the oracle
    ],
)
def test_hybrid_fuses_each_retrievers_top_candidates_as_the_reference_does(
    find: Any, query: str, fusion: str, weights: tuple[float, float], candidates: int
) -> None:
    cfg = RetrievalConfig(
        mode="hybrid", k=5, fusion=fusion, dense_weight=weights[0],  # type: ignore[arg-type]
        lexical_weight=weights[1], candidates=candidates,
    )  # fmt: skip
    pool = max(candidates, cfg.k)
    lists = {m: list(find(query, mode=m, k=pool).hits) for m in ("dense", "lexical")}

    hybrid = find(query, config=cfg).hits

    expected = _reference_fusion(lists, cfg)
    assert [(h.chunk_id, h.retrievers) for h in hybrid] == [(c, r) for c, _, r in expected]
    assert [h.score for h in hybrid] == pytest.approx([s for _, s, _ in expected])
    assert [h.rank for h in hybrid] == list(range(1, len(expected) + 1))
