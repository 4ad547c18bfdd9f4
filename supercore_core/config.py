"""Settings: built at the edge (CLI, app, notebook, test fixture) and passed down."""

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class PriceOverride(BaseModel):
    """A price set by hand for one model, in USD per million tokens."""

    input_per_mtok: Decimal = Field(ge=0)
    output_per_mtok: Decimal = Field(ge=0)


def _env(name: str, *aliases: str) -> AliasChoices:
    return AliasChoices(f"SUPERCORE_{name.upper()}", *aliases, name)


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
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("anthropic_api_key", "ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=_env("anthropic_base_url", "ANTHROPIC_BASE_URL")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("openai_api_key", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=_env("openai_base_url", "OPENAI_BASE_URL")
    )
    # Longest question chat and search accept (SUPERCORE_MAX_QUESTION_CHARS).
    max_question_chars: int = Field(default=4000, ge=1, le=100_000)
    llm_timeout_s: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0)
    # The bundled MiniLM's implementation: "onnx" (fp32, passes the parity gate), "onnx-int8"
    # (fp32 ONNX on CPUs without VNNI) or "torch" (the reference); see embedding.choice.
    embedder: Literal["onnx", "onnx-int8", "torch"] = "onnx"
    # Where the exported ONNX files are kept (SUPERCORE_MODEL_DIR; default <data_dir>/models).
    model_dir: Path | None = None
    # "provider/model" -> price; wins over genai-prices (e.g. a negotiated or local model).
    price_overrides: dict[str, PriceOverride] = Field(default_factory=dict)
    # Ingestion limits per document (supercore_core.ingest.limits.IngestLimits; README).
    ingest_max_file_mb: float = Field(default=50.0, gt=0)
    ingest_max_inflated_mb: float = Field(default=100.0, gt=0)
    ingest_max_xml_mb: float = Field(default=20.0, gt=0)
    ingest_max_zip_entries: int = Field(default=10_000, ge=1)
    ingest_max_pdf_pages: int = Field(default=2_000, ge=1)
    ingest_max_text_chars: int = Field(default=50_000_000, ge=1)
    ingest_max_html_depth: int = Field(default=512, ge=1)
    ingest_max_html_tags: int = Field(default=300_000, ge=1)
    ingest_max_chunk_bytes: int = Field(default=200_000, ge=1_000)

    @property
    def models_dir(self) -> Path:
        """Where the exported ONNX model files live."""
        return self.model_dir or self.data_dir / "models"

    @property
    def uses_embedded_server(self) -> bool:
        """True when no external database URL is configured."""
        return not self.database_url

    @property
    def pgdata(self) -> Path:
        """Data directory of the embedded server."""
        return self.data_dir / "pgdata"
