"""Labels on a tool's output: the registry's, raised by the content (issue 15, ADR 0025 §2).

- Trust and sensitivity start from the tool's record (``ToolRecord.trust``, ``.sensitivity``).
- A credential found by :func:`proctor.flow.detect.find_credentials` raises sensitivity to
  ``secret``; the reason names the kind and a fingerprint (``content: AWS Access Key
  sha256:1a5d44a2dca1``), never the value.
- Prompt-injection markers make the output ``untrusted`` even from a trusted tool: attacker text
  reached a source the registry trusts (a CRM note a customer wrote, a ticket, a wiki page). Only
  markers with a low false-positive rate are used, because an untrusted label holds for a person
  every consequential call whose destination came from that output:

  * an instruction to drop earlier instructions: ``ignore`` / ``disregard`` / ``forget`` +
    ``all|any|the`` (optional) + ``previous|prior|above|earlier|preceding`` + ``instructions|
    directions|prompts|rules`` (ordinary business text does not say this);
  * chat-template control tokens (``<|im_start|>``, ``<|system|>``, ``[INST]``, ``<<SYS>>``,
    ``<|endoftext|>``): never in ordinary text;
  * Unicode tag characters (U+E0000…U+E007F): invisible, used to smuggle instructions.

  * an instruction addressed to an automated reader (``addressed-to-agent``): a note, message,
    reminder or instruction *to* or *for* an AI, a bot, an automation, a copilot, a language model
    ("Note for claims automation", "a note for your AI note-taker", "BILLING AUTOMATION -"), or to
    an assistant or agent followed by what it should do ("Reminder to the rent assistant: ...");
    "assistant, please return ..."; "if you are an AI ..."; "system instruction:"; a sentence
    that starts "Agent to apply ..." (a memo's order to whoever processes the record). A role a
    person holds ("assistant manager", "the travel agent's invoice") is not an address;
  * an instruction to keep the human out (``conceal-from-user``): "do not tell the user",
    "without asking the owner", "don't wait for approval";
  * a made-up system or tool tag (``fake-system-tag``): ``<system>``, ``</tool_output>``,
    ``[SYSTEM OVERRIDE]``: never in business text.

  An output with any of these is untrusted, and the arguments of a later call found in it (and
  not in the request) are *steered* (``context.provenance.steered_args``): held for a person by
  the starter's ``flow.hold-steered`` whatever else they are, since the content gave an order.

  Left out on purpose (too many false positives): ``you must now`` (a bank's "you must now log in
  with MFA"), ``please update`` / ``kindly`` (every supplier's mail), ``agents must`` (a support
  knowledge base written for people), zero-width spaces and joiners (emoji sequences, pasted web
  text), bidi controls (right-to-left languages), HTML comments and ``display:none`` (every e-mail
  template).
- Text past :data:`proctor.flow.detect.MAX_SCAN_CHARS` (4 Mi characters), or very long runs
  without whitespace past the detector's budget (64 Ki characters of them, see
  ``proctor.flow.detect._tame``), is not scanned: the output is then labelled ``secret`` (fail
  closed) and the reasons say why. Ordinary text, line-wrapped base64 and minified JSON (split at
  its commas) are scanned in full.
"""

from __future__ import annotations

import re

from proctor.flow.detect import MAX_SCAN_CHARS, scan_credentials
from proctor.flow.model import INJECTION_REASON, Labels, Sensitivity, Trust
from proctor.store.base import ToolRecord

__all__ = ["injection_markers", "label_output", "registry_labels", "scan_injection"]

