"""Tenants and oracles: look up by slug and name, create."""

from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from supercore_core.errors import (
    NotFoundError,
    TenantContextError,
    TenantSuspendedError,
    UserError,
)
from supercore_core.models import Oracle, Solution
from supercore_core.oracle_settings import check_model, check_retrieval


def solution_by_slug(session: Session, slug: str) -> Solution:
    """The tenant with ``slug`` (the session must be able to see it: admin or that tenant)."""
    found = session.scalars(select(Solution).where(Solution.slug == slug)).one_or_none()
    if found is None:
        raise _no_tenant(slug)
    return found


def _no_tenant(slug: str) -> NotFoundError:
    return NotFoundError(
        f"no tenant with slug {slug!r}: `supercore tenant list` shows the tenants, "
        "or create one first"
    )


def solution_id_for_slug(session: Session, slug: str) -> UUID:
    """The id of the tenant with ``slug``, for a login that is a member of supercore_admin,
    without superuser mode (so the look-up is not an audit entry)."""
    try:
        found: UUID | None = session.execute(
            text("SELECT solution_id_for_slug(:s)"), {"s": slug}
        ).scalar_one()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42501":
            raise
        raise TenantContextError(
            "this database login cannot look tenants up by slug: grant it supercore_admin "
            "(GRANT supercore_admin TO <login>) or run `supercore db upgrade` first"
        ) from exc
    if found is None:
        raise _no_tenant(slug)
    return found


def oracle_by_name(session: Session, solution_id: UUID, name: str) -> Oracle:
    """The tenant's oracle called ``name``."""
    query = select(Oracle).where(Oracle.solution_id == solution_id, Oracle.oracle_name == name)
    found = session.scalars(query).one_or_none()
    if found is None:
        raise NotFoundError(f"tenant has no oracle named {name!r}")
    return found


def oracle_by_id(session: Session, oracle_id: UUID) -> Oracle:
    """The oracle with ``oracle_id`` in the session's tenant."""
    found = session.get(Oracle, oracle_id)
    if found is None:
        raise NotFoundError(f"oracle {oracle_id} not found in this tenant")
    return found


def create_solution(session: Session, *, slug: str, name: str, **fields: Any) -> Solution:
    """Create a tenant (admin session) with its RAG global oracle."""
    solution = Solution(slug=slug, name=name, **fields)
    try:
        with session.begin_nested():
            session.add(solution)
            session.flush()
    except IntegrityError as exc:
        raise _slug_error(exc, slug) from exc
    session.execute(text("SELECT create_rag_global_oracle(:s)"), {"s": solution.id})
    return solution


def _slug_error(exc: IntegrityError, slug: str) -> UserError:
    """Which rule the slug broke, from the constraint PostgreSQL names."""
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if constraint == "uq_solutions_slug":
        return UserError(f"cannot create tenant {slug!r}: the slug is taken, choose another")
    if constraint == "ck_solutions_slug_format":
        return UserError(
            f"cannot create tenant {slug!r}: the slug is malformed (lowercase letters, digits "
            "and dashes, starting with a letter or digit, 2-63 characters)"
        )
    return UserError(f"cannot create tenant {slug!r}: {str(exc.orig).splitlines()[0]}")


def create_oracle(
    session: Session, *, solution_id: UUID, oracle_name: str, **fields: Any
) -> Oracle:
    """Create a domain oracle in the tenant."""
    oracle = Oracle(solution_id=solution_id, oracle_name=oracle_name, **fields)
    try:
        with session.begin_nested():
            session.add(oracle)
            session.flush()
    except IntegrityError as exc:
        raise UserError(f"cannot create oracle {oracle_name!r}: the name is taken") from exc
    return oracle


def find_oracle(session: Session, solution_id: UUID, name: str) -> Oracle | None:
    """The tenant's oracle called ``name`` (case-insensitive), or None."""
    query = select(Oracle).where(
        Oracle.solution_id == solution_id, func.lower(Oracle.oracle_name) == name.lower()
    )
    return session.scalars(query).first()


def get_or_create_oracle(session: Session, *, solution_id: UUID, oracle_name: str) -> Oracle:
    """The tenant's oracle called ``oracle_name``, created when missing."""
    return find_oracle(session, solution_id, oracle_name) or create_oracle(
        session, solution_id=solution_id, oracle_name=oracle_name
    )


# In an oracle's metadata: evaluation data only (benchmark corpora, re-chunked copies,
# leakage canaries); hidden from stakeholder pickers (see evaluation.scratch).
SCRATCH_MARKER: dict[str, Any] = {"evaluation": {"scratch": True}}
SOLUTION_STATUSES = ("active", "inactive", "suspended", "archived")
ORACLE_STATUSES = ("active", "inactive", "archived")
ORACLE_SETTINGS = ("system_prompt", "llm_provider", "llm_model", "temperature", "max_tokens")


