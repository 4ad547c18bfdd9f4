"""`supercore tenant list` and `supercore oracle list --tenant`: tables and clear errors."""

from tests.factories import unique_slug
from tests.test_cli_rag import cli_env, invoke

__all__ = ["cli_env"]  # the fixture, imported for the tests below


def row_of(output: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first`` (split on 2+ spaces)."""
    for line in output.splitlines():
        cells = [c for c in line.split("  ") if c.strip()]
        if cells and cells[0].strip() == first:
            return [c.strip() for c in cells]
    raise AssertionError(f"no row {first!r} in:\n{output}")


def test_tenant_list_shows_each_tenant_with_its_counts(cli_env: None) -> None:
    slug = unique_slug()
    assert invoke("tenant", "create", slug, "Listed Company Ltd")[0] == 0
    assert invoke("tenant", "add-oracle", "finance", "--tenant", slug)[0] == 0
    code, output = invoke("tenant", "list")
    assert code == 0, output
    header = output.splitlines()[0].split()
    assert header == ["SLUG", "NAME", "STATUS", "ORACLES", "DOCUMENTS", "CHUNKS", "MESSAGES"]
    assert row_of(output, slug) == [slug, "Listed Company Ltd", "active", "2", "0", "0", "0"]


def test_oracle_list_shows_the_tenants_oracles_only(cli_env: None) -> None:
    mine, other = unique_slug(), unique_slug()
    for slug in (mine, other):
        assert invoke("tenant", "create", slug, f"Co {slug}")[0] == 0
    assert invoke("tenant", "add-oracle", "finance", "--tenant", mine)[0] == 0
    assert invoke("tenant", "add-oracle", "legal", "--tenant", other)[0] == 0
    code, output = invoke("oracle", "list", "--tenant", mine)
    assert code == 0, output
    assert output.splitlines()[0].split() == ["NAME", "TYPE", "STATUS", "MODEL", "RETRIEVAL"]
    names = [line.split()[0] for line in output.splitlines()[1:]]
    assert names == ["rag-global", "finance"]  # the RAG global oracle first
    assert row_of(output, "finance")[1:3] == ["domain", "active"]


def test_oracle_list_of_an_unknown_tenant_says_how_to_find_one(cli_env: None) -> None:
    code, output = invoke("oracle", "list", "--tenant", "no-such-tenant")
    assert code == 1
    assert "no tenant with slug 'no-such-tenant'" in output
    assert "`supercore tenant list`" in output
    assert "Traceback" not in output


def test_oracle_list_needs_the_tenant(cli_env: None) -> None:
    code, output = invoke("oracle", "list")
    assert code == 2 and "--tenant" in output
