"""Alembic environment: the URL comes from Settings (or from the caller's Config)."""

from typing import Any

from alembic import context
from pgvector.sqlalchemy import Vector
from sqlalchemy import create_engine, pool
from sqlalchemy.dialects.postgresql.base import ischema_names

from supercore_core.config import Settings
from supercore_core.db.engine import libpq_url, sqlalchemy_url
from supercore_core.models import Base

ischema_names["vector"] = Vector


def _url() -> str:
    configured = context.config.get_main_option("sqlalchemy.url")
    if configured:
        return sqlalchemy_url(configured)
    return sqlalchemy_url(libpq_url(Settings(), start_embedded=True))


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Indexes live only in revisions (see each revision's COMMENT ON INDEX), not in models."""
    return not (type_ == "index" and reflected and compare_to is None)


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            compare_type=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
