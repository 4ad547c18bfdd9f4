"""Tenants and oracles: look up by slug and name, create."""

from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from supercore_core.errors import NotFoundError, UserError
from supercore_core.models import Oracle, Solution


def solution_by_slug(session: Session, slug: str) -> Solution:
    """The tenant with ``slug`` (the session must be able to see it: admin or that tenant)."""
    found = session.scalars(select(Solution).where(Solution.slug == slug)).one_or_none()
    if found is None:
        raise NotFoundError(f"no tenant with slug {slug!r}: list tenants or create one first")
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
        raise UserError(
            f"cannot create tenant {slug!r}: the slug is taken or malformed "
            "(lowercase letters, digits and dashes, 2-63 characters)"
        ) from exc
    session.execute(text("SELECT create_rag_global_oracle(:s)"), {"s": solution.id})
    return solution


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


def get_or_create_oracle(session: Session, *, solution_id: UUID, oracle_name: str) -> Oracle:
    """The tenant's oracle called ``oracle_name``, created when missing."""
    query = select(Oracle).where(
        Oracle.solution_id == solution_id, func.lower(Oracle.oracle_name) == oracle_name.lower()
    )
    return session.scalars(query).first() or create_oracle(
        session, solution_id=solution_id, oracle_name=oracle_name
    )
