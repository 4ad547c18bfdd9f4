"""Database errors that are limits, not bugs: one clear line saying what to do."""

import psycopg.errors as pg
from sqlalchemy.exc import DBAPIError

from supercore_core.errors import DatabaseLimitError

_ADVICE: tuple[tuple[type[Exception], str], ...] = (
    (
        pg.QueryCanceled,
        "a statement ran past statement_timeout (or was cancelled): raise the login's "
        "statement_timeout for bulk loads or load smaller files, then run it again",
    ),
    (pg.DiskFull, "the database server's disk is full: free space or grow it, then run it again"),
    (pg.OutOfMemory, "the database server ran out of memory: load smaller files or batches"),
    (
        pg.LockNotAvailable,
        "a lock was not granted within lock_timeout: run it again when the table is free",
    ),
)


def limit_error(exc: BaseException, doing: str) -> DatabaseLimitError | None:
    """A ``DatabaseLimitError`` for ``exc`` if the database stopped at a limit, else None.

    The message names what was being done, the server's reason and what to do; the caller's
    transaction has been rolled back by then, so nothing of it was stored.
    """
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    for kind, advice in _ADVICE:
        if isinstance(original, kind):
            reason = str(original).strip().splitlines()[0]
            return DatabaseLimitError(
                f"{doing} was stopped by the database and nothing of it was stored ({reason}): "
                f"{advice}"
            )
    return None
