"""People and tenant roles, enforced by PostgreSQL, tested as the application login.

Every tenant session here carries a person; the database (not this library) decides what
they see and change. Each test builds its own tenant and people, committed, because role
changes must be seen by the next transaction.
"""

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import Document, Settings, admin_session, person_session, tenant_session
from supercore_core.catalog import list_solutions, set_solution_status, solution_id_for_slug
from supercore_core.chat import ask
from supercore_core.db.sessions import sessions_for_person
from supercore_core.errors import (
    NotFoundError,
    RoleError,
    TenantContextError,
    TenantSuspendedError,
    UserError,
)
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.ops.audit import list_audit, record_superuser_use
from supercore_core.people import (
    add_person,
    current_role,
    find_person,
    grant,
    grant_by_email,
    is_platform_admin,
    members_of,
    memberships_of,
    person_for_subject,
    revoke,
    set_person_active,
    set_platform_admin,
    sign_in,
)
from tests.factories import SEED_TABLES, Tenant, make_tenant, unique_slug
from tests.fakes import FakeChatModel, HashingEmbedder

ROLE_NAMES = ("viewer", "editor", "owner")


@dataclass(frozen=True)
class World:
    tenant: Tenant
    other: Tenant
    people: dict[str, uuid.UUID]  # viewer, editor, owner, outsider, admin


@pytest.fixture
def world(owner_engine: Engine, admin_sessions: sessionmaker[Session]) -> World:
    with Session(owner_engine) as session, session.begin():
        tenant, other = make_tenant(session), make_tenant(session)
    people: dict[str, uuid.UUID] = {}
    with admin_session(admin_sessions, reason="test people") as session:
        for name in (*ROLE_NAMES, "outsider", "admin"):
            subject = unique_slug(name)
            people[name] = add_person(session, oidc_subject=subject, email=f"{subject}@x.test").id
        for role in ROLE_NAMES:
            grant(session, person_id=people[role], solution_id=tenant.solution_id, role=role)
        grant(session, person_id=people["outsider"], solution_id=other.solution_id, role="owner")
        set_platform_admin(session, people["admin"], admin=True)
    return World(tenant, other, people)


def _count(session: Session, table: str, tenant: Tenant) -> int:
    column, value = tenant.row_key(table)
    query = text(f"SELECT count(*) FROM {table} WHERE {column} = :v")
    return int(session.execute(query, {"v": value}).scalar_one())


def _add_document(session: Session, tenant: Tenant) -> None:
    session.execute(
        text(
            "INSERT INTO documents (oracle_id, solution_id, filename, file_type)"
            " VALUES (:o, :s, :f, 'txt')"
        ),
        {"o": tenant.oracle_id, "s": tenant.solution_id, "f": f"{uuid.uuid4().hex}.txt"},
    )


def _ask(sessions: sessionmaker[Session], world: World, person: str, settings: Settings) -> Any:
    with tenant_session(
        sessions, solution_id=world.tenant.solution_id, person_id=world.people[person]
    ) as session:
        return ask(
            session,
            oracle_id=world.tenant.oracle_id,
            session_id=f"chat-{uuid.uuid4().hex[:6]}",
            question="What was the revenue growth?",
            chat_model=FakeChatModel(),
            embedder=HashingEmbedder(),
            settings=settings,
        )


@pytest.mark.parametrize("table", SEED_TABLES)
def test_a_person_without_membership_gets_nothing_with_a_forged_tenant_id(
    app_sessions: sessionmaker[Session], world: World, table: str
) -> None:
    tenant, outsider = world.tenant, world.people["outsider"]
    with tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=outsider) as s:
        assert s.execute(text("SELECT current_solution_id()")).scalar_one() is None
        assert _count(s, table, tenant) == 0
    # the same login without a person still reaches the tenant (CLI, notebooks)
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        assert _count(session, table, tenant) == 1


def test_a_person_without_membership_cannot_write(
    app_sessions: sessionmaker[Session], world: World
) -> None:
    outsider = world.people["outsider"]
    with (
        pytest.raises(RoleError, match="not a member"),
        tenant_session(
            app_sessions, solution_id=world.tenant.solution_id, person_id=outsider
        ) as session,
    ):
        _add_document(session, world.tenant)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_role_reads_the_tenant(
    app_sessions: sessionmaker[Session], world: World, role: str
) -> None:
    tenant = world.tenant
    with tenant_session(
        app_sessions, solution_id=tenant.solution_id, person_id=world.people[role]
    ) as session:
        assert {t: _count(session, t, tenant) for t in SEED_TABLES} == dict.fromkeys(SEED_TABLES, 1)
        assert _count(session, "oracles", world.other) == 0


