"""SuperCore Workbench dashboard: the router (`streamlit run app/streamlit_app.py`)."""

import streamlit as st
import workbench_ui as ui

st.set_page_config(page_title="SuperCore Workbench", page_icon=":material/hub:", layout="wide")

ui.base_sessions()  # a database that does not answer stops every page here with one clear line
who = ui.sign_in()  # stops with a sign-in button, or one line, when there is nobody to act for

tenant_pages = [
    st.Page("pages/documents.py", title="Documents", icon=":material/description:"),
    st.Page("pages/chat.py", title="Chat", icon=":material/chat:", default=not who.is_admin),
    st.Page("pages/evaluations.py", title="Evaluations", icon=":material/science:"),
    st.Page("pages/members.py", title="Members", icon=":material/group:"),
]
if not who.is_admin:  # admins read the same figures under Index and usage
    tenant_pages.append(st.Page("pages/usage.py", title="Usage", icon=":material/monitoring:"))
pages = {"Selected tenant": tenant_pages}
if who.is_admin:  # the all-tenant pages use superuser mode: platform admins only
    pages = {
        "All tenants": [
            st.Page(
                "pages/overview.py", title="Overview", icon=":material/dashboard:", default=True
            ),
            st.Page("pages/tenants.py", title="Tenants and oracles", icon=":material/apartment:"),
            st.Page("pages/index_stats.py", title="Index and usage", icon=":material/monitoring:"),
        ],
        **pages,
    }
st.navigation(pages).run()
