"""Golden sets: parsing with one line per problem, all-or-nothing import, export, staleness,
and evaluation of a live oracle that leaves its documents untouched."""

import json
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from supercore_core import tenant_session
from supercore_core.errors import GoldenImportError, NotFoundError, UserError
from supercore_core.evaluation.golden import load_golden
from supercore_core.evaluation.runner import EvalRequest, evaluate
from supercore_core.golden import (
    Judgement,
    create_golden_set,
    export_golden,
    golden_set_by_name,
    import_parsed,
    parse_beir,
    parse_csv,
    parse_jsonl,
    questions_of,
    save_question,
    stale_judgements,
)
from supercore_core.ingest.pipeline import SourceFile, ingest
from supercore_core.models import Document
from supercore_core.retrieval import RetrievalConfig
from tests.factories import make_oracle, make_solution
from tests.fakes import HashingEmbedder

DOCS = {
    "revenue.txt": b"Total revenue grew by twelve percent in 2019, driven by cloud subscriptions.",
    "dividends.txt": b"The board declared a quarterly dividend of 0.45 dollars per share.",
    "headcount.md": b"The company employed 12,400 people at year end, up from 11,900.",
}
GOOD = [
    {"id": "q1", "question": "How much did revenue grow?", "reference_answer": "12%",
     "judgements": [{"document": "revenue.txt", "grade": 2}]},
    {"id": "q2", "question": "What dividend was declared?", "relevant": ["dividends"]},
    {"id": "q3", "question": "How many people did the company employ?",
     "judgements": [{"document": "headcount.md", "grade": 1, "page": 1, "passage": "12,400"}]},
]  # fmt: skip


@dataclass(frozen=True)
class Live:
    solution_id: uuid.UUID
    oracle_id: uuid.UUID


@pytest.fixture
def live(owner_engine: Engine, admin_sessions: sessionmaker[Session]) -> Live:
    """A live oracle holding three small documents."""
    with Session(owner_engine) as session, session.begin():
        oracle = make_oracle(session, make_solution(session), oracle_name="reports")
        found = Live(oracle.solution_id, oracle.id)
    sources = [SourceFile(name, body) for name, body in DOCS.items()]
    ingest(admin_sessions, solution_id=found.solution_id, oracle_id=found.oracle_id,
           sources=sources, embedder=HashingEmbedder())  # fmt: skip
    return found


def jsonl(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def import_good(sessions: sessionmaker[Session], live: Live, name: str = "main") -> None:
    with tenant_session(sessions, solution_id=live.solution_id) as session:
        golden = create_golden_set(session, oracle_id=live.oracle_id, name=name)
        import_parsed(session, golden, parse_jsonl(jsonl(GOOD)))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"id": "q1"\n', "line 1: not JSON"),
        ('[1, 2]\n', "line 1: expected a JSON object"),
        ('{"id": "q1"}\n', 'line 1: needs an "id" and a "question"'),
        ('{"id": "q1", "question": "x", "judgements": [{"document": "a", "grade": 7}]}\n',
         "line 1: grade must be a whole number from 0 to 3"),
        ('{"id": "q1", "question": "x", "judgements": [{"grade": 1}]}\n',
         "line 1: a judgement needs a document"),
        ('{"id": "q1", "question": "x", "judgements": [{"document": "a", "page": 0}]}\n',
         "line 1: page must be a whole number from 1"),
        ('{"id": "q1", "question": "x"}\n\n{"id": "q1", "question": "y"}\n',
         "line 3: question id 'q1' appears again (first on line 1)"),
    ],
)  # fmt: skip
def test_jsonl_problems_name_their_line(text: str, problem: str) -> None:
    parsed = parse_jsonl(text)
    assert any(p.startswith(problem) for p in parsed.problems), parsed.problems


def test_csv_groups_rows_by_question_and_reports_conflicts() -> None:
    text = (
        "query_id,question,document,grade,passage,page,reference_answer\n"
        "q1,Revenue?,revenue.txt,2,,,12%\n"
        "q1,Revenue?,dividends.txt,0,,,\n"
        "q2,Headcount?,,,,,\n"
        "q1,Revenue growth?,revenue.txt,1,,,\n"
    )
    parsed = parse_csv(text)
    assert [(q.query_key, len(q.judgements)) for q in parsed.questions] == [("q1", 2), ("q2", 0)]
    assert parsed.questions[0].reference_answer == "12%"
    assert parsed.problems == ["line 5: question 'q1' has a different text than on line 2"]
    assert parse_csv("id,text\n1,x\n").problems[0].startswith("line 1: the header needs")


def test_beir_qrels_need_their_queries() -> None:
    queries = '{"_id": "q1", "text": "Revenue?"}\n'
    parsed = parse_beir("query-id\tcorpus-id\tscore\nq1\trevenue\t2\nq9\tx\t1\n", queries)
    assert [(q.query_key, q.judgements[0].grade) for q in parsed.questions] == [("q1", 2)]
    assert parsed.problems == ["qrels line 3: query 'q9' is not in queries.jsonl"]


