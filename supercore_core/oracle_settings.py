"""The one schema of an oracle's settings: retrieval (``oracles.retrieval_config``) and model.

Every path that writes settings (``update_oracle``, ``promote_config``, the dashboard, the
CLI's ``eval run --config``) and every path that reads them (``RetrievalConfig``) checks
values here: types, ranges and finite numbers. A bad value is refused with a message that
names the field and its allowed range.
"""

from collections.abc import Mapping
from typing import Any, Literal

from annotated_types import Ge, Le
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from supercore_core.errors import InvalidSettingError

FIX_HINT = "save valid settings on the Tenants page (or with catalog.update_oracle)"


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):  # JSON true is not the number 1
        raise ValueError("a boolean is not a number")
    return value


class RetrievalSettings(BaseModel):
    """An oracle's ``retrieval_config``: search settings and its chunk size.

    Missing keys take these defaults (``RetrievalConfig`` and ``ChunkingConfig`` agree; a
    test pins it).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    mode: Literal["dense", "lexical", "hybrid"] = "hybrid"
    k: int = Field(default=8, ge=1, le=1000)
    candidates: int = Field(default=100, ge=1, le=10_000)
    fusion: Literal["convex", "rrf"] = "convex"
    rrf_k: int = Field(default=60, ge=0, le=1000)
    dense_weight: float = Field(default=1.0, ge=0, le=10)
    lexical_weight: float = Field(default=1.0, ge=0, le=10)
    exact_below_chunks: int = Field(default=20_000, ge=0, le=10**15)
    ef_search: int = Field(default=400, ge=1, le=1000)
    min_similarity: float = Field(default=0.25, ge=-1, le=1)
    bm25_k1: float = Field(default=0.9, ge=0, le=10)
    bm25_b: float = Field(default=0.4, ge=0, le=1)
    chunk_tokens: int = Field(default=200, ge=8, le=4096)
    overlap_tokens: int = Field(default=40, ge=0, le=1024)

    _numbers = field_validator("*", mode="before")(_no_bool)

    @model_validator(mode="after")
    def _overlap_below_chunk(self) -> "RetrievalSettings":
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError(
                f"overlap_tokens ({self.overlap_tokens}) must be less than chunk_tokens "
                f"({self.chunk_tokens})"
            )
        return self


class ModelSettings(BaseModel):
    """An oracle's model settings (columns of ``oracles``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    temperature: float = Field(default=0.7, ge=0, le=2)
    max_tokens: int = Field(default=4096, ge=1, le=200_000)

    _numbers = field_validator("*", mode="before")(_no_bool)


RETRIEVAL_FIELDS = tuple(RetrievalSettings.model_fields)
SEARCH_FIELDS = tuple(f for f in RETRIEVAL_FIELDS if f not in ("chunk_tokens", "overlap_tokens"))


def check_retrieval(values: Mapping[str, Any]) -> dict[str, Any]:
    """The given retrieval settings, checked and normalised (``8.0`` becomes ``8``).

    Raises:
        InvalidSettingError: An unknown key or a value of the wrong type, out of range or
            not finite; the message names the field and its allowed range.
    """
    return _check(RetrievalSettings, values, "retrieval settings rejected")


def check_stored_retrieval(values: Mapping[str, Any], oracle_name: str = "") -> dict[str, Any]:
    """An oracle's stored ``retrieval_config`` (unknown keys ignored), checked as it is read."""
    known = {k: v for k, v in values.items() if k in RETRIEVAL_FIELDS}
    whose = f"oracle {oracle_name!r}" if oracle_name else "this oracle"
    try:
        return _check(RetrievalSettings, known, f"{whose} has invalid stored retrieval settings")
    except InvalidSettingError as exc:
        raise InvalidSettingError(f"{exc}; {FIX_HINT}") from None


def check_model(values: Mapping[str, Any]) -> dict[str, Any]:
    """Model settings (temperature, max_tokens) among ``values``, checked; others pass."""
    chosen = {k: v for k, v in values.items() if k in ModelSettings.model_fields}
    return dict(values) | _check(ModelSettings, chosen, "oracle settings rejected")


def valid_part(values: Mapping[str, Any]) -> dict[str, Any]:
    """The known retrieval settings among ``values`` that are valid on their own (a form
    that repairs an oracle's stored settings starts from these)."""
    kept: dict[str, Any] = {}
    for name, value in values.items():
        try:
            kept |= check_retrieval({name: value})
        except InvalidSettingError:
            continue
    return kept


def allowed(model: type[BaseModel], name: str) -> str:
    """What ``name`` accepts, e.g. ``a whole number from 1 to 100``."""
    info = model.model_fields[name]
    if name == "mode":
        return "dense, lexical or hybrid"
    if name == "fusion":
        return "convex or rrf"
    low = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in info.metadata if isinstance(m, Le)), None)
    kind = "a whole number" if info.annotation is int else "a finite number"
    return f"{kind} from {low:,} to {high:,}"


def _check(model: type[BaseModel], values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    try:
        checked = model.model_validate(dict(values))
    except ValidationError as exc:
        detail = _detail(model, exc.errors()[0], values)
        raise InvalidSettingError(f"{prefix}: {detail}") from None
    return checked.model_dump(include=set(values))


def _detail(model: type[BaseModel], error: ErrorDetails, values: Mapping[str, Any]) -> str:
    if not error["loc"]:  # a check across fields
        return error["msg"].removeprefix("Value error, ")
    name = str(error["loc"][0])
    if error["type"] == "extra_forbidden":
        return f"unknown setting {name!r}: use {', '.join(model.model_fields)}"
    value = values[name]
    shown = repr(value) if isinstance(value, str) else str(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    if name == "mode":
        return f"unknown retrieval mode {shown}: use {allowed(model, name)}"
    return f"{name} is {shown}: use {allowed(model, name)}"