VIEWER_WRITES = {
    "insert document": "INSERT INTO documents (oracle_id, solution_id, filename, file_type)"
    " VALUES (:o, :s, 'x.txt', 'txt')",
    "delete document": "DELETE FROM documents WHERE id = :d",
    "edit oracle prompt": "UPDATE oracles SET system_prompt = 'pwned' WHERE id = :o",
    "delete conversation": "DELETE FROM conversations WHERE id = :c",
    "rename tenant": "UPDATE solutions SET name = 'Renamed' WHERE id = :s",
}


@pytest.mark.parametrize("write", VIEWER_WRITES)
def test_a_viewers_writes_are_refused(
    app_sessions: sessionmaker[Session], world: World, write: str
) -> None:
    tenant = world.tenant
    params = {"o": tenant.oracle_id, "s": tenant.solution_id, "d": tenant.document_id}
    with (
        pytest.raises(RoleError, match="viewer role may not change"),
        tenant_session(
            app_sessions, solution_id=tenant.solution_id, person_id=world.people["viewer"]
        ) as session,
    ):
        session.execute(text(VIEWER_WRITES[write]), params | {"c": tenant.conversation_id})


def test_a_viewer_can_chat(
    app_sessions: sessionmaker[Session], world: World, settings: Settings
) -> None:
    answer = _ask(app_sessions, world, "viewer", settings)
    with tenant_session(app_sessions, solution_id=world.tenant.solution_id) as session:
        stored = session.execute(
            text(
                "SELECT id, role FROM messages WHERE conversation_id = :c ORDER BY sequence_number"
            ),
            {"c": answer.conversation_id},
        ).all()
    assert [tuple(row) for row in stored] == [
        (answer.question_message_id, "user"),
        (answer.message_id, "assistant"),
    ]


def test_an_editor_writes_documents_but_cannot_manage_members(
    app_sessions: sessionmaker[Session], world: World
) -> None:
    tenant, editor = world.tenant, world.people["editor"]
    with tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=editor) as s:
        _add_document(s, tenant)
        s.execute(text("UPDATE oracles SET system_prompt = 'Be brief.' WHERE id = :o"),
                  {"o": tenant.oracle_id})  # fmt: skip
    with (
        pytest.raises(RoleError, match="editor role may not change tenant_memberships"),
        tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=editor) as s,
    ):
        grant(s, person_id=world.people["outsider"], solution_id=tenant.solution_id, role="owner")
    with tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=editor) as s:
        # only owners read the member list; everyone reads their own membership
        assert [m.person.id for m in members_of(s, tenant.solution_id)] == [editor]


def test_an_owner_manages_members_and_it_is_audited(
    app_sessions: sessionmaker[Session], admin_sessions: sessionmaker[Session], world: World
) -> None:
    tenant, owner, outsider = world.tenant, world.people["owner"], world.people["outsider"]
    with tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=owner) as s:
        granted = grant(s, person_id=outsider, solution_id=tenant.solution_id, role="editor")
        roles = {m.person.id: m.role for m in members_of(s, tenant.solution_id)}
        s.execute(text("UPDATE solutions SET name = 'Owned' WHERE id = :s"),
                  {"s": tenant.solution_id})  # fmt: skip
    assert (granted.role, granted.slug) == ("editor", _slug(admin_sessions, tenant))
    assert roles == {world.people[r]: r for r in ROLE_NAMES} | {outsider: "editor"}
    with admin_session(admin_sessions, reason="read audit") as session:
        entries = list_audit(session, solution_id=tenant.solution_id).entries
    granted_entry = next(e for e in entries if e.action == "membership_granted"
                         and str(outsider) in e.reason)  # fmt: skip
    assert granted_entry.person_id == owner
    assert granted_entry.reason == f"person {outsider} granted editor"


def _slug(admin_sessions: sessionmaker[Session], tenant: Tenant) -> str:
    with admin_session(admin_sessions, reason="test: slug") as session:
        return next(s.slug for s in list_solutions(session) if s.id == tenant.solution_id)


