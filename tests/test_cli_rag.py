"""CLI: tenants, ingest, search and `eval retrieval`, end to end on the test database."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supercore_core.cli import app
from tests.factories import unique_slug

runner = CliRunner()
DATA = Path(__file__).parent / "data"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_create_ingest_and_search(cli_env: None, tmp_path: Path) -> None:
    slug = unique_slug()
    assert invoke("tenant", "create", slug, "CLI Co")[0] == 0
    assert invoke("tenant", "add-oracle", "reports", "--tenant", slug)[0] == 0
    (tmp_path / "broken.pdf").write_bytes(b"not a pdf")
    code, output = invoke("ingest", str(DATA / "ingest"), str(tmp_path / "broken.pdf"),
                          "--tenant", slug, "--oracle", "reports")  # fmt: skip
    assert code == 1
    assert "completed sample.md" in output
    assert "failed    broken.pdf: broken.pdf is not a readable PDF" in output
    assert "1 of 4 files failed" in output
    code, output = invoke("search", "monthly fee", "--tenant", slug, "--oracle", "reports",
                          "--mode", "lexical", "-k", "2")  # fmt: skip
    assert code == 0
    first, second = output.splitlines()
    assert first.split()[0] == "1"
    assert second.split()[0] == "2"
    assert "fee" in first.lower()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "x", "--tenant", "no-such-tenant", "--oracle", "o"), "no tenant with slug"),
        (
            ("ingest", "/no/such/file.txt", "--tenant", "t", "--oracle", "o"),
            "no such file or folder",
        ),
        (("eval", "retrieval", str(DATA / "ingest")), "is not a BEIR dataset folder"),
        (("eval", "retrieval", str(DATA / "beir_tiny"), "--mode", "fuzzy"), "unknown mode 'fuzzy'"),
    ],
)
def test_bad_input_gives_one_line_and_exit_1(
    cli_env: None, args: tuple[str, ...], message: str
) -> None:
    code, output = invoke(*args)
    assert code == 1
    assert message in output
    assert "Traceback" not in output


def test_eval_retrieval_on_a_tiny_dataset(cli_env: None, tmp_path: Path) -> None:
    run_file = tmp_path / "run.trec"
    code, output = invoke("eval", "retrieval", str(DATA / "beir_tiny"), "--mode", "hybrid",
                          "-k", "5", "--run-out", str(run_file))  # fmt: skip
    assert code == 0, output
    metrics = dict(re.findall(r"(nDCG@10|R@100|RR@10) +([0-9.]+)", output))
    assert set(metrics) == {"nDCG@10", "R@100", "RR@10"}
    assert float(metrics["nDCG@10"]) == pytest.approx(1.0)
    assert float(metrics["RR@10"]) == pytest.approx(1.0)
    lines = run_file.read_text().splitlines()
    first = lines[0].split()
    assert first[1:4:2] == ["Q0", "1"] and first[5] == "supercore-hybrid"
    assert {line.split()[0] for line in lines} == {"q1", "q2", "q3"}
    again = invoke("eval", "retrieval", str(DATA / "beir_tiny"), "--mode", "dense", "-k", "5")
    assert again[0] == 0
