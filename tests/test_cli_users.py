"""CLI: `supercore user add|list|grant|revoke|disable|enable`, and suspended tenants."""

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import admin_session
from supercore_core.catalog import set_solution_status, solution_by_slug
from supercore_core.ops.audit import list_audit
from tests.factories import unique_slug
from tests.test_cli_rag import cli_env, invoke

__all__ = ["cli_env"]
DATA = Path(__file__).parent / "data"


@pytest.fixture
def tenant(cli_env: None) -> str:
    slug = unique_slug()
    assert invoke("tenant", "create", slug, "People Co")[0] == 0
    return slug


@pytest.fixture
def subject(cli_env: None) -> str:
    name = unique_slug("sub")
    code, output = invoke("user", "add", name, "--email", f"{name}@x.test", "--name", "Ada L")
    assert code == 0, output
    assert output.startswith("person Ada L added: ")
    return name


def _listed(*args: str) -> list[str]:
    code, output = invoke("user", "list", *args)
    assert code == 0, output
    return output.splitlines()


def _line_of(subject: str, *args: str) -> str:
    return next(line for line in _listed(*args) if f"  {subject}  " in line)


def test_grant_change_revoke_and_list(tenant: str, subject: str) -> None:
    assert invoke("user", "grant", f"{subject}@X.TEST", "viewer", "--tenant", tenant) == (
        0,
        f"Ada is now viewer of {tenant}\n".replace("Ada", "Ada L"),
    )
    assert invoke("user", "grant", subject, "owner", "--tenant", tenant)[0] == 0
    (member,) = _listed("--tenant", tenant)
    assert subject in member and member.split()[-2:] == ["active", "owner"]
    assert f"{tenant}:owner" in invoke("user", "list")[1]
    code, output = invoke("user", "revoke", subject, "--tenant", tenant)
    assert (code, output) == (0, f"Ada L no longer has a role in {tenant}\n")
    assert _listed("--tenant", tenant) == []


def test_membership_changes_are_audited(
    tenant: str, subject: str, admin_sessions: sessionmaker[Session]
) -> None:
    invoke("user", "grant", subject, "editor", "--tenant", tenant)
    invoke("user", "grant", subject, "viewer", "--tenant", tenant)
    invoke("user", "revoke", subject, "--tenant", tenant)
    with admin_session(admin_sessions, reason="test: audit") as session:
        solution_id = solution_by_slug(session, tenant).id
        entries = list_audit(session, solution_id=solution_id).entries
    actions = [e.action for e in reversed(entries)]
    assert actions == [
        "membership_granted",
        "membership_changed",
        "membership_revoked",
    ]


def test_disable_and_enable(subject: str) -> None:
    assert invoke("user", "disable", subject) == (0, "Ada L disabled\n")
    assert _line_of(subject).split()[-2:] == ["disabled", "-"]
    assert invoke("user", "enable", subject) == (0, "Ada L enabled\n")


def test_platform_admin_flag_is_listed(cli_env: None) -> None:
    name = unique_slug("boss")
    assert invoke("user", "add", name, "--platform-admin")[0] == 0
    assert _line_of(name).split()[-1] == "platform-admin"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "grant", "nobody@x.test", "viewer", "--tenant", "{tenant}"), "no person"),
        (("user", "grant", "{subject}", "admin", "--tenant", "{tenant}"), "unknown role 'admin'"),
        (("user", "grant", "{subject}", "viewer", "--tenant", "no-such"), "no tenant with slug"),
        (("user", "revoke", "{subject}", "--tenant", "{tenant}"), "has no role in tenant"),
        (("user", "add", "{subject}"), "already registered"),
        (("user", "add", "fresh-one", "--email", "nope"), "email is malformed"),
        (("user", "add", " "), "subject of 1 to 255"),
        (("user", "disable", "ghost"), "no person 'ghost'"),
    ],
)
def test_bad_input_gives_one_line_and_exit_1(
    tenant: str, subject: str, args: tuple[str, ...], message: str
) -> None:
    code, output = invoke(*(a.format(tenant=tenant, subject=subject) for a in args))
    assert code == 1, output
    assert message in output and output.count("\n") == 1
    assert "Traceback" not in output


def test_a_suspended_tenant_refuses_chat_and_ingest(
    tenant: str, admin_sessions: sessionmaker[Session]
) -> None:
    assert invoke("tenant", "add-oracle", "fees", "--tenant", tenant)[0] == 0
    with admin_session(admin_sessions, reason="test: suspend") as session:
        set_solution_status(session, solution_by_slug(session, tenant).id, "suspended")
    with admin_session(admin_sessions, reason="test: count audit") as session:
        before = list_audit(session, limit=1).entries[0].id
    for args in (
        ("chat", "--tenant", tenant, "--oracle", "fees", "-q", "What is the fee?"),
        ("ingest", str(DATA / "ingest" / "sample.md"), "--tenant", tenant, "--oracle", "fees"),
    ):
        code, output = invoke(*args)
        assert code == 1, output
        assert "error: this tenant is suspended, so it is read-only" in output
    with admin_session(admin_sessions, reason="test: count audit") as session:
        entries = [e for e in list_audit(session, limit=50).entries if e.id > before]
    # the two look-ups by slug left no entry: only the counting session itself
    assert [e.reason for e in entries] == ["test: count audit"]
