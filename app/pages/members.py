"""Members of the selected tenant: owners and platform admins grant, change and revoke roles.

The database decides: a viewer or editor reads only their own membership here, and their
changes would be refused even if the form were shown.
"""

import pandas as pd
import streamlit as st
import workbench_ui as ui

from supercore_core import people

tenant = ui.current_tenant()
st.title("Members")
with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
    role = people.current_role(session)
    members = people.members_of(session, tenant.solution_id)
ui.show_done()
st.caption(f"Tenant {tenant.name}: you act as {role or 'nobody'} here.")
if not members:
    st.info(
        "No one is a member of this tenant yet. A platform admin registers people with "
        "`supercore user add SUBJECT --email EMAIL` (SUBJECT: the sign-in's sub claim); an "
        "owner then grants each a role below. Roles: viewer reads and chats, editor also "
        "changes documents, oracles and evaluations, owner also manages members."
    )
st.dataframe(
    pd.DataFrame(
        [(m.person.label, m.person.email, m.role, m.person.active) for m in members],
        columns=["Person", "Email", "Role", "Active"],
    ),
    hide_index=True,
)
if role != "owner":
    st.info("Only the tenant's owners and platform admins manage its members.")
    st.stop()

with st.form("grant"):
    email = st.text_input("Email of a registered person")
    new_role = st.selectbox("Role", people.ROLES)
    if st.form_submit_button("Grant"):
        with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
            granted = people.grant_by_email(
                session, email=email, solution_id=tenant.solution_id, role=new_role
            )
        ui.done(f"{email.strip()} is now {granted.role} of {tenant.slug}")

by_id = {m.person.id: m for m in members}
if by_id:
    picked = st.selectbox("Member", list(by_id), format_func=lambda pid: by_id[pid].person.label)
    change, remove = st.columns(2)
    changed_role = change.selectbox("New role", people.ROLES, key="change_role")
    if change.button("Change role"):
        with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
            people.grant(session, person_id=picked, solution_id=tenant.solution_id,
                         role=changed_role)  # fmt: skip
        ui.done(f"{by_id[picked].person.label} is now {changed_role}")
    if remove.button("Revoke", type="secondary"):
        with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
            people.revoke(session, person_id=picked, solution_id=tenant.solution_id)
        ui.done(f"{by_id[picked].person.label} no longer has a role in {tenant.slug}")
