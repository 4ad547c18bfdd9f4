"""Hostile files refused clearly within their limits, in bounded memory (issue 15).

Every input is generated here: zip bombs, deep HTML, NUL-bearing text and PDFs.
"""

import io
import os
import re
import struct
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from supercore_core.config import Settings
from supercore_core.errors import CorruptFileError, DocumentLimitError, InvalidFilenameError
from supercore_core.ingest.chunking import Chunk, ChunkingConfig, cap_chunk_bytes, chunk_blocks
from supercore_core.ingest.limits import MB, IngestLimits
from supercore_core.ingest.names import check_filename
from supercore_core.ingest.parsers import Block, parse_bytes
from supercore_core.ingest.sources import read_source
from supercore_core.rendering import terminal_text
from tests.fakes import HashingEmbedder
from tests.test_parsers import make_pdf

INFLATED = 300 * MB


def peak_memory(action: Callable[[], object]) -> tuple[int, BaseException | None]:
    """Peak bytes Python allocated while ``action`` ran, and what it raised."""
    tracemalloc.start()
    raised: BaseException | None = None
    try:
        action()
    except Exception as exc:
        raised = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, raised


def docx_bomb(tmp_path: Path, inflated: int = INFLATED) -> bytes:
    """A real .docx whose word/document.xml is padded to inflate to ``inflated`` bytes."""
    document = docx.Document()
    document.add_paragraph("A harmless looking paragraph.")
    document.save(str(tmp_path / "seed.docx"))
    out = io.BytesIO()
    with (
        zipfile.ZipFile(tmp_path / "seed.docx") as seed,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb,
    ):
        for info in seed.infolist():
            if info.filename != "word/document.xml":
                bomb.writestr(info, seed.read(info))
                continue
            xml = seed.read(info)
            head, tail = xml.split(b"</w:body>")
            with bomb.open("word/document.xml", "w", force_zip64=True) as stream:
                stream.write(head)
                pad = b"<!--" + b"A" * (MB - 7) + b"-->"
                for _ in range(inflated // MB):
                    stream.write(pad)
                stream.write(b"</w:body>" + tail)
    return out.getvalue()


def understate(data: bytes, entry: str, size: int) -> bytes:
    """``data`` with the central directory claiming ``entry`` inflates to ``size`` bytes."""
    record = data.find(b"PK\x01\x02")
    while data[record + 46 : record + 46 + len(entry)] != entry.encode():
        record = data.find(b"PK\x01\x02", record + 46)
    patched = bytearray(data)
    (declared,) = struct.unpack_from("<L", data, record + 24)
    if declared == 0xFFFFFFFF:  # the size lives in the zip64 extra field
        (name_len,) = struct.unpack_from("<H", data, record + 28)
        struct.pack_into("<Q", patched, record + 46 + name_len + 4, size)
    else:
        struct.pack_into("<L", patched, record + 24, size)
    return bytes(patched)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return docx_bomb(tmp_path_factory.mktemp("bomb"))


def test_docx_bomb_is_refused_from_its_directory_in_bounded_memory(bomb: bytes) -> None:
    assert len(bomb) < 2 * MB  # a small file ...
    peak, raised = peak_memory(lambda: parse_bytes(bomb, "report.docx"))
    assert isinstance(raised, DocumentLimitError)
    assert re.match(r"report\.docx unzips to 300\.\d MB, over the 100\.0 MB limit", str(raised))
    assert "(SUPERCORE_INGEST_MAX_INFLATED_MB)" in str(raised)
    assert peak < 4 * len(bomb) + 2 * MB  # ... refused without inflating any of its 300 MB


def test_docx_bomb_whose_directory_lies_is_refused_while_inflating(bomb: bytes) -> None:
    liar = understate(bomb, "word/document.xml", 2000)
    peak, raised = peak_memory(lambda: parse_bytes(liar, "liar.docx"))
    assert isinstance(raised, CorruptFileError | DocumentLimitError)
    assert str(raised).startswith("liar.docx ")
    assert peak < 4 * len(bomb) + 2 * MB


def test_docx_over_a_lower_inflated_limit_while_streaming(tmp_path: Path) -> None:
    honest = docx_bomb(tmp_path, 5 * MB)
    limits = IngestLimits(max_inflated_bytes=4 * MB)
    with pytest.raises(DocumentLimitError, match=r"unzips to 5\.\d MB, over the 4\.0 MB limit"):
        parse_bytes(honest, "five.docx", limits=limits)
    assert parse_bytes(honest, "five.docx").blocks[0].text == "A harmless looking paragraph."


def test_docx_with_more_xml_than_its_limit_is_refused(tmp_path: Path) -> None:
    xml_bomb = docx_bomb(tmp_path, 30 * MB)  # under the 100 MB total, over 20 MB of XML
    with pytest.raises(DocumentLimitError) as caught:
        parse_bytes(xml_bomb, "xml.docx")
    assert re.match(
        r"xml\.docx holds 30\.\d MB of XML once unzipped, over the 20\.0 MB limit "
        r"\(SUPERCORE_INGEST_MAX_XML_MB\)",
        str(caught.value),
    )


def test_zip_with_too_many_entries_is_refused_before_zipfile_reads_it() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(50):
            archive.writestr(f"part{n}.xml", b"<x/>")
    with pytest.raises(DocumentLimitError) as caught:
        parse_bytes(out.getvalue(), "many.docx", limits=IngestLimits(max_zip_entries=20))
    assert str(caught.value).startswith("many.docx holds more than 20 files inside")
    assert "(SUPERCORE_INGEST_MAX_ZIP_ENTRIES)" in str(caught.value)


def nested_html(depth: int) -> bytes:
    return ("<html><body>" + "<div>" * depth + "deep text" + "</div>" * depth).encode()


def test_deeply_nested_html_is_refused_naming_the_limit() -> None:
    with pytest.raises(DocumentLimitError) as caught:
        parse_bytes(nested_html(600), "nested.html")
    assert str(caught.value) == (
        "nested.html nests HTML elements more than 512 deep, over the limit "
        "(SUPERCORE_INGEST_MAX_HTML_DEPTH): simplify the page or raise the limit"
    )


def test_html_walk_is_iterative_far_past_the_recursion_limit() -> None:
    depth = 5 * sys.getrecursionlimit()
    parsed = parse_bytes(nested_html(depth), "deep.html", limits=IngestLimits(max_html_depth=10**6))
    assert [b.text for b in parsed.blocks] == ["deep text"]


def test_html_with_more_tags_than_its_limit_is_refused_before_parsing() -> None:
    data = b"<b>x</b>" * 1_500
    peak, raised = peak_memory(
        lambda: parse_bytes(data, "tags.html", limits=IngestLimits(max_html_tags=2_000))
    )
    assert str(raised) == (
        "tags.html has about 3,000 HTML tags, over the 2,000-tag limit "
        "(SUPERCORE_INGEST_MAX_HTML_TAGS): split the page or raise the limit"
    )
    assert peak < 100_000  # nothing was parsed


def test_utf16_text_with_nul_characters_is_decoded_and_cleaned() -> None:
    data = "Hello\x00World\n\nsecond paragraph".encode("utf-16")
    parsed = parse_bytes(data, "wide.txt")
    assert [b.text for b in parsed.blocks] == ["HelloWorld", "second paragraph"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_text_with_any_byte_order_mark_decodes(encoding: str) -> None:
    data = "\ufeffcafé au lait".encode(encoding)
    assert parse_bytes(data, "bom.txt").blocks[0].text == "café au lait"


def test_utf16_of_odd_length_says_it_is_cut_short() -> None:
    data = "Hello".encode("utf-16") + b"!"
    with pytest.raises(CorruptFileError) as caught:
        parse_bytes(data, "odd.txt")
    assert str(caught.value).startswith(
        "odd.txt starts with a UTF-16 byte-order mark but its length (13 bytes) is not a "
        "multiple of 2: the file is cut short or damaged"
    )
    assert "UTF-8 text" not in str(caught.value)


def test_utf16_with_a_lone_surrogate_says_it_is_not_valid_utf16() -> None:
    data = b"\xff\xfe" + "ab".encode("utf-16-le") + b"\x00\xd8"
    with pytest.raises(CorruptFileError, match="is not valid UTF-16 text"):
        parse_bytes(data, "broken.txt")


def test_pdf_text_with_a_nul_character_is_cleaned() -> None:
    parsed = parse_bytes(make_pdf([["Hello\\000World", "second line"]]), "nul.pdf")
    text = " ".join(b.text for b in parsed.blocks)
    assert "\x00" not in text
    assert "HelloWorld" in text


def test_pdf_over_the_page_limit_is_refused_naming_it() -> None:
    data = make_pdf([["one"], ["two"], ["three"]])
    with pytest.raises(DocumentLimitError) as caught:
        parse_bytes(data, "long.pdf", limits=IngestLimits(max_pdf_pages=2))
    assert str(caught.value) == (
        "long.pdf has 3 pages, over the 2-page limit (SUPERCORE_INGEST_MAX_PDF_PAGES): "
        "split it into smaller PDFs"
    )


@pytest.mark.parametrize(
    ("filename", "data"),
    [("much.pdf", make_pdf([["many words on this page"]] * 3)), ("much.txt", b"x" * 40)],
)
def test_text_over_the_extracted_text_limit_is_refused(filename: str, data: bytes) -> None:
    with pytest.raises(DocumentLimitError) as caught:
        parse_bytes(data, filename, limits=IngestLimits(max_text_chars=30))
    assert str(caught.value) == (
        f"{filename} holds more than 30 characters of text, over the limit "
        "(SUPERCORE_INGEST_MAX_TEXT_CHARS): split it into smaller files"
    )


def test_chunks_over_the_byte_limit_are_split_at_spaces_whole_characters() -> None:
    text = " ".join(f"wörd{n}" for n in range(3_000))
    chunks = [Chunk(0, "short", 1, {"kind": "text"}), Chunk(1, text, 3_000, {"kind": "text"})]
    capped = cap_chunk_bytes(chunks, HashingEmbedder(), 2_000)
    assert [c.index for c in capped] == list(range(len(capped)))
    assert all(len(c.text.encode()) <= 2_000 for c in capped)
    assert " ".join(c.text for c in capped[1:]) == text  # nothing lost, nothing cut in two
    assert capped[0].text == "short"


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        ("evil.txt\ncompleted fake.txt", "evil.txt\\ncompleted fake.txt"),
        ("nul\x00.txt", "nul\\x00.txt"),
        ("\x1b[31mred.txt", "\\x1b[31mred.txt"),
        ("rtl\u202etxt.exe", "rtl\\u202etxt.exe"),
    ],
)
def test_filenames_with_control_characters_are_refused_and_shown_escaped(
    filename: str, shown: str
) -> None:
    assert terminal_text(filename) == shown
    with pytest.raises(InvalidFilenameError) as caught:
        check_filename(filename)
    assert f"the file name {shown} contains the control character" in str(caught.value)
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


