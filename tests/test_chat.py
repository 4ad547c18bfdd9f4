"""ask(): grounded answers with citations, recorded with tokens and cost, as the app login."""

import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Settings, tenant_session
from supercore_core.chat import NOTHING_RELEVANT, Answer, ask
from supercore_core.config import PriceOverride
from supercore_core.errors import (
    BudgetExceededError,
    LLMProviderError,
    NotFoundError,
    UserError,
)
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.llm import OFFLINE_LABEL, ChatModel, OfflineAnswerer, prompt_tokens
from tests.factories import make_oracle, make_solution
from tests.fakes import FakeChatModel, HashingEmbedder
from tests.test_parsers import make_pdf

DOCS = {
    "bakery.txt": "The bakery sells sourdough bread and croissants. It opens at seven.",
    "harbour.txt": "Harbour cranes unload containers at dawn. Pilots guide the tankers.",
}
OTHER_DOCS = {"rival.txt": "The rival bakery sells sourdough bread and bagels."}


@dataclass(frozen=True)
class Shop:
    solution_id: uuid.UUID
    oracle_id: uuid.UUID
    other_solution_id: uuid.UUID
    other_oracle_id: uuid.UUID


def _load(
    sessions: sessionmaker[Session], ids: tuple[uuid.UUID, uuid.UUID], docs: dict[str, str]
) -> None:
    outcomes = ingest(
        sessions,
        solution_id=ids[0],
        oracle_id=ids[1],
        sources=[SourceFile(name, body.encode()) for name, body in docs.items()],
        embedder=HashingEmbedder(),
    )
    assert {o.status for o in outcomes} == {"completed"}


@pytest.fixture
def shop(owner_engine: Engine, app_sessions: sessionmaker[Session]) -> Shop:
    """A fresh tenant per test (conversations and budgets must not leak between tests)."""
    with Session(owner_engine) as session, session.begin():
        mine, other = (make_oracle(session, make_solution(session)) for _ in range(2))
        shop = Shop(mine.solution_id, mine.id, other.solution_id, other.id)
    _load(app_sessions, (shop.solution_id, shop.oracle_id), DOCS)
    _load(app_sessions, (shop.other_solution_id, shop.other_oracle_id), OTHER_DOCS)
    return shop


@pytest.fixture
def chat(app_sessions: sessionmaker[Session], shop: Shop, settings: Settings) -> Any:
    """Ask the shop's oracle as the app login, in one committed transaction per turn."""

    def run(question: str, model: ChatModel, **kwargs: Any) -> Answer:
        solution_id = kwargs.pop("solution_id", shop.solution_id)
        with tenant_session(app_sessions, solution_id=solution_id) as session:
            return ask(
                session,
                oracle_id=kwargs.pop("oracle_id", shop.oracle_id),
                session_id=kwargs.pop("session_id", "s1"),
                question=question,
                chat_model=model,
                embedder=HashingEmbedder(),
                settings=kwargs.pop("settings", settings),
                **kwargs,
            )

    return run


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def test_offline_answer_quotes_cites_and_is_labelled(
    chat: Any, shop: Shop, owner_engine: Engine
) -> None:
    streamed: list[str] = []

    answer = chat("What bread does the bakery sell?", OfflineAnswerer(), on_token=streamed.append)

    assert answer.offline and answer.text.startswith(OFFLINE_LABEL)
    assert '"The bakery sells sourdough bread and croissants." [1]' in answer.text
    assert answer.sources[0].document_title == "bakery.txt"
    assert "".join(streamed) == answer.text
    assert answer.tokens_estimated and answer.cost_usd == Decimal(0)
    assert answer.model == "offline-extractive"


