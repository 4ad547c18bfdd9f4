"""ANALYZE, VACUUM and REINDEX, one table (or index) at a time, timed.

Run them as the owning login (the one that migrates). REINDEX uses CONCURRENTLY, so
tenants keep reading and writing while an index (the HNSW one after a large load, say) is
rebuilt.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, Engine, text

from supercore_core.errors import UserError

Action = Literal["analyze", "vacuum", "vacuum full", "reindex"]
OnStep = Callable[[str, int, int], None]  # (target, position from 1, total) before each step

_TABLES = text(
    "SELECT c.oid::regclass::text FROM pg_class c"
    " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')"
    " ORDER BY c.relname"
)
_RELATION = text(
    "SELECT c.oid::regclass::text, c.relkind FROM pg_class c"
    " WHERE c.relnamespace = 'public'::regnamespace AND c.relname = :name"
    " AND c.relkind IN ('r', 'p', 'i', 'I')"
)
_STATEMENTS: dict[Action, str] = {
    "analyze": "ANALYZE {}",
    "vacuum": "VACUUM (ANALYZE) {}",
    "vacuum full": "VACUUM (FULL, ANALYZE) {}",
    "reindex": "REINDEX {} CONCURRENTLY {}",
}


@dataclass(frozen=True)
class StepTime:
    """One table or index done, and how long it took."""

    target: str
    seconds: float


@dataclass(frozen=True)
class MaintenanceReport:
    """What ran on which tables or indexes, and the time taken."""

    action: Action
    steps: list[StepTime]

    @property
    def seconds(self) -> float:
        """Total time of all steps."""
        return sum(s.seconds for s in self.steps)


def analyze(engine: Engine, *, on_step: OnStep | None = None) -> MaintenanceReport:
    """Refresh the planner statistics of every table."""
    return _each_table(engine, "analyze", on_step)


def vacuum(
    engine: Engine, *, full: bool = False, on_step: OnStep | None = None
) -> MaintenanceReport:
    """VACUUM (ANALYZE) every table; ``full`` rewrites them (exclusive lock while each runs)."""
    return _each_table(engine, "vacuum full" if full else "vacuum", on_step)


def reindex(
    engine: Engine, target: str | None = None, *, on_step: OnStep | None = None
) -> MaintenanceReport:
    """Rebuild the indexes of every table, of table ``target``, or index ``target``."""
    with _autocommit(engine) as conn:
        if target is None:
            targets = [("TABLE", name) for name in conn.execute(_TABLES).scalars()]
        else:
            targets = [_resolve(conn, target)]
        steps = [
            _timed(conn, _STATEMENTS["reindex"].format(kind, name), name, i, len(targets), on_step)
            for i, (kind, name) in enumerate(targets, 1)
        ]
    return MaintenanceReport("reindex", steps)


def _resolve(conn: Connection, name: str) -> tuple[str, str]:
    row = conn.execute(_RELATION, {"name": name}).first()
    if row is None:
        raise UserError(f"no table or index named {name!r} in the public schema")
    return ("INDEX" if row[1] in ("i", "I") else "TABLE"), str(row[0])


def _each_table(engine: Engine, action: Action, on_step: OnStep | None) -> MaintenanceReport:
    with _autocommit(engine) as conn:
        tables = list(conn.execute(_TABLES).scalars())
        steps = [
            _timed(conn, _STATEMENTS[action].format(name), name, i, len(tables), on_step)
            for i, name in enumerate(tables, 1)
        ]
    return MaintenanceReport(action, steps)


def _autocommit(engine: Engine) -> Connection:
    # VACUUM and REINDEX CONCURRENTLY cannot run inside a transaction block.
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _timed(
    conn: Connection, statement: str, target: str, position: int, total: int, on_step: OnStep | None
) -> StepTime:
    if on_step is not None:
        on_step(target, position, total)
    started = time.perf_counter()
    conn.execute(text(statement))
    return StepTime(target, time.perf_counter() - started)
