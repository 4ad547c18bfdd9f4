"""Shared pieces of the CLI: error handling and the edge objects it builds."""

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import ParamSpec, TypeVar
from uuid import UUID

import typer
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import oracle_by_id, oracle_by_name, solution_id_for_slug
from supercore_core.config import Settings
from supercore_core.db.engine import make_engine, make_sessions
from supercore_core.db.sessions import tenant_session
from supercore_core.embedding import Embedder, embedder_for
from supercore_core.errors import UserError

P = ParamSpec("P")
R = TypeVar("R")


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print ``rows`` as left-aligned columns under ``headers`` (numbers right-aligned)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], int) for r in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    typer.echo(line([h.upper() for h in headers]))
    for row in cells:
        typer.echo(line(row))


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a ``UserError`` as one line on stderr and exit 1; bugs keep their traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from exc

    return wrapper


@contextmanager
def cli_sessions() -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured database (the embedded server is started if needed)."""
    engine = make_engine(Settings(), start_embedded=True)
    try:
        yield make_sessions(engine)
    finally:
        engine.dispose()


def resolve(
    sessions: sessionmaker[Session], tenant: str, oracle: str | None
) -> tuple[UUID, UUID | None]:
    """Tenant slug and oracle name to ids (the slug is looked up without superuser mode, so
    routine commands leave no audit entry; the login must be a member of supercore_admin)."""
    with sessions() as session, session.begin():
        solution_id = solution_id_for_slug(session, tenant)
    if oracle is None:
        return solution_id, None
    with tenant_session(sessions, solution_id=solution_id) as session:
        return solution_id, oracle_by_name(session, solution_id, oracle).id


def oracle_embedder(
    sessions: sessionmaker[Session], solution_id: UUID, oracle_id: UUID
) -> Embedder:
    """The embedder the oracle was built with (its ``embedding_model``)."""
    with tenant_session(sessions, solution_id=solution_id) as session:
        return embedder_for(oracle_by_id(session, oracle_id), Settings())