def test_an_owner_cannot_manage_another_tenants_members(
    app_sessions: sessionmaker[Session], world: World
) -> None:
    owner, other = world.people["owner"], world.other
    with (
        pytest.raises(DBAPIError, match="row-level security"),
        tenant_session(
            app_sessions, solution_id=world.tenant.solution_id, person_id=owner
        ) as session,
    ):
        grant(session, person_id=owner, solution_id=other.solution_id, role="owner")


def test_revoking_takes_effect_on_the_next_transaction(
    app_sessions: sessionmaker[Session], admin_sessions: sessionmaker[Session], world: World
) -> None:
    tenant, viewer = world.tenant, world.people["viewer"]
    with tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=viewer) as s:
        assert _count(s, "documents", tenant) == 1
        with admin_session(admin_sessions, reason="test: revoke") as admin:
            revoke(admin, person_id=viewer, solution_id=tenant.solution_id)
        # READ COMMITTED: already the next statement of an open transaction sees it
        assert _count(s, "documents", tenant) == 0
    with tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=viewer) as s:
        assert _count(s, "documents", tenant) == 0
    with person_session(app_sessions, person_id=viewer) as session:
        assert memberships_of(session, viewer) == []


def test_a_disabled_person_gets_nothing(
    app_sessions: sessionmaker[Session], admin_sessions: sessionmaker[Session], world: World
) -> None:
    tenant, owner = world.tenant, world.people["owner"]
    with admin_session(admin_sessions, reason="test: disable") as session:
        assert set_person_active(session, owner, active=False).active is False
    with tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=owner) as s:
        assert [_count(s, t, tenant) for t in SEED_TABLES] == [0] * len(SEED_TABLES)
    with person_session(app_sessions, person_id=owner) as session:
        assert memberships_of(session, owner) == []
        assert list_solutions(session) == []
        assert person_for_subject(session, find_person(session, str(owner)).oidc_subject) is None


def test_a_person_reads_their_own_tenants_without_superuser_mode(
    app_sessions: sessionmaker[Session], world: World
) -> None:
    owner, outsider = world.people["owner"], world.people["outsider"]
    with person_session(app_sessions, person_id=owner) as session:
        mine = memberships_of(session, owner)
        theirs = memberships_of(session, outsider)
        visible = {s.id for s in list_solutions(session)}
        admin = is_platform_admin(session, owner)
    assert [(m.solution_id, m.role) for m in mine] == [(world.tenant.solution_id, "owner")]
    assert theirs == []
    assert visible == {world.tenant.solution_id}
    assert admin is False


def test_a_platform_admin_sees_every_tenant_and_acts_as_owner(
    app_sessions: sessionmaker[Session], world: World
) -> None:
    admin = world.people["admin"]
    with person_session(app_sessions, person_id=admin) as session:
        visible = {s.id for s in list_solutions(session)}
        assert is_platform_admin(session, admin) is True
    assert {world.tenant.solution_id, world.other.solution_id} <= visible
    with tenant_session(app_sessions, solution_id=world.other.solution_id, person_id=admin) as s:
        assert _count(s, "documents", world.other) == 1
        _add_document(s, world.other)


def test_superuser_mode_is_audited_with_the_person_behind_it(
    admin_sessions: sessionmaker[Session], world: World
) -> None:
    admin = world.people["admin"]
    reason = f"test: person {uuid.uuid4().hex[:6]}"
    with admin_session(admin_sessions, reason=reason, person_id=admin) as session:
        entry = next(e for e in list_audit(session, limit=20).entries if e.reason == reason)
        with pytest.raises(DBAPIError, match="row-level security"), session.begin_nested():
            record_superuser_use(session, reason="forged", person_id=world.people["viewer"])
    assert entry.person_id == admin


def test_sign_in_finds_active_people_by_subject(
    app_sessions: sessionmaker[Session], admin_sessions: sessionmaker[Session], world: World
) -> None:
    viewer = world.people["viewer"]
    with person_session(app_sessions, person_id=viewer) as session:
        subject = find_person(session, str(viewer)).oidc_subject
        assert person_for_subject(session, subject) == viewer
        assert person_for_subject(session, "nobody-" + subject) is None
        # a person reads their own row only
        with pytest.raises(NotFoundError):
            find_person(session, str(world.people["owner"]))


