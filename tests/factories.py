"""Plain factory functions: build a tenant's rows with sensible defaults."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from supercore_core import (
    Conversation,
    Document,
    DocumentChunk,
    Message,
    Oracle,
    Solution,
    TemporalWorkflow,
)
from supercore_core.models import ALL_MODELS

TABLES = tuple(model.__tablename__ for model in ALL_MODELS)
SEED_TABLES = TABLES[:7]  # the seed's seven; later revisions add more


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_solution(session: Session, **overrides: Any) -> Solution:
    values: dict[str, Any] = {"slug": unique_slug(), "name": "Test Tenant", "industry": "fintech"}
    row = Solution(**(values | overrides))
    session.add(row)
    session.flush()
    return row


def make_oracle(session: Session, solution: Solution, **overrides: Any) -> Oracle:
    values: dict[str, Any] = {"solution_id": solution.id, "oracle_name": unique_slug("oracle")}
    row = Oracle(**(values | overrides))
    session.add(row)
    session.flush()
    return row


def make_document(session: Session, oracle: Oracle, **overrides: Any) -> Document:
    values: dict[str, Any] = {
        "oracle_id": oracle.id,
        "solution_id": oracle.solution_id,
        "filename": "report.txt",
        "file_type": "txt",
    }
    row = Document(**(values | overrides))
    session.add(row)
    session.flush()
    return row


def make_chunk(session: Session, document: Document, **overrides: Any) -> DocumentChunk:
    values: dict[str, Any] = {
        "document_id": document.id,
        "oracle_id": document.oracle_id,
        "solution_id": document.solution_id,
        "chunk_index": 0,
        "content": "Revenue grew by twelve percent in fiscal 2019.",
    }
    row = DocumentChunk(**(values | overrides))
    session.add(row)
    session.flush()
    return row


def make_conversation(session: Session, oracle: Oracle, **overrides: Any) -> Conversation:
    values: dict[str, Any] = {
        "oracle_id": oracle.id,
        "solution_id": oracle.solution_id,
        "session_id": unique_slug("session"),
    }
    row = Conversation(**(values | overrides))
    session.add(row)
    session.flush()
    return row


def make_message(session: Session, conversation: Conversation, **overrides: Any) -> Message:
    values: dict[str, Any] = {
        "conversation_id": conversation.id,
        "oracle_id": conversation.oracle_id,
        "solution_id": conversation.solution_id,
        "role": "user",
        "content": "What was the revenue growth?",
        "sequence_number": 1,
    }
    row = Message(**(values | overrides))
    session.add(row)
    session.flush()
    return row


def make_workflow(session: Session, oracle: Oracle, **overrides: Any) -> TemporalWorkflow:
    values: dict[str, Any] = {
        "workflow_id": unique_slug("wf"),
        "workflow_type": "ProcessDocumentWorkflow",
        "solution_id": oracle.solution_id,
        "oracle_id": oracle.id,
    }
    row = TemporalWorkflow(**(values | overrides))
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Tenant:
    """Ids of one tenant's full row graph: one row in each of the seven tables."""

    solution_id: uuid.UUID
    oracle_id: uuid.UUID
    document_id: uuid.UUID
    chunk_id: uuid.UUID
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    workflow_id: str

    def row_key(self, table: str) -> tuple[str, uuid.UUID | str]:
        """Column and value that identify this tenant's row in ``table``."""
        if table == "temporal_workflows":
            return "workflow_id", self.workflow_id
        return "id", {
            "solutions": self.solution_id,
            "oracles": self.oracle_id,
            "documents": self.document_id,
            "document_chunks": self.chunk_id,
            "conversations": self.conversation_id,
            "messages": self.message_id,
        }[table]


def make_tenant(session: Session) -> Tenant:
    """One row in every table for a new tenant (session must be able to write them)."""
    solution = make_solution(session)
    oracle = make_oracle(session, solution)
    document = make_document(session, oracle)
    chunk = make_chunk(session, document, embedding=[0.1] * 384)
    conversation = make_conversation(session, oracle)
    message = make_message(session, conversation)
    workflow = make_workflow(session, oracle, document_id=document.id)
    return Tenant(
        solution.id,
        oracle.id,
        document.id,
        chunk.id,
        conversation.id,
        message.id,
        workflow.workflow_id,
    )
