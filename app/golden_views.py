"""The Evaluations page's golden-set tab: list, create, edit questions, run an evaluation."""

from uuid import UUID

import streamlit as st
import workbench_ui as ui

from supercore_core.documents import list_documents
from supercore_core.evaluation.golden import load_golden
from supercore_core.evaluation.runner import EvalRequest, evaluate
from supercore_core.golden import (
    Judgement,
    by_question,
    create_golden_set,
    golden_set_by_name,
    judgement_states,
    list_golden_sets,
    questions_of,
    remove_question,
    save_question,
)

GRADES = {1: "relevant", 2: "highly relevant", 3: "perfect", 0: "not relevant"}


@st.cache_data(ttl=30, show_spinner=False)
def overview(solution_id: UUID, oracle_id: UUID, person: str) -> list[dict[str, object]]:
    """One row per golden set: questions, stale judgements, version."""
    with ui.tenant(solution_id) as session:
        rows = []
        for golden in list_golden_sets(session, oracle_id):
            states = judgement_states(session, golden.id)
            rows.append({
                "set": golden.name, "questions": len(questions_of(session, golden.id)),
                "judgements": len(states), "stale": sum(1 for s in states if not s.valid),
                "version": golden.version, "description": golden.description or "",
            })  # fmt: skip
        return rows


@st.cache_data(ttl=30, show_spinner=False)
def contents(solution_id: UUID, oracle_id: UUID, name: str, person: str) -> list[dict[str, object]]:
    """The set's questions with their judged documents (stale ones marked)."""
    with ui.tenant(solution_id) as session:
        golden = golden_set_by_name(session, oracle_id, name)
        grouped = by_question(judgement_states(session, golden.id))
        rows = []
        for q in questions_of(session, golden.id):
            relevant = [s for s in grouped.get(q.query_key, []) if s.grade > 0]
            rows.append({
                "key": q.query_key, "question": q.question,
                "relevant": [f"{s.filename} ({GRADES[s.grade]})" + (" ⚠ stale" if s.stale else "")
                             for s in relevant],
                "reference answer": (q.reference_answer or "")
                + (" (draft)" if q.reference_is_draft else ""),
                "_reference": q.reference_answer or "",
                "_documents": [s.document_id for s in relevant if s.valid],
            })  # fmt: skip
        return rows


@st.cache_data(ttl=30, show_spinner=False)
def document_choices(solution_id: UUID, oracle_id: UUID, person: str) -> dict[UUID, str]:
    """The oracle's ingested documents by id, for judging."""
    with ui.tenant(solution_id) as session:
        rows = list_documents(session, oracle_id).rows
    return {r.document_id: r.filename for r in rows if r.status == "completed"}


def refresh() -> None:
    """Forget cached golden-set views and runs after a change."""
    overview.clear()
    contents.clear()


def golden_sets(solution_id: UUID, oracle_id: UUID, *, can_edit: bool) -> None:
    """The tab: the oracle's sets, one set's questions, editing and running."""
    with ui.shown_errors():
        rows = overview(solution_id, oracle_id, ui.who().cache_key)
    if rows:
        st.dataframe(rows, hide_index=True, use_container_width=True)
    else:
        st.info(
            "This oracle has no golden set yet. Create one below, or import a JSONL/CSV file "
            "with `supercore golden import FILE --tenant … --oracle … --set NAME`."
        )
    if can_edit:
        _create_form(solution_id, oracle_id)
    if not rows:
        return
    name = st.selectbox("Golden set", [str(r["set"]) for r in rows], key="golden_pick")
    stale = next(int(str(r["stale"])) for r in rows if r["set"] == name)
    if stale:
        st.warning(f"{stale} judgement(s) point at documents deleted or changed since they "
                   "were judged: they are not scored until re-judged.")  # fmt: skip
    if can_edit:
        _run_button(solution_id, oracle_id, name)
    with ui.shown_errors():
        questions = contents(solution_id, oracle_id, name, ui.who().cache_key)
    shown = [{k: v for k, v in q.items() if not k.startswith("_")} for q in questions]
    st.dataframe(shown, hide_index=True, use_container_width=True)
    if can_edit:
        _question_form(solution_id, oracle_id, name, questions)