def list_solutions(session: Session) -> list[Solution]:
    """Every tenant the session can see (admin: all; tenant: itself), by name."""
    return list(session.scalars(select(Solution).order_by(Solution.name, Solution.slug)))


def set_solution_status(session: Session, solution_id: UUID, status: str) -> Solution:
    """Change a tenant's status (admin session): active, inactive, suspended or archived."""
    if status not in SOLUTION_STATUSES:
        raise UserError(f"unknown tenant status {status!r}: use {', '.join(SOLUTION_STATUSES)}")
    solution = session.get(Solution, solution_id)
    if solution is None:
        raise NotFoundError(f"tenant {solution_id} not found")
    solution.status = status
    session.flush()
    return solution


def require_not_suspended(session: Session, solution_id: UUID) -> None:
    """Raise ``TenantSuspendedError`` when the tenant is suspended (read-only).

    The database refuses the writes anyway (revision 0016); checking first means no
    model is called and no tokens are spent on a question that cannot be recorded.
    """
    status = session.scalar(select(Solution.status).where(Solution.id == solution_id))
    if status == "suspended":
        raise TenantSuspendedError(
            "this tenant is suspended, so it is read-only (no chat, no ingest, no edits): "
            "a platform admin can make it active again"
        )


def list_oracles(
    session: Session, solution_id: UUID, *, include_scratch: bool = False
) -> list[Oracle]:
    """The tenant's oracles: the RAG global oracle first, then by name.

    Scratch evaluation oracles are left out unless ``include_scratch``.
    """
    query = (
        select(Oracle)
        .where(Oracle.solution_id == solution_id)
        .order_by(Oracle.oracle_type != "rag_global", Oracle.oracle_name)
    )
    if not include_scratch:
        query = query.where(~Oracle.metadata_.contains(SCRATCH_MARKER))
    return list(session.scalars(query))


def ensure_rag_global_oracle(session: Session, solution_id: UUID) -> Oracle:
    """The tenant's RAG global oracle, created when missing."""
    oracle_id = session.execute(
        text("SELECT create_rag_global_oracle(:s)"), {"s": solution_id}
    ).scalar_one()
    return oracle_by_id(session, oracle_id)


def set_oracle_status(session: Session, oracle_id: UUID, status: str) -> Oracle:
    """Change an oracle's status: active, inactive or archived."""
    if status not in ORACLE_STATUSES:
        raise UserError(f"unknown oracle status {status!r}: use {', '.join(ORACLE_STATUSES)}")
    oracle = oracle_by_id(session, oracle_id)
    oracle.status = status
    session.flush()
    return oracle


def update_oracle(
    session: Session,
    oracle_id: UUID,
    *,
    retrieval_config: dict[str, Any] | None = None,
    **settings: Any,
) -> Oracle:
    """Edit an oracle's prompt, model and retrieval settings; nothing changes on bad input.

    Args:
        session: A tenant session.
        oracle_id: The oracle to edit.
        retrieval_config: Replaces the oracle's retrieval settings (checked first against
            ``oracle_settings.RetrievalSettings``: types, ranges, finite numbers).
        **settings: Any of ``system_prompt``, ``llm_provider``, ``llm_model``,
            ``temperature`` (0-2) and ``max_tokens`` (1-200,000).

    Raises:
        UserError: An unknown setting or a bad value (``InvalidSettingError`` names the
            field and its allowed range).
    """
    unknown = sorted(set(settings) - set(ORACLE_SETTINGS))
    if unknown:
        raise UserError(f"unknown oracle setting {unknown[0]!r}: use {', '.join(ORACLE_SETTINGS)}")
    blank = [n for n in ("llm_provider", "llm_model") if n in settings and not settings[n].strip()]
    if blank:
        raise UserError(f"{blank[0]} must not be blank")
    settings = check_model(settings)
    if retrieval_config is not None:
        retrieval_config = check_retrieval(retrieval_config)
    oracle = oracle_by_id(session, oracle_id)
    try:
        with session.begin_nested():
            for name, value in settings.items():
                setattr(oracle, name, value)
            if retrieval_config is not None:
                oracle.retrieval_config = dict(retrieval_config)
            session.flush()
    except IntegrityError as exc:
        session.refresh(oracle)
        raise UserError(
            "oracle settings rejected: temperature must be between 0 and 2, max_tokens above 0"
        ) from exc
    return oracle
