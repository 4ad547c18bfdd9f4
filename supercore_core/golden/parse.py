"""Golden-set files parsed into rows: JSONL, CSV and BEIR qrels with queries.

Parsing never touches the database: it returns the rows and one line per problem, and
the importer writes nothing unless the whole file (and every document it names) is good.

- JSONL, one question per line: ``{"id": "q1", "question": "...", "reference_answer":
  "...", "judgements": [{"document": "report.pdf", "grade": 2, "passage": "...",
  "page": 3}]}``; ``"relevant": ["a.pdf", "b.pdf"]`` is short for grade-1 judgements.
- CSV with a header: ``query_id,question,document,grade,passage,page,reference_answer``,
  one row per judgement (a row without a document adds just the question).
- BEIR: ``qrels.tsv`` (``query-id corpus-id score``) with the ``queries.jsonl`` it needs.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

MAX_GRADE = 3


@dataclass(frozen=True)
class NamedJudgement:
    """A judgement whose document is still a name (file name, stem or id)."""

    document: str
    grade: int
    passage: str | None = None
    page: int | None = None


@dataclass
class ParsedQuestion:
    """One question as read from a file, with the line it started on."""

    line: int
    query_key: str
    question: str
    reference_answer: str | None = None
    judgements: list[NamedJudgement] = field(default_factory=list)


@dataclass
class Parsed:
    """Questions in file order and the problems found."""

    questions: list[ParsedQuestion] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _grade(value: Any, where: str, problems: list[str]) -> int | None:
    try:
        grade = int(str(value).strip()) if value not in (None, "") else 1
    except ValueError:
        grade = -1
    if not 0 <= grade <= MAX_GRADE or isinstance(value, float | bool):
        problems.append(f"{where}: grade must be a whole number from 0 to {MAX_GRADE}, "
                        f"not {value!r}")  # fmt: skip
        return None
    return grade


def _page(value: Any, where: str, problems: list[str]) -> int | None:
    if value in (None, ""):
        return None
    try:
        page = int(str(value).strip())
    except ValueError:
        page = 0
    if page < 1:
        problems.append(f"{where}: page must be a whole number from 1, not {value!r}")
        return None
    return page


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value not in (None, "") else None


def _judgement(raw: Any, where: str, problems: list[str]) -> NamedJudgement | None:
    if isinstance(raw, str):
        raw = {"document": raw}
    if not isinstance(raw, dict) or not _text(raw.get("document")):
        problems.append(f"{where}: a judgement needs a document (file name or id)")
        return None
    grade = _grade(raw.get("grade"), where, problems)
    page = _page(raw.get("page"), where, problems)
    if grade is None or (raw.get("page") not in (None, "") and page is None):
        return None
    return NamedJudgement(str(raw["document"]).strip(), grade, _text(raw.get("passage")), page)


def _add(parsed: Parsed, question: ParsedQuestion, seen: dict[str, int]) -> None:
    first = seen.get(question.query_key)
    if first is not None:
        parsed.problems.append(
            f"line {question.line}: question id {question.query_key!r} appears again "
            f"(first on line {first})"
        )
        return
    seen[question.query_key] = question.line
    parsed.questions.append(question)


def _jsonl_question(number: int, row: Any, problems: list[str]) -> ParsedQuestion | None:
    where = f"line {number}"
    if not isinstance(row, dict):
        problems.append(f"{where}: expected a JSON object per line")
        return None
    key = _text(row.get("id") or row.get("_id") or row.get("query_id"))
    question = _text(row.get("question") or row.get("text") or row.get("query"))
    if key is None or question is None:
        problems.append(f'{where}: needs an "id" and a "question"')
        return None
    judged = list(row.get("judgements") or []) + list(row.get("relevant") or [])
    judgements = [_judgement(j, where, problems) for j in judged]
    answer = row.get("reference_answer", row.get("answer"))
    return ParsedQuestion(number, key, question, _text(answer),
                          [j for j in judgements if j is not None])  # fmt: skip


def parse_jsonl(text: str) -> Parsed:
    """Questions from JSON Lines (blank lines skipped)."""
    parsed, seen = Parsed(), dict[str, int]()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.problems.append(f"line {number}: not JSON ({exc.msg})")
            continue
        question = _jsonl_question(number, row, parsed.problems)
        if question is not None:
            _add(parsed, question, seen)
    return parsed


CSV_COLUMNS = ("query_id", "question", "document", "grade", "passage", "page",
               "reference_answer")  # fmt: skip


def parse_csv(text: str) -> Parsed:
    """Questions from CSV, one row per judgement, grouped by ``query_id``."""
    parsed = Parsed()
    reader = csv.DictReader(io.StringIO(text))
    missing = {"query_id", "question"} - set(reader.fieldnames or ())
    if missing:
        parsed.problems.append(f"line 1: the header needs the columns {', '.join(CSV_COLUMNS)}"
                               f" (missing {', '.join(sorted(missing))})")  # fmt: skip
        return parsed
    by_key: dict[str, ParsedQuestion] = {}
    for number, row in enumerate(reader, start=2):
        _csv_row(parsed, by_key, number, row)
    parsed.questions = list(by_key.values())
    return parsed


def _csv_row(
    parsed: Parsed, by_key: dict[str, ParsedQuestion], number: int, row: dict[str, Any]
) -> None:
    where = f"line {number}"
    key, question = _text(row.get("query_id")), _text(row.get("question"))
    if key is None or question is None:
        parsed.problems.append(f"{where}: needs a query_id and a question")
        return
    current = by_key.setdefault(key, ParsedQuestion(number, key, question))
    if current.question != question:
        parsed.problems.append(f"{where}: question {key!r} has a different text than on "
                               f"line {current.line}")  # fmt: skip
        return
    current.reference_answer = current.reference_answer or _text(row.get("reference_answer"))
    if _text(row.get("document")):
        judgement = _judgement(row, where, parsed.problems)
        if judgement is not None:
            current.judgements.append(judgement)


def parse_beir(qrels: str, queries: str) -> Parsed:
    """Questions from BEIR ``queries.jsonl`` and graded ``qrels.tsv`` (header optional)."""
    parsed = Parsed()
    texts: dict[str, str] = {}
    for number, line in enumerate(queries.splitlines(), start=1):
        try:
            row = json.loads(line) if line.strip() else None
        except json.JSONDecodeError as exc:
            parsed.problems.append(f"queries line {number}: not JSON ({exc.msg})")
            continue
        if isinstance(row, dict) and _text(row.get("_id")) and _text(row.get("text")):
            texts[str(row["_id"]).strip()] = str(row["text"]).strip()
        elif row is not None:
            parsed.problems.append(f'queries line {number}: needs "_id" and "text"')
    by_key: dict[str, ParsedQuestion] = {}
    for number, line in enumerate(qrels.splitlines(), start=1):
        _qrels_line(parsed, by_key, texts, number, line)
    parsed.questions = list(by_key.values())
    return parsed


def _qrels_line(
    parsed: Parsed, by_key: dict[str, ParsedQuestion], texts: dict[str, str], number: int,
    line: str,
) -> None:  # fmt: skip
    cells = line.split()
    if not cells or (number == 1 and cells[0] == "query-id"):
        return
    where = f"qrels line {number}"
    if len(cells) == 4:  # TREC qrels: qid 0 docid grade
        cells = [cells[0], cells[2], cells[3]]
    if len(cells) != 3:
        parsed.problems.append(f"{where}: expected query-id, corpus-id and score")
        return
    key, document, score = cells
    if key not in texts:
        parsed.problems.append(f"{where}: query {key!r} is not in queries.jsonl")
        return
    grade = _grade(score, where, parsed.problems)
    if grade is not None:
        question = by_key.setdefault(key, ParsedQuestion(number, key, texts[key]))
        question.judgements.append(NamedJudgement(document, grade))
