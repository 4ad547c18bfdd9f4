"""The CI gate: `supercore eval gate` with evals/gates.toml on the throwaway database.

This is how `make test` runs the gate: the TAT-QA subset in evals/ is embedded with the
default MiniLM model into three tenants and evaluated in three modes.
"""

import re

import pytest

from tests.test_cli_rag import cli_env, invoke

__all__ = ["cli_env"]


@pytest.mark.slow
def test_the_gate_passes_with_no_canary_hits(cli_env: None) -> None:
    code, output = invoke("eval", "gate")
    assert code == 0, output
    assert "gate passed" in output
    assert "canary hits: 0" in output
    checks = re.findall(r"^(dense|lexical|hybrid) +(\S+) +baseline", output, re.MULTILINE)
    assert len(checks) == 8
    assert len(re.findall(r"gate-[abc] (dense|lexical|hybrid): completed", output)) == 9
