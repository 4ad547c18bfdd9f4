"""Rebuild this folder from ../shared/datasets/tatqa (TAT-QA test, CC BY 4.0).

One tenant per annual-report context: the context's table as ``table.md`` (a Markdown pipe
table) and each paragraph as ``paragraph-NN.txt``, plus the context's questions with their
gold answers in ``tenants.json``, and every judged question of the context as the tenant's
golden set ``golden.jsonl`` (TAT-QA's relevance judgements, by file name). Run from the
project root: ``.venv/bin/python supercore_core/demo_data/build.py``.
"""

import json
from collections import defaultdict
from pathlib import Path

SOURCE = Path("../shared/datasets/tatqa")
TARGET = Path(__file__).resolve().parent
TENANTS = (
    ("f59bd5ee", "datacentre-operator", "Data-centre operator", "data centres"),
    ("22be2fdb", "specialty-pharma", "Specialty pharma licensor", "pharmaceuticals"),
    ("ce2ea049", "software-vendor", "Enterprise software vendor", "software"),
    ("0634bb25", "tanker-shipping", "Tanker shipping group", "shipping"),
)
QUESTIONS = 4


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _markdown_table(text: str) -> str:
    rows = [[cell.strip() for cell in line.split("|")] for line in text.splitlines()]
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join([lines[0], "|" + " --- |" * width, *lines[1:]]) + "\n"


def main() -> None:
    docs = _jsonl(SOURCE / "corpus.jsonl")
    queries = _jsonl(SOURCE / "queries.jsonl")
    answers = {a["_id"]: a for a in _jsonl(SOURCE / "answers.jsonl")}
    qrels: dict[str, list[str]] = defaultdict(list)
    for line in (SOURCE / "qrels.tsv").read_text("utf-8").splitlines()[1:]:
        query_id, doc_id, score = line.split("\t")
        if int(score) > 0:
            qrels[query_id].append(doc_id)
    by_context: dict[str, list[dict[str, object]]] = defaultdict(list)
    for doc in docs:
        by_context[str(doc["metadata"]["context"])].append(doc)  # type: ignore[index]
    manifest = []
    for prefix, slug, name, industry in TENANTS:
        [context] = [c for c in by_context if c.startswith(prefix)]
        folder = TARGET / slug
        folder.mkdir(exist_ok=True)
        paragraphs = 0
        files: dict[str, str] = {}
        for doc in by_context[context]:
            if doc["metadata"]["type"] == "table":  # type: ignore[index]
                files[str(doc["_id"])] = "table.md"
                (folder / "table.md").write_text(_markdown_table(str(doc["text"])), "utf-8")
            else:
                paragraphs += 1
                files[str(doc["_id"])] = f"paragraph-{paragraphs:02d}.txt"
                (folder / f"paragraph-{paragraphs:02d}.txt").write_text(f"{doc['text']}\n", "utf-8")
        _write_golden(folder, [q for q in queries if q["metadata"]["context"] == context],  # type: ignore[index]
                      qrels, files, answers)  # fmt: skip
        asked = [q for q in queries if q["metadata"]["context"] == context][:QUESTIONS]  # type: ignore[index]
        manifest.append({
            "slug": slug, "name": name, "industry": industry, "tatqa_context": context,
            "questions": [
                {"id": q["_id"], "question": str(q["text"]).strip(),
                 "answer": answers[str(q["_id"])]["answer"]}
                for q in asked
            ],
        })  # fmt: skip
    (TARGET / "tenants.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")


def _answer_text(answer: dict[str, object]) -> str:
    value = answer["answer"]
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return f"{text} {answer.get('scale') or ''}".strip()


def _write_golden(
    folder: Path,
    queries: list[dict[str, object]],
    qrels: dict[str, list[str]],
    files: dict[str, str],
    answers: dict[object, dict[str, object]],
) -> None:
    """The context's judged questions as a golden set in JSONL, documents by file name."""
    rows = [
        {"id": f"q{n:02d}", "question": str(q["text"]).strip(),
         "reference_answer": _answer_text(answers[str(q["_id"])]),
         "relevant": sorted({files[d] for d in qrels[str(q["_id"])] if d in files}),
         "tatqa_id": q["_id"]}
        for n, q in enumerate((q for q in queries if qrels.get(str(q["_id"]))), start=1)
    ]  # fmt: skip
    text = "".join(json.dumps(r) + "\n" for r in rows if r["relevant"])
    (folder / "golden.jsonl").write_text(text, "utf-8")


if __name__ == "__main__":
    main()
