"""Chat with an oracle: streamed answers, expandable sources, tokens and cost per turn."""

import uuid
from typing import Any

import streamlit as st
import workbench_ui as ui

from supercore_core.catalog import oracle_by_id
from supercore_core.chat import Answer, ask
from supercore_core.embedding import embedder_for
from supercore_core.llm import OFFLINE_LABEL, chat_model_for


def cost_text(answer: Answer) -> str:
    cost = "unpriced" if answer.cost_usd is None else f"${answer.cost_usd:.6f}"
    estimated = " (estimated)" if answer.tokens_estimated else ""
    return (
        f"{answer.model} · {answer.input_tokens} in + {answer.output_tokens} out tokens"
        f"{estimated} · {cost} · {answer.latency_ms} ms"
    )


def show_answer(turn: dict[str, Any]) -> None:
    answer: Answer = turn["answer"]
    st.markdown(answer.text)
    st.caption(cost_text(answer))
    if answer.sources:
        with st.expander(f"Sources ({len(answer.sources)})"):
            for source in answer.sources:
                st.markdown(
                    f"**[{source.number}] {source.document_title}**, chunk {source.chunk_index}"
                    f" · score {source.score:.4f}"
                )
                st.text(source.content)


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
state = st.session_state.setdefault(
    key, {"session_id": f"dash-{uuid.uuid4().hex[:12]}", "turns": []}
)
if st.sidebar.button("New conversation"):
    state.update(session_id=f"dash-{uuid.uuid4().hex[:12]}", turns=[])

for turn in state["turns"]:
    with st.chat_message("user"):
        st.markdown(turn["question"])
    with st.chat_message("assistant"):
        show_answer(turn)

question = st.chat_input(f"Ask {picked.name} about {tenant.name}'s documents")
if question:
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        placeholder = st.empty()
        streamed: list[str] = []

        def on_token(piece: str) -> None:
            streamed.append(piece)
            placeholder.markdown("".join(streamed) + "▌")

        with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
            answer = ask(
                session, oracle_id=picked.oracle_id, session_id=state["session_id"],
                question=question, chat_model=model, embedder=embedder,
                settings=ui.settings(), on_token=on_token,
            )  # fmt: skip
        placeholder.empty()
        if answer.error is not None:
            ui.fail(f"the model did not answer (your question was kept): {answer.error}")
        turn = {"question": question, "answer": answer}
        show_answer(turn)
        state["turns"].append(turn)
