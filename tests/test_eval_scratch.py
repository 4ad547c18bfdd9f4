"""Evaluation data stays out of live oracles: scratch oracles, the canary space, clean-up."""

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import tenant_session
from supercore_core.catalog import list_oracles
from supercore_core.errors import UserError
from supercore_core.evaluation.beir import load_dataset
from supercore_core.evaluation.canaries import canary_token
from supercore_core.evaluation.runner import EvalRequest, evaluate, ingest_dataset
from supercore_core.evaluation.scratch import (
    CANARY_FILENAME,
    CANARY_ORACLE,
    is_scratch,
    remove_scratch,
    scratch_oracle,
)
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.models import Document, EvalRun, Oracle
from supercore_core.retrieval import RetrievalConfig
from tests.factories import make_oracle, make_solution
from tests.fakes import HashingEmbedder

TINY = Path(__file__).parent / "data" / "beir_tiny"


def live_oracle(owner_engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session), oracle_name="finance")
        return oracle.solution_id, oracle.id


def documents_of(sessions: sessionmaker[Session], sid: uuid.UUID, oid: uuid.UUID) -> list[str]:
    with tenant_session(sessions, solution_id=sid) as session:
        query = select(Document.filename).where(Document.oracle_id == oid)
        return sorted(session.scalars(query))


def test_a_dataset_is_refused_by_a_live_oracle_which_stays_unchanged(
    owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> None:
    sid, oid = live_oracle(owner_engine)
    embedder = HashingEmbedder()
    policy = SourceFile("policy.txt", b"Our travel policy.")
    ingest(admin_sessions, solution_id=sid, oracle_id=oid, sources=[policy], embedder=embedder)
    with pytest.raises(UserError, match="'finance' is a live oracle"):
        ingest_dataset(admin_sessions, load_dataset(TINY), solution_id=sid, oracle_id=oid,
                       embedder=embedder)  # fmt: skip
    assert documents_of(admin_sessions, sid, oid) == ["policy.txt"]


def test_a_named_live_oracle_cannot_become_a_scratch_target(
    owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> None:
    sid, _ = live_oracle(owner_engine)
    with (
        tenant_session(admin_sessions, solution_id=sid) as session,
        pytest.raises(UserError, match="live oracle"),
    ):
        scratch_oracle(session, solution_id=sid, name="FINANCE", purpose="benchmark", source="x")


def test_evaluating_a_live_oracle_writes_only_evaluation_data_elsewhere(
    owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> None:
    sid, oid = live_oracle(owner_engine)
    embedder = HashingEmbedder()
    body = b"Total revenue grew by twelve percent in 2019."
    ingest(admin_sessions, solution_id=sid, oracle_id=oid,
           sources=[SourceFile("d1.txt", body)], embedder=embedder)  # fmt: skip
    request = EvalRequest(load_dataset(TINY), sid, oid, RetrievalConfig(mode="lexical", k=2))
    run = evaluate(admin_sessions, request, embedder=embedder)
    assert run.status == "completed" and run.oracle_id == oid
    assert documents_of(admin_sessions, sid, oid) == ["d1.txt"]  # no canary in the live oracle
    with tenant_session(admin_sessions, solution_id=sid) as session:
        canary = session.scalars(
            select(Oracle).where(Oracle.solution_id == sid, Oracle.oracle_name == CANARY_ORACLE)
        ).one()
        assert is_scratch(canary)
        visible = [o.oracle_name for o in list_oracles(session, sid)]
        everything = [o.oracle_name for o in list_oracles(session, sid, include_scratch=True)]
    assert documents_of(admin_sessions, sid, canary.id) == [CANARY_FILENAME]
    assert CANARY_ORACLE not in visible and "finance" in visible
    assert CANARY_ORACLE in everything


def test_remove_scratch_keeps_live_oracles_and_drops_stray_canaries(
    owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> None:
    sid, oid = live_oracle(owner_engine)
    embedder = HashingEmbedder()
    stray = f"Leakage canary {canary_token(sid)}.".encode()
    ingest(admin_sessions, solution_id=sid, oracle_id=oid,  # as an older version planted it
           sources=[SourceFile(CANARY_FILENAME, stray), SourceFile("keep.txt", b"keep me")],
           embedder=embedder)  # fmt: skip
    with tenant_session(admin_sessions, solution_id=sid) as session:
        target = scratch_oracle(session, solution_id=sid, name="eval-tiny",
                                purpose="benchmark", source="beir_tiny")  # fmt: skip
        scratch_id = target.id
    dataset = load_dataset(TINY)
    ingest_dataset(admin_sessions, dataset, solution_id=sid, oracle_id=scratch_id,
                   embedder=embedder)  # fmt: skip
    evaluate(admin_sessions, EvalRequest(dataset, sid, scratch_id), embedder=embedder)
    with tenant_session(admin_sessions, solution_id=sid) as session:
        removed = remove_scratch(session, sid)
    assert removed.oracles == ("eval-canaries", "eval-tiny") and removed.stray_canaries == 1
    assert documents_of(admin_sessions, sid, oid) == ["keep.txt"]
    with tenant_session(admin_sessions, solution_id=sid) as session:
        assert [o.oracle_name for o in list_oracles(session, sid, include_scratch=True)] == [
            "finance"
        ]
        assert session.scalar(select(func.count()).select_from(EvalRun)) == 0
