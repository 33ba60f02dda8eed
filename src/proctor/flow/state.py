"""One task's flow, in memory: labels of what it read, its sources for provenance (issue 15).

The flow service keeps one :class:`TaskFlow` per live task (rebuilt from the store's sealed
outputs with :meth:`TaskFlow.restore` after a restart); ``proctor replay`` keeps one per trace task.
It is bounded: at most ``max_outputs`` outputs and ``max_bytes`` bytes (UTF-8) of output text are
kept for matching (the oldest are evicted first); the labels' high-water mark keeps everything
the task ever read, evicted or not.

The rules both the service and replay decide with live here, once: a trusted output is matched
without the values its own call carried (:func:`without_echoes`), and once a task that read
untrusted content no longer keeps all its outputs, a value found nowhere counts as untrusted
(:attr:`TaskFlow.lost`).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from proctor.flow.labels import label_output
from proctor.flow.model import (
    FlowFacts,
    Labels,
    Origin,
    Provenance,
    Sensitivity,
    TaskLabels,
    Trust,
)
from proctor.flow.provenance import (
    SourceIndex,
    amount_off_record,
    destination_domains,
    destination_paths,
    forget_values,
    leaf_values,
    normalise_url,
    url_spans,
    utf8_size,
)
from proctor.flow.responses import merge_provenance, trace_responses
from proctor.store.base import ToolRecord

__all__ = ["TaskFlow", "echo_mask", "truncate_utf8", "without_echoes"]


class TaskFlow:
    """One task's flow state: the high-water mark of its labels and its source index."""

    def __init__(
        self,
        purpose: str,
        params: Mapping[str, str],
        *,
        max_outputs: int = 200,
        max_bytes: int = 4 << 20,
        requester: str = "",
        internal: tuple[str, ...] = (),
        keep_bytes: int | None = None,
    ) -> None:
        self.max_outputs = max(0, int(max_outputs))
        #: bytes of one output :meth:`observe` keeps (``flow.max_output_bytes``; None: all)
        self.keep_bytes = keep_bytes
        #: the organisation's domains (see ``proctor.flow.model.internal_domains``)
        self.internal = internal
        self.max_bytes = max(0, int(max_bytes))
        #: ``requester``: the e-mail address of who asked for the task (``requested_by``), part of
        #: the intent ("send me the summary" goes to them)
        self.index = SourceIndex(purpose, params, requester=requester, internal=internal)
        self._labels = TaskLabels()
        self._untrusted: set[str] = set()
        #: some output of the task is not kept for matching (evicted, too large, or no longer in
        #: the store when the task was loaded): a value found nowhere may come from it
        self.lost = False
        #: some output that gave the agent orders (``Labels.steering``) was read: once outputs
        #: are lost too, a value found nowhere may come from it (see :meth:`facts`)
        self.steered_seen = False

    @property
    def labels(self) -> TaskLabels:
        """The high-water mark of everything the task read (eviction does not lower it)."""
        return self._labels

    def _raise(self, tool: str, labels: Labels) -> None:
        cur = self._labels
        untrusted = labels.trust is Trust.UNTRUSTED
        if labels.steering:
            self.steered_seen = True
        if untrusted:
            self._untrusted.add(tool)
        self._labels = TaskLabels(
            read_untrusted=cur.read_untrusted or untrusted,
            max_sensitivity=max(cur.max_sensitivity, labels.sensitivity),
            untrusted_sources=tuple(sorted(self._untrusted)),
            outputs=cur.outputs + 1,
        )

    def _keep(self, tool: str, labels: Labels, text: str, args: Mapping[str, Any] | None = None) -> None:
        if self.max_outputs == 0 or utf8_size(text) > self.max_bytes:
            self.lost = True  # too large to keep at all: labels are raised, the text is not matched
            return
        echoes = args if labels.trust is Trust.TRUSTED and args else None
        self.index.add(
            tool,
            labels.trust,
            text,
            sensitive=labels.sensitivity >= Sensitivity.CONFIDENTIAL,
            secret=labels.sensitivity >= Sensitivity.SECRET,
            steering=labels.steering,
            # the record's own part is matched without the call's values (:func:`without_echoes`),
            # after the outsiders' parts are split off
            mask=None if echoes is None else (lambda t: echo_mask(t, echoes)),
        )
        while self.index.outputs > self.max_outputs or self.index.size > self.max_bytes:
            self.lost = True
            if not self.index.evict_oldest():
                break

    def observe(
        self,
        tool: ToolRecord,
        text: str,
        args: Mapping[str, Any] | None = None,
        *,
        keep_bytes: int | None = None,
    ) -> Labels:
        """Label one output of ``tool``, raise the task's high-water mark, keep it for matching;
        ``args``: the arguments of the call that returned it (a trusted output is matched without
        them: :func:`without_echoes`); ``keep_bytes`` (default: the task's): keep only its first
        bytes, as the Flow service does (``flow.max_output_bytes``): what is cut is lost
        (:attr:`lost`)."""
        labels = label_output(tool, text)
        self._raise(str(tool.name), labels)
        keep_bytes = self.keep_bytes if keep_bytes is None else keep_bytes
        if keep_bytes is not None:
            kept = truncate_utf8(text, keep_bytes)
            if kept != text:
                self.lost = True  # what was cut may hold values: found nowhere is not "made up"
                text = kept
        self._keep(str(tool.name), labels, text, args)
        return labels

    def describe_tools(self, tools: Iterable[ToolRecord]) -> None:
        """Register the descriptions of the tools the task can see (its allowed tools), replacing
        those registered before: the model reads them, their server's author wrote them, so a
        value only a description holds traces as untrusted (source ``description:<tool>``). They
        do not raise the task's labels and are not outputs (see ``SourceIndex.set_descriptions``)."""
        self.index.set_descriptions({str(t.name): t.description for t in tools if t.description})

    def restore(self, tool: str, labels: Labels, text: str, args: Mapping[str, Any] | None = None) -> None:
        """Re-add a stored output whose labels are already known (after a restart); ``args``: its
        call's arguments (see :meth:`observe`), None for a text already masked."""
        self._raise(tool, labels)
        self._keep(tool, labels, text, args)

    def restore_labels(self, labels: TaskLabels) -> None:
        """Start from a stored high-water mark (it may include outputs no longer kept)."""
        cur = self._labels
        self._untrusted.update(labels.untrusted_sources)
        self._labels = TaskLabels(
            read_untrusted=cur.read_untrusted or labels.read_untrusted,
            max_sensitivity=max(cur.max_sensitivity, labels.max_sensitivity),
            untrusted_sources=tuple(sorted(self._untrusted)),
            outputs=max(cur.outputs, labels.outputs),
        )

    def facts(
        self,
        tool: ToolRecord,
        args: Mapping[str, Any],
        history: Iterable[tuple[str, int | Decimal | bool]] = (),
        responses: Mapping[str, Any] | None = None,
    ) -> FlowFacts:
        """What the flow stage knows about one call: labels, provenance (effects other than
        ``read``, and a fetch: a ``read`` flagged egress, whose URL is traced by its host),
        destination domains, and the counters' values (passed in, sorted here). ``responses``: a
        2026-07-28 retry's ``inputResponses``, traced like arguments under ``inputResponses.…``
        (:mod:`proctor.flow.responses`; raises ValidationError when malformed)."""
        try:
            return self._facts(tool, args, history, responses)
        finally:
            forget_values()  # what was remembered of this call's values is not kept past it

    def _facts(
        self,
        tool: ToolRecord,
        args: Mapping[str, Any],
        history: Iterable[tuple[str, int | Decimal | bool]],
        responses: Mapping[str, Any] | None,
    ) -> FlowFacts:
        traced = tool.effect != "read" or bool(tool.egress)
        dests = destination_paths(tool, args)  # once for the call: trace and domains both need it
        provenance = self.index.trace(tool, args, dests) if traced else Provenance()
        domains = destination_domains(tool, args, dests)
        if responses is not None:
            answered, answered_domains = trace_responses(self.index, tool, responses)
            provenance = merge_provenance(provenance, answered)
            domains = tuple(sorted({*domains, *answered_domains}))
        facts = FlowFacts(
            task=self._labels,
            provenance=provenance,
            history=tuple(sorted(history, key=lambda kv: kv[0])),
            destinations=domains,
            internal=self.internal,
        )
        if (
            self.lost
            and tool.effect == "read"
            and facts.provenance.checked
            and facts.task.max_sensitivity >= Sensitivity.CONFIDENTIAL
            and not facts.provenance.carries_confidential
        ):
            # a fetch after a confidential output was evicted or cut: what it held is unknown
            lost = self.index.carries_confidential(args, lost=True)
            facts = dataclasses.replace(
                facts, provenance=dataclasses.replace(facts.provenance, carries_confidential=lost)
            )
        if (
            self.lost
            and facts.provenance.to_sender
            and not facts.provenance.sender_carries_confidential
            and facts.task.max_sensitivity >= Sensitivity.CONFIDENTIAL
            and self.index.carries_confidential(args, lost=True)
        ):
            # a reply to the author after a confidential output was evicted or cut: what it held
            # is unknown, so the reply is no reply to the sender unless the request or a kept
            # output that is not confidential holds what it carries (red team 7)
            facts = dataclasses.replace(
                facts,
                provenance=dataclasses.replace(facts.provenance, sender_carries_confidential=True),
            )
        if (
            self.lost
            and facts.provenance.checked
            and not facts.provenance.carries_secret
            and facts.task.max_sensitivity >= Sensitivity.SECRET
            and self.index.carries_secret(args, lost=True)
        ):
            # a secret output was evicted or cut: a token shaped like a secret that neither the
            # request nor a kept output that is not confidential holds may be one it held
            facts = dataclasses.replace(
                facts, provenance=dataclasses.replace(facts.provenance, carries_secret=True)
            )
        if self.lost and self.steered_seen and facts.provenance.checked:
            # an output that gave orders may be among those no longer kept (evicted, cut): a value
            # found nowhere may be one it named, so it is steered (as it would be were the output
            # still kept); padding a task with reads must not take the mark off
            gone = {a.path for a in facts.provenance.args if a.origin is Origin.NONE}
            if gone - set(facts.provenance.steered):
                steered = tuple(sorted(gone | set(facts.provenance.steered)))
                facts = dataclasses.replace(
                    facts, provenance=dataclasses.replace(facts.provenance, steered=steered)
                )
        if self.lost and facts.task.read_untrusted and facts.provenance.checked:
            facts = dataclasses.replace(facts, provenance=_unsourced_untrusted(facts))
            prov = facts.provenance
            if not prov.amount_off_record and amount_off_record(
                tool.effect,
                ((a.path, a.origin) for a in prov.args),
                prov.amounts,
                self.index.records_state_money,
            ):
                # an amount found nowhere is now an outsider's (it may come from an output no
                # longer kept): beside a record of what the request names that states money, it
                # is off the record like any other amount only untrusted content gives
                facts = dataclasses.replace(
                    facts, provenance=dataclasses.replace(prov, amount_off_record=True)
                )
        return facts


