"""The Index page's vector-search tab: per oracle of the selected tenant, exact or own
index, index size, calibrated ef_search and recall@10 against exact, flagged under 0.98."""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from supercore_core.models import Oracle, Solution
from supercore_core.vector_index.maintain import sync
from tests.factories import make_document, make_oracle, make_solution
from tests.test_app_pages import APP, TIMEOUT, app_env, page_text

__all__ = ["app_env"]

_FILL = text(
    "INSERT INTO document_chunks (document_id, oracle_id, solution_id, chunk_index, content,"
    " embedding) SELECT :d, :o, :s, gs.n, 'chunk ' || gs.n, (SELECT"
    " array_agg(random()::real - 0.5 + 0 * g.i + 0 * gs.n)"
    " FROM generate_series(1, 384) AS g(i))::vector FROM generate_series(1, :rows) AS gs(n)"
)
STARVED = {"exact_below_chunks": 100, "k": 1, "candidates": 1, "ef_search": 1}


@dataclass(frozen=True)
class World:
    solution_id: uuid.UUID
    other_oracle: str
    starved_id: uuid.UUID


def _oracle(session: Session, solution: Solution, name: str, rows: int) -> Oracle:
    oracle = make_oracle(session, solution, oracle_name=name,
                         retrieval_config={"exact_below_chunks": 100})  # fmt: skip
    document = make_document(session, oracle, chunk_count=rows)
    session.execute(_FILL, {"d": document.id, "o": oracle.id, "s": solution.id, "rows": rows})
    return oracle


@pytest.fixture(scope="module")
def world(owner_engine: Engine) -> Iterator[World]:
    """A tenant with a small oracle (exact), a large one (own index) and a large one whose
    settings starve its search (recall 0.1); another tenant's large oracle."""
    with Session(owner_engine) as session, session.begin():
        mine, other = make_solution(session), make_solution(session)
        oracles = [_oracle(session, mine, "vx-small", 20), _oracle(session, mine, "vx-large", 300),
                   _oracle(session, mine, "vx-starved", 150),
                   _oracle(session, other, "vx-theirs", 150)]  # fmt: skip
        ids = [o.id for o in oracles]
        found = World(mine.id, "vx-theirs", ids[2])
    for oracle_id in ids:
        sync(owner_engine, reason="test", oracle_id=oracle_id)
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE oracles SET retrieval_config = CAST(:c AS jsonb) WHERE id = :o"),
                     {"c": json.dumps(STARVED), "o": found.starved_id})  # fmt: skip
    yield found
    # The database is shared: leave no flagged oracle (nor its index) for the doctor tests.
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM oracles WHERE id = ANY(:ids)"), {"ids": ids})
    for oracle_id in ids:
        sync(owner_engine, reason="test cleanup", oracle_id=oracle_id)


def test_the_tab_shows_each_oracles_path_size_ef_search_and_recall(
    app_env: None, world: World
) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["tenant_id"] = world.solution_id
    at.run()
    at.switch_page("pages/index_stats.py").run()
    assert not at.exception, [e.value for e in at.exception]
    frames = [f.value for f in at.main.dataframe if "recall_at_10" in f.value.columns]
    assert len(frames) == 1
    rows = {r["oracle"]: r for r in frames[0].to_dict("records")}
    assert set(rows) == {"vx-small", "vx-large", "vx-starved"}  # never another tenant's
    small, large, starved = rows["vx-small"], rows["vx-large"], rows["vx-starved"]
    # an exact oracle has no index, ef_search or samples: dashes, never "None"
    assert (small["path"], small["recall_at_10"]) == ("exact", 1.0)
    assert (small["index_bytes"], small["ef_search"], small["samples"]) == ("—", "—", "—")
    assert large["path"] == "own index" and large["index_bytes"].endswith(("kB", "MB"))
    assert int(large["ef_search"]) >= 40 and int(large["samples"]) > 0
    assert large["recall_at_10"] >= 0.98 and not large["flagged"]
    assert starved["ef_search"] == "1" and starved["recall_at_10"] <= 0.1 + 1e-9
    assert starved["flagged"]
    warnings = [w.value for w in at.main.warning]
    assert any("vx-starved" in w and "under 0.98" in w for w in warnings), warnings
    assert world.other_oracle not in page_text(at)
