"""One error hierarchy for SuperCore Workbench.

``SupercoreError`` is the root of everything this library raises on purpose.

- ``UserError`` and its subclasses are safe to show verbatim: the message says what went
  wrong and what to do. Surfaces (CLI, dashboard, notebooks) print them without a traceback.
- Anything that is not a ``UserError`` is a bug and keeps its traceback.
"""


class SupercoreError(Exception):
    """Base class of every error this library raises deliberately."""


class UserError(SupercoreError):
    """A problem the user can fix; the message is safe to show as is."""


class ConfigurationError(UserError, ValueError):
    """A setting is missing or malformed (a bad DATABASE_URL, an unknown retrieval mode)."""


class DatabaseUnavailableError(UserError):
    """The database server cannot be reached."""


class DatabaseLimitError(UserError):
    """The database stopped a statement at a limit (statement timeout, full disk, memory)."""


class EmbeddedServerError(UserError):
    """The embedded PostgreSQL server could not be started, stopped or inspected."""


class TenantContextError(UserError):
    """A tenant-scoped operation was attempted without a valid tenant."""


class TenantSuspendedError(UserError):
    """The tenant is suspended: read-only for everyone in a tenant session."""


class RoleError(UserError):
    """The signed-in person's tenant role does not allow this (or they are not a member)."""


class NotFoundError(UserError):
    """A tenant, oracle, document or other named thing does not exist (or is not visible)."""


class DocumentError(UserError):
    """A document cannot be ingested; the document is marked failed with this message."""


class UnsupportedFileError(DocumentError):
    """The file type is not one we can parse."""


class CorruptFileError(DocumentError):
    """The file could not be parsed (damaged, encrypted, wrong content for its extension)."""


class EmptyDocumentError(DocumentError):
    """The file parsed but contains no text."""


class OversizedFileError(DocumentError):
    """The file is larger than the configured ingestion limit."""


class DocumentLimitError(DocumentError):
    """The document goes past an ingestion limit (inflated size, entries, pages, text, nesting);
    the message names the limit's setting."""


class InvalidFilenameError(DocumentError):
    """The file name cannot be stored or shown safely (NUL, control characters, too long)."""


class LLMProviderError(UserError):
    """The language model's API failed (timeout, rate limit, bad key, server error)."""


class BudgetExceededError(UserError):
    """A question was refused because it could exceed an oracle's or tenant's monthly budget."""


class InvalidSettingError(ConfigurationError):
    """An oracle or retrieval setting has the wrong type, is out of range or is not finite."""


class InvalidQuestionError(UserError):
    """A question or chat session id is too long or holds characters that are not allowed."""


class GoldenImportError(UserError):
    """A golden-set file has rows that cannot be imported; nothing was imported.

    ``problems`` holds one line per bad row or unknown document.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:30]
        more = f"\n... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__(
            f"nothing imported: {len(problems)} problem(s)\n" + "\n".join(shown) + more
        )