#: how many of a call's argument values :func:`without_echoes` reads, and how many found in the
#: output it masks: a call past either vouches for nothing (an attacker's value hidden after many
#: decoys is not left unmasked)
_ECHO_VALUES = 1024
_ECHO_FOUND = 64
#: a value's shortest and longest masked length: a longer value is masked piece by piece (its
#: words, addresses, IBANs), a piece still longer vouches for nothing where the output holds it
_ECHO_LEN = (3, 256)
#: a value shorter than this is masked only as a whole word (``ext``, not the end of ``next``)
_ECHO_WORD = 4
#: a trusted output longer than this that echoes its call's values is not masked but vouches for
#: nothing (masking it would hold the event loop too long)
_ECHO_TEXT = 16 << 10
_NOT_ALNUM = re.compile(r"[\W_]+")
#: the same, keeping ``@``: an echo matches across an ``@`` only where its value has one, so a
#: lookup by name ("Helena Brandt Vireo") never matches the address it returns
#: (``helena.brandt@vireo-…``) as an echo
_NOT_ALNUM_AT = re.compile(r"(?:[^\w@]|_)+")
#: :data:`_NOT_ALNUM_AT` for ASCII text: every ASCII character but letters, digits and ``@``, as
#: bytes deleted by ``bytes.translate`` (several times faster than ``str.translate``)
_ASCII_NOT_ALNUM_AT_BYTES = bytes(i for i in range(128) if not (chr(i).isalnum() or chr(i) == "@"))
_PIECES = re.compile(r"[\s,;<>()\[\]{}\"'|]+")


