"""HTML to text and table blocks, walked iteratively so no nesting depth can overflow a stack."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

from supercore_core.errors import DocumentLimitError
from supercore_core.ingest.blocks import Block, squash, table_block
from supercore_core.ingest.limits import IngestLimits, setting_name

_SKIP = frozenset({"head", "noscript", "script", "style", "template", "title"})
_BLOCK_TAGS = (
    "address article aside blockquote body dd details div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary ul"
)
_BLOCK = frozenset(_BLOCK_TAGS.split())


class _Walker:
    """Collects text and table blocks from an HTML tree in document order."""

    def __init__(self, name: str, max_depth: int) -> None:
        self.name, self.max_depth = name, max_depth
        self.blocks: list[Block] = []
        self._inline: list[str] = []

    def flush(self) -> None:
        text = squash("".join(self._inline))
        self._inline.clear()
        if text:
            self.blocks.append(Block(text, "text"))

    def walk(self, root: Tag) -> None:
        """Visit ``root``'s descendants with an explicit stack of (children, is_block)."""
        stack: list[tuple[Iterator[PageElement], bool]] = [(iter(root.children), False)]
        while stack:
            children, is_block = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if is_block:
                    self.flush()
            elif isinstance(child, PreformattedString):  # comments, doctype, CDATA
                continue
            elif isinstance(child, NavigableString):
                self._inline.append(str(child))
            elif isinstance(child, Tag) and child.name not in _SKIP:
                self._visit(child, stack.append, len(stack))

    def _visit(
        self,
        tag: Tag,
        push: Callable[[tuple[Iterator[PageElement], bool]], None],
        depth: int,
    ) -> None:
        if tag.name == "br":
            self._inline.append(" ")
        elif tag.name == "table":
            self.flush()
            rows = [row for row in tag.find_all("tr") if row.find_parent("table") is tag]
            cells = [row.find_all(["td", "th"], recursive=False) for row in rows]
            self.blocks.append(table_block([c.get_text(" ") for c in row] for row in cells))
        else:
            if depth >= self.max_depth:
                raise DocumentLimitError(
                    f"{self.name} nests HTML elements more than {self.max_depth} deep, over the "
                    f"limit ({setting_name('max_html_depth')}): simplify the page or raise "
                    "the limit"
                )
            if tag.name in _BLOCK:
                self.flush()
            push((iter(tag.children), tag.name in _BLOCK))


def parse_html(data: bytes, name: str, limits: IngestLimits) -> tuple[list[Block], str | None]:
    """Blocks and title of an HTML page (decoding is left to BeautifulSoup)."""
    tags = data.count(b"<")
    if tags > limits.max_html_tags:
        raise DocumentLimitError(
            f"{name} has about {tags:,} HTML tags, over the {limits.max_html_tags:,}-tag limit "
            f"({setting_name('max_html_tags')}): split the page or raise the limit"
        )
    soup = BeautifulSoup(data, "html.parser")
    walker = _Walker(name, limits.max_html_depth)
    walker.walk(soup.body or soup)
    walker.flush()
    heading = soup.title or soup.find("h1")
    title = squash(heading.get_text(" ")) if isinstance(heading, Tag) else None
    return walker.blocks, title
