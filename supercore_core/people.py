"""People, their tenant roles and platform admins (revision 0016).

Who may do what is decided by PostgreSQL, not here: these functions read and change the
tables, and the policies refuse what the session may not see or do. People and platform
admins are managed in an ``admin_session``; an owner manages their tenant's members in a
``tenant_session`` carrying their ``person_id``; a ``person_session`` reads one's own
memberships (the tenant picker) without superuser mode.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.db.sessions import person_session
from supercore_core.errors import NotFoundError, UserError
from supercore_core.models import Person, PlatformAdmin, Solution, TenantMembership

ROLES = ("viewer", "editor", "owner")


@dataclass(frozen=True)
class PersonInfo:
    """A person as the session may see them."""

    id: UUID
    oidc_subject: str
    email: str | None
    display_name: str | None
    active: bool
    created_at: datetime

    @property
    def label(self) -> str:
        """Display name, else email, else subject: how a page names the person."""
        return self.display_name or self.email or self.oidc_subject


@dataclass(frozen=True)
class MembershipInfo:
    """One person's role in one tenant, with the tenant's slug, name and status."""

    person_id: UUID
    solution_id: UUID
    slug: str
    tenant_name: str
    tenant_status: str
    role: str


@dataclass(frozen=True)
class SignedIn:
    """Who signed in: the person, and whether they are a platform admin."""

    person: PersonInfo
    is_platform_admin: bool


@dataclass(frozen=True)
class MemberInfo:
    """A member of a tenant: the person and their role (the Members page)."""

    person: PersonInfo
    role: str


def add_person(
    session: Session,
    *,
    oidc_subject: str,
    email: str | None = None,
    display_name: str | None = None,
) -> PersonInfo:
    """Register a person (admin session) by their identity provider's subject."""
    subject = oidc_subject.strip()
    if not subject or len(subject) > 255:
        raise UserError("a person needs an identity-provider subject of 1 to 255 characters")
    row = Person(oidc_subject=subject, email=_clean(email), display_name=_clean(display_name))
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise UserError(
            f"cannot add {subject!r}: the subject or email is already registered, "
            "or the email is malformed (list people with `supercore user list`)"
        ) from exc
    session.refresh(row)
    return _person(row)


def list_people(session: Session) -> list[PersonInfo]:
    """Every person the session may see (admin: all; owner: their tenant's; else: self)."""
    rows = session.scalars(select(Person).order_by(Person.email, Person.oidc_subject))
    return [_person(row) for row in rows]


def find_person(session: Session, who: str) -> PersonInfo:
    """The person whose id, identity-provider subject or email (any case) is ``who``."""
    wanted = who.strip()
    match = [Person.oidc_subject == wanted, func.lower(Person.email) == wanted.lower()]
    if _is_uuid(wanted):
        match.append(Person.id == UUID(wanted))
    found = session.scalars(select(Person).where(or_(*match))).first()
    if found is None:
        raise NotFoundError(
            f"no person {who!r} (by id, subject or email): add them with `supercore user add`"
        )
    return _person(found)


def set_person_active(session: Session, person_id: UUID, *, active: bool) -> PersonInfo:
    """Disable (or re-enable) a person (admin session): a disabled person reaches nothing."""
    row = session.get(Person, person_id)
    if row is None:
        raise NotFoundError(f"person {person_id} not found")
    row.active = active
    session.flush()
    session.refresh(row)
    return _person(row)


def grant(session: Session, *, person_id: UUID, solution_id: UUID, role: str) -> MembershipInfo:
    """Give a person ``role`` in a tenant, replacing any role they had there.

    Admin session, or the tenant session of an owner; the database refuses anyone else.
    """
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: use {', '.join(ROLES)}")
    statement = insert(TenantMembership).values(
        person_id=person_id, solution_id=solution_id, role=role
    )
    statement = statement.on_conflict_do_update(
        constraint="pk_tenant_memberships", set_={"role": role}
    )
    try:
        with session.begin_nested():
            session.execute(statement)
    except IntegrityError as exc:
        raise NotFoundError(f"no person {person_id} or no tenant {solution_id}") from exc
    return _membership(session, person_id, solution_id)


def revoke(session: Session, *, person_id: UUID, solution_id: UUID) -> None:
    """Remove a person's role in a tenant; takes effect with their next transaction."""
    removed = session.execute(
        delete(TenantMembership).where(
            TenantMembership.person_id == person_id, TenantMembership.solution_id == solution_id
        )
    )
    if removed.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError(f"person {person_id} has no role in tenant {solution_id}")