def truncate_utf8(text: str, limit: int) -> str:
    """The first ``limit`` bytes of ``text`` in UTF-8 (a character cut in two is dropped)."""
    if len(text) * 4 <= limit or (len(text) <= limit and text.isascii()):
        return text  # fits whatever it holds (4 bytes a character at most): not encoded
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")


def without_echoes(text: str, args: Mapping[str, Any] | None) -> str:
    """``text`` without the argument values of its own call: see :func:`echo_mask`."""
    return echo_mask(text, args)[0]


def echo_mask(text: str, args: Mapping[str, Any] | None) -> tuple[str, frozenset[str]]:
    """``text`` without the argument values of its own call: a trusted tool that echoes what it
    was given ("No customer found for GB33 BUKB …", "Sent to x@evil.example") does not vouch for
    those values, or an injected value would become "from trusted data" by being looked up first.
    Each value is matched by its letters and digits in order, case-insensitively, with up to three
    other characters between them (the tool may group or punctuate it); a value of three letters
    and digits (a channel ``ext``: a destination that short is traced) only as a whole word, and
    a shorter one is left alone (it would mask ordinary text). A value over 256
    characters is matched piece by piece (split at spaces and punctuation that end an address);
    a piece still longer, or a call with more values than are read, or an output over
    :data:`_ECHO_TEXT` that echoes a value, is matched as empty (it vouches for nothing).

    Also the links of the record an echo was cut out of, normalised, where the echo lies wholly in
    the link's path, past its host and before any query (``https://jobs.example/apply/JOB-4502``
    of a job looked up by ``JOB-4502``; a record's own link names it by its id): the link is the
    record's, and is matched whole (:meth:`SourceIndex.add`), while the echoed value itself stays
    masked. An echo that reaches the host, the query or the fragment, or holds ``@`` or ``://``,
    leaves no link (``?next=https://evil…`` of a lookup by that URL vouches for nothing)."""
    none: frozenset[str] = frozenset()
    if not args:
        return text, none
    cores: set[str] = set()
    heads: set[str] = set()  # the starts of pieces too long to mask: their echo vouches for nothing
    for n, (_, value) in enumerate(leaf_values(args)):
        if n >= _ECHO_VALUES:
            return "", none  # more values than are read: vouches for nothing
        if value is None or isinstance(value, bool):
            continue
        raw = str(value)
        for piece in [raw] if len(raw) <= _ECHO_LEN[1] else _PIECES.split(raw):
            core = _NOT_ALNUM_AT.sub("", piece)
            if len(core) > _ECHO_LEN[1]:
                heads.add(core[:32].lower())
            elif len(core) >= _ECHO_LEN[0]:
                cores.add(core)
    if not cores and not heads:
        return text, none
    # a quick test first: most outputs echo nothing (ASCII text: the same, much faster)
    flat = (
        text.encode("ascii").translate(None, _ASCII_NOT_ALNUM_AT_BYTES).decode("ascii")
        if text.isascii()
        else _NOT_ALNUM_AT.sub("", text)
    ).lower()
    if any(h in flat for h in heads):
        return "", none
    found = [c for c in cores if c.lower() in flat]
    if not found:
        return text, none
    if len(text) > _ECHO_TEXT or len(found) > _ECHO_FOUND:
        return "", none
    sep = r"(?:[^\w@]|_){0,3}"
    alts = [
        sep.join(re.escape(ch) for ch in core)
        if len(core) >= _ECHO_WORD
        else rf"(?<![^\W_]){re.escape(core)}(?![^\W_])"
        for core in sorted(found, key=len, reverse=True)
    ]
    pattern = re.compile("|".join(alts), re.IGNORECASE)
    spans = _address_spans(text) if "@" in text else []
    paths = _link_paths(text) if "://" in text else []
    if not spans and not paths:
        return pattern.sub(" ", text), none
    links: set[str] = set()
    spoiled: set[int] = set()  # links an echo reached outside their path: no link of theirs

    def mask(m: re.Match[str]) -> str:
        start, end = m.span()
        for n, (a, p, q, b) in enumerate(paths):
            if start < b and a < end:  # the echo touches this link
                plain = _plain(m.group(0))
                if (
                    p <= start
                    and end <= q
                    and _ID_LIKE.fullmatch(plain) is not None
                    and _HOST_LIKE.search(plain) is None
                ):
                    links.add(text[a:b])
                else:
                    spoiled.add(n)
        for a, at, b in spans:
            if a <= start and end <= b and (start, end) != (a, b) and not start <= at < end:
                # part of an address the tool returned (a directory looked up by name answers
                # ``tomasz.nowak@…``): the address is the tool's data, not an echo; an address
                # echoed whole is masked, and so is one echoed after text that reads as more of
                # its local part (``?email=eve@evil.io``: the match holds the ``@``)
                return m.group(0)
        return " "

    masked = pattern.sub(mask, text)
    if links:
        bad = {text[a:b] for n, (a, _, _, b) in enumerate(paths) if n in spoiled}
        good = {normalise_url(unicodedata.normalize("NFKC", u)) for u in links - bad}
        return masked, frozenset(u for u in good if u)
    return masked, none