def test_sources_are_real_chunks_of_the_tenant(chat: Any, shop: Shop, owner_engine: Engine) -> None:
    answer = chat("Which bakery sells sourdough bread?", FakeChatModel())

    stored = rows(owner_engine, "SELECT sources FROM messages WHERE id = :m", m=answer.message_id)
    chunk_ids = [uuid.UUID(s["chunk_id"]) for s in stored[0][0]]
    owners = rows(
        owner_engine,
        "SELECT DISTINCT solution_id, oracle_id FROM document_chunks WHERE id = ANY(:ids)",
        ids=chunk_ids,
    )
    assert chunk_ids == [s.chunk_id for s in answer.sources] and chunk_ids
    assert owners == [(shop.solution_id, shop.oracle_id)]  # never the rival's bakery


def test_turn_is_recorded_with_tokens_cost_and_counters(
    chat: Any, shop: Shop, owner_engine: Engine
) -> None:
    answer = chat("What does the bakery sell?", FakeChatModel(input_tokens=1000, output_tokens=500))

    # gpt-4o-mini: $0.15 / $0.60 per million tokens -> 1000 * 0.15e-6 + 500 * 0.6e-6
    assert answer.cost_usd == Decimal("0.00045")
    messages = rows(
        owner_engine,
        "SELECT role, sequence_number, input_tokens, output_tokens, total_tokens, cost_usd,"
        " model_used, tokens_estimated, latency_ms IS NOT NULL FROM messages"
        " WHERE conversation_id = :c ORDER BY sequence_number",
        c=answer.conversation_id,
    )
    assert [tuple(m) for m in messages] == [
        ("user", 1, None, None, None, None, None, False, False),
        ("assistant", 2, 1000, 500, 1500, Decimal("0.000450"), "gpt-4o-mini", False, True),
    ]
    counters = rows(
        owner_engine,
        "SELECT message_count, total_tokens, total_cost_usd, title FROM conversations"
        " WHERE id = :c",
        c=answer.conversation_id,
    )
    assert tuple(counters[0]) == (2, 1500, Decimal("0.000450"), "What does the bakery sell?")


def test_price_override_wins(chat: Any, settings: Settings) -> None:
    priced = settings.model_copy(
        update={"price_overrides": {"openai/house-llm": PriceOverride(input_per_mtok=Decimal(2),
                                                                      output_per_mtok=Decimal(4))}}
    )  # fmt: skip
    model = FakeChatModel(model="house-llm", input_tokens=1000, output_tokens=500)

    answer = chat("What does the bakery sell?", model, settings=priced)

    assert answer.cost_usd == Decimal("0.004")  # 1000 * 2e-6 + 500 * 4e-6


def test_unknown_model_is_unpriced_not_free(chat: Any, owner_engine: Engine) -> None:
    answer = chat("What does the bakery sell?", FakeChatModel(model="mystery-llm-9"))

    assert answer.cost_usd is None
    stored = rows(owner_engine, "SELECT cost_usd FROM messages WHERE id = :m", m=answer.message_id)
    assert stored[0][0] is None


def test_nothing_relevant_says_so_without_calling_the_model(chat: Any) -> None:
    model = FakeChatModel()

    answer = chat("quantum chromodynamics of gluons?", model)

    assert answer.text == NOTHING_RELEVANT and answer.sources == ()
    assert model.calls == [] and answer.total_tokens == 0


def test_prompt_has_system_prompt_and_numbered_context(chat: Any) -> None:
    model = FakeChatModel()

    chat("When does the bakery open?", model)

    (messages, system), = model.calls  # fmt: skip
    assert "Cite the passages" in system
    assert messages[-1].content.startswith("Context:\n\n[1] (bakery.txt, chunk 0)\n")
    assert messages[-1].content.endswith("Question: When does the bakery open?")


def test_follow_up_is_rewritten_with_history_before_retrieval(chat: Any) -> None:
    first = chat("What does the bakery sell?", FakeChatModel("Bread and croissants [1]."))
    model = FakeChatModel("When does the bakery open?", "At seven [1].", input_tokens=10)

    second = chat("And when does it open?", model)

    rewrite_call, answer_call = model.calls
    assert "user: What does the bakery sell?" in rewrite_call[0][0].content
    assert second.standalone_question == "When does the bakery open?"
    assert [t.role for t in answer_call[0]] == ["user", "assistant", "user"]
    assert answer_call[0][1].content == "Bread and croissants [1]."
    assert second.input_tokens == 20 and second.conversation_id == first.conversation_id


