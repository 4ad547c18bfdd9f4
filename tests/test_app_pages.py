"""The dashboard under streamlit.testing.v1.AppTest, on the test database.

The app connects as a login that is only a member of ``supercore_admin`` (which includes
``supercore_app``): neither superuser nor table owner, so RLS really applies to every page.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from tests.factories import (
    make_chunk,
    make_conversation,
    make_document,
    make_message,
    make_oracle,
    make_solution,
)

APP = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
PAGES = (
    "pages/overview.py",
    "pages/tenants.py",
    "pages/index_stats.py",
    "pages/documents.py",
    "pages/chat.py",
    "pages/evaluations.py",
)
TIMEOUT = 60  # the first embedder load in a process takes a few seconds


@dataclass(frozen=True)
class Seeded:
    solution_id: uuid.UUID
    slug: str
    name: str
    oracle_name: str
    filename: str
    chunk_text: str


def seed(owner_engine: Engine, label: str) -> Seeded:
    """A committed tenant with one oracle, one document (one chunk) and one priced answer."""
    marker = f"{label}-{uuid.uuid4().hex[:8]}"
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session, slug=marker, name=f"Tenant {marker}")
        oracle = make_oracle(session, solution, oracle_name=f"oracle-{marker}")
        document = make_document(
            session, oracle, filename=f"{marker}.txt", status="completed", chunk_count=1
        )
        make_chunk(session, document, content=f"Secret revenue of {marker} grew 12%.")
        conversation = make_conversation(session, oracle)
        make_message(session, conversation, content=f"question {marker}")
        make_message(session, conversation, role="assistant", sequence_number=2,
                     content=f"answer {marker}", total_tokens=42, input_tokens=30,
                     output_tokens=12, cost_usd=Decimal("0.001"), model_used="m-1",
                     latency_ms=120)  # fmt: skip
        return Seeded(solution.id, marker, solution.name, oracle.oracle_name,
                      f"{marker}.txt", f"Secret revenue of {marker} grew 12%.")  # fmt: skip


@pytest.fixture(scope="module")
def tenants(owner_engine: Engine) -> tuple[Seeded, Seeded]:
    return seed(owner_engine, "alpha"), seed(owner_engine, "bravo")


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, admin_login_url: str, tmp_path: Path) -> None:
    st.cache_data.clear()  # tenants made by the test must show at once
    monkeypatch.setenv("SUPERCORE_DATABASE_URL", admin_login_url)
    monkeypatch.setenv("SUPERCORE_DATA_DIR", str(tmp_path))
    for name in ("SUPERCORE_ANTHROPIC_API_KEY", "SUPERCORE_OPENAI_API_KEY",
                 "ANTHROPIC_API_KEY", "OPENAI_API_KEY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def open_page(page: str, tenant: Seeded | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if tenant is not None:
        at.session_state["tenant_id"] = tenant.solution_id
    at.run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    return at


def page_text(at: AppTest) -> str:
    """Everything a person could read in the page's main area (the sidebar's tenant picker
    lists every tenant on purpose: the dashboard is an operator's tool), as one string."""
    main = at.main
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "code",
                 "info", "warning", "error", "success", "metric", "expander", "json"):  # fmt: skip
        for element in getattr(main, kind):
            parts.append(str(getattr(element, "value", "")))
            parts.append(str(getattr(element, "label", "")))
    parts += [e.value.to_string() for e in main.dataframe]
    for box in main.selectbox:
        parts += [str(o) for o in box.options]  # the labels a person sees
    return "\n".join(parts)