#: links read per output by :func:`_link_paths` at most (an echo in a later one leaves no link)
_ECHO_LINKS = 256


#: [red team 30] an echo a kept link may hold: an id's letters, digits, dots, dashes, underscores
#: and spaces, once NFKC-normalised and percent-decoded (no ``@``, ``:``, ``/``, ``?``, ``#``,
#: ``\``, ``%``: nothing that could be read as another host, a link or an address)
_ID_LIKE = re.compile(r"[\w.\- ]+")


#: [red team 31] an echo that reads as a host name (``evilpay.example``): no id
_HOST_LIKE = re.compile(r"[^\W_]\.[^\W\d_]{2,}")


def _plain(echo: str) -> str:
    """``echo`` as a link's reader sees it: percent-decoded (twice: ``%2540``) and NFKC-normalised
    (a full-width at sign is ``@``)."""
    return unicodedata.normalize("NFKC", unquote(unquote(echo)))


def _link_paths(text: str) -> list[tuple[int, int, int, int]]:
    """``(start, path, end_of_path, end)`` of the links in ``text`` (at most
    :data:`_ECHO_LINKS`): ``path`` is the ``/`` that ends the host, ``end_of_path`` the ``?``
    or ``#`` that ends the path, else the link's end; a link whose host a ``?`` or a ``#`` ends
    (``https://go.example?to=//…``), or with no path, is left out [red team 30]."""
    out: list[tuple[int, int, int, int]] = []
    for a, b in url_spans(text):
        if len(out) >= _ECHO_LINKS:
            break
        host = text.find("://", a, b) + 3
        p = text.find("/", host, b)
        if p < 0 or any(text.find(mark, host, p) >= 0 for mark in "?#\\"):
            continue
        q = b
        for mark in "?#":
            i = text.find(mark, p, q)
            if i >= 0:
                q = i
        out.append((a, p, q, b))
    return out


