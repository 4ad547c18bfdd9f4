"""The one settings schema: every bad value is refused with its field and allowed range."""

import dataclasses
import math
import re
from typing import Any

import pytest

from supercore_core.errors import InvalidSettingError, UserError
from supercore_core.ingest.chunking import ChunkingConfig
from supercore_core.oracle_settings import (
    RetrievalSettings,
    check_model,
    check_retrieval,
    check_stored_retrieval,
    valid_part,
)
from supercore_core.retrieval import RetrievalConfig

# The findings, and their neighbours: (setting, value, message).
BAD_SETTINGS: list[tuple[str, Any, str]] = [
    ("k", 2.5, "k is 2.5: use a whole number from 1 to 1,000"),
    ("k", 1e9, "k is 1000000000.0: use a whole number from 1 to 1,000"),
    ("k", 9223372036854775808, "k is 9223372036854775808: use a whole number from 1 to 1,000"),
    ("k", 0, "k is 0: use a whole number from 1 to 1,000"),
    ("k", True, "k is True: use a whole number"),
    ("k", "many", "k is 'many': use a whole number"),
    ("candidates", 1e30, "candidates is 1e+30: use a whole number from 1 to 10,000"),
    ("ef_search", -1, "ef_search is -1: use a whole number from 1 to 1,000"),
    ("chunk_tokens", 0, "chunk_tokens is 0: use a whole number from 8 to 4,096"),
    ("chunk_tokens", 100_000, "chunk_tokens is 100000: use a whole number from 8 to 4,096"),
    ("rrf_k", math.nan, "rrf_k is nan: use a whole number from 0 to 1,000"),
    ("rrf_k", math.inf, "rrf_k is inf: use a whole number"),
    ("dense_weight", math.nan, "dense_weight is nan: use a finite number from 0 to 10"),
    ("lexical_weight", -math.inf, "lexical_weight is -inf: use a finite number from 0 to 10"),
    ("min_similarity", 2, "min_similarity is 2: use a finite number from -1 to 1"),
    ("mode", "fuzzy", "unknown retrieval mode 'fuzzy': use dense, lexical or hybrid"),
    ("fusion", "linear", "fusion is 'linear': use convex or rrf"),
    ("top_k", 5, "unknown setting 'top_k': use mode, k, candidates"),
    ("overlap_tokens", 300, "overlap_tokens (300) must be less than chunk_tokens (200)"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_SETTINGS)
def test_bad_retrieval_settings_name_the_field_and_range(
    name: str, value: Any, message: str
) -> None:
    prefix = "^retrieval settings rejected: "
    with pytest.raises(InvalidSettingError, match=prefix + re.escape(message)):
        check_retrieval({name: value})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [bad for bad in BAD_SETTINGS if bad[0] in RetrievalConfig.__dataclass_fields__],
)
def test_retrieval_config_refuses_them_too(name: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidSettingError, match=re.escape(message)):
        RetrievalConfig(**{name: value})


def test_nan_rrf_k_and_weight_no_longer_rank_silently() -> None:
    with pytest.raises(InvalidSettingError, match="rrf_k is nan"):
        RetrievalConfig(rrf_k=math.nan, dense_weight=math.nan)  # type: ignore[arg-type]
    with pytest.raises(InvalidSettingError, match="k is 1001"):
        dataclasses.replace(RetrievalConfig(), k=1001)


def test_good_values_are_normalised() -> None:
    assert check_retrieval({"k": 8.0, "dense_weight": 2, "mode": "lexical"}) == {
        "k": 8, "dense_weight": 2.0, "mode": "lexical",
    }  # fmt: skip
    assert RetrievalConfig(k=8.0).k == 8  # type: ignore[arg-type]
    assert isinstance(RetrievalConfig(k=8.0).k, int)  # type: ignore[arg-type]


def test_schema_defaults_match_the_configs() -> None:
    schema = RetrievalSettings()
    assert dataclasses.asdict(RetrievalConfig()) == schema.model_dump(
        include=set(RetrievalConfig.__dataclass_fields__)
    )
    chunking = ChunkingConfig()
    assert (schema.chunk_tokens, schema.overlap_tokens) == (
        chunking.chunk_tokens, chunking.overlap_tokens,
    )  # fmt: skip


def test_stored_settings_name_the_oracle_and_the_fix() -> None:
    with pytest.raises(InvalidSettingError) as caught:
        RetrievalConfig.from_oracle({"k": 2.5, "legacy": "kept"}, oracle_name="finance")
    assert str(caught.value) == (
        "oracle 'finance' has invalid stored retrieval settings: k is 2.5: use a whole number "
        "from 1 to 1,000; save valid settings on the Tenants page (or with "
        "catalog.update_oracle)"
    )
    # Unknown keys of older versions are ignored when reading, refused when writing.
    assert check_stored_retrieval({"legacy": 1, "k": 3}) == {"k": 3}


def test_valid_part_keeps_what_a_repair_form_can_start_from() -> None:
    stored = {"k": 2.5, "mode": "lexical", "ef_search": -1, "legacy": 1, "rrf_k": 20}
    assert valid_part(stored) == {"mode": "lexical", "rrf_k": 20}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"temperature": math.nan}, "temperature is nan: use a finite number from 0 to 2"),
        ({"temperature": math.inf}, "temperature is inf"),
        ({"max_tokens": 10**10}, "max_tokens is 10000000000: use a whole number from 1 to 200,000"),
        ({"max_tokens": 1.5}, "max_tokens is 1.5"),
    ],
)
def test_model_settings(values: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=f"oracle settings rejected: {message}"):
        check_model(values)


def test_model_settings_pass_the_others_through() -> None:
    assert check_model({"temperature": 1, "llm_model": "m"}) == {
        "temperature": 1.0,
        "llm_model": "m",
    }