def test_offline_follow_up_adds_the_previous_question(chat: Any) -> None:
    chat("What does the bakery sell?", OfflineAnswerer())

    second = chat("When does it open?", OfflineAnswerer())

    assert second.standalone_question == "What does the bakery sell? When does it open?"


def test_offline_new_topic_does_not_inherit_the_previous_question(chat: Any) -> None:
    chat("What bread does the bakery sell?", OfflineAnswerer())

    second = chat("What is the capital of France?", OfflineAnswerer())

    assert second.standalone_question == "What is the capital of France?"
    assert "bakery" not in second.text and "sourdough" not in second.text
    assert second.text == NOTHING_RELEVANT and second.sources == ()


def test_offline_follow_up_continues_the_last_topic_that_found_something(chat: Any) -> None:
    chat("What bread does the bakery sell?", OfflineAnswerer())
    chat("What is the capital of France?", OfflineAnswerer())  # nothing relevant

    third = chat("And when does it open?", OfflineAnswerer())

    assert third.standalone_question == "What bread does the bakery sell? And when does it open?"
    assert "It opens at seven." in third.text


def test_offline_answer_quotes_for_the_standalone_question(chat: Any) -> None:
    chat("When does the bakery open?", OfflineAnswerer())

    second = chat("And on Sundays?", OfflineAnswerer())  # no word of its own matches

    assert second.standalone_question == "When does the bakery open? And on Sundays?"
    assert '"It opens at seven." [1]' in second.text


def test_failed_rewrite_falls_back_to_the_offline_rule(chat: Any) -> None:
    chat("What does the bakery sell?", FakeChatModel("Bread [1]."))
    error = LLMProviderError("openai rate limit reached (HTTP 429): wait a moment and ask again")

    second = chat("Who unloads the containers at the harbour?", FakeChatModel(error=error))

    assert second.standalone_question == "Who unloads the containers at the harbour?"


def test_sources_carry_the_pdf_page_they_came_from(
    app_sessions: sessionmaker[Session], shop: Shop, chat: Any, owner_engine: Engine
) -> None:
    pdf = make_pdf([["Cover page of the turbine report."],
                    ["The turbine produced 4.2 megawatts at full load."]])  # fmt: skip
    source = SourceFile("turbine.pdf", pdf)
    outcomes = ingest(
        app_sessions, solution_id=shop.solution_id, oracle_id=shop.oracle_id,
        sources=[source], embedder=HashingEmbedder(),
    )  # fmt: skip
    assert [o.status for o in outcomes] == ["completed"]

    answer = chat("How many megawatts did the turbine produce at full load?", OfflineAnswerer())

    turbine = next(s for s in answer.sources if s.document_title == "turbine.pdf")
    assert turbine.pages == (1, 2)  # one small chunk holds both pages
    stored = rows(owner_engine, "SELECT sources FROM messages WHERE id = :m", m=answer.message_id)
    assert stored[0][0][turbine.number - 1]["pages"] == list(turbine.pages)


def test_a_newline_in_a_file_name_does_not_break_offline_answers(
    app_sessions: sessionmaker[Session], shop: Shop, chat: Any, owner_engine: Engine
) -> None:
    body = {"ferry times.txt": "The ferry to the island leaves at nine every morning."}
    _load(app_sessions, (shop.solution_id, shop.oracle_id), body)
    # Ingestion refuses such names now (issue 15); documents stored before that may have one.
    with owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE documents SET filename = :new WHERE filename = :old"),
            {"new": "ferry\ntimes.txt", "old": "ferry times.txt"},
        )

    answer = chat("When does the ferry to the island leave?", OfflineAnswerer())

    ferry = next(s for s in answer.sources if s.document_title == "ferry\ntimes.txt")
    assert f'"The ferry to the island leaves at nine every morning." [{ferry.number}]' in (
        answer.text
    )


