"""Demo data: the shipped TAT-QA subset, an idempotent load, and `supercore demo load`."""

import json
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from supercore_core import Settings, admin_session, tenant_session
from supercore_core.catalog import list_oracles, solution_by_slug
from supercore_core.cli import app
from supercore_core.demo import (
    DEMO_DIR,
    GOLDEN_SET,
    demo_tenants,
    is_loaded,
    load_demo,
    steps,
)
from supercore_core.errors import ConfigurationError
from supercore_core.evaluation.runs import list_runs
from supercore_core.golden import list_golden_sets
from supercore_core.ingest.parsers import parse_bytes
from supercore_core.models import Conversation, Document, Message
from tests.fakes import HashingEmbedder


def test_shipped_demo_data_is_complete_and_attributed() -> None:
    tenants = demo_tenants()
    assert len(tenants) == 4
    assert len({t.slug for t in tenants}) == 4
    for tenant in tenants:
        names = [s.filename for s in tenant.sources()]
        assert "table.md" in names
        assert len(names) >= 10
        assert len(tenant.questions) == 4
        for source in tenant.sources():
            assert parse_bytes(source.data, source.filename).blocks
    table = parse_bytes((DEMO_DIR / "software-vendor" / "table.md").read_bytes(), "table.md")
    assert table.blocks[0].kind == "table"
    readme = (DEMO_DIR / "README.md").read_text()
    assert "CC BY 4.0" in readme
    assert "870accc41953dcde885aabeb963d94aabdc0fbc3" in readme


def small_demo(tmp_path: Path) -> Path:
    """Two demo tenants with unique slugs and three files each, in ``tmp_path``."""
    entries = json.loads((DEMO_DIR / "tenants.json").read_text())[:2]
    for entry in entries:
        source = DEMO_DIR / entry["slug"]
        entry["slug"] = f"demo-{uuid.uuid4().hex[:8]}"
        target = tmp_path / entry["slug"]
        target.mkdir()
        for name in ("table.md", "paragraph-01.txt", "paragraph-02.txt"):
            shutil.copy(source / name, target / name)
        entry["questions"] = entry["questions"][:2]
        golden = [{"id": "q1", "question": q["question"], "relevant": ["table.md"]}
                  for q in entry["questions"][:1]]  # fmt: skip
        (target / "golden.jsonl").write_text("".join(json.dumps(g) + "\n" for g in golden))
    (tmp_path / "tenants.json").write_text(json.dumps(entries))
    return tmp_path


def test_load_is_complete_and_idempotent(
    app_sessions: sessionmaker[Session],
    admin_sessions: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    tenants = demo_tenants(small_demo(tmp_path))
    assert not is_loaded(admin_sessions, tenants)
    labels: list[str] = []
    report = load_demo(admin_sessions, embedder=HashingEmbedder(), settings=settings,
                       tenants=tenants, on_step=labels.append)  # fmt: skip
    assert (report.tenants, report.documents_ingested, report.questions_asked) == (2, 12, 4)
    assert report.golden_sets == 2
    assert len(labels) == steps(tenants) == 18
    assert is_loaded(admin_sessions, tenants)

    with admin_session(admin_sessions, reason="test") as session:
        solution_id = solution_by_slug(session, tenants[0].slug).id
    with tenant_session(app_sessions, solution_id=solution_id) as session:
        oracles = list_oracles(session, solution_id)
        documents = session.scalar(
            select(func.count()).where(Document.oracle_id.in_([o.id for o in oracles]))
        )
        answers = list(session.scalars(select(Message).where(Message.role == "assistant")))
    assert [(o.oracle_name, o.oracle_type) for o in oracles] == [
        ("rag-global", "rag_global"), ("annual-report", "domain"),
    ]  # fmt: skip
    assert oracles[1].system_prompt and "annual report" in oracles[1].system_prompt
    assert documents == 6  # three files in each of the two oracles
    assert len(answers) == 2
    assert all(a.sources and a.total_tokens for a in answers)
    with tenant_session(app_sessions, solution_id=solution_id) as session:
        [run] = list_runs(session, oracles[1].id).runs
        assert [g.name for g in list_golden_sets(session, oracles[1].id)] == [GOLDEN_SET]
    assert run.dataset == f"golden:{GOLDEN_SET}@v2" and run.query_count == 1

    again = load_demo(admin_sessions, embedder=HashingEmbedder(), settings=settings,
                      tenants=tenants)  # fmt: skip
    assert (again.documents_ingested, again.documents_unchanged, again.questions_asked,
            again.golden_sets) == (0, 12, 0, 0)  # fmt: skip
    with tenant_session(app_sessions, solution_id=solution_id) as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1


def test_missing_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"tenants\.json is missing"):
        demo_tenants(tmp_path)


def test_cli_skips_a_loaded_demo(
    monkeypatch: pytest.MonkeyPatch,
    admin_sessions: sessionmaker[Session],
    database_url: str,
    settings: Settings,
) -> None:
    tenants = demo_tenants()
    load_demo(admin_sessions, embedder=HashingEmbedder(), settings=settings, tenants=tenants)
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["demo", "load"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "demo data already loaded (4 tenants): skipped"
