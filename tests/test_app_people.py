"""The dashboard as signed-in people (AppTest with a seeded ``st.user``) and as nobody.

Four people (viewer of A, editor of B, owner of A, platform admin), someone signed in but
not registered, and nobody signed in. The app connects as a login that is only a member
of ``supercore_admin``, so every refusal below comes from PostgreSQL's policies.
"""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from supercore_core import admin_session
from supercore_core.catalog import set_solution_status
from supercore_core.people import add_person, grant, set_platform_admin
from tests.factories import unique_slug
from tests.test_app_pages import APP, TIMEOUT, Seeded, app_env, page_text, seed

__all__ = ["app_env"]
AUTH = {"client_id": "x", "client_secret": "y", "redirect_uri": "http://127.0.0.1/cb",
        "cookie_secret": "z", "server_metadata_url": "http://127.0.0.1/.well-known"}  # fmt: skip


@pytest.fixture(scope="module")
def tenants(owner_engine: Engine) -> tuple[Seeded, Seeded]:
    return seed(owner_engine, "acme"), seed(owner_engine, "bolt")


@pytest.fixture(scope="module")
def people(admin_sessions: sessionmaker[Session], tenants: tuple[Seeded, Seeded]) -> dict[str, str]:
    """Subjects of: viewer of A, editor of B, owner of A, platform admin, registered nobody."""
    a, b = tenants
    subjects: dict[str, str] = {}
    with admin_session(admin_sessions, reason="test: app people") as session:
        for name, tenant, role in [("viewer", a, "viewer"), ("editor", b, "editor"),
                                   ("owner", a, "owner"), ("admin", None, None),
                                   ("nobody", None, None)]:  # fmt: skip
            subject = unique_slug(name)
            person = add_person(session, oidc_subject=subject, email=f"{subject}@x.test",
                                display_name=f"{name.title()} {subject[-4:]}")  # fmt: skip
            if tenant is not None and role is not None:
                grant(session, person_id=person.id, solution_id=tenant.solution_id, role=role)
            subjects[name] = subject
        set_platform_admin(session, _id(session, subjects["admin"]), admin=True)
    return subjects


def _id(session: Session, subject: str) -> uuid.UUID:
    from supercore_core.people import find_person

    return find_person(session, subject).id


def open_as(subject: str | None, page: str | None = None, **state: Any) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False} if subject is None else {
        "is_logged_in": True, "sub": subject, "email": f"{subject}@x.test"}  # fmt: skip
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def picker_options(at: AppTest) -> list[Any]:
    boxes = [b for b in at.sidebar.selectbox if b.label == "Tenant"]
    return list(boxes[0].options) if boxes else []


def label(tenant: Seeded) -> str:
    """The sidebar label: the name (the slug is added only when names repeat)."""
    return tenant.name


def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_nobody_signed_in_sees_only_the_sign_in_button(app_env: None, people: Any) -> None:
    at = open_as(None)
    assert_ok(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert picker_options(at) == [] and not at.dataframe


def test_signed_in_but_unregistered_is_told_what_to_do(app_env: None, people: Any) -> None:
    at = open_as("stranger-42")
    assert [e.value for e in at.error] == [
        "You are signed in as stranger-42@x.test, but have no access to this workbench: ask a "
        "platform admin to run `supercore user add stranger-42 --email ...` and to grant you "
        "a role."
    ]
    assert picker_options(at) == []


def test_registered_person_without_roles_gets_no_tenant(app_env: None, people: Any) -> None:
    at = open_as(people["nobody"])
    assert_ok(at)
    assert picker_options(at) == []
    assert "No tenants for you yet" in at.sidebar.info[0].value


@pytest.mark.parametrize(("person", "mine"), [("viewer", 0), ("editor", 1), ("owner", 0)])
def test_a_member_sees_only_their_tenant_even_with_a_forged_tenant_id(
    app_env: None, people: dict[str, str], tenants: tuple[Seeded, Seeded], person: str, mine: int
) -> None:
    own, other = tenants[mine], tenants[1 - mine]
    at = open_as(people[person], "pages/documents.py", tenant_id=other.solution_id)
    assert_ok(at)
    assert picker_options(at) == [label(own)]
    text = page_text(at)
    assert own.filename in text
    assert other.filename not in text and other.name not in text


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/tenants.py", "pages/index_stats.py"])
def test_a_member_cannot_reach_the_all_tenant_pages(
    app_env: None, people: dict[str, str], page: str
) -> None:
    at = open_as(people["owner"])
    assert [t.value for t in at.title] == ["Chat"]  # a member's default page
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)  # not registered for them at all


def test_a_member_sees_their_role_and_their_tenants_usage(
    app_env: None, people: dict[str, str], tenants: tuple[Seeded, Seeded]
) -> None:
    at = open_as(people["editor"], "pages/usage.py")
    assert_ok(at)
    assert f"Your role in {tenants[1].name}: editor" in [c.value for c in at.sidebar.caption]
    assert [m.value for m in at.metric][:2] == ["42", "0.0010"]  # the seeded answer of B
    assert tenants[0].name not in page_text(at)


