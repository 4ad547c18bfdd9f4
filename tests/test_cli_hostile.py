"""CLI: out-of-range numbers, bad --config and hostile names give one clear line, exit 1/2."""

import json
import uuid

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from supercore_core.models import Document, Oracle, Solution
from tests.factories import make_chunk, make_document, make_oracle, make_solution, unique_slug
from tests.test_cli_rag import DATA, cli_env, invoke

__all__ = ["cli_env"]
TINY = DATA / "beir_tiny"


@pytest.fixture
def shop(cli_env: None, owner_engine: Engine) -> str:
    """A tenant with oracle "shop" whose one document has an escape sequence in its name."""
    slug = unique_slug()
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session, slug=slug), oracle_name="shop")
        document = make_document(session, oracle, filename="evil\x1b[31mred\nfake.txt",
                                 status="completed", chunk_count=1)  # fmt: skip
        make_chunk(session, document, content="Lava \x1b]0;pwned\x07 flows downhill.")
    return slug


def test_search_prints_names_and_snippets_inert(shop: str) -> None:
    code, output = invoke("search", "lava", "--tenant", shop, "--oracle", "shop",
                          "--mode", "lexical")  # fmt: skip
    assert code == 0, output
    assert "\x1b" not in output and "\x07" not in output
    assert output.count("\n") == 1  # the newline in the name cannot forge a second line
    assert "evil\\x1b[31mred\\nfake.txt#0" in output
    assert "Lava \\x1b]0;pwned\\x07 flows" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-k", "9223372036854775808"), "k is 9223372036854775808: use a whole number from 1"),
        (("-k", "0"), "k is 0: use a whole number from 1 to 1,000"),
    ],
)
def test_search_k_out_of_range(shop: str, args: tuple[str, ...], message: str) -> None:
    code, output = invoke("search", "lava", "--tenant", shop, "--oracle", "shop", *args)
    assert code == 1
    assert message in output and "Traceback" not in output


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("lava\x00", "the question contains the control character U+0000"),
        ("word " * 1000, "over the limit of 4,000 (setting SUPERCORE_MAX_QUESTION_CHARS)"),
    ],
)
def test_search_bad_question(shop: str, question: str, message: str) -> None:
    code, output = invoke("search", question, "--tenant", shop, "--oracle", "shop")
    assert code == 1
    assert message in output and "Traceback" not in output


def test_chat_bad_session_id(shop: str) -> None:
    code, output = invoke("chat", "--tenant", shop, "--oracle", "shop", "-q", "lava?",
                          "--session", "s\x00")  # fmt: skip
    assert code == 1
    assert "the chat session id contains the control character U+0000" in output


def _documents(owner_engine: Engine, slug: str) -> int:
    with Session(owner_engine) as session:
        query = (
            select(func.count())
            .select_from(Document)
            .join(Oracle, Oracle.id == Document.oracle_id)
            .where(Oracle.oracle_name == "tiny", Document.solution_id == _tenant(session, slug))
        )
        return session.execute(query).scalar_one()


def _tenant(session: Session, slug: str) -> uuid.UUID:
    return session.scalars(select(Solution.id).where(Solution.slug == slug)).one()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('{"rrf_k": NaN}', "--config: retrieval settings rejected: rrf_k is nan: use a whole"),
        ('{"dense_weight": Infinity}', "dense_weight is inf: use a finite number from 0 to 10"),
        (json.dumps({"k": 2.5}), "k is 2.5"),
        (json.dumps({"ef_search": 5000}), "ef_search is 5000: use a whole number from 1 to 1,000"),
        (json.dumps({"chunk_tokens": 100}), "--config sets search settings only, not chunk_tokens"),
    ],
)
def test_eval_run_refuses_bad_config_before_it_starts(
    cli_env: None, owner_engine: Engine, config: str, message: str
) -> None:
    slug = unique_slug()
    assert invoke("tenant", "create", slug, "Eval Co")[0] == 0
    assert invoke("tenant", "add-oracle", "tiny", "--tenant", slug)[0] == 0
    code, output = invoke("eval", "run", "--dataset", str(TINY), "--tenant", slug,
                          "--oracle", "tiny", "--config", config)  # fmt: skip
    assert code == 1
    assert message in output and "Traceback" not in output
    assert _documents(owner_engine, slug) == 0  # the corpus was never loaded
    assert invoke("eval", "list", "--tenant", slug)[1].strip() == "no runs"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--k", "0", "k is 0"),
        ("--rrf-k", "100000", "rrf_k is 100000: use a whole number from 0 to 1,000"),
        ("--chunk-tokens", "100000", "chunk_tokens is 100000: use a whole number from 8 to 4,096"),
        ("--weights", "nan:1", "dense_weight is nan"),
    ],
)
def test_eval_sweep_refuses_bad_grids_before_loading(
    cli_env: None, option: str, value: str, message: str
) -> None:
    code, output = invoke("eval", "sweep", "--dataset", str(TINY), "--tenant", "no-such",
                          "--oracle", "x", option, value)  # fmt: skip
    assert code == 1
    assert message in output  # refused before the tenant is even looked up


@pytest.mark.parametrize(
    "args",
    [
        ("eval", "list", "--limit", "9223372036854775808"),
        ("eval", "retrieval", str(TINY), "-k", "9223372036854775808"),
    ],
)
def test_out_of_range_numbers_are_usage_errors(cli_env: None, args: tuple[str, ...]) -> None:
    code, output = invoke(*args)
    assert code == 2
    assert "less than or equal to" in output and "Traceback" not in output