def _create_form(solution_id: UUID, oracle_id: UUID) -> None:
    with st.expander("New golden set"), st.form("golden_create", clear_on_submit=True):
        name = st.text_input("Name", max_chars=200)
        description = st.text_input("Description (optional)")
        if st.form_submit_button("Create"):
            with ui.shown_errors(), ui.tenant(solution_id) as session:
                create_golden_set(session, oracle_id=oracle_id, name=name,
                                  description=description or None)  # fmt: skip
            refresh()
            ui.done(f"golden set {name.strip()!r} created")


def _run_button(solution_id: UUID, oracle_id: UUID, name: str) -> None:
    if not st.button("Run an evaluation on this set", type="primary", key="golden_run"):
        return
    with ui.shown_errors(), ui.tenant(solution_id) as session:
        loaded = load_golden(session, oracle_id=oracle_id, name=name)
    bar = st.progress(0.0, text="retrieving ...")
    request = EvalRequest(
        loaded, solution_id, oracle_id,
        progress=lambda done, total: bar.progress(done / total, text=f"question {done} of {total}"),
    )  # fmt: skip
    with ui.shown_errors(), st.spinner("scoring ..."):
        run = evaluate(ui.sessions(), request, embedder=ui.embedder(solution_id, oracle_id))
    st.cache_data.clear()
    ui.done(f"run recorded: {run.query_count} questions, status {run.status}")


def _question_form(
    solution_id: UUID, oracle_id: UUID, name: str, questions: list[dict[str, object]]
) -> None:
    documents = document_choices(solution_id, oracle_id, ui.who().cache_key)
    keys = ["(new question)", *[str(q["key"]) for q in questions]]
    with st.expander("Add, edit or remove a question"):
        key = st.selectbox("Question", keys, key="golden_edit_key")
        current = next((q for q in questions if q["key"] == key), None)
        with st.form("golden_question"):
            text = st.text_area("Question", value=str(current["question"]) if current else "")
            answer = st.text_input(
                "Reference answer (optional)", value=str(current["_reference"]) if current else ""
            )
            judged = current["_documents"] if current else []
            assert isinstance(judged, list)
            relevant = st.multiselect("Relevant documents", list(documents),
                                      default=[d for d in judged if d in documents],
                                      format_func=documents.__getitem__)  # fmt: skip
            grade = st.select_slider("Grade", options=[1, 2, 3], format_func=GRADES.__getitem__)
            save = st.form_submit_button("Save question")
        if save:
            _save(solution_id, oracle_id, name, None if current is None else str(key),
                  text, answer, [Judgement(d, grade) for d in relevant])  # fmt: skip
        if current is not None and st.button("Remove this question", key="golden_remove"):
            with ui.shown_errors(), ui.tenant(solution_id) as session:
                remove_question(session, golden_set_by_name(session, oracle_id, name), str(key))
            refresh()
            ui.done(f"question {key} removed")


def _save(
    solution_id: UUID, oracle_id: UUID, name: str, key: str | None, text: str, answer: str,
    judgements: list[Judgement],
) -> None:  # fmt: skip
    if not judgements:
        ui.fail("pick at least one relevant document: an unjudged question cannot be scored")
    with ui.shown_errors(), ui.tenant(solution_id) as session:
        golden = golden_set_by_name(session, oracle_id, name)
        saved = save_question(session, golden, question=text, judgements=judgements,
                              query_key=key, reference_answer=answer or None)  # fmt: skip
        saved_key = saved.query_key
    refresh()
    ui.done(f"question {saved_key} saved")