def test_people_and_admins_are_managed_in_superuser_mode_only(
    app_sessions: sessionmaker[Session], world: World
) -> None:
    owner = world.people["owner"]
    with (
        pytest.raises(DBAPIError, match=r"row-level security|permission denied"),
        tenant_session(app_sessions, solution_id=world.tenant.solution_id, person_id=owner) as s,
    ):
        set_platform_admin(s, owner, admin=True)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"oidc_subject": "  "}, "subject of 1 to 255"),
        ({"oidc_subject": "x" * 256}, "subject of 1 to 255"),
        ({"oidc_subject": "ok-subject", "email": "not-an-email"}, "malformed"),
    ],
)
def test_bad_people_are_refused_and_nothing_is_added(
    admin_sessions: sessionmaker[Session], kwargs: dict[str, str], error: str
) -> None:
    with admin_session(admin_sessions, reason="test") as session:
        with pytest.raises(UserError, match=error):
            add_person(session, **kwargs)
        assert [p for p in _all_people(session) if p == kwargs["oidc_subject"]] == []


def _all_people(session: Session) -> list[str]:
    return list(session.execute(text("SELECT oidc_subject FROM people")).scalars())


def test_a_duplicate_subject_or_email_is_refused(
    admin_sessions: sessionmaker[Session], world: World
) -> None:
    with admin_session(admin_sessions, reason="test") as session:
        viewer = find_person(session, str(world.people["viewer"]))
        with pytest.raises(UserError, match="already registered"):
            add_person(session, oidc_subject=viewer.oidc_subject)
        with pytest.raises(UserError, match="already registered"):
            add_person(session, oidc_subject="fresh-" + viewer.oidc_subject,
                       email=(viewer.email or "").upper())  # fmt: skip
        with pytest.raises(UserError, match="unknown role"):
            grant(session, person_id=viewer.id, solution_id=world.tenant.solution_id, role="god")


@pytest.fixture
def suspended(owner_engine: Engine, admin_sessions: sessionmaker[Session], world: World) -> World:
    with admin_session(admin_sessions, reason="test: suspend") as session:
        set_solution_status(session, world.tenant.solution_id, "suspended")
    return world


def test_a_suspended_tenant_refuses_chat(
    app_sessions: sessionmaker[Session], suspended: World, settings: Settings
) -> None:
    for person in ("viewer", "owner"):
        with pytest.raises(TenantSuspendedError, match="suspended"):
            _ask(app_sessions, suspended, person, settings)


@pytest.mark.parametrize("person", [None, "viewer", "owner"])
def test_a_suspended_tenant_refuses_writes_in_the_database(
    app_sessions: sessionmaker[Session], suspended: World, person: str | None
) -> None:
    tenant = suspended.tenant
    person_id = None if person is None else suspended.people[person]
    with (
        pytest.raises(TenantSuspendedError, match="read-only"),
        tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=person_id) as s,
    ):
        s.execute(
            text("SELECT get_or_create_conversation(:o, :s, 'sneaky')"),
            {"o": tenant.oracle_id, "s": tenant.solution_id},
        )
    with tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=person_id) as s:
        assert _count(s, "documents", tenant) == 1  # still readable


def test_a_suspended_tenant_refuses_ingest(
    app_sessions: sessionmaker[Session], suspended: World
) -> None:
    tenant = suspended.tenant
    with pytest.raises(TenantSuspendedError):
        ingest(
            app_sessions,
            solution_id=tenant.solution_id,
            oracle_id=tenant.oracle_id,
            sources=[SourceFile("new.txt", b"Fresh words about turbines.")],
            embedder=HashingEmbedder(),
        )
    with tenant_session(app_sessions, solution_id=tenant.solution_id) as session:
        assert (
            session.execute(
                text("SELECT count(*) FROM documents WHERE filename = 'new.txt'")
            ).scalar_one()
            == 0
        )


def test_superuser_mode_still_changes_a_suspended_tenant(
    admin_sessions: sessionmaker[Session], suspended: World
) -> None:
    with admin_session(admin_sessions, reason="test: reactivate") as session:
        assert set_solution_status(session, suspended.tenant.solution_id, "active").status == (
            "active"
        )


