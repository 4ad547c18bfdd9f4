"""Chat → golden set: an editor marks an answer's sources relevant or not and saves the
question, with the answer as a draft reference, into one of the oracle's golden sets."""

from typing import Any
from uuid import UUID

import streamlit as st
import workbench_ui as ui

from supercore_core.conversations import StoredMessage
from supercore_core.golden import JudgedSource, list_golden_sets, save_answer_as_golden

NEW_SET = "New golden set ..."
DEFAULT_SET = "from-chat"


def _set_names(solution_id: UUID, oracle_id: UUID) -> list[str]:
    with ui.shown_errors(), ui.tenant(solution_id) as session:
        return [s.name for s in list_golden_sets(session, oracle_id)]


def save_to_golden_set(
    solution_id: UUID, oracle_id: UUID, question: str, answer: StoredMessage
) -> None:
    """A popover with the form; the database refuses the save to anyone but editors."""
    with st.popover("Save to a golden set", icon=":material/bookmark_add:"):
        names = _set_names(solution_id, oracle_id)
        key = f"golden_capture_{answer.sequence_number}"
        with st.form(key, border=False):
            chosen = st.selectbox("Golden set", [*names, NEW_SET], key=f"{key}_set")
            new_name = st.text_input("New set name", value=DEFAULT_SET, key=f"{key}_name",
                                     help="Used when 'New golden set ...' is chosen")  # fmt: skip
            st.caption("Tick the sources that help answer the question:")
            judged = [_judged(source, key) for source in answer.sources]
            saved = st.form_submit_button("Save question", type="primary")
        if saved:
            _save(solution_id, oracle_id, new_name if chosen == NEW_SET else chosen,
                  question, answer.content, judged)  # fmt: skip


def _judged(source: dict[str, Any], key: str) -> JudgedSource:
    pages = source.get("pages") or []
    relevant = st.checkbox(
        f"[{source['n']}] {source['document_title']}" + (f" · page {pages[0]}" if pages else ""),
        value=True, key=f"{key}_{source['n']}",
    )  # fmt: skip
    return JudgedSource(UUID(source["document_id"]), relevant, pages[0] if pages else None)


def _save(
    solution_id: UUID,
    oracle_id: UUID,
    set_name: str,
    question: str,
    answer: str,
    judged: list[JudgedSource],
) -> None:
    with ui.shown_errors(), ui.tenant(solution_id) as session:
        saved = save_answer_as_golden(session, oracle_id=oracle_id, set_name=set_name,
                                      question=question, answer=answer, judged=judged)  # fmt: skip
        key = saved.query_key
    st.cache_data.clear()
    relevant = sum(j.relevant for j in judged)
    ui.done(f"saved to golden set {set_name.strip()} as {key}: {relevant} relevant of "
            f"{len(judged)} sources, the answer kept as a draft reference")  # fmt: skip
