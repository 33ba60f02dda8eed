"""The one safe-text rule of the CLI: text Proctor did not write reaches a terminal as text."""

from __future__ import annotations

import io
import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from proctor.cli.text import cell, markup_safe, safe_text

#: what must never reach a terminal raw: C0 (but newline, which rich writes between rows) and
#: C1 controls, DEL, and the bidirectional controls that reorder what a person reads
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def _raw_control(text: str) -> set[str]:
    return {
        c
        for c in text
        if (ord(c) < 0x20 and c != "\n")
        or 0x7F <= ord(c) <= 0x9F
        or c in _BIDI
        or unicodedata.category(c) == "Cs"
    }


def _rendered(*cells: Text) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=400, force_terminal=False, color_system=None)
    t = Table("a", "b")
    t.add_row(*cells)
    console.print(t)
    return buf.getvalue()


_hostile = st.text(
    alphabet=st.one_of(
        st.characters(max_codepoint=0x9F),
        st.sampled_from(sorted(_BIDI | {"\u200b", "\u2028", "\u2029", "\ufeff", "[", "]", "/", ":", "\\"})),
        st.characters(blacklist_categories=()),
    ),
    max_size=60,
)


@given(_hostile)
def test_safe_text_leaves_no_control_character(text: str) -> None:
    shown = safe_text(text)
    assert shown.isprintable()
    assert not _raw_control(shown)
    assert not {unicodedata.category(c) for c in shown} & {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@given(_hostile)
def test_a_table_cell_renders_no_control_character_and_no_markup(text: str) -> None:
    out = _rendered(cell(text), cell("[bold]x[/bold]"))
    assert not _raw_control(out), repr(out)
    assert "[bold]x[/bold]" in out
    # markup-escaped text for a markup string renders as the same safe text
    buf = io.StringIO()
    Console(file=buf, width=10_000, color_system=None).print(markup_safe(text), highlight=False, end="")
    assert not _raw_control(buf.getvalue())


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))))
def test_printable_text_is_shown_as_it_is(text: str) -> None:
    assert safe_text(text) == text


def test_known_escapes_and_limit() -> None:
    assert safe_text("a\x1b[2Jb\x9bc\u202ed\U000e0001") == "a\\x1b[2Jb\\x9bc\\u202ed\\U000e0001"
    assert safe_text("a\nb\tc") == "a\\x0ab\\x09c"
    assert safe_text("a\nb\tc", newlines=True) == "a\nb\tc"
    assert safe_text("abcdef", 3) == "abc…"
    assert markup_safe("[red]x[/]") == "\\[red]x\\[/]"

    class Bad:
        def __str__(self) -> str:
            raise RuntimeError

    assert safe_text(Bad()) == "<Bad>"
