"""CLI: `supercore golden import|export|list|stale` and `supercore eval run --set`."""

import json
from pathlib import Path

import pytest

from tests.factories import unique_slug
from tests.test_cli_rag import cli_env, invoke

__all__ = ["cli_env"]
FILES = {
    "revenue.txt": "Total revenue grew by twelve percent in 2019, driven by cloud subscriptions.",
    "dividends.txt": "The board declared a quarterly dividend of 0.45 dollars per share.",
}
QUESTIONS = [
    {"id": "q1", "question": "How much did revenue grow?", "relevant": ["revenue.txt"]},
    {"id": "q2", "question": "What dividend did the board declare?", "relevant": ["dividends"]},
]


@pytest.fixture
def live(cli_env: None, tmp_path: Path) -> str:
    """A tenant whose live oracle ``reports`` holds two documents."""
    slug = unique_slug()
    assert invoke("tenant", "create", slug, "Golden Co")[0] == 0
    assert invoke("tenant", "add-oracle", "reports", "--tenant", slug)[0] == 0
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text)
    code, output = invoke("ingest", str(folder), "--tenant", slug, "--oracle", "reports")
    assert code == 0, output
    return slug


def test_import_list_run_and_export(live: str, tmp_path: Path) -> None:
    source = tmp_path / "set.jsonl"
    source.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    where = ("--tenant", live, "--oracle", "reports")
    code, output = invoke("golden", "import", str(source), *where, "--set", "main")
    assert code == 0, output
    assert "imported 2 questions with 2 judgements into 'main' (version 2)" in output
    code, output = invoke("golden", "list", *where)
    assert code == 0 and output.split() == ["main", "2", "questions", "0", "stale", "v2"]
    code, output = invoke("eval", "run", *where, "--set", "main", "--config",
                          '{"mode": "lexical"}')  # fmt: skip
    assert code == 0, output
    assert "golden:main@v2" in output and "2 queries" in output
    code, output = invoke("golden", "export", *where, "--set", "main", "--format", "csv")
    assert code == 0
    assert output.splitlines()[1] == "q1,How much did revenue grow?,revenue.txt,1,,,"
    code, output = invoke("golden", "stale", *where, "--set", "main")
    assert code == 0 and "no stale judgements" in output


def test_a_bad_file_imports_nothing_and_lists_each_problem(live: str, tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"id": "q1", "question": "x", "relevant": ["ghost.pdf"]}\nnot json\n')
    where = ("--tenant", live, "--oracle", "reports")
    code, output = invoke("golden", "import", str(source), *where, "--set", "main")
    assert code == 1 and "Traceback" not in output
    assert "nothing imported: 2 problem(s)" in output
    assert "line 1: unknown document 'ghost.pdf'" in output and "line 2: not JSON" in output
    code, output = invoke("golden", "list", *where)
    assert "no golden sets" in output  # rolled back with the set it would have created


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("eval", "run", "--tenant", "t"), "give --oracle NAME --set NAME"),
        (("eval", "run", "--tenant", "t", "--set", "main"), "--set needs the oracle"),
        (("golden", "import", "/no/such.jsonl", "--tenant", "t", "--oracle", "o", "--set", "s"),
         "no such file"),
        (("golden", "import", "qrels.tsv", "--tenant", "t", "--oracle", "o", "--set", "s"),
         "give its queries with --queries"),
        (("golden", "import", "x.xlsx", "--tenant", "t", "--oracle", "o", "--set", "s"),
         "unsupported golden-set file"),
        (("golden", "export", "--tenant", "t", "--oracle", "o", "--set", "s", "--format", "xml"),
         "unknown --format"),
    ],
)  # fmt: skip
def test_bad_input_gives_one_line_and_exit_1(
    cli_env: None, args: tuple[str, ...], message: str
) -> None:
    code, output = invoke(*args)
    assert code == 1 and message in output and "Traceback" not in output


def test_an_unknown_set_names_the_sets_there_are(live: str) -> None:
    code, output = invoke("eval", "run", "--tenant", live, "--oracle", "reports", "--set", "x")
    assert code == 1 and "no golden set named 'x' (its sets: none yet)" in output
