"""Golden sets: an oracle's own questions with graded judgements on its documents.

Stored next to the data (revision 0014), versioned on every change, imported and exported
as JSONL, CSV or BEIR qrels, and checked for stale judgements before they are scored.
"""

from supercore_core.golden.capture import JudgedSource, save_answer_as_golden
from supercore_core.golden.parse import Parsed, parse_beir, parse_csv, parse_jsonl
from supercore_core.golden.sets import (
    Judgement,
    create_golden_set,
    delete_golden_set,
    get_or_create_golden_set,
    golden_set_by_name,
    list_golden_sets,
    questions_of,
    remove_question,
    save_question,
)
from supercore_core.golden.stale import (
    JudgementState,
    by_question,
    judgement_states,
    stale_judgements,
)
from supercore_core.golden.transfer import ImportReport, export_golden, import_parsed, parse_file

__all__ = [
    "ImportReport",
    "JudgedSource",
    "Judgement",
    "JudgementState",
    "Parsed",
    "by_question",
    "create_golden_set",
    "delete_golden_set",
    "export_golden",
    "get_or_create_golden_set",
    "golden_set_by_name",
    "import_parsed",
    "judgement_states",
    "list_golden_sets",
    "parse_beir",
    "parse_csv",
    "parse_file",
    "parse_jsonl",
    "questions_of",
    "remove_question",
    "save_answer_as_golden",
    "save_question",
    "stale_judgements",
]
