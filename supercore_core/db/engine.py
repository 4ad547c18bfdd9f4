"""Database URL resolution and engine construction."""

from urllib.parse import urlsplit

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.config import Settings
from supercore_core.db import embedded
from supercore_core.db.sessions import install_pool_reset
from supercore_core.errors import ConfigurationError, DatabaseUnavailableError

_LIBPQ_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def libpq_url(settings: Settings, *, start_embedded: bool = False) -> str:
    """The libpq URL (``postgresql://...``) of the configured database.

    With no ``DATABASE_URL`` this is the embedded server's, started first when
    ``start_embedded`` is true.
    """
    if settings.database_url:
        return _validated(settings.database_url)
    if start_embedded:
        return embedded.start(settings.pgdata, settings.database_name)
    return embedded.server_url(settings.pgdata, settings.database_name)


def sqlalchemy_url(url: str) -> str:
    """Turn a libpq URL into the SQLAlchemy form that selects psycopg 3."""
    _, _, rest = _validated(url).partition("://")
    return f"postgresql+psycopg://{rest}"


def _validated(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in _LIBPQ_SCHEMES:
        raise ConfigurationError(
            f"DATABASE_URL must start with postgresql:// (got {scheme or 'no scheme'}://...)"
        )
    try:
        make_url(url.replace(scheme + "://", "postgresql+psycopg://", 1))
    except ArgumentError as exc:
        raise ConfigurationError(f"DATABASE_URL is not a valid PostgreSQL URL: {exc}") from exc
    return url


def make_engine(
    settings: Settings, *, start_embedded: bool = False, url: str | None = None
) -> Engine:
    """Build an engine for ``url`` (default: the configured database) and check it answers."""
    target = url or libpq_url(settings, start_embedded=start_embedded)
    engine = create_engine(
        sqlalchemy_url(target),
        pool_size=settings.pool_size,
        pool_pre_ping=True,
        # No server-side prepared statements: a cached generic plan could freeze one
        # tenant's or oracle's choice (exact vs HNSW, index vs scan) for every later call.
        connect_args={"connect_timeout": settings.connect_timeout_s, "prepare_threshold": None},
    )
    install_pool_reset(engine)
    check_connection(engine)
    return engine


def check_connection(engine: Engine) -> str:
    """Return the server version, or raise ``DatabaseUnavailableError`` with a clear reason."""
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar_one())
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailableError(
            f"cannot connect to PostgreSQL at {where}: {reason}. "
            "Check DATABASE_URL, or start the embedded server with `supercore db start`."
        ) from exc


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory every domain call receives (``expire_on_commit`` off)."""
    return sessionmaker(engine, expire_on_commit=False)
