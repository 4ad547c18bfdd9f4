"""Chat with an oracle: streamed answers, expandable sources, tokens and cost per turn."""

import uuid

import streamlit as st
import workbench_ui as ui

from supercore_core.catalog import oracle_by_id
from supercore_core.chat import ask
from supercore_core.conversations import StoredMessage, conversation_messages, list_conversations
from supercore_core.embedding import embedder_for
from supercore_core.llm import OFFLINE_LABEL, chat_model_for
from supercore_core.rendering import inert_markdown


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


def show_message(message: StoredMessage) -> None:
    with st.chat_message(message.role):
        st.markdown(hard_breaks(inert_markdown(message.content)))
        if message.role != "assistant":
            return
        st.caption(cost_text(message))
        if message.sources:
            with st.expander(f"Sources ({len(message.sources)})"):
                for source in message.sources:
                    st.markdown(
                        f"**[{source['n']}] {inert_markdown(source['document_title'])}**, chunk"
                        f" {source['chunk_index']} · score {source['score']:.4f}"
                    )


tenant = ui.current_tenant()
st.title("Chat")
picked = ui.oracle_picker(tenant.solution_id, key="chat_oracle")
with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
    oracle = oracle_by_id(session, picked.oracle_id)
    model = chat_model_for(oracle, ui.settings())
    embedder = embedder_for(oracle, ui.settings())
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
for message in history:
    show_message(message)

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
