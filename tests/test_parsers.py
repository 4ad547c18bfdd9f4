"""Parsing uploaded files into text and table blocks, and refusing bad input clearly."""

import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject

from supercore_core.errors import (
    CorruptFileError,
    EmptyDocumentError,
    OversizedFileError,
    UnsupportedFileError,
    UserError,
)
from supercore_core.ingest.parsers import (
    SUPPORTED_TYPES,
    Block,
    file_type_of,
    parse_bytes,
)

DATA = Path(__file__).parent / "data" / "ingest"


def make_pdf(pages: list[list[str]], password: str | None = None) -> bytes:
    """A PDF with one page per item, each page showing the given lines in Helvetica."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        shown = " 0 -14 Td ".join(f"({line}) Tj" for line in lines)
        content = StreamObject()
        content.set_data(f"BT /F1 12 Tf 72 720 Td {shown} ET".encode())
        page.replace_contents(content)
    if password is not None:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def save_docx(document: DocxDocument, path: Path) -> bytes:
    document.save(str(path))
    return path.read_bytes()


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("notes.txt", "txt"),
        ("NOTES.TXT", "txt"),
        ("guide.md", "md"),
        ("guide.Markdown", "md"),
        ("page.html", "html"),
        ("page.HTM", "html"),
        ("report.pdf", "pdf"),
        ("letters/report.v2.docx", "docx"),
    ],
)
def test_file_type_is_taken_from_the_extension(filename: str, expected: str) -> None:
    assert file_type_of(filename) == expected


def test_supported_types_are_the_five_formats() -> None:
    assert SUPPORTED_TYPES == ("docx", "html", "md", "pdf", "txt")


@pytest.mark.parametrize(("filename", "shown"), [("data.xyz", ".xyz"), ("old.doc", ".doc")])
def test_unsupported_extension_says_what_to_use(filename: str, shown: str) -> None:
    with pytest.raises(UnsupportedFileError) as caught:
        parse_bytes(b"hello", filename)
    assert str(caught.value) == f"unsupported file type {shown}: use pdf, docx, md, html or txt"
    assert isinstance(caught.value, UserError)


def test_missing_extension_is_unsupported() -> None:
    with pytest.raises(UnsupportedFileError, match="README has no file extension: use pdf"):
        file_type_of("docs/README")


def test_txt_paragraphs_split_on_blank_lines_with_whitespace_collapsed() -> None:
    parsed = parse_bytes((DATA / "sample.txt").read_bytes(), "sample.txt")
    assert parsed.blocks == (
        Block("Annual fees are charged on the first day of each year.", "text"),
        Block("Monthly statements list every charge.", "text"),
        Block("Contact support to dispute a charge.", "text"),
    )
    assert (parsed.file_type, parsed.mime_type, parsed.title) == ("txt", "text/plain", None)


def test_txt_with_byte_order_marks_decodes() -> None:
    utf8 = parse_bytes("\ufeffCafé crème".encode(), "a.txt")
    utf16 = parse_bytes("Café crème".encode("utf-16"), "b.txt")
    assert utf8.blocks == utf16.blocks == (Block("Café crème", "text"),)


def test_markdown_keeps_tables_whole_and_headings_as_text() -> None:
    parsed = parse_bytes((DATA / "sample.md").read_bytes(), "sample.md")
    assert parsed.title == "Fee Guide"
    assert (parsed.file_type, parsed.mime_type) == ("md", "text/markdown")
    assert parsed.blocks == (
        Block("Fee Guide", "text"),
        Block("This guide explains the fees. It covers every plan.", "text"),
        Block("Plans", "text"),
        Block(
            "| Plan | Monthly fee |\n|------|-------------|\n| Basic | 5 EUR |\n| Pro | 12 EUR |",
            "table",
        ),
        Block("Fees are billed monthly.", "text"),
        Block("Refunds", "text"),
        Block("Refunds take five days.", "text"),
    )


def test_markdown_without_top_heading_has_no_title() -> None:
    assert parse_bytes(b"## Section\n\nBody", "a.md").title is None


def test_html_blocks_in_document_order_without_scripts_or_styles() -> None:
    parsed = parse_bytes((DATA / "sample.html").read_bytes(), "sample.html")
    assert parsed.title == "Fee Guide"
    assert (parsed.file_type, parsed.mime_type) == ("html", "text/html")
    assert parsed.blocks == (
        Block("Fees", "text"),
        Block("This guide explains the fees. It covers every plan.", "text"),
        Block("Basic plan", "text"),
        Block("Pro plan", "text"),
        Block("Loose text in a div", "text"),
        Block("| Plan | Monthly fee |\n| Basic | 5 EUR |\n| Pro | 12 EUR |", "table"),
        Block("Text after the table.", "text"),
    )


def test_html_title_falls_back_to_first_h1_and_pipes_in_cells_are_escaped() -> None:
    html = b"<h1>Price  list</h1><table><tr><td>a|b</td><td> </td></tr><tr></tr></table>"
    parsed = parse_bytes(html, "list.htm")
    assert parsed.title == "Price list"
    assert parsed.blocks[1] == Block("| a\\|b |  |", "table")


def test_html_with_only_scripts_is_empty() -> None:
    with pytest.raises(EmptyDocumentError, match=r"page\.html contains no text"):
        parse_bytes(b"<html><script>x()</script><style>p{}</style></html>", "page.html")


def test_pdf_blocks_carry_one_based_page_numbers() -> None:
    data = make_pdf([["Page one text.", "More on one."], ["Second page here."]])
    parsed = parse_bytes(data, "report.pdf")
    assert parsed.blocks == (
        Block("Page one text. More on one.", "text", page=1),
        Block("Second page here.", "text", page=2),
    )
    assert (parsed.file_type, parsed.mime_type) == ("pdf", "application/pdf")


def test_pdf_without_text_may_be_a_scanned_image() -> None:
    with pytest.raises(EmptyDocumentError, match=r"scan\.pdf contains no extractable text: it may"):
        parse_bytes(make_pdf([[]]), "scan.pdf")


def test_password_protected_pdf_is_refused() -> None:
    data = make_pdf([["Secret"]], password="pw")
    with pytest.raises(
        CorruptFileError, match=r"locked\.pdf is not a readable PDF: it is password"
    ):
        parse_bytes(data, "locked.pdf")


@pytest.mark.parametrize(
    "data", [b"%PDF-1.4 this is not really a pdf", b"plain text", b"%PDF-1.7\n%%EOF\n"]
)
def test_corrupt_pdf_is_refused_with_the_reason(data: bytes) -> None:
    with pytest.raises(CorruptFileError, match=r"^bad\.pdf is not a readable PDF: .+re-save"):
        parse_bytes(data, "bad.pdf")


def test_truncated_pdf_is_refused() -> None:
    data = make_pdf([["Page one text."]])
    with pytest.raises(CorruptFileError, match="is not a readable PDF"):
        parse_bytes(data[: len(data) // 3], "cut.pdf")


def test_docx_paragraphs_and_tables_in_body_order(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Fee   Guide", level=1)
    document.add_paragraph("Intro   paragraph.")
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(
        table.rows, [("Plan", "Fee"), ("Basic", "5"), ("Pro", "12")], strict=True
    ):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_paragraph("")
    document.add_paragraph("Closing words.")
    parsed = parse_bytes(save_docx(document, tmp_path / "guide.docx"), "guide.docx")
    assert parsed.title == "Fee Guide"
    assert parsed.file_type == "docx"
    assert parsed.mime_type.endswith("wordprocessingml.document")
    assert parsed.blocks == (
        Block("Fee Guide", "text"),
        Block("Intro paragraph.", "text"),
        Block("| Plan | Fee |\n| Basic | 5 |\n| Pro | 12 |", "table"),
        Block("Closing words.", "text"),
    )


def test_docx_title_comes_from_core_properties_first(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Official Title"
    document.add_heading("Heading", level=1)
    parsed = parse_bytes(save_docx(document, tmp_path / "t.docx"), "t.docx")
    assert parsed.title == "Official Title"


def test_docx_without_heading_has_no_title(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Just text.")
    assert parse_bytes(save_docx(document, tmp_path / "p.docx"), "p.docx").title is None


def zip_without_word_parts() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    return buffer.getvalue()


@pytest.mark.parametrize("data", [b"not a zip file at all", zip_without_word_parts()])
def test_corrupt_docx_is_refused(data: bytes) -> None:
    with pytest.raises(
        CorruptFileError, match=r"^bad\.docx is not a readable Word document .+save"
    ):
        parse_bytes(data, "bad.docx")


def test_empty_docx_contains_no_text(tmp_path: Path) -> None:
    data = save_docx(docx.Document(), tmp_path / "empty.docx")
    with pytest.raises(EmptyDocumentError, match=r"empty\.docx contains no text"):
        parse_bytes(data, "empty.docx")


@pytest.mark.parametrize("filename", ["a.txt", "a.md", "a.html", "a.pdf", "a.docx"])
@pytest.mark.parametrize("data", [b"", b" \n\t\r\n  "])
def test_empty_or_whitespace_file_contains_no_text(filename: str, data: bytes) -> None:
    with pytest.raises(EmptyDocumentError) as caught:
        parse_bytes(data, f"docs/{filename}")
    assert str(caught.value) == f"{filename} contains no text: upload a file that has text in it"


@pytest.mark.parametrize("filename", ["garbage.txt", "garbage.md", "garbage.html"])
def test_binary_content_named_as_text_is_refused(filename: str) -> None:
    with pytest.raises(CorruptFileError, match=f"{filename} looks like a binary file"):
        parse_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", filename)


def test_undecodable_text_is_refused() -> None:
    with pytest.raises(CorruptFileError, match=r"latin\.txt is not UTF-8 text: save it as UTF-8"):
        parse_bytes("café".encode("latin-1"), "latin.txt")


def test_file_over_the_limit_is_refused_with_the_limit() -> None:
    with pytest.raises(OversizedFileError) as caught:
        parse_bytes(b"x" * 11, "big.txt", max_bytes=10)
    assert str(caught.value) == (
        "big.txt is 0.000010 MB (11 bytes), over the 0.000010 MB (10 bytes) limit "
        "(SUPERCORE_INGEST_MAX_FILE_MB): split it into smaller files"
    )


def test_default_limit_is_stated_in_megabytes() -> None:
    with pytest.raises(
        OversizedFileError, match=r"over the 50\.0 MB limit \(SUPERCORE_INGEST_MAX_FILE_MB\)"
    ):
        parse_bytes(b"x" * (50 * 1024 * 1024 + 1), "huge.txt")


def test_file_at_the_limit_is_accepted() -> None:
    assert parse_bytes(b"x" * 10, "ok.txt", max_bytes=10).blocks == (Block("x" * 10, "text"),)
