"""Documents of an oracle: upload with progress, status of each, chunks, delete, re-ingest."""

import re
from uuid import UUID

import streamlit as st
import table_columns
import workbench_ui as ui
from streamlit.runtime.uploaded_file_manager import UploadedFile

from supercore_core import documents
from supercore_core.errors import DocumentError
from supercore_core.ingest.limits import IngestLimits
from supercore_core.ingest.names import check_filename
from supercore_core.ingest.parsers import SUPPORTED_TYPES, check_file_size, file_type_of
from supercore_core.ingest.pipeline import IngestOutcome, SourceFile
from supercore_core.ingest.progress import IngestMeter
from supercore_core.rendering import terminal_text

PAGE_SIZE = 10
LIMITS = IngestLimits.from_settings(ui.settings())
_MARKDOWN = re.compile(r"([\\`*_\[\]()<>!#|])")


def plain(text: str) -> str:
    """``text`` shown literally in st.error/st.success (which render Markdown): a file name
    cannot become a link, an image or HTML."""
    return _MARKDOWN.sub(r"\\\1", terminal_text(text))


@st.cache_data(ttl=10, show_spinner=False)
def load_documents(solution_id: UUID, oracle_id: UUID, person: str) -> documents.DocumentList:
    with ui.tenant(solution_id) as session:
        return documents.list_documents(session, oracle_id)


@st.cache_data(ttl=10, show_spinner=False)
def load_chunks(
    solution_id: UUID, document_id: UUID, offset: int, person: str
) -> documents.ChunkPage:
    with ui.tenant(solution_id) as session:
        return documents.chunk_page(session, document_id, offset=offset, limit=PAGE_SIZE)


def refresh() -> None:
    load_documents.clear()
    load_chunks.clear()


def checked_sources(uploads: list[UploadedFile]) -> list[SourceFile]:
    """The uploads as sources; any bad name, type or size stops with one message, before a
    byte of any file is read."""
    if not uploads:
        ui.fail("choose at least one file to upload")
    problems = []
    for upload in uploads:
        try:
            check_filename(upload.name)
            file_type_of(upload.name)
            check_file_size(upload.size, upload.name, LIMITS.max_file_bytes)
        except DocumentError as exc:
            problems.append(str(exc))
        if upload.size == 0:
            problems.append(
                f"{terminal_text(upload.name)} is empty: upload a file that has text in it"
            )
    if problems:
        ui.fail(plain("nothing was ingested: " + "; ".join(problems)))
    return [SourceFile(u.name, u.getvalue()) for u in uploads]


tenant = ui.current_tenant()
st.title("Documents")
st.caption(f"Tenant {tenant.name}: everything here is read under row-level security.")
oracle = ui.oracle_picker(tenant.solution_id, key="documents_oracle")

with st.form("upload", clear_on_submit=False):
    uploads = st.file_uploader(
        f"Add documents ({', '.join(SUPPORTED_TYPES)})", accept_multiple_files=True
    )
    submitted = st.form_submit_button("Ingest")
if submitted:
    sources = checked_sources(uploads or [])
    bar = st.progress(0.0, text=f"ingesting {len(sources)} files ...")
    meter = IngestMeter(len(sources))

    def advance(outcome: IngestOutcome) -> None:
        meter.document_done()
        bar.progress(
            meter.done / len(sources), text=f"{meter.summary()}: {plain(outcome.filename)}"
        )

    with ui.shown_errors():
        outcomes = documents.ingest_uploads(
            ui.sessions(), ui.upload_store(), solution_id=tenant.solution_id,
            oracle_id=oracle.oracle_id, sources=sources, on_done=advance, limits=LIMITS,
            embedder=meter.metered(ui.embedder(tenant.solution_id, oracle.oracle_id)),
        )  # fmt: skip
    refresh()
    for outcome in outcomes:
        if outcome.status == "failed":
            st.error(plain(f"{outcome.filename}: {outcome.error}"))
        elif outcome.status == "unchanged":
            st.info(plain(f"{outcome.filename}: already ingested, unchanged"))
        else:
            st.success(plain(f"{outcome.filename}: {outcome.chunks} chunks"))

with ui.shown_errors():
    listed = load_documents(tenant.solution_id, oracle.oracle_id, ui.who().cache_key)
counts = st.columns(4)
for column, status in zip(counts, ("pending", "processing", "completed", "failed"), strict=True):
    column.metric(status.capitalize(), listed.count(status))
if not listed.rows:
    st.info("No documents in this oracle yet: upload some above.")
    st.stop()
listing = listed.to_frame().drop(columns=["document_id", "has_original"])
listing["error"] = listing["error"].fillna("")  # only failed documents have a reason
st.dataframe(
    listing,
    hide_index=True,
    column_config=table_columns.columns(
        "size_bytes",
        "created_at",
        "status",
        "chunks",
        filename="File",
        file_type="Type",
        processed_at=table_columns.datetime_column("Processed"),
        error=st.column_config.TextColumn("Reason (failed)"),
    ),
)

st.subheader("Chunks")
by_id = {r.document_id: r for r in listed.rows}
document_id = st.selectbox(
    "Document", list(by_id), format_func=lambda d: f"{by_id[d].filename} ({by_id[d].status})"
)
row = by_id[document_id]
pages = max(1, -(-row.chunks // PAGE_SIZE))
page = st.number_input("Page", 1, pages, 1, key=f"page_{document_id}") if pages > 1 else 1
with ui.shown_errors():
    chunks = load_chunks(
        tenant.solution_id, document_id, (int(page) - 1) * PAGE_SIZE, ui.who().cache_key
    )
st.caption(f"{chunks.total} chunks, page {page} of {pages}")
for chunk in chunks.rows:
    with st.expander(f"#{chunk.chunk_index} · {chunk.tokens or '?'} tokens"):
        st.text(chunk.content)

left, right = st.columns(2)
if left.button(
    "Re-ingest",
    disabled=not row.has_original,
    help="parse, chunk and embed again from the stored original",
):
    with st.spinner("re-ingesting ..."), ui.shown_errors():
        outcome = documents.reingest(
            ui.sessions(), ui.upload_store(), solution_id=tenant.solution_id,
            document_id=document_id, embedder=ui.embedder(tenant.solution_id, oracle.oracle_id),
            limits=LIMITS,
        )  # fmt: skip
    refresh()
    if outcome.status == "failed":
        ui.fail(plain(f"{outcome.filename}: {outcome.error}"))
    st.success(plain(f"{outcome.filename}: re-ingested, {outcome.chunks} chunks"))
confirm = right.checkbox(f"Yes, delete {plain(row.filename)} and its chunks")
if right.button("Delete", disabled=not confirm, type="primary"):
    with ui.shown_errors(), ui.tenant(tenant.solution_id) as session:
        stored = documents.delete_document(session, document_id)
    ui.upload_store().remove(stored)
    refresh()
    st.rerun()
