"""Build and drop per-oracle HNSW indexes: the one path that runs this DDL, audited.

The application role never gets DDL rights. These functions take the *owner* engine (the
login that migrates, as ``supercore db reindex`` and ingestion by that login use) and:

1. record the change in the append-only audit log (action ``vector_index_build`` or
   ``vector_index_drop``, the tenant, the oracle, its size) in a transaction committed
   first, so a build that fails is still on record;
2. run ``CREATE`` / ``DROP INDEX CONCURRENTLY`` on an autocommit connection (neither can
   run in a transaction or a function), built by ``ddl`` from the oracle's UUID alone, so
   searches and ingestion carry on while the graph is built;
3. after a build, calibrate ``ef_search`` on the new graph and store it in the oracle's
   settings (``oracle_settings`` checks it).

One maintainer at a time (an advisory lock; two concurrent builds on one table would queue
on its lock anyway). A build that fails leaves an invalid index behind, which is dropped.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.db.engine import make_sessions
from supercore_core.db.sessions import admin_session, tenant_session
from supercore_core.errors import UserError
from supercore_core.oracle_settings import check_retrieval
from supercore_core.people import current_role
from supercore_core.vector_index import ddl, plan
from supercore_core.vector_index.plan import OracleSize
from supercore_core.vector_index.recall import calibrate

Action = Literal["built", "dropped", "kept", "exact", "refused", "busy"]

_LOCK_KEY = "supercore.vector_index"
_LOCK = text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))")
_OWNS = text(
    "SELECT pg_has_role(session_user, relowner, 'USAGE') FROM pg_class"
    " WHERE oid = to_regclass('public.document_chunks')"
)
_STORE_EF = text(
    "UPDATE oracles SET retrieval_config = retrieval_config || jsonb_build_object("
    "'ef_search', CAST(:ef AS integer)) WHERE id = :o"
)


class VectorIndexError(UserError):
    """A per-oracle index could not be built or dropped; the message says why."""


@dataclass(frozen=True)
class IndexChange:
    """What maintenance did for one oracle."""

    oracle_id: UUID
    action: Action
    chunks: int
    detail: str = ""


def can_maintain(engine: Engine) -> bool:
    """Whether ``engine``'s login owns ``document_chunks`` (may build its indexes)."""
    with engine.connect() as conn:
        return bool(conn.execute(_OWNS).scalar())


def sync(engine: Engine, *, reason: str, oracle_id: UUID | None = None) -> list[IndexChange]:
    """Bring every oracle's index (or ``oracle_id``'s) in line with its size: build past
    the threshold, drop below half of it or when the oracle is gone, keep otherwise."""
    if not can_maintain(engine):
        raise VectorIndexError(
            "this login does not own document_chunks: run `supercore db reindex --vectors` "
            "as the login that migrates"
        )
    sessions = make_sessions(engine)
    with admin_session(sessions, reason=f"vector index sync: {reason}") as session:
        sizes = plan.oracle_sizes(session, oracle_id)
        indexes = ddl.oracle_indexes(session)
    with _maintainer(engine) as conn:
        if conn is None:
            return [IndexChange(oracle_id or UUID(int=0), "busy", 0, "another sync is running")]
        changes = [_drop(conn, sessions, orphan, None, "its oracle is gone") for orphan in
                   plan.orphans(indexes, sizes, oracle_id)]  # fmt: skip
        for size in sizes:
            changes.append(_apply(conn, sessions, size, indexes, reason))
    return changes


