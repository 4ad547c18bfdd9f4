"""The declarative base, naming convention and column helpers shared by every model."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKeyConstraint,
    MetaData,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

EMBEDDING_DIMENSIONS = 384

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the project's constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )


def _uuid() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True))


def _jsonb(default: str = "'{}'::jsonb") -> Mapped[dict[str, Any]]:
    return mapped_column(JSONB, server_default=text(default))


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


def _updated() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


def _tenant_fks(table: str, *, oracle: bool = True) -> list[ForeignKeyConstraint]:
    fks = [
        ForeignKeyConstraint(
            ["solution_id"], ["solutions.id"], ondelete="CASCADE", name=f"fk_{table}_solution"
        )
    ]
    if oracle:
        fks.append(
            ForeignKeyConstraint(
                ["oracle_id", "solution_id"],
                ["oracles.id", "oracles.solution_id"],
                ondelete="CASCADE",
                name=f"fk_{table}_oracle",
            )
        )
    return fks