#: who an instruction to an automated reader names: an AI, a bot, an automation, a copilot, a
#: language model, an automated system, an AI/virtual/digital assistant or agent
_AUTOMATED = (
    r"(?:a\.?i\.?|llms?|(?:large\s+)?language\s+models?|(?:chat)?bots?|co-?pilots?|automations?"
    r"|automated\s+(?:system|agent|assistant|process(?:ing)?|reviewer|reader|workflow)s?"
    r"|(?:ai|virtual|digital|smart)[\s-]+(?:assistant|agent|note[\s-]?taker|model|system)s?)"
)
#: a person's role that starts with "assistant" or "agent" ("assistant manager")
_ROLE_AFTER = (
    r"(?![\s-]+(?:manager|director|professor|principal|editor|coach|secretary|engineer|"
    r"superintendent|lead|head|to\s+the)\b)"
)
_LEAD = r"\b(?:note|message|instructions?|reminder|notice|attention|memo|directive|p\.?s\.?)\s+(?:to|for)\s+"
_DET = r"(?:(?:the|any|all|your|our|this)\s+)?"
#: what an injected order asks for (a verb right after the address)
_VERB = (
    r"(?:apply|pay|transfer|send|forward|approve|delete|remove|grant|add|share|cancel|refund|return|"
    r"update|set|change|reset|disable|enable|post|reply|invite|deploy|run|execute|waive|issue|record|"
    r"close|include|click|visit|email|e-mail|create|book|move|wire|release|publish|mark|grade|"
    r"ignore|disregard|do|make|use|insert|replace|raise|increase|lower)"
)
_ADDRESSED = (
    # "Note for claims automation", "a note for your AI note-taker", "message to the bot"
    _LEAD + _DET + r"(?:[\w-]{1,40}\s+){0,2}?" + _AUTOMATED + r"\b",
    # "Reminder to the rent assistant: ...", "Note to the sales assistant posting the digest: ..."
    # (one assistant or agent: "NOTE TO AGENTS:" heads a booking's remarks for the travel desk)
    _LEAD
    + _DET
    + r"(?:[\w-]{1,40}[\s-]{1,3}){0,2}?(?:assistant|agent)\b"
    + _ROLE_AFTER
    + r"(?:[^.:\n]{0,60})?\s*[:;(\u2013\u2014-]",
    # "assistant, please return ...", "AI: ignore ...", "- bot, also pay ..."
    r"(?:^|[.!?:;(\[\u2013\u2014-]\s*|\b(?:hey|hi|hello|dear|attention|attn)\s+)(?:the\s+)?"
    r"(?:ai|assistant|agent|bot|automation|copilot|llm)\s*[,:]\s*(?:please\s+)?(?:also\s+)?(?:kindly\s+)?"
    + _VERB
    + r"\b",
    # "Agent to apply both and close.", "Assistant should forward ..." (a sentence's start)
    r"(?:^|[.!?;:\])\u2013\u2014-]\s*)(?:the\s+)?(?:agent|assistant|ai|bot|automation)\s+"
    r"(?:to|should|must|shall)\s+(?:also\s+)?" + _VERB + r"\b",
    # "if you are an AI", "if you're an assistant reading this"
    r"\bif\s+you\s*(?:are|'re)\s+(?:an?\s+)?(?:ai|assistant|agent|bot|language\s+model|llm|automated)\b",
    # "Admissions system instruction:", "AI directive -"
    r"\b(?:system|automation|ai|agent|assistant)\s+(?:instruction|directive|override|command)s?\s*[:\u2013\u2014-]",
)
#: the same in capitals, case-sensitive ("BILLING AUTOMATION -", "AP-AUTOMATION PLEASE ALSO")
_ADDRESSED_UPPER = (
    r"\b(?:[A-Z]{2,}[ -])?(?:AUTOMATION|BOT|AI AGENT|AI ASSISTANT)S?(?:\s*[:,\u2013\u2014]|\s+-|\s+(?:PLEASE|MUST|SHOULD|YOU)\b)",
)
_CONCEAL = (
    r"\b(?:do\s+not|don'?t|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|notify(?:ing)?|alert(?:ing)?|"
    r"ask(?:ing)?|mention(?:ing)?(?:\s+(?:this|it))?\s+to|confirm(?:ing)?\s+with|check(?:ing)?\s+with|"
    r"consult(?:ing)?)\s+(?:the|your)\s+(?:user|human|owner|principal|operator|requester)s?\b",
    r"\bwithout\s+(?:asking\s+for\s+)?(?:the\s+)?(?:user|human)(?:'s)?\s+(?:confirmation|approval|consent)\b",
    r"\b(?:do\s+not|don'?t|no\s+need\s+to)\s+(?:ask|wait)\s+for\s+(?:(?:human|user|manual)\s+)?(?:confirmation|approval)\b",
)
#: a note made to look like it comes from a system or an automation, followed by what to do:
#: "Hotel systems: cancel reservations …", "** PHARMACY SYSTEM: prescriber authorized qty 180",
#: "CMS housekeeping (automated): … delete them", "optimisation (auto): … delete standing
#: orders", "[system: … refund". A word must name the system ("hotel systems", not a ticket's
#: "System: Windows 11"), or the note be bracketed, in capitals or marked automated; an action
#: must follow within 120 characters of the colon.
_SYSTEM_ACTION = (
    r"\s*:\s*(?:(?!please\b|you\b|we\b)[^\n]){0,120}?\b(?:delete|cancel|set|override|fill|transfer|pay|approve|refund|remove|"
    r"authori[sz]ed|grant|add|reset|disable|wire|waive|mark|update)\b"
)
_SYSTEM_NOTE = re.compile(
    r"(?:"
    r"(?:^|[*>|\"'(]\s*|[.!?]\s+|\s-+\s+|\n)(?!(?:operating|file|the|our|your|a|an|this|that|my)\s)"
    # (every word run possessive and bounded: ``[\w&-]*`` then a space backtracked over a run of
    # ``a-a-a-…`` from each of its letters, 76 s for 100 KB: red team 17)
    r"[a-z][\w&-]{0,40}+\s++(?:[a-z][\w&-]{0,40}+\s++)?(?:systems?|housekeeping|automation)"
    r"(?:\s+(?:notes?|notices?|messages?|update))?(?:\s*\((?:auto|automated|automatic|system)\))?"
    r"|\b[a-z][\w&-]{0,40}+\s*+\((?:auto|automated|automatic)\)"
    r"|\[\s*system"
    r")" + _SYSTEM_ACTION
)
_SYSTEM_NOTE_UPPER = re.compile(
    r"\b(?:[A-Z]{2,}\s+)?SYSTEM(?:\s+(?:NOTE|NOTICE|MESSAGE))?\s*:\s*(?:(?!(?i:please|you|we)\b)[^\n]){0,120}?\b(?i:delete|cancel|set|override|fill|transfer|pay|approve|refund|remove|authori[sz]ed|grant|add|reset|disable|wire|waive|mark|update)\b"
)
_SYSTEM_WORDS = ("system", "housekeeping", "automation", "(auto")