def after_ingest(
    sessions: sessionmaker[Session], solution_id: UUID, oracle_id: UUID
) -> IndexChange | None:
    """Build (or drop) the oracle's index once ingestion moved it across its threshold.

    A no-op (None) when nothing is due, when the sessions' login does not own the table
    (an application-only login: ``supercore db reindex --vectors`` catches up later), or
    when the sessions' signed-in person may not edit the tenant (a viewer never gets DDL
    run on their behalf). The size and the role are read in the tenant's own session, so
    a no-op writes no audit entry. The build itself runs as the owner login, audited
    without a person (superuser mode is for platform admins); the reason names the person.
    """
    engine = sessions.kw.get("bind")
    if not isinstance(engine, Engine) or not can_maintain(engine):
        return None
    with tenant_session(sessions, solution_id=solution_id) as session:
        if current_role(session) not in _EDITING_ROLES:
            return None
        person = session.execute(_PERSON).scalar_one()
        sizes = plan.oracle_sizes(session, oracle_id)
        indexes = ddl.oracle_indexes(session)
    due = [s for s in sizes if plan.decide(s, indexes.get(oracle_id), len(indexes)) in _DUE]
    if not due:
        return None
    by = f" (ingested by person {person})" if person else ""
    changes = sync(engine, reason=f"ingestion moved the oracle across its threshold{by}",
                   oracle_id=oracle_id)  # fmt: skip
    return changes[-1] if changes else None


_DUE = ("build", "drop")
_EDITING_ROLES = ("owner", "editor")
_PERSON = text("SELECT NULLIF(current_setting('app.current_person_id', true), '')")


def _apply(
    conn: Connection,
    sessions: sessionmaker[Session],
    size: OracleSize,
    indexes: dict[UUID, ddl.OracleIndex],
    reason: str,
) -> IndexChange:
    step = plan.decide(size, indexes.get(size.oracle_id), len(indexes))
    if step == "build":
        return _build(conn, sessions, size, reason)
    if step == "drop":
        why = f"{size.chunks:,} chunks, under half of {size.threshold:,}: {reason}"
        return _drop(conn, sessions, size.oracle_id, size, why)
    if step == "refuse":
        return IndexChange(size.oracle_id, "refused", size.chunks, plan.ceiling_message())
    return IndexChange(size.oracle_id, step, size.chunks)


def _audit(
    sessions: sessionmaker[Session], action: str, reason: str, solution_id: UUID | None
) -> None:
    with admin_session(sessions, reason=reason, solution_id=solution_id, action=action):
        pass


def _build(
    conn: Connection, sessions: sessionmaker[Session], size: OracleSize, reason: str
) -> IndexChange:
    oracle_id = size.oracle_id
    why = f"build {ddl.index_name(oracle_id)} ({size.chunks:,} chunks): {reason}"
    _audit(sessions, "vector_index_build", why, size.solution_id)
    conn.execute(text(ddl.drop_statement(oracle_id)))  # an invalid leftover of a failed build
    try:
        conn.execute(text(ddl.create_statement(oracle_id)))
    except DBAPIError as exc:
        conn.execute(text(ddl.drop_statement(oracle_id)))
        raise VectorIndexError(
            f"building the index of oracle {oracle_id} failed: {exc.orig}"
        ) from exc
    conn.execute(text(ddl.comment_statement(oracle_id)))
    with admin_session(sessions, reason=f"calibrate ef_search of oracle {oracle_id}") as session:
        found = calibrate(session, oracle_id)
        ef = check_retrieval({"ef_search": found.ef_search})["ef_search"]
        session.execute(_STORE_EF, {"ef": ef, "o": oracle_id})
    detail = f"ef_search {ef}, recall@10 {found.recall:.3f} on {found.samples} off-graph queries"
    return IndexChange(oracle_id, "built", size.chunks, detail)


def _drop(
    conn: Connection,
    sessions: sessionmaker[Session],
    oracle_id: UUID,
    size: OracleSize | None,
    why: str,
) -> IndexChange:
    tenant = None if size is None else size.solution_id
    _audit(sessions, "vector_index_drop", f"drop {ddl.index_name(oracle_id)}: {why}", tenant)
    conn.execute(text(ddl.drop_statement(oracle_id)))
    return IndexChange(oracle_id, "dropped", 0 if size is None else size.chunks, why)


@contextmanager
def _maintainer(engine: Engine) -> Iterator[Connection | None]:
    """An autocommit connection holding the maintenance lock (None if another holds it)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(_LOCK, {"k": _LOCK_KEY}).scalar():
            yield None
            return
        try:
            yield conn
        finally:
            conn.execute(_UNLOCK, {"k": _LOCK_KEY})
