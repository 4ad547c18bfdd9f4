"""SuperCore Workbench dashboard: the router (`streamlit run app/streamlit_app.py`)."""

import streamlit as st
import workbench_ui as ui

st.set_page_config(page_title="SuperCore Workbench", page_icon=":material/hub:", layout="wide")

ui.sessions()  # a database that does not answer stops every page here with one clear line

pages = {
    "All tenants": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/tenants.py", title="Tenants and oracles", icon=":material/apartment:"),
        st.Page("pages/index_stats.py", title="Index and usage", icon=":material/monitoring:"),
    ],
    "Selected tenant": [
        st.Page("pages/documents.py", title="Documents", icon=":material/description:"),
        st.Page("pages/chat.py", title="Chat", icon=":material/chat:"),
        st.Page("pages/evaluations.py", title="Evaluations", icon=":material/science:"),
    ],
}
st.navigation(pages).run()
