"""What the offline answerer may quote, and which quotes answer a question.

A passage is cut into quotable units: prose sentences, and table rows each written out
whole with its column headers ("Interest income: 2019 7,804; 2018 8,525"), so a figure
keeps its year and unit. Markdown headings, table rules, header rows and bare labels are
structure, not answers: they are never quoted on their own. A table row counts its header's
words too, but only when the row itself carries one of the question's terms, so a "2019" in
the header does not make every row an answer.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest

_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NUMBERED = re.compile(r"^\d+(?:\.\d+)*\.?\s+[A-Z]")
_RULE_CELL = re.compile(r"^:?-{2,}:?$")
_YEAR = re.compile(r"^(?:fy\s*'?\d{2}|'\d{2}|(?:19|20)\d{2})$", re.IGNORECASE)
STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a about after all also an and any are as at be been before between but by can could "
        "did do does during for from had has have how i if in into is it its me more most much "
        "my not of on or our per please so some such tell than that the their them then there "
        "these they this those to us was we were what when where which who whom why will with "
        "would you your",
    )
)


def terms(text: str) -> set[str]:
    """The content words and figures of ``text``, lower-cased, plurals folded."""
    return {_fold(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


def _fold(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word.isalpha():
        return word[:-1]
    return word


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a passage: ``text`` is quoted; ``own`` are the terms it says
    itself, ``context`` those its table header adds."""

    text: str
    own: frozenset[str]
    context: frozenset[str] = frozenset()
    table: int | None = None

    def score(self, wanted: set[str]) -> int:
        """Question terms it carries with its header, if it carries one of them itself."""
        return len(wanted & (self.own | self.context)) if wanted & self.own else 0


def quotable_units(text: str) -> list[Unit]:
    """Sentences of prose and whole table rows (with their headers), in passage order."""
    units: list[Unit] = []
    table: list[str] = []
    tables = 0
    for line in [*(line.strip() for line in text.splitlines()), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            units += _table_units(table, tables)
            table, tables = [], tables + 1
        if line and not line.startswith("#"):
            units += [_prose(s) for s in _SENTENCE.split(line) if _is_sentence(s)]
    return units


def _prose(sentence: str) -> Unit:
    return Unit(sentence.strip(), frozenset(terms(sentence)))


def _is_sentence(piece: str) -> bool:
    """Headings, captions ("Lab equipment", "Sales-based Milestones and Royalty Revenues")
    and lead-ins to a table ("... are summarized below:") are not answers."""
    piece = piece.strip()
    if not piece or piece.endswith(":"):
        return False
    if piece[-1] in ".!?;":
        return True
    if _NUMBERED.match(piece):  # "3 Revenue and other income (continued)"
        return False
    words = [w for w in piece.split() if w[0].isalpha() and w.lower() not in STOPWORDS]
    title_case = sum(w[0].isupper() for w in words) * 2 > len(words)
    return len(piece.split()) > 8 or (any(c.isdigit() for c in piece) and not title_case)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _table_units(rows: list[str], table: int) -> list[Unit]:
    cells = [_cells(r) for r in rows]
    rule = next((i for i, c in enumerate(cells) if all(_RULE_CELL.match(x) for x in c)), None)
    head = cells[:rule] if rule is not None else cells[:1]
    body = [c for c in cells[len(head) :] if not all(_RULE_CELL.match(x) for x in c)]
    while body and _is_subheader(body[0]):
        head.append(body.pop(0))
    header = [" ".join(filter(None, column)) for column in zip_longest(*head, fillvalue="")]
    units = [_row(header, row, table) for row in body if any(row[1:])]
    return units or [_flattened(cells)]


def _flattened(cells: list[list[str]]) -> Unit:
    """A table without separate rows (one line holding them all, as in text extracted from a
    PDF): quoted whole, as its non-empty cells, since its rows cannot be told apart."""
    kept = [c for row in cells for c in row if c and not _RULE_CELL.match(c)]
    text = " | ".join(kept)
    return Unit(text, frozenset(terms(text)))


def _is_subheader(row: list[str]) -> bool:
    """Under the header, before the first line item: rows with a blank or "(in thousands)"
    stub, or with nothing but years ("| Year | 2019 | 2018 |")."""
    values = [x for x in row[1:] if x]
    if not values:
        return False  # a section label ("FROM CONTINUING OPERATIONS") or an empty row
    return not row[0] or row[0].startswith("(") or all(_YEAR.match(x) for x in values)


def _row(header: list[str], row: list[str], table: int) -> Unit:
    stub, *columns = header or [""]
    label, *values = row
    pairs = [f"{h} {v}".strip() for h, v in zip_longest(columns, values, fillvalue="") if v.strip()]
    lead = label if not stub or stub.startswith("(") else f"{stub} {label}"
    text = f"{lead}: {'; '.join(pairs)}" if pairs else lead
    if stub.startswith("("):
        text += f" {stub}"
    return Unit(text, frozenset(terms(" ".join(row))), frozenset(terms(" ".join(header))), table)


def pick_quotes(
    passages: Sequence[tuple[int, str]], question: str, limit: int
) -> list[tuple[int, str]]:
    """Up to ``limit`` (passage number, unit) pairs that carry the question's terms.

    The question's last sentence is what is asked; earlier sentences (a follow-up's borrowed
    question) set the context: units must carry a term of the last sentence, and only when
    none does, a term of the whole question. The best unit sets the bar: a unit must carry
    at least half as many terms, so a sentence that only repeats "2019" does not ride along.
    Rows of one table share their header, so they compete on their own words. Ties go to
    the unit with more context terms, then to the better-ranked passage.
    """
    focus, context = _asked(question)
    units = [(n, i, u) for n, text in passages for i, u in enumerate(quotable_units(text))]
    found: list[tuple[int, int, int, int, int, Unit]] = []
    for wanted in (focus, focus | context):
        found = [
            (u.score(wanted), len(wanted & u.own), u.score(context), n, i, u)
            for n, i, u in units
            if u.score(wanted)
        ]
        if found:
            break
    return _best(found, limit)


def _asked(question: str) -> tuple[set[str], set[str]]:
    """The terms of the question's last sentence, and those only its earlier ones add."""
    *before, last = [s for s in re.split(r"(?<=[.!?])\s+", question.strip()) if s] or [""]
    focus = terms(last)
    return focus, terms(" ".join(before)) - focus


def _best(found: list[tuple[int, int, int, int, int, Unit]], limit: int) -> list[tuple[int, str]]:
    best = max((f[0] for f in found), default=0)
    best_row: dict[tuple[int, int | None], int] = {}
    for _, own, _, number, _, unit in found:
        key = (number, unit.table)
        best_row[key] = max(best_row.get(key, 0), own)
    picked: list[tuple[int, str]] = []
    for score, own, _, number, _, unit in sorted(found, key=lambda f: (-f[0], -f[2], f[3], f[4])):
        weak = score * 2 < best or (unit.table is not None and own < best_row[number, unit.table])
        if weak or any(unit.text in q or q in unit.text for _, q in picked):
            continue
        picked.append((number, unit.text))
        if len(picked) == limit:
            break
    return picked
