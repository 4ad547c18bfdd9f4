"""Hostile questions and settings on a real database, as the app login (issue 15).

Every bad input gets a clear ``UserError`` that names what to change; nothing is recorded
and nothing crashes deep in search.
"""

import itertools
import math
import re
import string
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Settings, tenant_session
from supercore_core.catalog import oracle_by_id, update_oracle
from supercore_core.chat import ask
from supercore_core.errors import InvalidQuestionError, InvalidSettingError
from supercore_core.evaluation.sweep import promote_config
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.models import Conversation, Message
from supercore_core.retrieval import SearchResults, search
from tests.factories import make_oracle, make_solution
from tests.fakes import FakeChatModel, HashingEmbedder

DOCS = {
    "volcano.txt": "Volcanic eruptions spew lava and ash across the mountain slopes.",
    "bakery.txt": "The bakery sells sourdough bread and croissants every morning.",
}


@dataclass(frozen=True)
class Ids:
    solution_id: uuid.UUID
    oracle_id: uuid.UUID


@pytest.fixture(scope="module")
def corpus(owner_engine: Engine, app_sessions: sessionmaker[Session]) -> Ids:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session))
        ids = Ids(oracle.solution_id, oracle.id)
    outcomes = ingest(app_sessions, solution_id=ids.solution_id, oracle_id=ids.oracle_id,
                      sources=[SourceFile(n, b.encode()) for n, b in DOCS.items()],
                      embedder=HashingEmbedder())  # fmt: skip
    assert {o.status for o in outcomes} == {"completed"}
    return ids


@pytest.fixture
def fresh(owner_engine: Engine) -> Ids:
    """An empty oracle of its own (settings and conversations change in these tests)."""
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session))
        return Ids(oracle.solution_id, oracle.id)


def find(session: Session, ids: Ids, query: str, **kwargs: Any) -> SearchResults:
    return search(session, oracle_id=ids.oracle_id, query=query, embedder=HashingEmbedder(),
                  **kwargs)  # fmt: skip


def chat(session: Session, ids: Ids, question: str, session_id: str = "s-1", **kw: Any) -> None:
    settings = kw.pop("settings", Settings())
    ask(session, oracle_id=ids.oracle_id, session_id=session_id, question=question,
        chat_model=FakeChatModel(), embedder=HashingEmbedder(), settings=settings)  # fmt: skip


def distinct_words(count: int) -> str:
    """``count`` different letter-only words (no stop words, no numbers)."""
    letters = string.ascii_lowercase
    words = ("q" + "".join(p) for p in itertools.product(letters, repeat=4))
    return " ".join(itertools.islice(words, count))


# plainto_tsquery of ~24,000 words failed with "stack depth limit exceeded" on PostgreSQL 18.
@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_a_30000_word_question_searches(
    app_sessions: sessionmaker[Session], corpus: Ids, mode: Any
) -> None:
    question = "volcanic lava " + distinct_words(30_000)
    with tenant_session(app_sessions, solution_id=corpus.solution_id) as session:
        results = find(session, corpus, question, mode=mode, max_question_chars=None)
    assert results.hits[0].filename == "volcano.txt"


def test_the_question_limit_refuses_it_first(
    app_sessions: sessionmaker[Session], corpus: Ids
) -> None:
    with (
        tenant_session(app_sessions, solution_id=corpus.solution_id) as session,
        pytest.raises(InvalidQuestionError, match="over the limit of 4,000"),
    ):
        find(session, corpus, distinct_words(16_000))


@pytest.mark.parametrize("query", ["lava\x00ash", "\x1b[31mlava"])
def test_control_characters_in_a_search(
    app_sessions: sessionmaker[Session], corpus: Ids, query: str
) -> None:
    with (
        tenant_session(app_sessions, solution_id=corpus.solution_id) as session,
        pytest.raises(InvalidQuestionError, match="control character"),
    ):
        find(session, corpus, query)


def test_a_huge_k(app_sessions: sessionmaker[Session], corpus: Ids) -> None:
    with (
        tenant_session(app_sessions, solution_id=corpus.solution_id) as session,
        pytest.raises(InvalidSettingError, match="k is 9223372036854775808: use a whole"),
    ):
        find(session, corpus, "lava", k=9223372036854775808)


def _conversations(session: Session, oracle_id: uuid.UUID) -> int:
    query = (
        select(func.count()).select_from(Conversation).where(Conversation.oracle_id == oracle_id)
    )
    return session.execute(query).scalar_one()


@pytest.mark.parametrize(
    ("question", "session_id", "message"),
    [
        ("lava\x00?", "s-1", "the question contains the control character U\\+0000"),
        ("lava?", "s-\x00", "the chat session id contains the control character U\\+0000"),
        ("x" * 4001, "s-1", "the question is 4,001 characters long"),
        ("lava?", "s" * 500, "the chat session id is 500 characters long"),
    ],
)
def test_bad_chat_input_records_nothing(
    app_sessions: sessionmaker[Session], fresh: Ids, question: str, session_id: str, message: str
) -> None:
    with tenant_session(app_sessions, solution_id=fresh.solution_id) as session:
        with pytest.raises(InvalidQuestionError, match=message):
            chat(session, fresh, question, session_id)
        assert _conversations(session, fresh.oracle_id) == 0
        assert session.execute(select(func.count()).select_from(Message)).scalar_one() == 0


def test_the_chat_limit_follows_the_setting(
    app_sessions: sessionmaker[Session], fresh: Ids
) -> None:
    with (
        tenant_session(app_sessions, solution_id=fresh.solution_id) as session,
        pytest.raises(InvalidQuestionError, match="over the limit of 10"),
    ):
        chat(session, fresh, "x" * 11, settings=Settings(max_question_chars=10))


