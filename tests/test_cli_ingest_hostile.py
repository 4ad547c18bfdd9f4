"""`supercore ingest` with hostile folders: symlinks, forged names, oversized files (issue 15)."""

import re
from pathlib import Path

import pytest

from tests.factories import unique_slug
from tests.test_cli_rag import cli_env, invoke  # noqa: F401 - cli_env is a fixture


@pytest.fixture
def oracle(cli_env: None) -> tuple[str, str]:  # noqa: F811
    slug = unique_slug()
    assert invoke("tenant", "create", slug, "Hostile Co")[0] == 0
    assert invoke("tenant", "add-oracle", "docs", "--tenant", slug)[0] == 0
    return "--tenant", slug


def test_symlinks_in_a_folder_are_skipped_unless_asked(
    oracle: tuple[str, str], tmp_path: Path
) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("The root password is hunter2.")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_text("Quarterly notes about fees.")
    (folder / "passwd.txt").symlink_to(secret)
    (folder / "linked").symlink_to(secret.parent, target_is_directory=True)
    code, output = invoke("ingest", str(folder), *oracle, "--oracle", "docs")
    assert code == 0
    assert "completed notes.txt: 1 chunks" in output
    assert f"skipped   {folder / 'passwd.txt'}: a symbolic link" in output
    assert f"skipped   {folder / 'linked'}: a symbolic link" in output
    assert "passwd.txt: 1 chunks" not in output
    code, output = invoke("search", "root password", *oracle, "--oracle", "docs",
                          "--mode", "lexical")  # fmt: skip
    assert code == 0 and "hunter2" not in output

    code, output = invoke("ingest", str(folder), *oracle, "--oracle", "docs", "--follow-symlinks")
    assert code == 0
    assert "skipped" not in output
    assert "completed secret.txt: 1 chunks" in output  # through the linked folder
    assert "passwd.txt: " in output  # unchanged: the same bytes as secret.txt


def test_a_newline_in_a_file_name_cannot_forge_an_output_line(
    oracle: tuple[str, str], tmp_path: Path
) -> None:
    forged = tmp_path / "evil.txt\ncompleted fake.txt: 99 chunks\n\x1b[2Jx.txt"
    forged.write_text("Some text.")
    (tmp_path / "good.txt").write_text("Good text.")
    code, output = invoke("ingest", str(tmp_path), *oracle, "--oracle", "docs")
    assert code == 1
    lines = re.split(r"[\r\n]", output)
    assert not any(line.startswith("completed fake.txt") for line in lines)
    assert "\x1b[2J" not in output
    assert "completed good.txt: 1 chunks" in lines
    assert (
        "failed    evil.txt\\ncompleted fake.txt: 99 chunks\\n\\x1b[2Jx.txt: the file name "
        "evil.txt\\ncompleted fake.txt: 99 chunks\\n\\x1b[2Jx.txt contains the control "
        "character \\n: rename it"
    ) in output
    assert "1 of 2 files failed: evil.txt\\ncompleted fake.txt" in output


def test_oversized_files_are_refused_before_being_read_and_the_rest_ingested(
    oracle: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERCORE_INGEST_MAX_FILE_MB", "1")
    for n in range(3):
        with (tmp_path / f"huge{n}.txt").open("wb") as file:
            file.truncate(200 * 1024 * 1024)  # sparse: reading one would take 200 MB
    (tmp_path / "small.txt").write_text("Small text.")
    code, output = invoke("ingest", str(tmp_path), *oracle, "--oracle", "docs")
    assert code == 1
    for n in range(3):
        assert (
            f"failed    huge{n}.txt: huge{n}.txt is 200.0 MB, over the 1.0 MB limit "
            "(SUPERCORE_INGEST_MAX_FILE_MB): split it into smaller files"
        ) in output
    assert "completed small.txt: 1 chunks" in output
    assert "3 of 4 files failed: huge0.txt, huge1.txt, huge2.txt (reasons above)" in output
