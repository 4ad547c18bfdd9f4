"""Settings precedence and the public API."""

import pytest

import supercore_core
from supercore_core import Settings
from supercore_core.db.engine import sqlalchemy_url


def test_database_url_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://a@h/db1")
    assert Settings().database_url == "postgresql://a@h/db1"
    monkeypatch.setenv("SUPERCORE_DATABASE_URL", "postgresql://b@h/db2")
    assert Settings().database_url == "postgresql://b@h/db2"
    assert Settings(database_url="postgresql://c@h/db3").database_url == "postgresql://c@h/db3"


def test_no_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SUPERCORE_DATABASE_URL", raising=False)
    monkeypatch.delenv("SUPERCORE_DATA_DIR", raising=False)  # the notebooks' server sets it
    settings = Settings()
    assert settings.uses_embedded_server
    assert settings.pgdata.parts[-2:] == (".supercore", "pgdata")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://u:p@h:5432/db?sslmode=require",
            "postgresql+psycopg://u:p@h:5432/db?sslmode=require",
        ),
        ("postgres://u@/db?host=/tmp/s", "postgresql+psycopg://u@/db?host=/tmp/s"),
    ],
)
def test_libpq_urls_select_psycopg(url: str, expected: str) -> None:
    assert sqlalchemy_url(url) == expected


def test_public_api_is_pinned_and_sorted() -> None:
    assert supercore_core.__all__ == sorted(supercore_core.__all__)
    assert set(supercore_core.__all__) == {
        "ADMIN_ROLE", "APP_ROLE", "Base", "ConfigurationError", "Conversation",
        "DatabaseUnavailableError", "Document", "DocumentChunk", "EmbeddedServerError",
        "Message", "Oracle", "Settings", "Solution", "SupercoreError", "TemporalWorkflow",
        "TenantContextError", "UserError", "admin_session", "check_connection", "libpq_url",
        "make_engine", "make_sessions", "person_session", "tenant_session",
    }  # fmt: skip
