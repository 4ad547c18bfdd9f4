"""Import and export golden sets: all or nothing in, JSONL or CSV out.

Documents are named by file name, by file name without its extension (a BEIR corpus id
ingested as ``<id>.txt``) or by document id, within the set's oracle.
"""

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from supercore_core.errors import GoldenImportError, UserError
from supercore_core.golden.parse import (
    CSV_COLUMNS,
    Parsed,
    ParsedQuestion,
    parse_beir,
    parse_csv,
    parse_jsonl,
)
from supercore_core.golden.sets import Judgement, store_question, touch
from supercore_core.golden.stale import by_question, judgement_states
from supercore_core.models import Document, GoldenQuestion, GoldenSet

Format = Literal["jsonl", "csv"]


@dataclass(frozen=True)
class ImportReport:
    """How many questions and judgements an import wrote, and the set's new version."""

    questions: int
    judgements: int
    version: int


class DocumentNames:
    """Resolves document names of one oracle: id, exact file name, or unique stem."""

    def __init__(self, session: Session, oracle_id: UUID) -> None:
        rows = session.execute(
            select(Document.id, Document.filename).where(Document.oracle_id == oracle_id)
        ).all()
        self.by_id = {str(i): i for i, _ in rows}
        self.by_name = {name: i for i, name in rows}
        stems: dict[str, list[UUID]] = {}
        for i, name in rows:
            stems.setdefault(Path(name).stem, []).append(i)
        self.by_stem = stems

    def resolve(self, name: str) -> UUID | str:
        """The document id, or why the name does not resolve."""
        found = self.by_id.get(name.lower()) or self.by_name.get(name)
        if found is not None:
            return found
        candidates = self.by_stem.get(name, [])
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            return f"document {name!r} is ambiguous ({len(candidates)} files share that name)"
        return f"unknown document {name!r} (not a file name or id in this oracle)"


def _resolved(
    parsed: Parsed, names: DocumentNames
) -> tuple[list[tuple[ParsedQuestion, list[Judgement]]], list[str]]:
    problems = list(parsed.problems)
    resolved = []
    for question in parsed.questions:
        judgements = []
        for named in question.judgements:
            found = names.resolve(named.document)
            if isinstance(found, str):
                problems.append(f"line {question.line}: {found}")
            else:
                judgements.append(Judgement(found, named.grade, named.passage, named.page))
        resolved.append((question, judgements))
    return resolved, problems


def import_parsed(session: Session, golden: GoldenSet, parsed: Parsed) -> ImportReport:
    """Write parsed questions into the set (replacing same-key questions), all or nothing.

    Raises:
        GoldenImportError: Any malformed row or unknown document; nothing is written.
    """
    resolved, problems = _resolved(parsed, DocumentNames(session, golden.oracle_id))
    if problems:
        raise GoldenImportError(problems)
    if not resolved:
        raise GoldenImportError(["the file holds no questions"])
    for question, judgements in resolved:
        store_question(session, golden, question=question.question, judgements=judgements,
                       query_key=question.query_key,
                       reference_answer=question.reference_answer)  # fmt: skip
    touch(session, golden)
    return ImportReport(len(resolved), sum(len(j) for _, j in resolved), golden.version)


def parse_file(path: Path, queries: Path | None = None) -> Parsed:
    """Parse a golden-set file by its extension (.jsonl, .csv, or BEIR .tsv + queries)."""
    suffix = path.suffix.lower()
    if suffix in (".tsv", ".qrels", ".txt"):
        if queries is None:
            raise UserError(f"{path.name} looks like BEIR qrels: give its queries with "
                            "--queries queries.jsonl")  # fmt: skip
        return parse_beir(_read(path), _read(queries))
    if suffix == ".csv":
        return parse_csv(_read(path))
    if suffix in (".jsonl", ".json", ".ndjson"):
        return parse_jsonl(_read(path))
    raise UserError(f"unsupported golden-set file {path.name!r}: use .jsonl, .csv, or BEIR "
                    "qrels (.tsv) with --queries")  # fmt: skip


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise UserError(f"no such file: {path}") from exc
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise UserError(f"{path} is not a UTF-8 text file") from exc


def _records(session: Session, golden: GoldenSet) -> Iterable[dict[str, object]]:
    questions = session.scalars(
        select(GoldenQuestion)
        .where(GoldenQuestion.set_id == golden.id)
        .order_by(GoldenQuestion.query_key)
    ).all()
    grouped = by_question(judgement_states(session, golden.id))
    for question in questions:
        judged = grouped.get(question.query_key, [])
        yield {
            "id": question.query_key,
            "question": question.question,
            "reference_answer": question.reference_answer,
            "judgements": [
                {"document": s.filename, "document_id": str(s.document_id or ""),
                 "grade": s.grade, "passage": s.passage, "page": s.page,
                 **({"stale": s.stale} if s.stale else {})}
                for s in judged
            ],
        }  # fmt: skip


def export_golden(session: Session, golden: GoldenSet, fmt: Format = "jsonl") -> str:
    """The set as JSONL (one question per line) or CSV (one row per judgement)."""
    records = list(_records(session, golden))
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in records:
        base = [r["id"], r["question"]]
        judged = r["judgements"]
        assert isinstance(judged, list)
        if not judged:
            writer.writerow([*base, "", "", "", "", r["reference_answer"] or ""])
        for j in judged:
            writer.writerow([*base, j["document"], j["grade"], j["passage"] or "",
                             j["page"] or "", r["reference_answer"] or ""])  # fmt: skip
    return out.getvalue()