_FAKE_TAG = (
    # run on lower-cased text (``(?i:...)`` over 4 MiB of ``<`` costs 0.6 s)
    r"<[\s/]*(?:system|instructions?|tool_output|function_results|admin_note)\s*>",
    r"\[\s*(?:SYSTEM|ADMIN|INSTRUCTIONS?)(?:\s+(?:NOTE|MESSAGE|OVERRIDE|PROMPT))?\s*\]",
)

_IGNORE = re.compile(
    r"\b(?:ignore|disregard|forget)\s+(?:(?:all|any)\s+)?(?:(?:the|your|of\s+the)\s+)?"
    r"(?:previous|prior|above|earlier|preceding)\s+(?:instructions|directions|prompts|rules)\b",
    re.IGNORECASE,
)
_TEMPLATE = re.compile(r"<\|(?:im_start|im_end|system|endoftext)\|>|\[/?INST\]|<</?SYS>>")
_TAGS = re.compile("[\U000e0000-\U000e007f]")
#: run on lower-cased text (``re.IGNORECASE`` makes these scans five times slower)
_ADDRESSED_RE = tuple(re.compile(p) for p in _ADDRESSED)
_ADDRESSED_UPPER_RE = tuple(re.compile(p) for p in _ADDRESSED_UPPER)
_CONCEAL_RE = tuple(re.compile(p) for p in _CONCEAL)
_LEAD_WORDS = ("note", "message", "instruction", "reminder", "notice", "attention", "memo", "directive", "p")
#: a word each pattern needs (empty: none), tested before it runs
_ADDRESSED_NEEDS: tuple[tuple[str, ...], ...] = (
    _LEAD_WORDS,
    _LEAD_WORDS,
    (),
    (),
    ("if you",),
    ("instruction", "directive", "override", "command"),
)
_CONCEAL_NEEDS: tuple[tuple[str, ...], ...] = (
    ("tell", "inform", "notif", "alert", "ask", "mention", "confirm", "check", "consult"),
    ("without",),
    ("ask for", "wait for"),
)


def _any(text: str, patterns: tuple[re.Pattern[str], ...], needs: tuple[tuple[str, ...], ...]) -> bool:
    """Whether a pattern matches ``text``, each tried only when ``text`` holds a word it needs."""
    return any(
        (not need or any(w in text for w in need)) and p.search(text) is not None
        for p, need in zip(patterns, needs, strict=True)
    )


_FAKE_TAG_RE = tuple(re.compile(p) for p in _FAKE_TAG)


#: the words an ``addressed-to-agent`` / ``conceal-from-user`` match holds; the patterns run only
#: on the text around them (:func:`_windows`): run over a whole 10 KB output they cost ~4 ms
_ADDRESS_WORDS = (
    "assistant",
    "agent",
    "bot",
    "automat",
    "llm",
    "language model",
    "pilot",
    "instruction",
    "directive",
    "override",
)
_CONCEAL_WORDS = (
    "user",
    "human",
    "owner",
    "principal",
    "operator",
    "requester",
    "confirmation",
    "approval",
)
#: ``ai`` / ``a.i.`` as a word; the start is checked by hand (a leading ``\\b`` makes the scan 8x slower)
_AI_WORD = re.compile(r"a\.?i\b")
#: characters each side of a word the patterns read (a match spans less: a lead-in of at most
#: five words before the word, 60 characters and a colon after it)
_WINDOW = 160
#: past this many words in one output, the patterns run over its first :data:`_SCAN_BUDGET`
#: characters only, and the scan is incomplete
_MAX_HITS = 2048
#: characters the address and concealment patterns read per output at most (~0.2 s of work)
_SCAN_BUDGET = 512 << 10


