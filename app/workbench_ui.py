"""Shared pieces of the dashboard: edge objects built once, the tenant picker, error display.

Pages import this module (the main script's folder is on ``sys.path``). Everything that
knows SQL lives in ``supercore_core``; this module only builds the edge objects and renders.
Every session it opens acts for the signed-in person (``identity``), so the database
decides what each person sees and does; every cached function takes ``who().cache_key``.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn
from uuid import UUID

import identity
import streamlit as st
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import (
    Settings,
    admin_session,
    make_engine,
    make_sessions,
    people,
    tenant_session,
)
from supercore_core.catalog import list_oracles, list_solutions, oracle_by_id
from supercore_core.db.sessions import person_session, sessions_for_person
from supercore_core.documents import UploadStore
from supercore_core.embedding import Embedder, embedder_for
from supercore_core.errors import UserError

TENANT_KEY = "tenant_id"
_FLASH = "_done_message"
_WHO = "_signed_in"


@dataclass(frozen=True)
class TenantChoice:
    """A tenant as the sidebar lists it."""

    solution_id: UUID
    slug: str
    name: str
    status: str


@dataclass(frozen=True)
class OracleChoice:
    """An oracle as the pickers list it."""

    oracle_id: UUID
    name: str
    oracle_type: str
    status: str


def fail(message: str) -> NoReturn:
    """Show ``message`` as an error and stop this run of the page."""
    st.error(message)
    st.stop()


def done(message: str) -> NoReturn:
    """Rerun the page (so every table shows the change) and then show ``message``."""
    st.session_state[_FLASH] = message
    st.rerun()


def show_done(*, toast: bool = False) -> None:
    """Show the message ``done`` left for this run, if any (``toast``: as a toast, for pages
    such as Chat whose reader is at the bottom)."""
    message = st.session_state.pop(_FLASH, None)
    if message and toast:
        st.toast(message, icon=":material/check_circle:")
    elif message:
        st.success(message)


@contextmanager
def shown_errors() -> Iterator[None]:
    """Render a ``UserError`` (or a database that went away) as one error and stop."""
    try:
        yield
    except UserError as exc:
        fail(str(exc))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        fail(f"the database is not answering: {reason}. Start it with `supercore db start`.")


def settings() -> Settings:
    """Settings from the environment (``SUPERCORE_DATABASE_URL``, ``SUPERCORE_DATA_DIR``)."""
    return Settings()


@st.cache_resource(show_spinner=False)
def _sessions_for(database_url: str | None, data_dir: str) -> sessionmaker[Session]:
    return make_sessions(make_engine(Settings(database_url=database_url, data_dir=data_dir)))


def base_sessions() -> sessionmaker[Session]:
    """The session factory, built once per database (a failure is shown, not cached)."""
    current = settings()
    with shown_errors():
        return _sessions_for(current.database_url, str(current.data_dir))


def sign_in() -> identity.Who:
    """Identify the person for this run (the router calls it first) and remember it."""
    with shown_errors():
        who = identity.identify(base_sessions())
    st.session_state[_WHO] = who
    identity.sidebar(who, identity.oidc_configured())
    return who


def who() -> identity.Who:
    """The person this run acts for (identified by the router)."""
    found = st.session_state.get(_WHO)
    if not isinstance(found, identity.Who):
        return sign_in()
    return found


def sessions() -> sessionmaker[Session]:
    """Sessions acting for the signed-in person (the local operator: the login's rights)."""
    person = who().person_id
    base = base_sessions()
    return base if person is None else sessions_for_person(base, person)


def embedder(solution_id: UUID, oracle_id: UUID) -> Embedder:
    """The oracle's embedder (the bundled MiniLM is loaded once per process)."""
    with shown_errors(), tenant(solution_id) as session:
        oracle = oracle_by_id(session, oracle_id)
    with shown_errors(), st.spinner("Loading the embedding model ..."):
        return embedder_for(oracle, settings())


def upload_store() -> UploadStore:
    """Where uploaded originals are kept (under the data directory)."""
    return UploadStore(settings().data_dir / "uploads")


def admin(reason: str) -> Any:
    """An admin session recorded with ``reason`` (and the person) in the audit log; for
    platform admins only (the database refuses superuser mode to anyone else as well)."""
    if not who().is_admin:
        fail("This page is for platform admins.")
    return admin_session(sessions(), reason=f"dashboard: {reason}")


def tenant(solution_id: UUID) -> Any:
    """A tenant session (RLS scoped to ``solution_id``)."""
    return tenant_session(sessions(), solution_id=solution_id)


@st.cache_data(ttl=30, show_spinner=False)
def tenant_choices(database_url: str | None, person: str) -> list[TenantChoice]:
    """The person's tenants for the sidebar, read without superuser mode (all tenants for
    the local operator, in superuser mode); cached per database and person for 30 s."""
    person_id = who().person_id
    scope = (
        admin("list tenants for the picker")
        if person_id is None
        else person_session(base_sessions(), person_id=person_id)
    )
    with scope as session:
        return [TenantChoice(s.id, s.slug, s.name, s.status) for s in list_solutions(session)]


@st.cache_data(ttl=30, show_spinner=False)
def oracle_choices(
    solution_id: UUID, person: str, include_scratch: bool = False
) -> list[OracleChoice]:
    """The tenant's oracles (cached per tenant and person for 30 s); scratch evaluation
    oracles on ask."""
    with tenant(solution_id) as session:
        return [
            OracleChoice(o.id, o.oracle_name, o.oracle_type, o.status)
            for o in list_oracles(session, solution_id, include_scratch=include_scratch)
        ]


def refresh_catalog() -> None:
    """Forget cached tenant and oracle lists after a change."""
    tenant_choices.clear()
    oracle_choices.clear()


def tenant_picker() -> TenantChoice | None:
    """The sidebar's tenant picker. The choice lives in session state under ``TENANT_KEY``
    (not as the widget's key), so it survives pages that do not show the picker."""
    current = st.session_state.get(TENANT_KEY)
    with shown_errors():
        choices = tenant_choices(settings().database_url, who().cache_key)
        if current is not None and current not in {c.solution_id for c in choices}:
            tenant_choices.clear()  # created elsewhere since the list was cached
            choices = tenant_choices(settings().database_url, who().cache_key)
    if not choices:
        hint = "create one on the Tenants page or run `make run`"
        if not who().is_admin:
            hint = "ask an owner of a tenant or a platform admin for a role"
        st.sidebar.info(f"No tenants for you yet: {hint}.")
        return None
    by_id = {c.solution_id: c for c in choices}
    ids = list(by_id)
    names = [c.name for c in choices]
    picked = st.sidebar.selectbox(  # the name alone fits the sidebar; the slug goes below
        "Tenant",
        ids,
        index=ids.index(current) if current in by_id else 0,
        format_func=lambda sid: _tenant_label(by_id[sid], names),
    )
    st.sidebar.caption(f"`{by_id[picked].slug}` · {by_id[picked].status}")
    st.session_state[TENANT_KEY] = picked
    return by_id[picked]


def _tenant_label(choice: TenantChoice, names: list[str]) -> str:
    """The tenant's name; with its slug only when another tenant has the same name."""
    return choice.name if names.count(choice.name) == 1 else f"{choice.name} ({choice.slug})"


def current_tenant() -> TenantChoice:
    """The tenant picked in the sidebar (shown here); stops with a hint when there is none."""
    picked = tenant_picker()
    if picked is None:
        st.info("No tenant to show: see the sidebar.")
        st.stop()
    _role_caption(picked)
    if picked.status == "suspended":
        st.warning(
            f"{picked.name} is suspended, so it is read-only: no chat, no ingest, no edits. "
            "A platform admin can make it active again.",
            icon=":material/block:",
        )
    return picked


def can_edit(solution_id: UUID) -> bool:
    """Whether this person may edit the tenant's data (editor, owner, admin, local operator);
    pages use it to offer the forms, the database refuses the writes of anyone else."""
    if who().person_id is None:
        return True
    with shown_errors(), tenant(solution_id) as session:
        return people.current_role(session) in ("editor", "owner")


def _role_caption(picked: TenantChoice) -> None:
    """Say which role the signed-in person acts with here (the database enforces it)."""
    if who().person_id is None:
        return
    with shown_errors(), tenant(picked.solution_id) as session:
        role = people.current_role(session)
    st.sidebar.caption(f"Your role in {picked.name}: {role or 'none'}")


def oracle_picker(
    solution_id: UUID,
    *,
    key: str,
    label: str = "Oracle",
    include_scratch: bool = False,
    preferred: UUID | None = None,
) -> OracleChoice:
    """A select box of the tenant's oracles; stops with a hint when there are none.

    Scratch evaluation oracles are offered only with ``include_scratch`` (Evaluations);
    ``preferred`` is selected first when it is among them.
    """
    with shown_errors():
        choices = oracle_choices(solution_id, who().cache_key, include_scratch)
    if not choices:
        st.info("This tenant has no oracle yet: create one on the Tenants page.")
        st.stop()
    by_id = {c.oracle_id: c for c in choices}
    ids = list(by_id)
    picked = st.selectbox(
        label,
        ids,
        index=ids.index(preferred) if preferred in by_id else 0,
        key=f"{key}_{solution_id}",
        format_func=lambda oid: f"{by_id[oid].name} ({by_id[oid].oracle_type})",
    )
    return by_id[picked]
