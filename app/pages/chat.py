"""Chat with an oracle: streamed answers, expandable sources, tokens and cost per turn."""

import re
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import streamlit as st
import workbench_ui as ui
from golden_capture import save_to_golden_set

from supercore_core.catalog import oracle_by_id
from supercore_core.chat import ask
from supercore_core.conversations import (
    AskedQuestion,
    StoredMessage,
    answered_questions,
    conversation_messages,
    list_conversations,
)
from supercore_core.embedding import embedder_for
from supercore_core.llm import OFFLINE_LABEL, chat_model_for
from supercore_core.rendering import inert_markdown
from supercore_core.retrieval import read_oracle

SIMILARITY_NOTE = (
    "Similarity: how close the passage's meaning is to the question (cosine similarity of "
    "their embeddings, 0 to 1); keyword match: found by its words only."
)


def cost_text(message: StoredMessage) -> str:
    cost = "unpriced" if message.cost_usd is None else f"${message.cost_usd:.6f}"
    estimated = " (estimated)" if message.tokens_estimated else ""
    return (
        f"{message.model_used} · {message.input_tokens} in + {message.output_tokens} out tokens"
        f"{estimated} · {cost} · {message.latency_ms} ms"
    )


def hard_breaks(text: str) -> str:
    """Keep the answer's line breaks (Markdown would join quoted lines into one)."""
    return text.replace("\n", "  \n")


def source_line(source: dict[str, Any]) -> str:
    """ "[2] **report.pdf** · page 4 · similarity 0.58": the document, where in it, how close."""
    title = re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", " ".join(source["document_title"].split()))
    pages = source.get("pages") or []
    if pages:
        where = f"page {pages[0]}" if len(pages) == 1 else f"pages {pages[0]}-{pages[-1]}"
    else:
        where = f"part {source['chunk_index'] + 1}"
    similarity = source.get("similarity")
    match = "keyword match" if similarity is None else f"similarity {similarity:.2f}"
    return f"[{source['n']}] **{title}** · {where} · {match}"


def open_answered(solution_id: uuid.UUID, question: AskedQuestion) -> None:
    """Switch to the question's oracle and conversation (runs before the page reruns)."""
    st.session_state[f"chat_oracle_{solution_id}"] = question.oracle_id
    st.session_state[f"chat_{solution_id}_{question.oracle_id}"] = {
        "session_id": question.session_id, "picked": question.session_id,
    }  # fmt: skip


def show_answered(solution_id: uuid.UUID, questions: list[AskedQuestion]) -> None:
    """Questions this tenant already asked, as buttons that open their answers."""
    st.markdown("**Answered before:** open one, or ask your own below.")
    columns = st.columns(2)
    for i, question in enumerate(questions):
        columns[i % 2].button(
            question.question if len(question.question) <= 90 else question.question[:87] + "...",
            key=f"answered_{i}", help=f"Asked {question.oracle_name}: opens that conversation",
            on_click=open_answered, args=(solution_id, question), width="stretch",
        )  # fmt: skip


def show_message(
    message: StoredMessage, capture: Callable[[StoredMessage], None] | None = None
) -> None:
    """One turn; ``capture`` adds the save-to-golden-set form under an answer's sources."""
    with st.chat_message(message.role):
        st.markdown(hard_breaks(inert_markdown(message.content)))
        if message.role != "assistant":
            return
        st.caption(cost_text(message))
        if message.sources:
            with st.expander(f"Sources ({len(message.sources)})"):
                st.markdown("  \n".join(source_line(source) for source in message.sources))
                st.caption(SIMILARITY_NOTE)
            if capture is not None:
                capture(message)


tenant = ui.current_tenant()
st.title("Chat")
ui.show_done(toast=True)
picked = ui.oracle_picker(tenant.solution_id, key="chat_oracle")
with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
    oracle = oracle_by_id(session, picked.oracle_id)
    model = chat_model_for(oracle, ui.settings())
    embedder = embedder_for(oracle, ui.settings())
    searchable = read_oracle(session, picked.oracle_id).stats.chunks > 0
if not searchable:
    st.info(f"**{picked.name}** holds no searchable documents yet: pick another oracle above, "
            "or upload files on the Documents page.", icon=":material/info:")  # fmt: skip
if model.offline:
    st.warning(f"**Offline mode.** {OFFLINE_LABEL}", icon=":material/cloud_off:")
else:
    st.caption(f"Model: {model.provider} / {model.model}")

key = f"chat_{tenant.solution_id}_{picked.oracle_id}"
state = st.session_state.setdefault(key, {"session_id": f"dash-{uuid.uuid4().hex[:12]}"})
if st.sidebar.button("New conversation"):
    state["session_id"] = f"dash-{uuid.uuid4().hex[:12]}"
with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
    earlier = list_conversations(session, oracle_id=picked.oracle_id)
if earlier:
    chosen = st.sidebar.selectbox(
        "Earlier conversations", [None, *earlier], format_func=lambda c: c.label if c else "—",
        key=f"{key}_earlier",
    )  # fmt: skip
    if chosen is not None and chosen.session_id != state.get("picked"):
        state.update(session_id=chosen.session_id, picked=chosen.session_id)

with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
    history = conversation_messages(
        session, oracle_id=picked.oracle_id, session_id=state["session_id"]
    )
can_edit = ui.can_edit(tenant.solution_id)
asked: str | None = None
for message in history:
    capture = None
    if can_edit and asked is not None and message.role == "assistant":
        capture = partial(save_to_golden_set, tenant.solution_id, picked.oracle_id, asked)
    show_message(message, capture)
    asked = message.content if message.role == "user" else None
if not history:
    with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
        answered = answered_questions(session)
    if answered:
        show_answered(tenant.solution_id, answered)

question = st.chat_input(f"Ask {picked.name} about {tenant.name}'s documents")
if question:
    with st.chat_message("user"):
        st.markdown(hard_breaks(inert_markdown(question)))
    with st.chat_message("assistant"):
        placeholder = st.empty()
        streamed: list[str] = []

        def on_token(piece: str) -> None:
            streamed.append(piece)
            placeholder.markdown(hard_breaks(inert_markdown("".join(streamed))) + "▌")

        with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
            answer = ask(
                session, oracle_id=picked.oracle_id, session_id=state["session_id"],
                question=question, chat_model=model, embedder=embedder,
                settings=ui.settings(), on_token=on_token,
            )  # fmt: skip
        placeholder.empty()
        if answer.error is not None:
            ui.fail(f"the model did not answer (your question was kept): {answer.error}")
    st.rerun()  # the new turn is read back from the database with the rest
