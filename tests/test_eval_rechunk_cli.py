"""CLI: `supercore eval sweep --set NAME --chunk-tokens ...` on a live oracle, promotion of a
chunk size (settings only, with the re-ingest it needs), `eval restore` and `eval clean`."""

import json
import re
from pathlib import Path

import pytest

from tests.test_cli_rag import invoke
from tests.test_golden_cli import QUESTIONS, cli_env, live

__all__ = ["cli_env", "live"]
RUN_ID = re.compile(r"supercore eval restore ([0-9a-f-]{36})")


def test_sweep_chunk_sizes_promote_restore_and_clean(live: str, tmp_path: Path) -> None:
    source = tmp_path / "set.jsonl"
    source.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    where = ("--tenant", live, "--oracle", "reports")
    assert invoke("golden", "import", str(source), *where, "--set", "main")[0] == 0
    code, output = invoke("eval", "sweep", *where, "--set", "main", "--chunk-tokens", "8,16",
                          "--modes", "lexical", "--promote", "--force")  # fmt: skip
    assert code == 0, output
    assert ("re-chunked copy reports~chunks8: 2 documents (0 from stored originals, 2 rebuilt "
            "from their chunks; 0 unchanged since the last sweep)") in output  # fmt: skip
    assert "texts embedded (the rest from the embedding cache)" in output
    assert "promoted: " in output
    assert "re-ingest needed: chunk size" in output
    assert "the settings of oracle 'reports'" in output
    assert "2 ingested from the command line (no original kept)" in output
    restore = RUN_ID.search(output)
    assert restore, output
    code, again = invoke("eval", "sweep", *where, "--set", "main", "--chunk-tokens", "8",
                         "--modes", "lexical")  # fmt: skip
    assert code == 0 and "2 unchanged since the last sweep), " in again
    assert re.search(r"chunks, 0 texts embedded", again), again
    code, output = invoke("eval", "restore", restore.group(1), "--tenant", live)
    assert code == 0 and output.startswith("restored: the default settings")
    code, output = invoke("eval", "clean", "--tenant", live)
    assert code == 0
    assert "removed scratch oracle reports~chunks16" in output
    assert "removed scratch oracle reports~chunks8" in output


@pytest.mark.parametrize(
    ("chunks", "message"),
    [("0", "chunk_tokens"), ("5000", "chunk_tokens"), ("8,x", "comma-separated integers")],
)
def test_bad_chunk_sizes_exit_1_before_anything_runs(live: str, chunks: str, message: str) -> None:
    code, output = invoke("eval", "sweep", "--tenant", live, "--oracle", "reports", "--set",
                          "main", "--chunk-tokens", chunks)  # fmt: skip
    assert code == 1 and message in output and "Traceback" not in output
    code, output = invoke("eval", "clean", "--tenant", live, "--dry-run")
    assert output.strip() == "no scratch oracles"