def memberships_of(session: Session, person_id: UUID) -> list[MembershipInfo]:
    """A person's tenants and roles, by tenant name (a person session reads its own)."""
    query = (
        select(TenantMembership, Solution)
        .join(Solution, Solution.id == TenantMembership.solution_id)
        .where(TenantMembership.person_id == person_id)
        .order_by(Solution.name, Solution.slug)
    )
    return [_membership_info(m, s) for m, s in session.execute(query)]


def members_of(session: Session, solution_id: UUID) -> list[MemberInfo]:
    """A tenant's members and their roles (admin session, or an owner's tenant session)."""
    query = (
        select(Person, TenantMembership.role)
        .join(TenantMembership, TenantMembership.person_id == Person.id)
        .where(TenantMembership.solution_id == solution_id)
        .order_by(Person.email, Person.oidc_subject)
    )
    return [MemberInfo(_person(p), role) for p, role in session.execute(query)]


def is_platform_admin(session: Session, person_id: UUID) -> bool:
    """Whether the person is an active platform admin (admin session, or their own session)."""
    query = (
        select(func.count())
        .select_from(PlatformAdmin)
        .join(Person, Person.id == PlatformAdmin.person_id)
        .where(PlatformAdmin.person_id == person_id, Person.active)
    )
    return bool(session.execute(query).scalar_one())


def set_platform_admin(session: Session, person_id: UUID, *, admin: bool) -> None:
    """Make a person a platform admin, or no longer one (admin session)."""
    if admin:
        statement = insert(PlatformAdmin).values(person_id=person_id).on_conflict_do_nothing()
        try:
            with session.begin_nested():
                session.execute(statement)
        except IntegrityError as exc:
            raise NotFoundError(f"person {person_id} not found") from exc
        return
    session.execute(delete(PlatformAdmin).where(PlatformAdmin.person_id == person_id))


def grant_by_email(session: Session, *, email: str, solution_id: UUID, role: str) -> MembershipInfo:
    """An owner's grant: the registered, active person with ``email`` gets ``role``."""
    person_id: UUID | None = session.execute(
        text("SELECT person_id_for_email(:e)"), {"e": email}
    ).scalar_one()
    if person_id is None:
        raise NotFoundError(
            f"no active person with email {email.strip()!r}: a platform admin adds people "
            "(`supercore user add SUBJECT --email ...`)"
        )
    return grant(session, person_id=person_id, solution_id=solution_id, role=role)


def current_role(session: Session) -> str | None:
    """The role this tenant session acts with (``owner`` without a person), else None."""
    role: str | None = session.execute(text("SELECT current_tenant_role()")).scalar_one()
    return role


def sign_in(sessions: sessionmaker[Session], oidc_subject: str) -> SignedIn | None:
    """The active person with this identity-provider subject, or None (not registered,
    or disabled); read without superuser mode."""
    with sessions() as session, session.begin():
        person_id = person_for_subject(session, oidc_subject)
    if person_id is None:
        return None
    with person_session(sessions, person_id=person_id) as session:
        person = find_person(session, str(person_id))
        return SignedIn(person, is_platform_admin(session, person_id))


def person_for_subject(session: Session, oidc_subject: str) -> UUID | None:
    """Sign-in: the active person with this identity-provider subject, or None."""
    found: UUID | None = session.execute(
        text("SELECT person_id_for_subject(:s)"), {"s": oidc_subject}
    ).scalar_one()
    return found


def _membership(session: Session, person_id: UUID, solution_id: UUID) -> MembershipInfo:
    query = (
        select(TenantMembership, Solution)
        .join(Solution, Solution.id == TenantMembership.solution_id)
        .where(TenantMembership.person_id == person_id, TenantMembership.solution_id == solution_id)
    )
    membership, solution = session.execute(query).one()
    return _membership_info(membership, solution)


def _membership_info(membership: TenantMembership, solution: Solution) -> MembershipInfo:
    return MembershipInfo(
        person_id=membership.person_id,
        solution_id=solution.id,
        slug=solution.slug,
        tenant_name=solution.name,
        tenant_status=solution.status,
        role=membership.role,
    )


def _person(row: Person) -> PersonInfo:
    return PersonInfo(
        id=row.id,
        oidc_subject=row.oidc_subject,
        email=row.email,
        display_name=row.display_name,
        active=row.active,
        created_at=row.created_at,
    )


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True
