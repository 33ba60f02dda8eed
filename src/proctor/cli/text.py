"""Text from the log, a caller or an upstream, made safe to show on a terminal.

One rule for every table cell and every line the CLI prints of text it did not write: characters
that are not printable are shown as escapes (:func:`proctor.text.safe_text`), and a cell is a
:class:`rich.text.Text`, which rich never reads as markup (``[bold]``) or emoji codes (``:x:``).
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text

from proctor.text import safe_text


def cell(value: object, limit: int | None = None) -> Text:
    """A table cell of text Proctor did not write: escaped as :func:`safe_text`, never markup."""
    return Text(safe_text(value, limit))


def markup_safe(value: object, limit: int | None = None, *, newlines: bool = False) -> str:
    """:func:`safe_text`, also escaped for a rich markup string (``out.print(f"… {markup_safe(x)}")``)."""
    return escape(safe_text(value, limit, newlines=newlines))


__all__ = ["cell", "markup_safe", "safe_text"]