def test_import_is_all_or_nothing_with_a_line_per_unknown_document(
    admin_sessions: sessionmaker[Session], live: Live
) -> None:
    rows = [*GOOD, {"id": "q4", "question": "Fees?", "relevant": ["fees.pdf", "nope"]}]
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        golden = create_golden_set(session, oracle_id=live.oracle_id, name="main")
        with pytest.raises(GoldenImportError) as caught:
            import_parsed(session, golden, parse_jsonl(jsonl(rows)))
        assert caught.value.problems == [
            "line 4: unknown document 'fees.pdf' (not a file name or id in this oracle)",
            "line 4: unknown document 'nope' (not a file name or id in this oracle)",
        ]
        assert questions_of(session, golden.id) == [] and golden.version == 1


def test_export_round_trips_through_jsonl_and_csv(
    admin_sessions: sessionmaker[Session], live: Live
) -> None:
    import_good(admin_sessions, live)
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        golden = golden_set_by_name(session, live.oracle_id, "main")
        assert golden.version == 2  # one bump per import
        exported = {fmt: export_golden(session, golden, fmt) for fmt in ("jsonl", "csv")}
        for fmt, parse in (("jsonl", parse_jsonl), ("csv", parse_csv)):
            copy = create_golden_set(session, oracle_id=live.oracle_id, name=f"copy-{fmt}")
            report = import_parsed(session, copy, parse(exported[fmt]))
            assert (report.questions, report.judgements) == (3, 3)
            assert export_golden(session, copy, fmt) == exported[fmt]
    first = json.loads(exported["jsonl"].splitlines()[0])
    assert first["judgements"][0]["document"] == "revenue.txt"
    assert first["reference_answer"] == "12%"


def test_deleted_and_changed_documents_make_judgements_stale(
    admin_sessions: sessionmaker[Session], live: Live
) -> None:
    import_good(admin_sessions, live)
    ingest(admin_sessions, solution_id=live.solution_id, oracle_id=live.oracle_id,
           sources=[SourceFile("revenue.txt", b"Revenue fell by three percent.")],
           embedder=HashingEmbedder())  # fmt: skip
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        session.delete(session.scalars(select(Document).filter_by(filename="dividends.txt")).one())
        session.flush()
        golden = golden_set_by_name(session, live.oracle_id, "main")
        stale = {(s.query_key, s.filename): s.stale for s in stale_judgements(session, golden.id)}
        loaded = load_golden(session, oracle_id=live.oracle_id, name="main")
    assert stale == {
        ("q1", "revenue.txt"): "document changed since it was judged",
        ("q2", "dividends.txt"): "document deleted",
    }
    assert list(loaded.queries) == ["q3"]  # stale judgements are not scored...
    assert loaded.info["unscored"] == ["q1", "q2"]  # ...and say so
    assert len(loaded.info["stale"]) == 2


def test_a_golden_run_scores_the_live_oracle_and_changes_none_of_its_documents(
    admin_sessions: sessionmaker[Session], live: Live
) -> None:
    import_good(admin_sessions, live)
    before = documents(admin_sessions, live)
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        golden = load_golden(session, oracle_id=live.oracle_id, name="main")
    request = EvalRequest(golden, live.solution_id, live.oracle_id,
                          RetrievalConfig(mode="lexical", k=3))  # fmt: skip
    run = evaluate(admin_sessions, request, embedder=HashingEmbedder())
    assert run.status == "completed" and run.query_count == 3
    assert run.dataset == "golden:main@v2"
    assert run.metrics["HitRate@10"].mean == pytest.approx(1.0)
    assert documents(admin_sessions, live) == before
    assert run.config["chunk_tokens"] > 0


def documents(sessions: sessionmaker[Session], live: Live) -> list[tuple[str, str | None]]:
    with tenant_session(sessions, solution_id=live.solution_id) as session:
        query = select(Document.filename, Document.content_hash).where(
            Document.oracle_id == live.oracle_id
        )
        return sorted((name, digest) for name, digest in session.execute(query))


def test_saving_a_question_bumps_the_version_and_checks_input(
    admin_sessions: sessionmaker[Session], live: Live
) -> None:
    with tenant_session(admin_sessions, solution_id=live.solution_id) as session:
        golden = create_golden_set(session, oracle_id=live.oracle_id, name="from-chat")
        doc = session.scalars(select(Document).filter_by(filename="revenue.txt")).one()
        saved = save_question(session, golden, question="  Revenue growth? ",
                              judgements=[Judgement(doc.id, 1)], reference_answer="12%",
                              reference_is_draft=True)  # fmt: skip
        assert (saved.query_key, saved.question, golden.version) == ("q1", "Revenue growth?", 2)
        with pytest.raises(UserError, match="grade 5 is out of range"):
            save_question(session, golden, question="x", judgements=[Judgement(doc.id, 5)])
        with pytest.raises(NotFoundError, match="not in this golden set's oracle"):
            save_question(session, golden, question="x", judgements=[Judgement(uuid.uuid4(), 1)])
        with pytest.raises(UserError, match="must not be empty"):
            save_question(session, golden, question="  ", judgements=[])
        with pytest.raises(UserError, match="has one of that name already"):
            create_golden_set(session, oracle_id=live.oracle_id, name="from-chat")
        with pytest.raises(NotFoundError, match=r"its sets: from-chat"):
            golden_set_by_name(session, live.oracle_id, "missing")
