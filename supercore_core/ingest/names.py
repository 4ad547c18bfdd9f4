"""File names: refuse the ones that cannot be stored or shown safely, and print any safely.

A document's file name is its identity in an oracle and is shown in the CLI, the dashboard
and answers' sources, so it must not carry NUL (PostgreSQL refuses it), line breaks or
terminal escapes (a name could forge output lines or recolour a terminal).
"""

import re

from supercore_core.errors import InvalidFilenameError
from supercore_core.rendering import terminal_text

MAX_FILENAME_CHARS = 255
# C0 and C1 controls, DEL, and the Unicode line/paragraph separators and bidi overrides.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def check_filename(filename: str) -> str:
    """Return ``filename`` if it can be stored and shown, else raise a clear error.

    Raises:
        InvalidFilenameError: It is blank, longer than 255 characters, or holds NUL,
            a line break or another control character.
    """
    shown = terminal_text(filename[:80]) + ("..." if len(filename) > 80 else "")
    if not filename.strip():
        raise InvalidFilenameError("a file has a blank name: give it a name with an extension")
    if len(filename) > MAX_FILENAME_CHARS:
        raise InvalidFilenameError(
            f"the file name {shown} is {len(filename)} characters long, over the "
            f"{MAX_FILENAME_CHARS}-character limit: rename it"
        )
    bad = _UNSAFE.search(filename)
    if bad is not None:
        raise InvalidFilenameError(
            f"the file name {shown} contains the control character {terminal_text(bad.group())}: "
            "rename it without line breaks, NUL or other control characters"
        )
    return filename
