"""Rebuild evals/datasets/tatqa-gate from ../shared/datasets/tatqa (TAT-QA test, CC BY 4.0).

Deterministic: contexts (one annual report each) with at least 4 documents and 3 questions,
taken in id order, dealt round-robin to three tenants (gate-a, gate-b, gate-c), up to
four questions each. Run from the project root: ``.venv/bin/python evals/build_tatqa_gate.py``.
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

SOURCE = Path("../shared/datasets/tatqa")
TARGET = Path("evals/datasets/tatqa-gate")
TENANTS = ("gate-a", "gate-b", "gate-c")
CONTEXTS_PER_TENANT = 8
QUERIES_PER_CONTEXT = 4


def _jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def main(source: Path = SOURCE, target: Path = TARGET) -> None:
    docs = _jsonl(source / "corpus.jsonl")
    queries = _jsonl(source / "queries.jsonl")
    answers = {a["_id"]: a for a in _jsonl(source / "answers.jsonl")}
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for line in (source / "qrels.tsv").read_text("utf-8").splitlines()[1:]:
        qid, did, score = line.split("\t")
        qrels[qid][did] = int(score)
    by_context: dict[str, list[dict[str, object]]] = defaultdict(list)
    for doc in docs:
        by_context[doc["metadata"]["context"]].append(doc)  # type: ignore[index]
    questions: dict[str, list[dict[str, object]]] = defaultdict(list)
    for query in queries:
        if query["_id"] in qrels:
            questions[query["metadata"]["context"]].append(query)  # type: ignore[index]
    eligible = sorted(c for c in by_context if len(by_context[c]) >= 4 and len(questions[c]) >= 3)
    chosen = eligible[: CONTEXTS_PER_TENANT * len(TENANTS)]
    for index, tenant in enumerate(TENANTS):
        contexts = chosen[index :: len(TENANTS)]
        folder = target / tenant
        folder.mkdir(parents=True, exist_ok=True)
        picked = [q for c in contexts for q in questions[c][:QUERIES_PER_CONTEXT]]
        _write(folder / "corpus.jsonl", [d for c in contexts for d in by_context[c]])
        _write(folder / "queries.jsonl", picked)
        _write(folder / "answers.jsonl", [answers[str(q["_id"])] for q in picked])
        rows = [
            f"{q['_id']}\t{d}\t{s}" for q in picked for d, s in sorted(qrels[str(q["_id"])].items())
        ]
        (folder / "qrels.tsv").write_text("\n".join(["query-id\tcorpus-id\tscore", *rows]) + "\n")
        print(f"{tenant}: {len(contexts)} contexts, {len(picked)} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