BAD_STORED = [
    ({"k": 2.5}, "k is 2.5: use a whole number from 1 to 1,000"),
    ({"k": 1e9}, "k is 1000000000.0"),
    ({"candidates": 1e30}, "candidates is 1e+30: use a whole number from 1 to 10,000"),
    ({"ef_search": -1}, "ef_search is -1: use a whole number from 1 to 1,000"),
    ({"chunk_tokens": 0}, "chunk_tokens is 0: use a whole number from 8 to 4,096"),
    ({"chunk_tokens": 100_000}, "chunk_tokens is 100000"),
    ({"rrf_k": math.nan}, "rrf_k is nan"),
    ({"dense_weight": math.inf}, "dense_weight is inf: use a finite number from 0 to 10"),
    ({"mode": "fuzzy"}, "unknown retrieval mode 'fuzzy'"),
    ({"top_k": 3}, "unknown setting 'top_k'"),
]


@pytest.mark.parametrize(("config", "message"), BAD_STORED)
def test_update_oracle_refuses_each_bad_setting(
    app_sessions: sessionmaker[Session], fresh: Ids, config: dict[str, Any], message: str
) -> None:
    with tenant_session(app_sessions, solution_id=fresh.solution_id) as session:
        with pytest.raises(InvalidSettingError, match=f"rejected: {re.escape(message)}"):
            update_oracle(session, fresh.oracle_id, retrieval_config=config, llm_model="changed")
        oracle = oracle_by_id(session, fresh.oracle_id)
        assert oracle.retrieval_config == {} and oracle.llm_model != "changed"


def test_update_oracle_refuses_nan_temperature(
    app_sessions: sessionmaker[Session], fresh: Ids
) -> None:
    with (
        tenant_session(app_sessions, solution_id=fresh.solution_id) as session,
        pytest.raises(InvalidSettingError, match="temperature is nan"),
    ):
        update_oracle(session, fresh.oracle_id, temperature=math.nan)


def test_update_oracle_stores_normalised_values(
    app_sessions: sessionmaker[Session], fresh: Ids
) -> None:
    with tenant_session(app_sessions, solution_id=fresh.solution_id) as session:
        update_oracle(session, fresh.oracle_id, retrieval_config={"k": 5.0, "ef_search": 100})
        assert oracle_by_id(session, fresh.oracle_id).retrieval_config == {"k": 5, "ef_search": 100}


def _store_raw(owner_engine: Engine, oracle_id: uuid.UUID, config: str) -> None:
    """What an older version (or a hand edit) could have stored."""
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE oracles SET retrieval_config = CAST(:c AS jsonb) WHERE id = :o"),
                     {"c": config, "o": oracle_id})  # fmt: skip


def test_invalid_stored_settings_give_a_clear_error(
    owner_engine: Engine, app_sessions: sessionmaker[Session], fresh: Ids
) -> None:
    _store_raw(owner_engine, fresh.oracle_id, '{"k": 2.5, "ef_search": -1}')
    with tenant_session(app_sessions, solution_id=fresh.solution_id) as session:
        name = oracle_by_id(session, fresh.oracle_id).oracle_name
        expected = (
            f"oracle '{name}' has invalid stored retrieval settings: k is 2.5: .*Tenants page"
        )
        with pytest.raises(InvalidSettingError, match=expected):
            find(session, fresh, "lava")
        with pytest.raises(InvalidSettingError, match=expected):
            chat(session, fresh, "lava?")
        # Saving valid settings repairs it.
        update_oracle(session, fresh.oracle_id, retrieval_config={"k": 3})
        assert find(session, fresh, "lava").hits == ()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"mode": "hybrid", "rrf_k": math.nan}, "rrf_k is nan"),
        ({"mode": "hybrid", "k": 0}, "k is 0"),
        ({"mode": "lexical", "chunk_tokens": 5}, "chunk_tokens is 5"),
        ({"mode": "lexical", "chunk_tokens": "big"}, "chunk_tokens is 'big'"),
    ],
)
def test_promote_config_refuses_bad_values(
    app_sessions: sessionmaker[Session], fresh: Ids, config: dict[str, Any], message: str
) -> None:
    with tenant_session(app_sessions, solution_id=fresh.solution_id) as session:
        with pytest.raises(InvalidSettingError, match=message):
            promote_config(session, oracle_id=fresh.oracle_id, config=config)
        assert oracle_by_id(session, fresh.oracle_id).retrieval_config == {}


def test_promote_config_writes_the_overlap_it_was_evaluated_with(
    app_sessions: sessionmaker[Session], fresh: Ids
) -> None:
    with tenant_session(app_sessions, solution_id=fresh.solution_id) as session:
        promote_config(session, oracle_id=fresh.oracle_id,
                       config={"mode": "lexical", "k": 4, "chunk_tokens": 30})  # fmt: skip
        stored = oracle_by_id(session, fresh.oracle_id).retrieval_config
    assert stored == {"mode": "lexical", "k": 4, "chunk_tokens": 30, "overlap_tokens": 6}


def test_promote_config_replaces_the_overlap_of_the_old_size(
    app_sessions: sessionmaker[Session], fresh: Ids
) -> None:
    with tenant_session(app_sessions, solution_id=fresh.solution_id) as session:
        update_oracle(session, fresh.oracle_id,
                      retrieval_config={"chunk_tokens": 400, "overlap_tokens": 100})  # fmt: skip
        run_config = {"mode": "dense", "chunk_tokens": 200, "overlap_tokens": 40}
        promote_config(session, oracle_id=fresh.oracle_id, config=run_config)
        stored = oracle_by_id(session, fresh.oracle_id).retrieval_config
    assert stored == {"mode": "dense", "chunk_tokens": 200}  # 40 is the default overlap
