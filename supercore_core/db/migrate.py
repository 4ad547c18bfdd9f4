"""Programmatic Alembic: upgrade, downgrade, current revision and drift check."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from supercore_core.config import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    """Alembic config for the project's migrations, bound to the libpq ``url``."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``base`` removes everything)."""
    command.downgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raise if the models and the migrated database disagree (``alembic check``)."""
    command.check(alembic_config(url))


def head_revision() -> str:
    """The newest revision in ``migrations/``."""
    head = ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()
    return head or "base"


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
