"""Why a document failed, in words a user can act on (never a raw database message)."""

import logging

import psycopg.errors as pg
from sqlalchemy.exc import DBAPIError

from supercore_core.db.limits import limit_error
from supercore_core.errors import UserError
from supercore_core.rendering import terminal_text

log = logging.getLogger(__name__)


def failure_reason(exc: Exception, filename: str, doing: str) -> str:
    """One line saying why ``filename`` failed while ``doing`` (e.g. "storing its chunks").

    ``UserError`` messages are used as they are; a database limit says which and what to do;
    a value the database refuses says so; anything else is a bug, logged with its traceback
    and reported by type only.
    """
    name = terminal_text(filename)
    if isinstance(exc, UserError):
        return str(exc)
    limit = limit_error(exc, f"loading {name}")
    if limit is not None:
        return str(limit)
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(original, pg.ProgramLimitExceeded):
        return (
            f"{name} could not be stored: the database refused a chunk as too large "
            f"({_first_line(original)}): lower the oracle's chunk_tokens or "
            "SUPERCORE_INGEST_MAX_CHUNK_BYTES, then ingest it again"
        )
    if isinstance(original, pg.DataError):
        return (
            f"{name} could not be stored: the database refused its text "
            f"({_first_line(original)}): save it again (as UTF-8 text or PDF) and retry"
        )
    log.error("ingesting %s failed while %s", name, doing, exc_info=exc)
    kind = "database error" if isinstance(exc, DBAPIError) else "error"
    return (
        f"{name} could not be ingested: an unexpected {kind} ({type(original).__name__}) while "
        f"{doing}; the other files were not affected; try again, and report it if it persists"
    )


def embedding_failure(exc: Exception) -> str:
    """Why a batch's documents failed when the embedder raised ``exc``."""
    if isinstance(exc, UserError):
        return f"embedding failed: {exc}"
    limit = limit_error(exc, "embedding this batch")
    if limit is not None:
        return str(limit)
    log.error("the embedder failed", exc_info=exc)
    return (
        f"embedding failed ({type(exc).__name__}: {_first_line(exc)}): the other files were "
        "not affected; check the embedding model, then ingest these files again"
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return terminal_text(lines[0][:200]) if lines else type(exc).__name__