_LOCAL_PUNCT = frozenset("!#$%&'*+/=?^_`{|}~.-")


def _address_spans(text: str) -> list[tuple[int, int, int]]:
    """``(start, at, end)`` of each e-mail address in ``text`` (linear: expanded from each ``@``, at
    most 64 characters before it and 255 after)."""
    spans: list[tuple[int, int, int]] = []
    n = len(text)
    at = text.find("@")
    while at >= 0:
        a = at
        while a > 0 and at - a < 64 and (text[a - 1].isalnum() or text[a - 1] in _LOCAL_PUNCT):
            a -= 1
        while a < at and text[a] == ".":
            a += 1
        b = at + 1
        while b < n and b - at <= 255 and (text[b].isalnum() or text[b] in ".-"):
            b += 1
        while b > at + 1 and text[b - 1] in ".-":
            b -= 1
        if a < at and b > at + 1:
            spans.append((a, at, b))
        at = text.find("@", at + 1)
    return spans


def _unsourced_untrusted(facts: FlowFacts) -> Provenance:
    """The provenance of a call of a task that read untrusted content no longer all kept for
    matching (evicted: ``flow.max_outputs``, or too large): a value found nowhere may have come
    from an untrusted output that is gone, so it counts as untrusted (from the task's untrusted
    sources), never as made up, which policies treat more leniently."""
    sources = facts.task.untrusted_sources
    return dataclasses.replace(
        facts.provenance,
        args=tuple(
            dataclasses.replace(
                a,
                origin=Origin.UNTRUSTED,
                sources=sources,
                parts=tuple((Origin.UNTRUSTED if o is Origin.NONE else o, d) for o, d in a.parts),
            )
            if a.origin is Origin.NONE
            else a
            for a in facts.provenance.args
        ),
    )