def test_superuser_mode_for_a_person_needs_a_platform_admin(
    admin_sessions: sessionmaker[Session], world: World
) -> None:
    owner = world.people["owner"]
    with (
        pytest.raises(RoleError, match="superuser mode is for platform admins"),
        admin_session(admin_sessions, reason="test: not an admin", person_id=owner),
    ):
        pass
    with admin_session(admin_sessions, reason="test: forged", person_id=world.people["admin"]) as s:
        s.execute(text("SELECT set_config('app.current_person_id', :p, true)"), {"p": str(owner)})
        assert s.execute(text("SELECT current_user_is_superuser()")).scalar_one() is False
        # what the owner may see, no more: their own tenant, not the other one
        assert {t.id for t in list_solutions(s)} == {world.tenant.solution_id}


@pytest.mark.parametrize(("person", "allowed"), [("viewer", False), ("editor", True)])
def test_sessions_bound_to_a_person_bind_library_code_that_opens_its_own(
    app_sessions: sessionmaker[Session], world: World, person: str, allowed: bool
) -> None:
    tenant = world.tenant
    bound = sessions_for_person(app_sessions, world.people[person])
    run = lambda: ingest(  # noqa: E731
        bound,
        solution_id=tenant.solution_id,
        oracle_id=tenant.oracle_id,
        sources=[SourceFile(f"{person}.txt", b"Turbine blades were inspected in May.")],
        embedder=HashingEmbedder(),
    )
    if allowed:
        assert [o.status for o in run()] == ["completed"]
    else:
        with pytest.raises(RoleError, match="viewer role may not change documents"):
            run()
    with tenant_session(bound, solution_id=tenant.solution_id) as session:
        assert current_role(session) == person


def test_an_owner_adds_a_registered_person_by_email(
    app_sessions: sessionmaker[Session], admin_sessions: sessionmaker[Session], world: World
) -> None:
    tenant, owner = world.tenant, world.people["owner"]
    with admin_session(admin_sessions, reason="test") as session:
        email = find_person(session, str(world.people["outsider"])).email or ""
    with tenant_session(app_sessions, solution_id=tenant.solution_id, person_id=owner) as s:
        added = grant_by_email(
            s, email=email.upper(), solution_id=tenant.solution_id, role="viewer"
        )
        with pytest.raises(NotFoundError, match="no active person with email"):
            grant_by_email(s, email="ghost@x.test", solution_id=tenant.solution_id, role="viewer")
    assert (added.person_id, added.role) == (world.people["outsider"], "viewer")


def test_sign_in_reads_the_person_and_admin_flag(
    app_sessions: sessionmaker[Session], admin_sessions: sessionmaker[Session], world: World
) -> None:
    with admin_session(admin_sessions, reason="test") as session:
        subjects = {n: find_person(session, str(p)).oidc_subject for n, p in world.people.items()}
    admin, viewer = (
        sign_in(app_sessions, subjects["admin"]),
        sign_in(app_sessions, subjects["viewer"]),
    )
    assert admin is not None and viewer is not None
    assert (admin.person.id, admin.is_platform_admin) == (world.people["admin"], True)
    assert (viewer.person.id, viewer.is_platform_admin) == (world.people["viewer"], False)
    assert sign_in(app_sessions, "unknown-subject") is None


def test_tenant_ids_by_slug_for_admin_logins_without_superuser_mode(
    app_sessions: sessionmaker[Session], admin_sessions: sessionmaker[Session], world: World
) -> None:
    slug = _slug(admin_sessions, world.tenant)
    with admin_sessions() as session, session.begin():
        assert solution_id_for_slug(session, slug) == world.tenant.solution_id
        with pytest.raises(NotFoundError, match="no tenant with slug"):
            solution_id_for_slug(session, "no-such-slug")
    with (
        app_sessions() as session,
        session.begin(),
        pytest.raises(TenantContextError, match="cannot look tenants up by slug"),
    ):
        solution_id_for_slug(session, slug)


def test_a_refusal_at_commit_is_a_role_error_too(
    app_sessions: sessionmaker[Session], world: World
) -> None:
    tenant = world.tenant
    with (
        pytest.raises(RoleError, match="viewer role may not change documents"),
        tenant_session(
            app_sessions, solution_id=tenant.solution_id, person_id=world.people["viewer"]
        ) as session,
    ):
        session.add(Document(oracle_id=tenant.oracle_id, solution_id=tenant.solution_id,
                             filename="late.txt", file_type="txt"))  # fmt: skip
