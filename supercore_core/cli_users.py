"""CLI commands for people and their tenant roles: ``supercore user add|list|grant|...``.

Every command runs in superuser mode, so each one is in the audit log with its reason;
membership changes are also logged by the database itself.
"""

from typing import Annotated

import typer

from supercore_core import people
from supercore_core.catalog import solution_by_slug
from supercore_core.cli_support import cli_sessions, user_errors
from supercore_core.db.sessions import admin_session

user_app = typer.Typer(no_args_is_help=True, help="People who sign in, and their tenant roles.")

WhoArg = Annotated[str, typer.Argument(help="person id, identity-provider subject or email")]
TenantOpt = Annotated[str, typer.Option("--tenant", help="tenant slug")]


@user_app.command("add")
@user_errors
def user_add(
    subject: Annotated[str, typer.Argument(help="the identity provider's subject (sub claim)")],
    email: Annotated[str | None, typer.Option("--email")] = None,
    name: Annotated[str | None, typer.Option("--name", help="display name")] = None,
    platform_admin: Annotated[
        bool, typer.Option("--platform-admin", help="all tenants and superuser mode")
    ] = False,
) -> None:
    """Register a person who may sign in (they reach nothing until granted a role)."""
    with (
        cli_sessions() as sessions,
        admin_session(sessions, reason=f"user add {subject!r}") as session,
    ):
        person = people.add_person(session, oidc_subject=subject, email=email, display_name=name)
        if platform_admin:
            people.set_platform_admin(session, person.id, admin=True)
    admin_note = " (platform admin)" if platform_admin else ""
    typer.echo(f"person {person.label} added{admin_note}: {person.id}")


@user_app.command("list")
@user_errors
def user_list(
    tenant: Annotated[str | None, typer.Option("--tenant", help="only this tenant")] = None,
) -> None:
    """List people with their roles (all people, or one tenant's members)."""
    with (
        cli_sessions() as sessions,
        admin_session(sessions, reason="user list") as session,
    ):
        if tenant is not None:
            solution_id = solution_by_slug(session, tenant).id
            for member in people.members_of(session, solution_id):
                typer.echo(_line(member.person, member.role))
            return
        for person in people.list_people(session):
            roles = [f"{m.slug}:{m.role}" for m in people.memberships_of(session, person.id)]
            if people.is_platform_admin(session, person.id):
                roles.insert(0, "platform-admin")
            typer.echo(_line(person, " ".join(roles) or "-"))


def _line(person: people.PersonInfo, roles: str) -> str:
    state = "active" if person.active else "disabled"
    return f"{person.id}  {person.label:<30}  {person.oidc_subject:<24}  {state:<8}  {roles}"


@user_app.command("grant")
@user_errors
def user_grant(
    who: WhoArg,
    role: Annotated[str, typer.Argument(help="viewer, editor or owner")],
    tenant: TenantOpt,
) -> None:
    """Give a person a role in a tenant (replacing the role they had there)."""
    with (
        cli_sessions() as sessions,
        admin_session(sessions, reason=f"user grant {who!r} {role} in {tenant!r}") as session,
    ):
        person = people.find_person(session, who)
        solution_id = solution_by_slug(session, tenant).id
        granted = people.grant(session, person_id=person.id, solution_id=solution_id, role=role)
    typer.echo(f"{person.label} is now {granted.role} of {granted.slug}")


@user_app.command("revoke")
@user_errors
def user_revoke(who: WhoArg, tenant: TenantOpt) -> None:
    """Remove a person's role in a tenant (effective from their next statement)."""
    with (
        cli_sessions() as sessions,
        admin_session(sessions, reason=f"user revoke {who!r} in {tenant!r}") as session,
    ):
        person = people.find_person(session, who)
        solution_id = solution_by_slug(session, tenant).id
        people.revoke(session, person_id=person.id, solution_id=solution_id)
    typer.echo(f"{person.label} no longer has a role in {tenant}")


@user_app.command("disable")
@user_errors
def user_disable(who: WhoArg) -> None:
    """Disable a person: they reach nothing, whatever their roles (which are kept)."""
    _set_active(who, active=False)


@user_app.command("enable")
@user_errors
def user_enable(who: WhoArg) -> None:
    """Enable a disabled person again."""
    _set_active(who, active=True)


def _set_active(who: str, *, active: bool) -> None:
    verb = "enable" if active else "disable"
    with (
        cli_sessions() as sessions,
        admin_session(sessions, reason=f"user {verb} {who!r}") as session,
    ):
        person = people.set_person_active(
            session, people.find_person(session, who).id, active=active
        )
    typer.echo(f"{person.label} {verb}d")