def test_provider_error_keeps_the_question_and_writes_no_answer(
    chat: Any, owner_engine: Engine
) -> None:
    error = LLMProviderError("openai rate limit reached (HTTP 429): wait a moment and ask again")

    answer = chat("What does the bakery sell?", FakeChatModel(error=error))

    with pytest.raises(LLMProviderError, match="HTTP 429"):
        answer.raise_for_error()
    stored = rows(
        owner_engine,
        "SELECT role, content FROM messages WHERE conversation_id = :c",
        c=answer.conversation_id,
    )
    assert [tuple(r) for r in stored] == [("user", "What does the bakery sell?")]


def test_history_skips_a_failed_question(chat: Any) -> None:
    chat("What does the bakery sell?", FakeChatModel(error=LLMProviderError("down")))
    model = FakeChatModel()

    chat("When does the bakery open?", model)

    assert len(model.calls) == 1 and len(model.calls[0][0]) == 1


def _set_budget(engine: Engine, table: str, row_id: uuid.UUID, usd: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE {table} SET metadata = jsonb_build_object("
                 "'monthly_budget_usd', CAST(:b AS numeric)) WHERE id = :i"),
            {"b": usd, "i": row_id},
        )  # fmt: skip


@pytest.mark.parametrize("scope", ["oracles", "solutions"])
def test_budget_refuses_a_question_that_could_exceed_it(
    chat: Any, shop: Shop, owner_engine: Engine, scope: str
) -> None:
    row_id = shop.oracle_id if scope == "oracles" else shop.solution_id
    _set_budget(owner_engine, scope, row_id, "0.0028")
    model = FakeChatModel(input_tokens=1000, output_tokens=500)
    chat("What does the bakery sell?", model)  # spends $0.00045

    # worst case: ~60 prompt tokens + max_tokens 4096 at $0.60/M = ~$0.00247
    with pytest.raises(BudgetExceededError, match=r"spent \$0\.000450 of its \$0\.0028 month"):
        chat("When does the bakery open?", model, session_id="s2")

    count = rows(owner_engine, "SELECT count(*) FROM messages WHERE oracle_id = :o",
                 o=shop.oracle_id)  # fmt: skip
    assert count[0][0] == 2  # the refused question left nothing behind


def test_budget_with_an_unpriced_model_is_refused(
    chat: Any, shop: Shop, owner_engine: Engine
) -> None:
    _set_budget(owner_engine, "oracles", shop.oracle_id, "100")

    with pytest.raises(BudgetExceededError, match="has no price"):
        chat("What does the bakery sell?", FakeChatModel(model="mystery-llm-9"))


def test_another_tenants_oracle_is_not_found(chat: Any, shop: Shop) -> None:
    with pytest.raises(NotFoundError):
        chat("What does the bakery sell?", FakeChatModel(), oracle_id=shop.other_oracle_id)


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_refused(chat: Any, question: str) -> None:
    with pytest.raises(UserError, match="question is empty"):
        chat(question, FakeChatModel())


def test_concurrent_turns_in_one_conversation_get_gapless_sequences(
    chat: Any, owner_engine: Engine
) -> None:
    answers: list[Answer] = []
    threads = [
        threading.Thread(target=lambda: answers.append(chat("Bakery bread?", FakeChatModel())))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    sequences = rows(
        owner_engine,
        "SELECT sequence_number FROM messages WHERE conversation_id = :c ORDER BY 1",
        c=answers[0].conversation_id,
    )
    assert [r[0] for r in sequences] == list(range(1, 9))
    assert len({a.conversation_id for a in answers}) == 1


def test_offline_token_counts_match_the_prompt(chat: Any) -> None:
    model = OfflineAnswerer()
    seen: list[Any] = []
    original = model.complete

    def spy(messages: Any, **kwargs: Any) -> Any:
        seen.append((messages, kwargs["system"]))
        return original(messages, **kwargs)

    model.complete = spy  # type: ignore[method-assign]

    answer = chat("What does the bakery sell?", model)

    assert answer.input_tokens == prompt_tokens(*seen[0]) > 20
