"""Demo data: tenants built from TAT-QA annual-report contexts (CC BY 4.0, see demo_data/).

``load_demo`` creates one tenant per folder of ``demo_data/`` with its RAG global oracle and
a domain oracle, ingests the folder's files into both, and asks the tenant's questions so
the usage pages have conversations with sources. Where the folder has ``golden.jsonl``, the
domain oracle gets that golden set and one recorded evaluation run, so the Evaluations
page, the notebooks and ``make report`` show real content. Every step is idempotent: a
second load creates nothing new.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import create_solution, ensure_rag_global_oracle, get_or_create_oracle
from supercore_core.chat import ask
from supercore_core.config import Settings
from supercore_core.db.sessions import admin_session, tenant_session
from supercore_core.embedding import Embedder
from supercore_core.errors import ConfigurationError
from supercore_core.evaluation.golden import load_golden
from supercore_core.evaluation.runner import EvalRequest, evaluate
from supercore_core.golden import create_golden_set, import_parsed, list_golden_sets, parse_jsonl
from supercore_core.ingest.pipeline import IngestOutcome, SourceFile, ingest
from supercore_core.llm import ChatModel, OfflineAnswerer
from supercore_core.models import Conversation, Solution

DEMO_DIR = Path(__file__).resolve().parent / "demo_data"
DOMAIN_ORACLE = "annual-report"
GOLDEN_SET = "tatqa-questions"
DOMAIN_PROMPT = (
    "You are the financial analyst of {name}. Answer from the numbered passages of the "
    "annual report only, cite them as [n], and say so when the report does not say."
)
SESSION_ID = "demo-{slug}"


@dataclass(frozen=True)
class DemoTenant:
    """One tenant of the demo: its folder of documents and the questions to ask."""

    slug: str
    name: str
    industry: str
    folder: Path
    questions: tuple[str, ...]

    def sources(self) -> list[SourceFile]:
        """The tenant's documents, by file name."""
        files = sorted(p for p in self.folder.iterdir() if p.suffix in (".md", ".txt"))
        return [SourceFile(p.name, p.read_bytes(), {"source": "TAT-QA"}) for p in files]

    @property
    def golden(self) -> Path | None:
        """The tenant's golden set (``golden.jsonl``), if it has one."""
        path = self.folder / "golden.jsonl"
        return path if path.is_file() else None


@dataclass(frozen=True)
class DemoReport:
    """What a load did."""

    tenants: int
    documents_ingested: int
    documents_unchanged: int
    documents_failed: int
    questions_asked: int
    golden_sets: int = 0


Progress = Callable[[str], None]


def demo_tenants(folder: Path = DEMO_DIR) -> list[DemoTenant]:
    """The tenants described by ``folder/tenants.json``."""
    manifest = folder / "tenants.json"
    if not manifest.is_file():
        raise ConfigurationError(f"no demo data in {folder}: tenants.json is missing")
    entries: list[dict[str, Any]] = json.loads(manifest.read_text("utf-8"))
    return [
        DemoTenant(
            e["slug"],
            e["name"],
            e["industry"],
            folder / e["slug"],
            tuple(q["question"] for q in e["questions"]),
        )
        for e in entries
    ]


def steps(tenants: list[DemoTenant]) -> int:
    """How many progress steps ``load_demo`` reports: per tenant, each document twice (two
    oracles), each question once, and its golden set with its run once."""
    return sum(2 * len(t.sources()) + len(t.questions) + (t.golden is not None) for t in tenants)


def is_loaded(sessions: sessionmaker[Session], tenants: list[DemoTenant]) -> bool:
    """True when every demo tenant exists and already has its demo conversation."""
    slugs = [t.slug for t in tenants]
    with admin_session(sessions, reason="demo: is the demo data loaded?") as session:
        found = session.scalar(
            select(func.count(func.distinct(Solution.slug)))
            .join(Conversation, Conversation.solution_id == Solution.id)
            .where(Solution.slug.in_(slugs), Conversation.session_id.like("demo-%"))
        )
    return found == len(slugs)


def load_demo(
    sessions: sessionmaker[Session],
    *,
    embedder: Embedder,
    settings: Settings,
    chat_model: ChatModel | None = None,
    tenants: list[DemoTenant] | None = None,
    on_step: Progress | None = None,
) -> DemoReport:
    """Create the demo tenants, ingest their documents and ask their questions.

    Answers come from ``chat_model`` (default: the offline answerer, so no network).
    """
    chosen = demo_tenants() if tenants is None else tenants
    model = chat_model or OfflineAnswerer()
    counts = {"completed": 0, "unchanged": 0, "failed": 0, "asked": 0, "golden": 0}
    for tenant in chosen:
        solution_id, oracle_ids = _tenant(sessions, tenant)
        for oracle_id in oracle_ids:
            for status in _ingest(sessions, tenant, solution_id, oracle_id, embedder, on_step):
                counts[status] += 1
        counts["asked"] += _ask_questions(
            sessions, tenant, solution_id, oracle_ids[-1], model, embedder, settings, on_step
        )
        counts["golden"] += _golden_set(sessions, tenant, solution_id, oracle_ids[-1], embedder,
                                        on_step)  # fmt: skip
    return DemoReport(
        len(chosen), counts["completed"], counts["unchanged"], counts["failed"], counts["asked"],
        counts["golden"],
    )  # fmt: skip


