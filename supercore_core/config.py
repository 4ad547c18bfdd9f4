"""Settings: built at the edge (CLI, app, notebook, test fixture) and passed down."""

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Workbench configuration.

    Precedence: explicit argument, then environment (prefix ``SUPERCORE_``), then default.
    ``DATABASE_URL`` is accepted as well as ``SUPERCORE_DATABASE_URL``; when neither is set
    the embedded PostgreSQL server under ``data_dir`` is used.
    """

    model_config = SettingsConfigDict(env_prefix="SUPERCORE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SUPERCORE_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    data_dir: Path = PROJECT_ROOT / ".supercore"
    database_name: str = "supercore"
    pool_size: int = Field(default=5, ge=1)
    connect_timeout_s: int = Field(default=5, ge=1)

    @property
    def uses_embedded_server(self) -> bool:
        """True when no external database URL is configured."""
        return not self.database_url

    @property
    def pgdata(self) -> Path:
        """Data directory of the embedded server."""
        return self.data_dir / "pgdata"
