"""Test fixtures: a throwaway PostgreSQL (or a database of our own on DATABASE_URL).

Tests never touch the data ``make run`` keeps: without ``SUPERCORE_TEST_DATABASE_URL`` /
``DATABASE_URL`` they start their own embedded server in a temporary directory; with one,
they create (and finally drop) a database of their own on that server.
"""

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Settings, make_engine, make_sessions
from supercore_core.db import embedded, migrate

os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
# Exported ONNX models are shared by every test run of this checkout (exported once).
os.environ.setdefault(
    "SUPERCORE_MODEL_DIR", str(Path(__file__).parents[1] / "build" / "test-models")
)


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def with_login(url: str, user: str, password: str) -> str:
    """The same URL with another user and password."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def create_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A maintenance-database URL on a server the tests may create databases on."""
    external = os.environ.get("SUPERCORE_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if external:
        yield with_database(external, "postgres")
        return
    # Short path: Unix socket paths are limited to ~107 bytes. Outside pytest's numbered
    # temp dirs, which a concurrent pytest run rotates away (it keeps only the last three).
    pgdata = Path(tempfile.mkdtemp(prefix="sc-pg-")) / "pgdata"
    embedded.start(pgdata, "postgres")
    yield embedded.server_url(pgdata)
    embedded.stop(pgdata)
    shutil.rmtree(pgdata.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database migrated to head, dropped at the end of the session."""
    name = f"supercore_test_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name)
    migrate.upgrade(url)
    yield url
    drop_database(server_url, name)


@pytest.fixture
def scratch_database(server_url: str) -> Iterator[str]:
    """An empty database of its own, for tests that migrate up and down."""
    name = f"supercore_scratch_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture(scope="session")
def owner_engine(settings: Settings) -> Iterator[Engine]:
    """The migrating login (the table owner; a superuser on the embedded server)."""
    engine = make_engine(settings)
    yield engine
    engine.dispose()


def _login_role(server_url: str, database_url: str, group: str) -> Iterator[str]:
    name = f"sc_test_{group.removeprefix('supercore_')}_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                sql.Identifier(name), sql.Literal(password), sql.Identifier(group)
            )
        )
    yield with_login(database_url, name, password)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def app_login_url(server_url: str, database_url: str) -> Iterator[str]:
    """URL of a login that is a member of supercore_app only: the attacker's seat."""
    yield from _login_role(server_url, database_url, "supercore_app")


@pytest.fixture(scope="session")
def admin_login_url(server_url: str, database_url: str) -> Iterator[str]:
    """URL of a login that is a member of supercore_admin."""
    yield from _login_role(server_url, database_url, "supercore_admin")


@pytest.fixture(scope="session")
def app_engine(settings: Settings, app_login_url: str) -> Iterator[Engine]:
    engine = make_engine(settings, url=app_login_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def admin_engine(settings: Settings, admin_login_url: str) -> Iterator[Engine]:
    engine = make_engine(settings, url=admin_login_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app_sessions(app_engine: Engine) -> sessionmaker[Session]:
    return make_sessions(app_engine)


@pytest.fixture(scope="session")
def admin_sessions(admin_engine: Engine) -> sessionmaker[Session]:
    return make_sessions(admin_engine)
