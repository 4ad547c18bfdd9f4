"""BM25 corpus statistics (revision 0018), maintained by triggers on document_chunks."""

import uuid

from sqlalchemy import BigInteger, Integer, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from supercore_core.models.base import Base, _tenant_fks, _uuid


class Bm25OracleStats(Base):
    """An oracle's number of chunks and total length (sum of term frequencies)."""

    __tablename__ = "bm25_oracle_stats"
    __table_args__ = (
        *_tenant_fks("bm25_oracle_stats"),
        {
            "comment": "BM25 statistics of an oracle: number of chunks (N) and total length "
            "(sum of term frequencies; avgdl = total_length / N). Maintained by triggers on "
            "document_chunks."
        },
    )

    oracle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    solution_id: Mapped[uuid.UUID] = _uuid()
    chunk_count: Mapped[int] = mapped_column(BigInteger)
    total_length: Mapped[int] = mapped_column(BigInteger)


class Bm25TermStats(Base):
    """The document frequency of one lexeme in one oracle (rows with df 0 are removed)."""

    __tablename__ = "bm25_term_stats"
    __table_args__ = (
        *_tenant_fks("bm25_term_stats"),
        {
            "comment": "BM25 document frequency: the number of an oracle's chunks whose "
            "tsvector holds the lexeme (rows with df 0 are removed), and an upper bound of its "
            "term frequency in any of them (max_tf, never lowered by deletes; it bounds a "
            "term's score for pruning). Maintained by triggers on document_chunks."
        },
    )

    oracle_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    lexeme: Mapped[str] = mapped_column(Text, primary_key=True)
    solution_id: Mapped[uuid.UUID] = _uuid()
    df: Mapped[int] = mapped_column(BigInteger)
    max_tf: Mapped[int] = mapped_column(Integer)


class Bm25ChunkLength(Base):
    """One chunk's BM25 length (no foreign keys: the chunk triggers add and remove it)."""

    __tablename__ = "bm25_chunk_lengths"
    __table_args__ = (
        {
            "comment": "BM25 document length of each chunk (bm25_length of its content_tsv), "
            "read at query time instead of summing the tsvector's positions per candidate. "
            "Maintained by triggers on document_chunks."
        },
    )

    chunk_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    solution_id: Mapped[uuid.UUID] = _uuid()
    length: Mapped[int] = mapped_column(Integer)
