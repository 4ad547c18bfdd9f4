"""What stakeholders see: human charts and tables, inline tenant errors, chat sources and
answered questions one click away (AppTest on the test database, as in test_app_pages)."""

import json
import re
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from tests.factories import make_conversation, make_message, make_oracle, make_solution
from tests.test_app_pages import APP, TIMEOUT, app_env, assert_rendered, open_page, seed

__all__ = ["app_env"]  # the fixture, imported for the tests below


def charts_of(at: AppTest) -> list[dict[str, Any]]:
    """The plotly figures of the page, as the browser receives them."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_overview_puts_headline_figures_first_in_human_units(
    app_env: None, owner_engine: Engine
) -> None:
    seed(owner_engine, "headline")
    at = open_page("pages/overview.py")
    assert_rendered(at)

    assert [m.label for m in at.metric] == ["Tenants", "Documents", "Messages", "Tokens",
                                            "Cost (USD)"]  # fmt: skip
    assert re.fullmatch(r"\$[\d,]+\.\d{4}", at.metric[4].value)
    headline = at.dataframe[0]
    config = json.loads(headline.proto.columns)
    assert headline.proto.column_order == [
        "name",
        "status",
        "documents",
        "messages",
        "total_tokens",
        "cost_usd",
    ]  # the cost is in the first six columns, not past the right edge
    assert config["cost_usd"]["label"] == "Cost (USD)"
    assert config["total_tokens"]["label"] == "Tokens"


def test_overview_trend_starts_at_the_first_active_day(app_env: None, owner_engine: Engine) -> None:
    seed(owner_engine, "trend")
    at = open_page("pages/overview.py")

    figures = charts_of(at)
    assert len(figures) == 2
    for figure in figures:
        spec = json.dumps(figure)
        assert '"variable"' not in spec and "total_tokens" not in spec
        assert figure["layout"]["xaxis"]["title"]["text"] == "Day (UTC)"
        assert figure["layout"]["xaxis"]["tickformat"] == "%b %d"
    assert any("Activity on" in c.value for c in at.caption)


def test_usage_tab_with_one_day_of_data_is_readable(app_env: None, owner_engine: Engine) -> None:
    target = seed(owner_engine, "oneday")
    at = open_page("pages/index_stats.py", target)
    assert_rendered(at)

    tokens, cost, latency = charts_of(at)[-3:]
    assert tokens["layout"]["xaxis"]["type"] == "date"
    assert tokens["layout"]["xaxis"]["dtick"] == 86_400_000  # whole days, not milliseconds
    assert tokens["data"][0]["width"] > 0
    assert tokens["layout"]["legend"]["title"]["text"] == "Oracle / model"
    assert cost["layout"]["yaxis"]["title"]["text"] == "Cost (USD)"
    assert latency["layout"]["yaxis"]["title"]["text"] == "Latency (ms)"
    assert [m.label for m in at.metric][-4:] == ["Answers", "Tokens", "Cost (USD)",
                                                 "Unpriced answers"]  # fmt: skip


def test_database_sizes_are_shown_in_human_units(app_env: None, owner_engine: Engine) -> None:
    target = seed(owner_engine, "sizes")
    at = open_page("pages/index_stats.py", target)

    assert re.fullmatch(r"[\d.]+ (kB|MB|GB)", at.metric[0].value)
    sizes = charts_of(at)[0]
    assert re.fullmatch(r"Size on disk, \d+ largest of \d+ tables \((kB|MB|GB)\)",
                        sizes["layout"]["title"]["text"])  # fmt: skip
    table = next(d for d in at.dataframe if "total_bytes" in d.value.columns)
    assert json.loads(table.proto.columns)["total_bytes"]["type_config"]["format"] == "bytes"


def answered_tenant(owner_engine: Engine) -> tuple[uuid.UUID, str, str]:
    """A tenant whose oracle answered a question from page 3 of a PDF."""
    marker = uuid.uuid4().hex[:8]
    with Session(owner_engine) as session, session.begin():
        solution = make_solution(session, slug=f"src-{marker}", name=f"Sources {marker}")
        make_oracle(session, solution, oracle_name="rag-global", oracle_type="rag_global")
        oracle = make_oracle(session, solution, oracle_name="reports")
        conversation = make_conversation(session, oracle, session_id=f"demo-{marker}")
        question = f"What did the {marker} turbine produce?"
        make_message(session, conversation, content=question)
        source = {"n": 1, "chunk_id": str(uuid.uuid4()), "document_id": str(uuid.uuid4()),
                  "document_title": f"turbine_{marker}.pdf", "chunk_index": 7, "pages": [3],
                  "score": 0.0317, "similarity": 0.58}  # fmt: skip
        make_message(session, conversation, role="assistant", sequence_number=2,
                     content=f"It produced 4 MW [1]. {marker}", sources=[source],
                     total_tokens=10, input_tokens=8, output_tokens=2, cost_usd=Decimal(0),
                     model_used="m-1", latency_ms=5)  # fmt: skip
        return solution.id, question, marker


def test_chat_offers_answered_questions_and_opens_one(app_env: None, owner_engine: Engine) -> None:
    solution_id, question, marker = answered_tenant(owner_engine)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["tenant_id"] = solution_id
    at.run()
    at.switch_page("pages/chat.py").run()
    assert_rendered(at)
    assert next(s for s in at.selectbox if s.label == "Oracle").value != question
    button = next(b for b in at.button if b.label == question)

    button.click().run()

    assert_rendered(at)
    oracle = next(s for s in at.selectbox if s.label == "Oracle")
    assert "reports" in oracle.format_func(oracle.value)  # switched to the oracle that answered
    text = "\n".join(m.value for m in at.markdown)
    assert f"It produced 4 MW \\[1\\]. {marker}" in text  # answers render inert
    assert f"[1] **turbine\\_{marker}.pdf** · page 3 · similarity 0.58" in text
    assert "score" not in text and "0.0317" not in text  # the fusion score is not shown
    assert not any(b.label == question for b in at.button)  # the conversation is open


def test_chat_sources_of_a_new_answer_name_document_and_match(
    app_env: None, owner_engine: Engine
) -> None:
    target = seed(owner_engine, "newsrc")
    at = open_page("pages/chat.py", target)
    at.chat_input[0].set_value("How did the secret revenue grow?").run()
    assert_rendered(at)

    text = "\n".join(m.value for m in at.markdown)
    name = target.filename.replace("_", "\\_")
    assert re.search(rf"\[1\] \*\*{re.escape(name)}\*\* · part 1 · "
                     r"(similarity 0\.\d\d|keyword match)", text), text  # fmt: skip


def test_sidebar_shows_the_whole_name_and_the_slug_below(
    app_env: None, owner_engine: Engine
) -> None:
    target = seed(owner_engine, "sidebar")
    at = open_page("pages/documents.py", target)

    picker = at.sidebar.selectbox[0]
    assert picker.format_func(picker.value) == target.name  # no slug to cut the name short
    assert f"`{target.slug}` · active" in [c.value for c in at.sidebar.caption]


def test_chat_says_when_the_picked_oracle_holds_nothing_to_search(
    app_env: None, owner_engine: Engine
) -> None:
    solution_id, _, _ = answered_tenant(owner_engine)  # its oracles hold no chunks
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["tenant_id"] = solution_id
    at.run()
    at.switch_page("pages/chat.py").run()
    assert_rendered(at)
    oracle = next(s for s in at.selectbox if s.label == "Oracle")
    name = oracle.format_func(oracle.value).split(" (")[0]
    assert any(f"**{name}** holds no searchable documents yet" in i.value for i in at.info)

    full = open_page("pages/chat.py", seed(owner_engine, "searchable"))
    assert not any("holds no searchable documents" in i.value for i in full.info)
