"""The parity gate: the default ONNX embedder against the PyTorch reference on real texts.

The fixed sample is the evaluation gate set (evals/datasets/tatqa-gate): its 178 TAT-QA
documents and 96 queries. The default implementation must keep mean cosine >= 0.99,
minimum >= 0.98 and dense nDCG@10 within 0.005 of PyTorch's; int8 must keep the cosines.
"""

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from supercore_core import Settings
from supercore_core.embedding import MiniLMEmbedder, minilm_embedder
from supercore_core.embedding.choice import effective, has_vnni, model_file
from supercore_core.embedding.parity import (
    MAX_NDCG_DROP,
    MIN_COSINE,
    MIN_MEAN_COSINE,
    cosines,
    dense_ndcg,
    folders,
    sample_texts,
)
from supercore_core.evaluation.beir import BeirDataset

DEFAULT = Settings.model_fields["embedder"].default


@pytest.fixture(scope="module")
def gate_set() -> list[BeirDataset]:
    return folders()


@pytest.fixture(scope="module")
def reference(gate_set: list[BeirDataset]) -> tuple[list[list[float]], float]:
    torch = MiniLMEmbedder()
    return torch.embed(sample_texts(gate_set)), dense_ndcg(torch, gate_set)


@pytest.mark.slow
def test_the_default_embedder_keeps_parity_with_pytorch(
    gate_set: list[BeirDataset], reference: tuple[list[list[float]], float]
) -> None:
    vectors, torch_ndcg = reference
    embedder = minilm_embedder(Settings(embedder=DEFAULT))
    assert embedder.model_name != MiniLMEmbedder.model_name  # not the reference itself
    agreement = cosines(vectors, embedder.embed(sample_texts(gate_set)))
    assert agreement.texts == 274
    assert agreement.mean >= MIN_MEAN_COSINE
    assert agreement.min >= MIN_COSINE
    assert abs(dense_ndcg(embedder, gate_set) - torch_ndcg) <= MAX_NDCG_DROP


@pytest.mark.slow
@pytest.mark.skipif(not has_vnni(), reason="int8 runs as fp32 ONNX without VNNI")
def test_int8_keeps_the_cosines(
    gate_set: list[BeirDataset], reference: tuple[list[list[float]], float]
) -> None:
    embedder = minilm_embedder(Settings(embedder="onnx-int8"))
    assert embedder.model_name == "all-MiniLM-L6-v2+onnx-int8"
    agreement = cosines(reference[0], embedder.embed(sample_texts(gate_set)))
    assert agreement.mean >= MIN_MEAN_COSINE
    assert agreement.min >= MIN_COSINE


def test_onnx_counts_tokens_like_the_reference(gate_set: list[BeirDataset]) -> None:
    onnx, torch = minilm_embedder(Settings(embedder="onnx")), MiniLMEmbedder()
    texts = sample_texts(gate_set)[::7]
    assert [onnx.count_tokens(t) for t in texts] == [torch.count_tokens(t) for t in texts]
    assert max(onnx.count_tokens(t) for t in texts) > 256  # counted beyond the truncation


def test_the_onnx_path_never_imports_torch() -> None:
    minilm_embedder(Settings(embedder="onnx"))  # the model file exists from here on
    script = (
        "import sys\n"
        "from supercore_core import Settings\n"
        "from supercore_core.embedding import minilm_embedder\n"
        "e = minilm_embedder(Settings(embedder='onnx'))\n"
        "assert len(e.embed(['fees for wire transfers'])[0]) == 384\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers')"
        " if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, check=True
    )
    assert done.stdout.strip() == "[]"


def test_stored_vectors_name_their_implementation() -> None:
    names = {
        choice: minilm_embedder(Settings(embedder=choice)).model_name
        for choice in ("onnx", "torch")
    }
    assert names == {"onnx": "all-MiniLM-L6-v2+onnx", "torch": "all-MiniLM-L6-v2"}


@pytest.mark.parametrize(
    ("flags", "expected"),
    [("fpu sse avx2 avx512_vnni", True), ("fpu avx_vnni", True), ("fpu sse avx2", False)],
)
def test_vnni_is_read_from_the_cpu_flags(tmp_path: Path, flags: str, expected: bool) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert has_vnni(cpuinfo) is expected
    assert has_vnni(tmp_path / "missing") is False


def test_int8_falls_back_to_fp32_without_vnni_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="supercore_core.embedding.choice"):
        first = effective("onnx-int8", vnni=False)
        second = effective("onnx-int8", vnni=False)
    assert (first, second) == ("onnx", "onnx")
    notices = [r for r in caplog.records if "lacks VNNI" in r.getMessage()]
    assert len(notices) <= 1  # once per process (an earlier test may have said it already)
    assert effective("onnx-int8", vnni=True) == "onnx-int8"
    assert effective("torch", vnni=False) == "torch"


def test_model_files_are_keyed_by_variant_and_versions(tmp_path: Path) -> None:
    fp32, int8 = model_file(tmp_path, "onnx"), model_file(tmp_path, "onnx-int8")
    assert fp32 != int8
    assert fp32.parent == tmp_path
    assert Settings(data_dir=tmp_path, model_dir=None).models_dir == tmp_path / "models"
    assert Settings(data_dir=tmp_path, model_dir=tmp_path / "m").models_dir == tmp_path / "m"
    assert fp32.name.startswith("all-MiniLM-L6-v2-onnx-") and fp32.suffix == ".onnx"
