"""CLI commands: ``supercore chat`` (interactive, sources and cost per turn) and ``usage``."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import typer
from sqlalchemy.orm import Session, sessionmaker

from supercore_core.catalog import oracle_by_id
from supercore_core.chat import Answer, ask
from supercore_core.cli_support import cli_sessions, resolve
from supercore_core.config import Settings
from supercore_core.db.sessions import tenant_session
from supercore_core.embedding import Embedder, embedder_for
from supercore_core.errors import UserError
from supercore_core.llm import ChatModel, chat_model_for
from supercore_core.rendering import terminal_text
from supercore_core.usage import usage

QUIT = {"exit", "quit", ":q"}


def chat_command(
    tenant: Annotated[str, typer.Option("--tenant", help="tenant slug")],
    oracle: Annotated[str, typer.Option("--oracle", help="oracle name")],
    question: Annotated[
        str | None, typer.Option("--question", "-q", help="ask once and exit")
    ] = None,
    session_id: Annotated[
        str | None, typer.Option("--session", help="continue this conversation")
    ] = None,
) -> None:
    """Chat with an oracle; prints each answer's sources, tokens and cost."""
    settings = Settings()
    conversation = session_id or f"cli-{uuid.uuid4().hex[:12]}"
    with cli_sessions() as sessions:
        solution_id, oracle_id = resolve(sessions, tenant, oracle)
        assert oracle_id is not None
        with tenant_session(sessions, solution_id=solution_id) as session:
            row = oracle_by_id(session, oracle_id)
            model, embedder = chat_model_for(row, settings), embedder_for(row, settings)
        _banner(model, conversation)
        turn = Turn(sessions, solution_id, oracle_id, conversation, model, embedder, settings)
        for text in [question] if question is not None else _prompt_forever():
            _print_footer(turn.ask(text))


def _prompt_forever() -> Iterator[str]:
    while True:
        try:
            text = input("you> ")
        except EOFError:
            return
        if text.strip().lower() in QUIT:
            return
        if text.strip():
            yield text


def _banner(model: ChatModel, conversation: str) -> None:
    where = "OFFLINE answerer (no LLM key configured)" if model.offline else model.model
    typer.secho(f"chatting with {where}; conversation {conversation}", fg=typer.colors.CYAN)


@dataclass(frozen=True)
class Turn:
    """Everything one CLI chat turn needs."""

    sessions: sessionmaker[Session]
    solution_id: UUID
    oracle_id: UUID
    conversation: str
    model: ChatModel
    embedder: Embedder
    settings: Settings

    def ask(self, question: str) -> Answer:
        """Stream one answer; a provider error is raised after the question is committed."""
        typer.echo("oracle> ", nl=False)
        with tenant_session(self.sessions, solution_id=self.solution_id) as session:
            answer = ask(
                session, oracle_id=self.oracle_id, session_id=self.conversation,
                question=question, chat_model=self.model, embedder=self.embedder,
                settings=self.settings, on_token=_print_piece,
            )  # fmt: skip
        typer.echo()
        answer.raise_for_error()
        return answer


def _print_piece(piece: str) -> None:
    typer.echo(terminal_text(piece, keep_newlines=True), nl=False)


def _print_footer(answer: Answer) -> None:
    for source in answer.sources:
        similarity = "" if source.similarity is None else f", similarity {source.similarity:.2f}"
        typer.echo(
            f"  [{source.number}] {terminal_text(source.document_title)} chunk {source.chunk_index}"
            f" (score {source.score:.4f}{similarity})"
        )
    cost = "unpriced" if answer.cost_usd is None else f"${answer.cost_usd:.6f}"
    estimated = " (estimated)" if answer.tokens_estimated else ""
    typer.secho(
        f"  {answer.input_tokens} in + {answer.output_tokens} out tokens{estimated}, {cost},"
        f" {answer.latency_ms} ms, {answer.model}",
        fg=typer.colors.BRIGHT_BLACK,
    )


def usage_command(
    tenant: Annotated[str, typer.Option("--tenant", help="tenant slug")],
    since: Annotated[
        str | None, typer.Option("--since", help="YYYY-MM-DD (UTC); default: everything")
    ] = None,
) -> None:
    """Tokens, cost and messages per day, oracle and model for a tenant."""
    start = _date(since)
    with cli_sessions() as sessions:
        solution_id, _ = resolve(sessions, tenant, None)
        with tenant_session(sessions, solution_id=solution_id) as session:
            report = usage(session, since=start)
    if not report.rows:
        typer.echo("no chat usage recorded" + (f" since {since}" if since else ""))
        return
    typer.echo(f"{'day':<10}  {'oracle':<20}  {'model':<28}  msgs  tokens     cost_usd")
    for r in report.rows:
        unpriced = f" (+{r.unpriced_messages} unpriced)" if r.unpriced_messages else ""
        cost = f"{r.cost_usd:.6f}{unpriced}"
        typer.echo(
            f"{r.day.isoformat():<10}  {r.oracle[:20]:<20}  {r.model[:28]:<28}  {r.messages:>4}"
            f"  {r.total_tokens:>9}  {cost}"
        )
    unpriced = f", {report.unpriced_messages} unpriced" if report.unpriced_messages else ""
    typer.echo(f"total: {report.total_tokens} tokens, ${report.total_cost_usd:.6f}{unpriced}")


def _date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError as exc:
        raise UserError(f"--since must be a date like 2026-01-31, not {value!r}") from exc
