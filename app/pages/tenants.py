"""Tenants and oracles: list, create, change status; create and edit oracles."""

import streamlit as st
import table_columns
import workbench_ui as ui

from supercore_core import catalog
from supercore_core.errors import InvalidSettingError, UserError
from supercore_core.oracle_settings import valid_part
from supercore_core.retrieval import FUSIONS, MODES, RetrievalConfig

SLUG_HELP = "Lowercase letters, digits and dashes, 2-63 characters: used as --tenant in the CLI."


def create_tenant(slug: str, name: str, industry: str) -> str:
    """Create the tenant and rerun with a success note; the reason when it cannot be."""
    if not slug or not name:
        return "a tenant needs a slug and a name"
    try:
        with ui.admin(f"create tenant {slug}") as session:
            catalog.create_solution(session, slug=slug, name=name, industry=industry or None)
    except UserError as exc:  # shown in the form: the rest of the page stays
        return str(exc)
    ui.refresh_catalog()
    ui.done(f"tenant {slug} created with its RAG global oracle")


st.title("Tenants and oracles")
ui.show_done()

# --- Tenants (admin) ---------------------------------------------------------------------
with ui.shown_errors():
    tenants = ui.tenant_choices(ui.settings().database_url, ui.who().cache_key)
st.dataframe(
    [{"name": t.name, "slug": t.slug, "status": t.status} for t in tenants],
    hide_index=True,
    column_config=table_columns.columns("name", "slug", "status"),
)

left, right = st.columns(2)
with left.form("create_tenant", clear_on_submit=False):
    st.subheader("New tenant")
    slug = st.text_input("Slug", placeholder="acme-corp", help=SLUG_HELP)
    name = st.text_input("Name", placeholder="ACME Corporation")
    industry = st.text_input("Industry (optional)")
    if st.form_submit_button("Create tenant"):
        st.error(create_tenant(slug.strip(), name.strip(), industry.strip()))

with right.form("tenant_status"):
    st.subheader("Tenant status")
    by_id = {t.solution_id: t for t in tenants}
    target = st.selectbox("Tenant", list(by_id), format_func=lambda i: by_id[i].slug)
    status = st.selectbox("Status", catalog.SOLUTION_STATUSES)
    if st.form_submit_button("Change status") and target is not None:
        with ui.shown_errors(), ui.admin(f"set status of {by_id[target].slug}") as session:
            catalog.set_solution_status(session, target, status)
        ui.refresh_catalog()
        ui.done(f"{by_id[target].slug} is now {status}")

# --- Oracles of the selected tenant ------------------------------------------------------
st.divider()
picked = ui.current_tenant()
st.header(f"Oracles of {picked.name}")
oracles = ui.oracle_choices(picked.solution_id, ui.who().cache_key)
st.dataframe(
    [{"oracle": o.name, "type": o.oracle_type, "status": o.status} for o in oracles],
    hide_index=True,
    column_config=table_columns.columns("oracle", "status", type="Type"),
)

left, right = st.columns(2)
with left.form("create_oracle"):
    st.subheader("New domain oracle")
    oracle_name = st.text_input("Oracle name", placeholder="finance")
    if st.form_submit_button("Create oracle"):
        if not oracle_name.strip():
            ui.fail("an oracle needs a name")
        with ui.shown_errors(), ui.tenant(picked.solution_id) as session:
            catalog.create_oracle(
                session, solution_id=picked.solution_id, oracle_name=oracle_name.strip()
            )
        ui.refresh_catalog()
        ui.done(f"oracle {oracle_name.strip()} created")
if not any(o.oracle_type == "rag_global" for o in oracles) and right.button(
    "Create the RAG global oracle"
):
    with ui.shown_errors(), ui.tenant(picked.solution_id) as session:
        catalog.ensure_rag_global_oracle(session, picked.solution_id)
    ui.refresh_catalog()
    ui.done("RAG global oracle created")

if not oracles:
    st.stop()
st.subheader("Edit an oracle")
chosen = ui.oracle_picker(picked.solution_id, key="edit_oracle")
with ui.shown_errors(), ui.tenant(picked.solution_id) as session:
    oracle = catalog.oracle_by_id(session, chosen.oracle_id)
try:
    config = RetrievalConfig.for_oracle(oracle)
except InvalidSettingError as exc:  # shown with defaults, so that saving repairs it
    st.warning(f"{exc}. The form shows defaults for what is invalid.")
    config = RetrievalConfig.from_oracle(valid_part(oracle.retrieval_config))
with st.form(f"edit_{oracle.id}"):
    prompt = st.text_area("System prompt", oracle.system_prompt or "", height=120)
    a, b, c, d = st.columns(4)
    provider = a.text_input("LLM provider", oracle.llm_provider)
    model = b.text_input("LLM model", oracle.llm_model)
    temperature = c.number_input("Temperature", 0.0, 2.0, float(oracle.temperature), 0.05)
    max_tokens = d.number_input("Max tokens", 1, 200_000, oracle.max_tokens)
    a, b, c, d = st.columns(4)
    mode = a.selectbox("Retrieval mode", MODES, index=MODES.index(config.mode))
    k = b.number_input("k (passages)", 1, 1000, config.k)
    rrf_k = c.number_input("RRF k", 0, 1000, config.rrf_k, help="used by rrf fusion only")
    status = d.selectbox(
        "Status", catalog.ORACLE_STATUSES, index=catalog.ORACLE_STATUSES.index(oracle.status)
    )
    a, b, c = st.columns(3)
    fusion = a.selectbox(
        "Hybrid fusion",
        FUSIONS,
        index=FUSIONS.index(config.fusion),
        help="convex: normalised scores, weighted and summed; rrf: reciprocal rank fusion",
    )
    dense_weight = b.number_input("Dense weight", 0.0, 10.0, config.dense_weight, 0.1)
    lexical_weight = c.number_input("Lexical weight", 0.0, 10.0, config.lexical_weight, 0.1)
    if st.form_submit_button("Save oracle"):
        retrieval = valid_part(oracle.retrieval_config) | {
            "mode": mode, "k": int(k), "fusion": fusion, "rrf_k": int(rrf_k),
            "dense_weight": float(dense_weight), "lexical_weight": float(lexical_weight),
        }  # fmt: skip
        with ui.shown_errors(), ui.tenant(picked.solution_id) as session:
            catalog.update_oracle(
                session, oracle.id, system_prompt=prompt.strip() or None,
                llm_provider=provider.strip(), llm_model=model.strip(),
                temperature=round(temperature, 2), max_tokens=int(max_tokens),
                retrieval_config=retrieval,
            )  # fmt: skip
            catalog.set_oracle_status(session, oracle.id, status)
        ui.refresh_catalog()
        ui.done(f"oracle {oracle.oracle_name} saved")
