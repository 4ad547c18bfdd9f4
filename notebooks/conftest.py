"""nbval runs the notebooks on a throwaway database, never the one `make run` keeps.

nbval starts each notebook's kernel before any fixture runs, so a hook that runs before
nbval's own setup starts the server when the first notebook cell comes up, and hands it to
the kernels through the environment: ``SUPERCORE_DATA_DIR`` points at a temporary embedded
server (or, with ``SUPERCORE_TEST_DATABASE_URL`` / ``DATABASE_URL`` set,
``SUPERCORE_DATABASE_URL`` at a database of our own on that server). The variables are set
only while notebook cells run, so the other tests never see them. The notebooks' first cell
builds ``Settings()``; their default parameters point at the first demo tenant's oracle and
golden set, which ``prepare`` loads into the throwaway database first.
"""

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from supercore_core import Settings, make_engine, make_sessions
from supercore_core.db import embedded, migrate
from supercore_core.demo import demo_tenants, load_demo
from supercore_core.embedding import minilm_embedder

_state: dict[str, str] = {}
_env: dict[str, str] = {}  # what the kernels need
_saved: dict[str, str | None] = {}  # the values they replaced
# Exported ONNX models are shared with the tests of this checkout (exported once, before any
# kernel starts, so no notebook output mentions it).
os.environ.setdefault(
    "SUPERCORE_MODEL_DIR", str(Path(__file__).parents[1] / "build" / "test-models")
)


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def _start() -> None:
    external = os.environ.get("SUPERCORE_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if external:
        name = f"supercore_nb_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(_with_database(external, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = _with_database(external, name)
        _state.update(external=external, name=name)
        _env["SUPERCORE_DATABASE_URL"] = url
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="sc-nb-"))  # short: socket path limit
        url = embedded.start(data_dir / "pgdata", "supercore")
        _state["data_dir"] = str(data_dir)
        _env["SUPERCORE_DATA_DIR"] = str(data_dir)
    _env["RAGAS_DO_NOT_TRACK"] = "true"
    prepare(url)


def prepare(url: str) -> None:
    """Migrate, then load the first demo tenant (the notebooks' default parameters)."""
    migrate.upgrade(url)
    settings = Settings(database_url=url)
    engine = make_engine(settings)
    try:
        load_demo(make_sessions(engine), embedder=minilm_embedder(settings), settings=settings,
                  tenants=demo_tenants()[:1])  # fmt: skip
    finally:
        engine.dispose()


def _enter() -> None:
    for key, value in _env.items():
        _saved.setdefault(key, os.environ.get(key))
        os.environ[key] = value


def _leave() -> None:
    for key, value in _saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _saved.clear()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if Path(str(item.path)).parent == Path(__file__).parent:
        if not _state:
            _start()
        _enter()
    else:
        _leave()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _leave()
    if "data_dir" in _state:
        embedded.stop(Path(_state["data_dir"]) / "pgdata")
        shutil.rmtree(_state["data_dir"], ignore_errors=True)
    elif "external" in _state:
        with psycopg.connect(_with_database(_state["external"], "postgres"),
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(_state["name"])
                )
            )
    _state.clear()