def _windows(text: str, low: str, words: tuple[str, ...], *, ai: bool = False) -> tuple[str | None, bool]:
    """The parts of ``text`` around ``words`` (and ``AI``), joined by NUL characters (a window
    starts and ends at whitespace, so no word is cut; a NUL is no word, no space and no
    punctuation, so no pattern matches across it), and whether they are all there: None when no
    word is present; at most :data:`_SCAN_BUDGET` characters (past :data:`_MAX_HITS` words, the
    text's first ones: all of it when it is no longer, as a JSON list of 800 users is)."""
    hits: list[int] = []
    for w in words:
        i = low.find(w)
        while i >= 0:
            hits.append(i)
            if len(hits) > _MAX_HITS:
                return text[:_SCAN_BUDGET], len(text) <= _SCAN_BUDGET
            i = low.find(w, i + 1)
    if ai and ("ai" in low or "a.i" in low):  # (what every match holds: no scan without it)
        for m in _AI_WORD.finditer(low):
            i = m.start()
            if i and low[i - 1].isalnum():
                continue
            hits.append(i)
            if len(hits) > _MAX_HITS:
                return text[:_SCAN_BUDGET], len(text) <= _SCAN_BUDGET
    if not hits:
        return None, True
    hits.sort()
    spans: list[list[int]] = []
    for h in hits:
        a, b = max(0, h - _WINDOW), min(len(text), h + _WINDOW)
        if spans and a <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    pieces = []
    size, complete = 0, True
    for start, end in spans:
        a, b = start, end
        if a > 0:  # start after a whitespace: never inside a word
            cut = text.find(" ", a, a + 40)
            a = a if cut < 0 else cut + 1
        if b < len(text):
            cut = text.rfind(" ", b - 40, b)
            b = b if cut < 0 else cut
        if size + (b - a) > _SCAN_BUDGET:
            complete = False
            break
        size += b - a + 1
        pieces.append(text[a:b])
    head = "" if spans[0][0] == 0 else "\x00"
    tail = "" if spans[-1][1] == len(text) and complete else "\x00"
    return head + "\x00".join(pieces) + tail, complete


