"""A database that does not answer is reported as such, not as a missing grant."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import (
    DatabaseUnavailableError,
    TenantContextError,
    admin_session,
    tenant_session,
)
from supercore_core.db.engine import make_sessions


@pytest.fixture
def down_sessions(tmp_path: Path) -> sessionmaker[Session]:
    """Sessions on a socket directory where no server listens (a stopped embedded server)."""
    engine = create_engine(f"postgresql+psycopg://nobody@/supercore?host={tmp_path}")
    return make_sessions(engine)


def test_tenant_session_on_a_stopped_server_says_how_to_start_it(
    down_sessions: sessionmaker[Session],
) -> None:
    tenant = "00000000-0000-0000-0000-000000000001"
    with (
        pytest.raises(DatabaseUnavailableError) as caught,
        tenant_session(down_sessions, solution_id=tenant),
    ):
        pass
    message = str(caught.value)
    assert message.startswith("the database is not answering (")
    assert "`supercore db start`" in message and "`make run`" in message
    assert "GRANT" not in message and "cannot act as" not in message


def test_admin_session_on_a_stopped_server_says_how_to_start_it(
    down_sessions: sessionmaker[Session],
) -> None:
    with (
        pytest.raises(DatabaseUnavailableError, match="not answering"),
        admin_session(down_sessions, reason="test"),
    ):
        pass


def test_a_real_missing_grant_keeps_the_permission_hint(
    app_sessions: sessionmaker[Session],
) -> None:
    with pytest.raises(TenantContextError) as caught, admin_session(app_sessions, reason="t"):
        pass
    assert not isinstance(caught.value, DatabaseUnavailableError)
    assert "cannot act as supercore_admin: grant it membership" in str(caught.value)