@pytest.mark.parametrize("filename", ["a" * 300 + ".txt", "x." + "t" * 300, "  "])
def test_overlong_or_blank_filenames_are_refused(filename: str) -> None:
    with pytest.raises(InvalidFilenameError, match=r"over the 255-character limit|blank name"):
        check_filename(filename)


def test_oversized_file_is_refused_from_its_size_without_being_read(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as file:
        file.truncate(200 * MB)  # sparse: 200 MB to stat, nothing on disk
    peak, _ = peak_memory(lambda: read_source(big, 50 * MB))
    source = read_source(big, 50 * MB)
    assert source.data == b"" and source.problem is not None
    assert str(source.problem).startswith("big.txt is 200.0 MB, over the 50.0 MB limit")
    assert peak < MB


def test_a_fifo_or_device_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        source = read_source(path, 50 * MB)
        assert source.problem is not None
        assert str(source.problem).endswith("is not a regular file: copy its content")


def test_limits_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERCORE_INGEST_MAX_PDF_PAGES", "7")
    monkeypatch.setenv("SUPERCORE_INGEST_MAX_INFLATED_MB", "1.5")
    limits = IngestLimits.from_settings(Settings())
    assert limits.max_pdf_pages == 7
    assert limits.max_inflated_bytes == int(1.5 * MB)
    assert limits.max_file_bytes == 50 * MB


def test_a_long_run_without_spaces_is_chunked_in_linear_time() -> None:
    class FourCharTokens:
        def count_tokens(self, text: str) -> int:
            return len(text) // 4 + 1

    started = time.perf_counter()
    chunks = chunk_blocks([Block("a" * 5_000_000, "text")], FourCharTokens(), ChunkingConfig())
    assert time.perf_counter() - started < 10  # was quadratic: the rest copied per piece
    assert "".join(c.text for c in chunks) == "a" * 5_000_000
    assert all(c.token_count <= 200 for c in chunks)


def test_docx_of_many_short_paragraphs_parses_in_linear_time(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Minutes", level=1)
    document.save(str(tmp_path / "seed.docx"))
    out = io.BytesIO()
    paragraph = b"<w:p><w:r><w:t>word</w:t></w:r></w:p>"
    with (
        zipfile.ZipFile(tmp_path / "seed.docx") as seed,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as many,
    ):
        for info in seed.infolist():
            xml = seed.read(info)
            if info.filename == "word/document.xml":
                head, tail = xml.split(b"</w:body>")
                xml = head + paragraph * 50_000 + b"</w:body>" + tail
            many.writestr(info, xml)
    started = time.perf_counter()
    parsed = parse_bytes(out.getvalue(), "many.docx")
    assert time.perf_counter() - started < 15  # was 1.6 ms a paragraph: 80 s
    assert len(parsed.blocks) == 50_001
    assert parsed.title == "Minutes"