def _squeeze(text: str) -> str:
    """``text`` with each run of whitespace read as one character (a newline where the run holds
    one, else a space): a reader skips the run, and a match the windows read must span no more
    characters than it does in words (``Note to the`` + 500 spaces + ``bot: ...``). With
    ``str`` methods only (a regex, or a list of lines, over 4 MiB of short runs costs 0.3 s)."""
    is_ascii = text.isascii()
    odd = [c for c in (_ODD_ASCII if is_ascii else _ODD_ASCII + _WIDE) if c in text]
    if not odd:
        if is_ascii:  # a run is two marks in a row once spaces and newlines are marks (one search)
            if _RUN_MARK not in text.encode("ascii").translate(_SPACE_MARKS):
                return text
        elif not any(run in text for run in _RUNS):
            return text
    for c in odd:  # ``str.translate`` costs 0.35 s on 4 MiB that is not ASCII
        text = text.replace(c, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    text = text.replace(" \n", "\n").replace("\n ", "\n")
    while "\n\n" in text:
        text = text.replace("\n\n", "\n")
    return text


#: whitespace that is not a space or a newline, ASCII and not: :func:`_squeeze` reads it as a space
_ODD_ASCII = "\t\r\x0b\x0c\x1c\x1d\x1e\x1f"
_WIDE = "\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
#: runs of spaces and newlines :func:`_squeeze` shortens
_RUNS = ("  ", "\n\n", " \n", "\n ")
#: the space and the newline made ``a``, every other byte ``.``: a run of :data:`_RUNS` is ``aa``
_SPACE_MARKS = bytes(0x61 if i in (0x20, 0x0A) else 0x2E for i in range(256))
_RUN_MARK = b"aa"


def _lower(text: str) -> str:
    """``text`` lower-cased, one character for one (``str.lower`` makes two of U+0130, ``İ``,
    which would shift every position after it: the windows are cut from ``text`` where the words
    are found in the lower-cased text)."""
    return (text.replace("\u0130", "i") if "\u0130" in text else text).lower()


def scan_injection(text: str, *, limit: int = MAX_SCAN_CHARS) -> tuple[list[str], bool]:
    """The prompt-injection marker kinds found in ``text`` (sorted; see the module docstring), and
    whether all of it was read (past ``limit`` characters or :data:`_MAX_HITS` words it is not).
    Each pattern runs only when a cheap substring test says it can match, and the address and
    concealment patterns only around the words they need (:func:`_windows`)."""
    complete = len(text) <= limit
    if not complete:
        text = text[:limit]
    low = text.lower()
    found: set[str] = set()
    if ("ignor" in low or "disregard" in low or "forget" in low) and _IGNORE.search(text):
        found.add("ignore-instructions")
    if ("<|" in text or "INST]" in text or "SYS>>" in text) and _TEMPLATE.search(text):
        found.add("chat-template-token")
    if not text.isascii() and _TAGS.search(text):
        found.add("unicode-tag-characters")
    if ("<" in text and _FAKE_TAG_RE[0].search(low)) or ("[" in text and _FAKE_TAG_RE[1].search(text)):
        found.add("fake-system-tag")
    # the address and concealment patterns read whitespace runs as one character
    squeezed = _squeeze(text)
    # (ASCII text squeezed to itself is lower-cased as it was above)
    low = low if squeezed is text and text.isascii() else _lower(squeezed)
    text = squeezed
    near, whole = _windows(text, low, _ADDRESS_WORDS, ai=True)
    complete = complete and whole
    if near is not None and (
        any(p.search(near) for p in _ADDRESSED_UPPER_RE)
        or _any(near.lower(), _ADDRESSED_RE, _ADDRESSED_NEEDS)
    ):
        found.add("addressed-to-agent")
    near, whole = _windows(text, low, _CONCEAL_WORDS)
    complete = complete and whole
    if near is not None and _any(near.lower(), _CONCEAL_RE, _CONCEAL_NEEDS):
        found.add("conceal-from-user")
    near, whole = _windows(text, low, _SYSTEM_WORDS)
    complete = complete and whole
    if near is not None and (
        _SYSTEM_NOTE_UPPER.search(near) is not None or _SYSTEM_NOTE.search(near.lower()) is not None
    ):
        found.add("fake-system-note")
    return sorted(found), complete


def injection_markers(text: str, *, limit: int = MAX_SCAN_CHARS) -> list[str]:
    """The prompt-injection marker kinds found in ``text`` (:func:`scan_injection`)."""
    return scan_injection(text, limit=limit)[0]


def registry_labels(tool: ToolRecord) -> Labels:
    """The labels the tool's record gives its output (unknown values fail closed: untrusted,
    secret)."""
    reasons: list[str] = []
    try:
        trust = Trust(tool.trust.strip().lower())
    except ValueError:
        trust = Trust.UNTRUSTED
        reasons.append("registry: unknown trust, treated as untrusted")
    try:
        sensitivity = Sensitivity.parse(tool.sensitivity)
    except ValueError:
        sensitivity = Sensitivity.SECRET
        reasons.append("registry: unknown sensitivity, treated as secret")
    reasons.insert(0, f"registry: {trust.value} {sensitivity.label}")
    return Labels(trust, sensitivity, tuple(reasons))


def label_output(tool: ToolRecord, text: str) -> Labels:
    """The labels of one output of ``tool``: the registry's, raised by the content."""
    base = registry_labels(tool)
    trust, sensitivity, reasons = base.trust, base.sensitivity, list(base.reasons)
    found, complete = scan_credentials(text)
    for kind, fp in found:
        sensitivity = Sensitivity.SECRET
        reasons.append(f"content: {kind} {fp}")
    markers, read = scan_injection(text)
    if markers:
        trust = Trust.UNTRUSTED
        reasons.extend(f"{INJECTION_REASON}{m}" for m in markers)
    elif not read:
        # too many words an order to the agent is written with to read them all: what was not
        # read may hold one (fail closed: untrusted, though not steering)
        trust = Trust.UNTRUSTED
        reasons.append("content: not fully scanned for prompt-injection markers")
    if not complete:  # fail closed: what was not scanned may hold a credential
        sensitivity = Sensitivity.SECRET
        if len(text) > MAX_SCAN_CHARS:
            reasons.append(f"content: not scanned past {MAX_SCAN_CHARS} characters")
        else:
            reasons.append("content: long unbroken text not fully scanned")
    return Labels(trust, sensitivity, tuple(reasons))
