"""CLI: `supercore eval run|compare|list|sweep|gate` on the test database."""

import re
from pathlib import Path

import pytest

from tests.factories import unique_slug
from tests.test_cli_rag import cli_env, invoke

__all__ = ["cli_env"]  # the fixture, shared with the other CLI tests
TINY = Path(__file__).parent / "data" / "beir_tiny"
RUN_ID = re.compile(r"\brun ([0-9a-f-]{36})")


@pytest.fixture
def tenant(cli_env: None) -> str:
    """A tenant with a live oracle ``live`` (evaluation data must never enter it)."""
    slug = unique_slug()
    assert invoke("tenant", "create", slug, "Eval Co")[0] == 0
    assert invoke("tenant", "add-oracle", "live", "--tenant", slug)[0] == 0
    return slug


def test_run_compare_and_list(tenant: str) -> None:
    lexical = '{"mode": "lexical", "k": 2}'
    code, first = invoke("eval", "run", "--dataset", str(TINY), "--tenant", tenant,
                         "--scratch", "tiny", "--config", lexical)  # fmt: skip
    assert code == 0, first
    assert "scratch oracle 'tiny'" in first
    assert "mode=lexical" in first and "canary hits: 0" in first
    assert re.search(r"nDCG@10 +1\.0000", first)
    code, second = invoke("eval", "run", "--dataset", str(TINY), "--tenant", tenant, "--oracle",
                          "tiny", "--config", '{"mode": "dense"}', "--answers")  # fmt: skip
    assert code == 0, second
    assert "rouge_l" in second and "cost $0.000000" in second  # offline answerer: no API call
    a, b = RUN_ID.search(first), RUN_ID.search(second)
    assert a and b
    code, output = invoke("eval", "cost", b.group(1), "--model", "openai/gpt-4o-mini",
                          "--model", "nobody/unpriced", "--tenant", tenant)  # fmt: skip
    assert code == 0, output
    priced, unpriced = output.splitlines()
    assert "openai/gpt-4o-mini" in priced and "3 answered" in priced and "pareto" in priced
    assert "unpriced per 1k questions" in unpriced
    code, output = invoke("eval", "compare", a.group(1), b.group(1), "--tenant", tenant)
    assert code == 0, output
    assert "3 paired queries" in output and "nDCG@10" in output
    code, output = invoke("eval", "list", "--tenant", tenant)
    assert code == 0
    assert [line.split()[0] for line in output.splitlines()] == [b.group(1), a.group(1)]


def test_sweep_prints_a_table_and_promotes(tenant: str) -> None:
    code, output = invoke("eval", "sweep", "--dataset", str(TINY), "--tenant", tenant,
                          "--modes", "lexical,hybrid", "--fusion", "convex,rrf",
                          "--rrf-k", "10,60", "--promote")  # fmt: skip
    assert code == 0, output
    rows = [line.split() for line in output.splitlines() if line.startswith(("lexical", " "))]
    assert len(rows) == 4  # lexical, hybrid convex, hybrid rrf 10 and 60
    assert {(row[2], row[3]) for row in rows if row[0] == "hybrid"} == {
        ("convex", "60"),
        ("rrf", "10"),
        ("rrf", "60"),
    }
    assert "best by nDCG@10" in output and "current settings: 1.0000" in output
    assert "not promoted: nDCG@10 +0.000" in output  # no better than the current settings


def test_sweep_refuses_an_unknown_fusion(tenant: str) -> None:
    code, output = invoke("eval", "sweep", "--dataset", str(TINY), "--tenant", tenant,
                          "--fusion", "convex,linear")  # fmt: skip
    assert code == 1 and "unknown fusion in 'convex,linear': use convex or rrf" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_live_oracle_is_refused_and_left_untouched(tenant: str, command: str) -> None:
    code, output = invoke("eval", command, "--dataset", str(TINY), "--tenant", tenant,
                          "--oracle", "live")  # fmt: skip
    assert code == 1
    assert "'live' is a live oracle" in output and "--scratch NAME" in output
    assert "Traceback" not in output
    code, output = invoke("search", "revenue", "--tenant", tenant, "--oracle", "live",
                          "--mode", "lexical")  # fmt: skip
    assert code == 0 and "d1.txt" not in output


def test_clean_removes_scratch_oracles_only(tenant: str) -> None:
    assert invoke("eval", "run", "--dataset", str(TINY), "--tenant", tenant)[0] == 0
    code, output = invoke("eval", "clean", "--tenant", tenant, "--dry-run")
    assert code == 0 and output.split() == ["eval-beir_tiny", "eval-canaries"]
    code, output = invoke("eval", "clean", "--tenant", tenant)
    assert code == 0, output
    assert "removed scratch oracle eval-beir_tiny" in output
    assert "removed scratch oracle eval-canaries" in output
    assert invoke("eval", "list", "--tenant", tenant)[1].strip() == "no runs"
    assert invoke("eval", "clean", "--tenant", tenant)[1].strip() == "nothing to remove"
    assert invoke("search", "revenue", "--tenant", tenant, "--oracle", "live")[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("eval", "run", "--dataset", str(TINY), "--tenant", "no-such", "--oracle", "x"),
         "no tenant with slug"),
        (("eval", "run", "--dataset", "/nope", "--tenant", "t", "--oracle", "x"),
         "is not a BEIR dataset folder"),
        (("eval", "compare", "abc", "def"), "not a run id"),
        (("eval", "sweep", "--dataset", str(TINY), "--tenant", "t", "--oracle", "x",
          "--modes", "fuzzy"), "unknown mode"),
        (("eval", "sweep", "--dataset", str(TINY), "--tenant", "t", "--oracle", "x",
          "--weights", "1-2"), "dense:lexical pairs"),
        (("eval", "gate", "--gates", "/no/gates.toml"), "no gates file"),
        (("eval", "run", "--dataset", str(TINY), "--tenant", "t", "--oracle", "x",
          "--scratch", "y"), "not both"),
        (("eval", "cost", "abc", "--model", "x/y"), "not a run id"),
        (("eval", "run", "--dataset", str(TINY), "--tenant", "t", "--oracle", "x",
          "--judge", "gpt-4o"), "--judge takes provider/model"),
    ],
)  # fmt: skip
def test_bad_input_gives_one_line_and_exit_1(
    cli_env: None, args: tuple[str, ...], message: str
) -> None:
    code, output = invoke(*args)
    assert code == 1
    assert message in output
    assert "Traceback" not in output


def test_bad_config_json(tenant: str) -> None:
    code, output = invoke("eval", "run", "--dataset", str(TINY), "--tenant", tenant,
                          "--config", "{mode")  # fmt: skip
    assert code == 1 and "--config is neither JSON" in output


def test_gate_fails_below_the_interval(cli_env: None, tmp_path: Path) -> None:
    gates = tmp_path / "gates.toml"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tiny-gate").symlink_to(TINY)
    gates.write_text(
        'dataset = "data"\noracle = "tiny"\n'
        '[baselines.lexical]\n"nDCG@10" = 0.5\n'
        '[baselines.dense]\n"MRR@10" = 1.01\n'
    )
    code, output = invoke("eval", "gate", "--gates", str(gates))
    assert code == 1, output
    assert re.search(r"lexical +nDCG@10 .* ok", output)
    assert re.search(r"dense +MRR@10 .* REGRESSION", output)
    assert "gate failed: regressions ['dense MRR@10']" in output
