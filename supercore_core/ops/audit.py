"""The audit log (revision 0012): superuser mode and membership changes; record, list.

``admin_session`` records one entry per use, in a transaction of its own that commits
before the admin work starts, so a rolled-back or failed admin transaction is still on
record. Entries are append-only: the database refuses UPDATE, DELETE and TRUNCATE.
"""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from supercore_core.errors import UserError
from supercore_core.models import AuditLogEntry

if TYPE_CHECKING:
    import pandas as pd

MAX_REASON = 1000


@dataclass(frozen=True)
class AuditEntry:
    """One recorded use of superuser mode (or membership change), with the person if any."""

    id: int
    occurred_at: datetime
    session_user: str
    current_user: str
    action: str
    reason: str
    solution_id: UUID | None
    application_name: str | None
    client_addr: str | None
    person_id: UUID | None = None


@dataclass(frozen=True)
class AuditLog:
    """Entries newest first; ``to_frame()`` for notebooks and the dashboard."""

    entries: list[AuditEntry]

    def to_frame(self) -> "pd.DataFrame":
        """The entries as a DataFrame, one row each."""
        import pandas as pd

        return pd.DataFrame([asdict(e) for e in self.entries], columns=list(_COLUMNS))


_COLUMNS = AuditEntry.__dataclass_fields__.keys()


def checked_reason(reason: str) -> str:
    """The reason stripped, or ``UserError`` when it is empty or too long."""
    cleaned = reason.strip()
    if not cleaned or len(cleaned) > MAX_REASON:
        raise UserError(
            f"superuser mode needs a reason of 1 to {MAX_REASON} characters (got {len(cleaned)})"
        )
    return cleaned


def record_superuser_use(
    session: Session,
    *,
    reason: str,
    solution_id: UUID | None = None,
    action: str = "superuser_mode",
    person_id: UUID | None = None,
) -> int:
    """Insert one audit entry in the session's transaction (superuser mode must be on).

    Who and when come from the database (session_user, current_user, now()); the row
    policy refuses anything else, and a ``person_id`` other than the session's signed-in
    person (``app.current_person_id``). Returns the entry's id.
    """
    entry = AuditLogEntry(
        reason=checked_reason(reason), solution_id=solution_id, action=action, person_id=person_id
    )
    session.add(entry)
    session.flush()
    return entry.id


def list_audit(
    session: Session,
    *,
    limit: int = 100,
    since: datetime | None = None,
    solution_id: UUID | None = None,
) -> AuditLog:
    """The newest ``limit`` entries visible here (all in superuser mode, else the tenant's)."""
    if limit < 1:
        raise UserError(f"limit must be at least 1 (got {limit})")
    query = select(AuditLogEntry).order_by(AuditLogEntry.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditLogEntry.occurred_at >= since)
    if solution_id is not None:
        query = query.where(AuditLogEntry.solution_id == solution_id)
    return AuditLog([_entry(row) for row in session.scalars(query)])


def _entry(row: AuditLogEntry) -> AuditEntry:
    values: dict[str, Any] = {
        "id": row.id,
        "occurred_at": row.occurred_at,
        "session_user": row.session_user_name,
        "current_user": row.current_user_name,
        "action": row.action,
        "reason": row.reason,
        "solution_id": row.solution_id,
        "application_name": row.application_name,
        "client_addr": None if row.client_addr is None else str(row.client_addr),
        "person_id": row.person_id,
    }
    return AuditEntry(**values)
