"""Revision 0014: duplicates by file name are renamed, then one name per oracle is enforced."""

from sqlalchemy import text
from sqlalchemy.orm import Session

from supercore_core.config import Settings
from supercore_core.db import migrate
from supercore_core.db.engine import make_engine
from tests.factories import make_document, make_oracle, make_solution

INDEX = text("SELECT count(*) FROM pg_indexes WHERE indexname = 'uq_documents_oracle_filename'")


def test_existing_duplicates_are_renamed_keeping_the_completed_one(scratch_database: str) -> None:
    migrate.upgrade(scratch_database, "0013")
    engine = make_engine(Settings(database_url=scratch_database))
    try:
        with Session(engine) as session, session.begin():
            solution = make_solution(session)
            oracle, other = make_oracle(session, solution), make_oracle(session, solution)
            kept = make_document(session, oracle, filename="a.txt", status="completed")
            failed = make_document(session, oracle, filename="a.txt", status="failed",
                                   error_message="bad")  # fmt: skip
            elsewhere = make_document(session, other, filename="a.txt")
            ids = {"kept": kept.id, "failed": failed.id, "elsewhere": elsewhere.id}
        migrate.upgrade(scratch_database, "0015")
        with engine.connect() as conn:
            names: dict[object, str] = dict(
                conn.execute(text("SELECT id, filename FROM documents")).all()
            )
            indexes = conn.execute(INDEX).scalar()
        assert names[ids["kept"]] == names[ids["elsewhere"]] == "a.txt"
        assert names[ids["failed"]] == f"a.txt (duplicate {str(ids['failed'])[:8]})"
        assert indexes == 1
        migrate.downgrade(scratch_database, "-1")
        with engine.connect() as conn:
            assert conn.execute(INDEX).scalar() == 0
    finally:
        engine.dispose()