def test_a_viewer_cannot_delete_a_document(
    app_env: None, people: dict[str, str], tenants: tuple[Seeded, Seeded]
) -> None:
    at = open_as(people["viewer"], "pages/documents.py")
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert any("viewer role may not change documents" in e.value for e in at.error)
    assert tenants[0].filename in page_text(open_as(people["viewer"], "pages/documents.py"))


def test_members_page_for_a_viewer_shows_only_themselves(
    app_env: None, people: dict[str, str]
) -> None:
    at = open_as(people["viewer"], "pages/members.py")
    assert_ok(at)
    assert at.dataframe[0].value["Email"].tolist() == [f"{people['viewer']}@x.test"]
    assert "Only the tenant's owners" in at.info[0].value
    assert not [b for b in at.button if b.label in {"Grant", "Revoke"}]


def test_an_owner_grants_a_role_on_the_members_page(
    app_env: None, people: dict[str, str], tenants: tuple[Seeded, Seeded]
) -> None:
    at = open_as(people["owner"], "pages/members.py")
    assert sorted(at.dataframe[0].value["Role"]) == ["owner", "viewer"]
    at.text_input[0].set_value(f"{people['nobody']}@x.test")
    next(b for b in at.button if b.label == "Grant").click().run()
    assert_ok(at)
    assert at.success[0].value == f"{people['nobody']}@x.test is now viewer of {tenants[0].slug}"
    assert f"{people['nobody']}@x.test" in at.dataframe[0].value["Email"].tolist()
    assert picker_options(open_as(people["nobody"])) == [label(tenants[0])]


def test_a_platform_admin_sees_every_tenant_and_the_overview(
    app_env: None, people: dict[str, str], tenants: tuple[Seeded, Seeded]
) -> None:
    at = open_as(people["admin"])
    assert_ok(at)
    assert [t.value for t in at.title] == ["Overview"]
    assert {label(t) for t in tenants} <= set(picker_options(at))
    assert all(t.name in page_text(at) for t in tenants)


def test_two_people_in_one_process_never_share_cached_results(
    app_env: None, people: dict[str, str], tenants: tuple[Seeded, Seeded]
) -> None:
    # no cache clearing between the two: the second person must not get the first's lists
    first = open_as(people["viewer"], "pages/documents.py")
    second = open_as(people["editor"], "pages/documents.py")
    assert picker_options(first) == [label(tenants[0])]
    assert picker_options(second) == [label(tenants[1])]
    assert tenants[0].filename not in page_text(second)


def test_a_suspended_tenant_says_so_and_refuses_chat(
    app_env: None, owner_engine: Engine, admin_sessions: sessionmaker[Session]
) -> None:
    frozen = seed(owner_engine, "frozen")
    with admin_session(admin_sessions, reason="test: app suspended") as session:
        subject = unique_slug("owner")
        person = add_person(session, oidc_subject=subject)
        grant(session, person_id=person.id, solution_id=frozen.solution_id, role="owner")
        set_solution_status(session, frozen.solution_id, "suspended")
    at = open_as(subject, "pages/chat.py")
    assert at.warning[0].value.startswith(f"{frozen.name} is suspended, so it is read-only")
    at.chat_input[0].set_value("What was the revenue?").run()
    assert [e.value for e in at.error] == [
        "this tenant is suspended, so it is read-only (no chat, no ingest, no edits): "
        "a platform admin can make it active again"
    ]


@pytest.fixture
def trusted_headers() -> Iterator[None]:
    before = st.get_option("server.trustedUserHeaders")
    st.config.set_option("server.trustedUserHeaders", {"X-Forwarded-User": "sub"})
    yield
    st.config.set_option("server.trustedUserHeaders", before)


def test_trusted_proxy_headers_name_the_person(
    app_env: None, trusted_headers: None, people: dict[str, str], tenants: tuple[Seeded, Seeded]
) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.user = {"sub": people["editor"]}  # what the proxy's header became
    at.run()
    assert_ok(at)
    assert picker_options(at) == [label(tenants[1])]
    assert not [b for b in at.sidebar.button if b.label == "Sign out"]  # the proxy signs out


@pytest.fixture
def public_address() -> Iterator[None]:
    before = st.get_option("server.address")
    st.config.set_option("server.address", "0.0.0.0")  # noqa: S104 (the refusal under test)
    yield
    st.config.set_option("server.address", before)


def test_local_mode_refuses_a_public_address(app_env: None, public_address: None) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert [e.value for e in at.error] == [
        "Refusing to serve on '0.0.0.0' without an identity provider: configure OIDC in "
        ".streamlit/secrets.toml (see .streamlit/secrets.toml.example) or trusted proxy "
        "headers (server.trustedUserHeaders), or serve on 127.0.0.1."
    ]
    assert not at.dataframe


def test_local_mode_shows_its_banner(app_env: None) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert at.warning[0].value.startswith("Local mode: no identity provider is configured")
