"""CLI: `supercore chat` (one-shot and interactive, offline answerer) and `supercore usage`."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supercore_core.cli import app
from tests.factories import unique_slug

runner = CliRunner()
DATA = Path(__file__).parent / "data"
KEY_VARS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "SUPERCORE_ANTHROPIC_API_KEY",
            "SUPERCORE_OPENAI_API_KEY")  # fmt: skip


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def tenant(database_url: str) -> str:
    """A tenant with an oracle holding the fee guide (no LLM key: the offline answerer)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        slug = unique_slug()
        assert invoke("tenant", "create", slug, "Chat Co")[0] == 0
        assert invoke("tenant", "add-oracle", "fees", "--tenant", slug)[0] == 0
        assert invoke("ingest", str(DATA / "ingest"), "--tenant", slug, "--oracle", "fees")[0] == 0
    return slug


@pytest.fixture(autouse=True)
def offline_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)


def test_one_question_prints_answer_sources_and_cost(tenant: str) -> None:
    code, output = invoke("chat", "--tenant", tenant, "--oracle", "fees",
                          "-q", "What is the monthly fee of the Pro plan?")  # fmt: skip

    assert code == 0, output
    assert "OFFLINE answerer" in output
    assert '"Plan Pro: Monthly fee 12 EUR" [' in output  # a row with its header
    assert "] sample.md chunk 1 (score" in output
    assert "tokens (estimated), $0.000000" in output and "offline-extractive" in output


def test_interactive_conversation_until_exit(tenant: str) -> None:
    code, output = invoke("chat", "--tenant", tenant, "--oracle", "fees", "--session", "cli-a",
                          stdin="How long do refunds take?\nand the fees?\nexit\n")  # fmt: skip

    assert code == 0, output
    assert output.count("oracle> ") == 2
    assert "Refunds take five days." in output


def test_usage_lists_todays_turns(tenant: str) -> None:
    invoke("chat", "--tenant", tenant, "--oracle", "fees", "-q", "refunds?")
    today = datetime.now(UTC).date().isoformat()

    code, output = invoke("usage", "--tenant", tenant, "--since", today)

    assert code == 0, output
    line = next(line for line in output.splitlines() if line.startswith(today))
    assert "fees" in line and "offline-extractive" in line
    assert "total:" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("usage", "--tenant", "t", "--since", "last week"), "--since must be a date"),
        (("usage", "--tenant", "no-such-tenant"), "no tenant with slug"),
        (
            ("chat", "--tenant", "no-such-tenant", "--oracle", "o", "-q", "hi"),
            "no tenant with slug",
        ),
        (("chat", "--tenant", "{tenant}", "--oracle", "nope", "-q", "hi"), "no oracle"),
        (("chat", "--tenant", "{tenant}", "--oracle", "fees", "-q", "  "), "question is empty"),
    ],
)
def test_bad_input_gives_one_line_and_exit_1(
    tenant: str, args: tuple[str, ...], message: str
) -> None:
    code, output = invoke(*(a.format(tenant=tenant) for a in args))

    assert code == 1
    assert message in output
    assert "Traceback" not in output