def assert_rendered(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app_env: None, tenants: tuple[Seeded, Seeded], page: str) -> None:
    at = open_page(page, tenants[0])
    assert_rendered(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title


@pytest.mark.parametrize("page", [*PAGES[3:], "pages/index_stats.py"])
def test_tenant_pages_never_show_another_tenant(
    app_env: None, tenants: tuple[Seeded, Seeded], page: str
) -> None:
    mine, other = tenants
    at = open_page(page, mine)
    assert_rendered(at)
    text = page_text(at)
    assert other.slug not in text
    assert other.filename not in text
    if page == "pages/documents.py":
        assert mine.filename in text
        assert mine.chunk_text in text


def test_overview_shows_every_tenant_and_totals(
    app_env: None, tenants: tuple[Seeded, Seeded]
) -> None:
    at = open_page("pages/overview.py")
    assert_rendered(at)
    table = at.dataframe[0].value
    assert {tenants[0].slug, tenants[1].slug} <= set(table["slug"])
    assert int(at.metric[0].value.replace(",", "")) >= 2
    audit = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert "overview page" in "\n".join(audit["reason"])


def test_sidebar_picker_switches_tenant(app_env: None, tenants: tuple[Seeded, Seeded]) -> None:
    mine, other = tenants
    at = open_page("pages/documents.py", mine)
    at.sidebar.selectbox[0].set_value(other.solution_id).run()
    assert_rendered(at)
    text = page_text(at)
    assert other.filename in text
    assert mine.filename not in text


def test_create_tenant_and_duplicate_slug(app_env: None, tenants: tuple[Seeded, Seeded]) -> None:
    at = open_page("pages/tenants.py", tenants[0])
    slug = f"new-{uuid.uuid4().hex[:8]}"
    at.text_input[0].set_value(slug)
    at.text_input[1].set_value("New Co")
    at.button[0].click().run()
    assert_rendered(at)
    assert [s.value for s in at.success] == [f"tenant {slug} created with its RAG global oracle"]
    assert slug in at.dataframe[0].value["slug"].tolist()
    at.button[0].click().run()  # same slug again
    assert [e.value for e in at.error] == [
        f"cannot create tenant '{slug}': the slug is taken, choose another"
    ]
    # the page stays whole: the status form, the oracle section and the sidebar picker
    assert any(b.label == "Change status" for b in at.button)
    assert any(h.value.startswith("Oracles of ") for h in at.header)
    assert at.sidebar.selectbox[0].label == "Tenant"


@pytest.mark.parametrize(
    ("slug", "name", "message"),
    [
        ("", "X", "needs a slug and a name"),
        ("Bad Slug!", "X", "the slug is malformed"),
        ("-dash-first", "X", "the slug is malformed"),
    ],
)
def test_bad_tenant_input_is_explained(
    app_env: None, tenants: tuple[Seeded, Seeded], slug: str, name: str, message: str
) -> None:
    at = open_page("pages/tenants.py", tenants[0])
    at.text_input[0].set_value(slug)
    at.text_input[1].set_value(name)
    at.button[0].click().run()
    assert len(at.error) == 1 and message in at.error[0].value
    assert "taken" not in at.error[0].value
    assert any(b.label == "Save oracle" for b in at.button)  # the rest of the page is there
    assert at.sidebar.selectbox[0].label == "Tenant"


def test_edit_oracle_settings(app_env: None, owner_engine: Engine) -> None:
    target = seed(owner_engine, "edit")
    at = open_page("pages/tenants.py", target)
    at.text_area[0].set_value("Answer in one sentence.")
    mode = next(s for s in at.selectbox if s.label == "Retrieval mode")
    mode.set_value("lexical")
    next(s for s in at.selectbox if s.label == "Hybrid fusion").set_value("rrf")
    save = next(b for b in at.button if b.label == "Save oracle")
    save.click().run()
    assert_rendered(at)
    assert [s.value for s in at.success] == [f"oracle {target.oracle_name} saved"]
    at.run()
    assert at.text_area[0].value == "Answer in one sentence."
    assert next(s for s in at.selectbox if s.label == "Retrieval mode").value == "lexical"
    assert next(s for s in at.selectbox if s.label == "Hybrid fusion").value == "rrf"


def test_upload_ingests_and_explains_bad_files(
    app_env: None, owner_engine: Engine, tmp_path: Path
) -> None:
    target = seed(owner_engine, "upload")
    at = open_page("pages/documents.py", target)
    submit = next(b for b in at.button if b.label == "Ingest")
    submit.click().run()
    assert "choose at least one file" in at.error[0].value

    at.file_uploader[0].set_value([("virus.exe", b"MZ", "application/octet-stream"),
                                   ("ok.txt", b"fine", "text/plain")])  # fmt: skip
    next(b for b in at.button if b.label == "Ingest").click().run()
    assert "unsupported file type .exe" in at.error[0].value
    assert "nothing was ingested" in at.error[0].value

    at.file_uploader[0].set_value(
        [("q3.md", b"# Q3\n\nRevenue rose to 4.2 million dollars.", "text/markdown"),
         ("blank.txt", b"", "text/plain")]
    )  # fmt: skip
    next(b for b in at.button if b.label == "Ingest").click().run()
    assert "blank.txt is empty" in at.error[0].value

    at.file_uploader[0].set_value(
        [("q3.md", b"# Q3\n\nRevenue rose to 4.2 million dollars.", "text/markdown")]
    )
    next(b for b in at.button if b.label == "Ingest").click().run()
    assert_rendered(at)
    assert [s.value for s in at.success] == ["q3.md: 1 chunks"]
    table = at.dataframe[0].value
    assert dict(zip(table["filename"], table["status"], strict=True))["q3.md"] == "completed"
    assert list((tmp_path / "uploads" / str(target.solution_id)).rglob("*.md"))

    next(b for b in at.button if b.label == "Re-ingest").click().run()
    assert [s.value for s in at.success] == ["q3.md: re-ingested, 1 chunks"]
    next(c for c in at.checkbox if c.label.startswith("Yes, delete q3.md")).check().run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert_rendered(at)
    assert list(at.dataframe[0].value["filename"]) == [target.filename]
    assert not list((tmp_path / "uploads").rglob("*.md"))  # the kept original went too
    assert next(b for b in at.button if b.label == "Re-ingest").disabled  # no original kept


def test_chat_answers_offline_with_sources(app_env: None, owner_engine: Engine) -> None:
    target = seed(owner_engine, "chat")
    at = open_page("pages/chat.py", target)
    assert "Offline mode" in at.warning[0].value
    at.chat_input[0].set_value("How did the secret revenue grow?").run()
    assert_rendered(at)
    assert not at.error, [e.value for e in at.error]
    text = page_text(at)
    assert "Sources (1)" in text
    assert target.filename in text or "chunk 0" in text
    assert "tokens (estimated)" in text


def test_database_down_is_one_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SUPERCORE_DATABASE_URL", f"postgresql://nobody@/db?host={tmp_path}")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert_rendered(at)
    assert len(at.error) == 1
    assert "cannot connect to PostgreSQL" in at.error[0].value


def test_change_tenant_status(app_env: None, owner_engine: Engine) -> None:
    target = seed(owner_engine, "status")
    at = open_page("pages/tenants.py", target)
    form = next(s for s in at.main.selectbox if s.label == "Tenant")
    form.set_value(target.solution_id)
    next(s for s in at.selectbox if s.label == "Status").set_value("suspended")
    next(b for b in at.button if b.label == "Change status").click().run()
    assert_rendered(at)
    assert [s.value for s in at.success] == [f"{target.slug} is now suspended"]
    listed = at.dataframe[0].value.set_index("slug")
    assert listed.loc[target.slug, "status"] == "suspended"


def test_chat_reopens_an_earlier_conversation(app_env: None, owner_engine: Engine) -> None:
    target = seed(owner_engine, "history")
    at = open_page("pages/chat.py", target)
    assert f"answer {target.slug}" not in page_text(at)  # a new conversation starts empty

    box = next(b for b in at.sidebar.selectbox if b.label == "Earlier conversations")
    box.select_index(1).run()

    assert_rendered(at)
    text = page_text(at)
    assert f"question {target.slug}" in text and f"answer {target.slug}" in text
    assert "m-1 · 30 in + 12 out tokens · $0.001000 · 120 ms" in text