def _ingest(
    sessions: sessionmaker[Session],
    tenant: DemoTenant,
    solution_id: UUID,
    oracle_id: UUID,
    embedder: Embedder,
    on_step: Progress | None,
) -> list[str]:
    """Ingest the tenant's files into one oracle; the status of each."""

    def done(outcome: IngestOutcome) -> None:
        if on_step is not None:
            on_step(f"{tenant.slug}: {outcome.filename}")

    outcomes = ingest(
        sessions, solution_id=solution_id, oracle_id=oracle_id, sources=tenant.sources(),
        embedder=embedder, on_done=done,
    )  # fmt: skip
    return [o.status for o in outcomes]


def _tenant(sessions: sessionmaker[Session], tenant: DemoTenant) -> tuple[UUID, list[UUID]]:
    """The tenant (created when missing) and its RAG global and domain oracles."""
    with admin_session(sessions, reason=f"demo: create tenant {tenant.slug}") as session:
        solution = session.scalars(
            select(Solution).where(Solution.slug == tenant.slug)
        ).one_or_none() or create_solution(
            session, slug=tenant.slug, name=tenant.name, industry=tenant.industry,
            description=f"{tenant.name}: annual report from TAT-QA (CC BY 4.0)",
            metadata_={"demo": True},
        )  # fmt: skip
        solution_id = solution.id
    with tenant_session(sessions, solution_id=solution_id) as session:
        rag = ensure_rag_global_oracle(session, solution_id)
        domain = get_or_create_oracle(session, solution_id=solution_id, oracle_name=DOMAIN_ORACLE)
        if not domain.system_prompt:
            domain.description = "Questions on the annual report's figures and notes"
            domain.system_prompt = DOMAIN_PROMPT.format(name=tenant.name)
            domain.retrieval_config = {"mode": "hybrid", "k": 5}
        return solution_id, [rag.id, domain.id]


def _ask_questions(
    sessions: sessionmaker[Session],
    tenant: DemoTenant,
    solution_id: UUID,
    oracle_id: UUID,
    model: ChatModel,
    embedder: Embedder,
    settings: Settings,
    on_step: Progress | None,
) -> int:
    """Ask the tenant's questions in its demo conversation, unless it already has them."""
    session_id = SESSION_ID.format(slug=tenant.slug)
    with tenant_session(sessions, solution_id=solution_id) as session:
        done = session.scalar(
            select(Conversation.message_count).where(
                Conversation.oracle_id == oracle_id, Conversation.session_id == session_id
            )
        )
    if done:
        return 0
    for question in tenant.questions:
        with tenant_session(sessions, solution_id=solution_id) as session:
            answer = ask(
                session, oracle_id=oracle_id, session_id=session_id, question=question,
                chat_model=model, embedder=embedder, settings=settings, user_id="demo",
            )  # fmt: skip
        answer.raise_for_error()
        if on_step is not None:
            on_step(f"{tenant.slug}: asked {question[:40]}")
    return len(tenant.questions)


def _golden_set(
    sessions: sessionmaker[Session],
    tenant: DemoTenant,
    solution_id: UUID,
    oracle_id: UUID,
    embedder: Embedder,
    on_step: Progress | None,
) -> int:
    """Import the tenant's golden set into the oracle and record a run, unless it is there."""
    if tenant.golden is None:
        return 0
    with tenant_session(sessions, solution_id=solution_id) as session:
        if GOLDEN_SET in {g.name for g in list_golden_sets(session, oracle_id)}:
            return 0
        golden = create_golden_set(session, oracle_id=oracle_id, name=GOLDEN_SET,
                                   description="TAT-QA questions on this annual report, with "
                                   "TAT-QA's relevance judgements")  # fmt: skip
        import_parsed(session, golden, parse_jsonl(tenant.golden.read_text("utf-8")))
    with tenant_session(sessions, solution_id=solution_id) as session:
        loaded = load_golden(session, oracle_id=oracle_id, name=GOLDEN_SET)
    evaluate(sessions, EvalRequest(loaded, solution_id, oracle_id), embedder=embedder)
    if on_step is not None:
        on_step(f"{tenant.slug}: golden set and its first run")
    return 1
