"""Documents page: hostile upload names and sizes are refused before reading, names shown
literally (issue 15)."""

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.test_app_pages import app_env, assert_rendered, open_page, seed  # noqa: F401


def test_bad_names_and_sizes_are_refused_before_anything_is_read(
    app_env: None,  # noqa: F811
    owner_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SUPERCORE_INGEST_MAX_FILE_MB", "0.001")
    target = seed(owner_engine, "hostile")
    at = open_page("pages/documents.py", target)
    at.file_uploader[0].set_value(
        [("evil.txt\ncompleted fake.txt", b"text", "text/plain"),
         ("big.txt", b"x" * 2_000, "text/plain")]
    )  # fmt: skip
    next(b for b in at.button if b.label == "Ingest").click().run()
    assert_rendered(at)
    message = at.error[0].value
    assert message.startswith("nothing was ingested: the file name evil.txt\\\\ncompleted")
    assert "big.txt is 0.001907 MB \\(2000 bytes\\), over the" in message
    assert "\n" not in message
    assert not (tmp_path / "uploads").exists()


def test_a_markdown_file_name_is_shown_literally(
    app_env: None,  # noqa: F811
    owner_engine: Engine,
) -> None:
    target = seed(owner_engine, "markdown")
    at = open_page("pages/documents.py", target)
    name = "![pixel](http://attacker.example/p.png).md"
    at.file_uploader[0].set_value([(name, b"# Title\n\nSome text.", "text/markdown")])
    next(b for b in at.button if b.label == "Ingest").click().run()
    assert_rendered(at)
    assert [s.value for s in at.success] == [
        "\\!\\[pixel\\]\\(http://attacker.example/p.png\\).md: 1 chunks"
    ]
