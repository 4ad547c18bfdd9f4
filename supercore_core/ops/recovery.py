"""Say what happened to work whose process died: stalled workflows end ``failed``.

A killed ingester leaves its document ``processing`` and its workflow ``running`` at the
last step it committed; its chunks were never half-written (they are stored in one
transaction). ``recover_stalled`` marks such workflows and their documents failed with
the reason; ingesting the same file again then redoes it from the start.
"""

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core.errors import UserError

_FAIL_WORKFLOWS = text("""
UPDATE temporal_workflows
SET status = 'failed', completed_at = now(),
    error_message = format('interrupted after step %s: no progress for %s s (the process '
        'stopped: killed, crashed or cut off); ingest the file again to resume',
        COALESCE(current_step, 'start'), EXTRACT(epoch FROM now() - updated_at)::int)
WHERE status = 'running' AND updated_at < now() - make_interval(secs => :idle)
RETURNING solution_id, workflow_id, document_id, error_message
""")
_FAIL_DOCUMENT = text("""
UPDATE documents SET status = 'failed', error_message = :reason
WHERE id = :d AND solution_id = :s AND status = 'processing'
""")


@dataclass(frozen=True)
class RecoveredWorkflow:
    """A workflow (and its document, if any) now marked failed, with the reason."""

    solution_id: UUID
    workflow_id: str
    document_id: UUID | None
    reason: str


def recover_stalled(session: Session, *, idle_for_s: float) -> list[RecoveredWorkflow]:
    """Fail every workflow the session can see that made no progress for ``idle_for_s``.

    Use an admin session for all tenants. Choose ``idle_for_s`` longer than one step can
    take (one embedder call for a batch of documents), or live work is cut short.
    """
    if idle_for_s < 0:
        raise UserError(f"idle time must not be negative (got {idle_for_s})")
    recovered = [
        RecoveredWorkflow(*row) for row in session.execute(_FAIL_WORKFLOWS, {"idle": idle_for_s})
    ]
    for item in recovered:
        if item.document_id is not None:
            session.execute(
                _FAIL_DOCUMENT,
                {"reason": item.reason, "d": item.document_id, "s": item.solution_id},
            )
    return recovered
