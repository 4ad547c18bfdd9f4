"""SuperCore Workbench core: settings, database, tenant sessions and the schema's models."""

from supercore_core.config import Settings
from supercore_core.db.engine import check_connection, libpq_url, make_engine, make_sessions
from supercore_core.db.sessions import (
    ADMIN_ROLE,
    APP_ROLE,
    admin_session,
    person_session,
    tenant_session,
)
from supercore_core.errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    EmbeddedServerError,
    SupercoreError,
    TenantContextError,
    UserError,
)
from supercore_core.models import (
    Base,
    Conversation,
    Document,
    DocumentChunk,
    Message,
    Oracle,
    Solution,
    TemporalWorkflow,
)

__all__ = [
    "ADMIN_ROLE",
    "APP_ROLE",
    "Base",
    "ConfigurationError",
    "Conversation",
    "DatabaseUnavailableError",
    "Document",
    "DocumentChunk",
    "EmbeddedServerError",
    "Message",
    "Oracle",
    "Settings",
    "Solution",
    "SupercoreError",
    "TemporalWorkflow",
    "TenantContextError",
    "UserError",
    "admin_session",
    "check_connection",
    "libpq_url",
    "make_engine",
    "make_sessions",
    "person_session",
    "tenant_session",
]
