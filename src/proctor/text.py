"""Text Proctor did not write (from the log, a caller or an upstream), made safe to show or record.

Characters that are not printable (C0 and C1 controls such as ESC and CSI, DEL, bidirectional
overrides like U+202E, zero-width and other format characters, line and paragraph separators,
surrogates, private use and unassigned code points) are shown as escapes (``\\x1b``, ``\\u202e``).
The CLI's table cells and markup (:mod:`proctor.cli.text`) build on it; so does any service that
records such text in a form a person will read (the names of unroutable tools in ``tools.pinned``).
"""

from __future__ import annotations


def _escape_char(c: str) -> str:
    n = ord(c)
    if n < 0x100:
        return f"\\x{n:02x}"
    if n < 0x10000:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


def safe_text(value: object, limit: int | None = None, *, newlines: bool = False) -> str:
    """``value`` as text with every non-printable character escaped, cut at ``limit`` characters
    (marked ``…``). With ``newlines``, ``\\n`` and ``\\t`` are kept (for multi-line output).

    >>> safe_text("a\\x1b[2Jb\\u202ec")
    'a\\\\x1b[2Jb\\\\u202ec'
    """
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # a value whose str() raises is shown as what it is, not as a crash
        text = f"<{type(value).__name__}>"
    cut = text if limit is None else text[:limit]
    keep = "\n\t" if newlines else ""
    shown = "".join(c if c.isprintable() or c in keep else _escape_char(c) for c in cut)
    return shown + ("…" if limit is not None and len(text) > limit else "")


__all__ = ["safe_text"]
