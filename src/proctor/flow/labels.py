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

  Left out on purpose (too many false positives): ``you must now`` (a bank's "you must now log in
  with MFA"), zero-width spaces and joiners (emoji sequences, pasted web text), bidi controls
  (right-to-left languages), HTML comments and ``display:none`` (every e-mail template).
- Text past :data:`proctor.flow.detect.MAX_SCAN_CHARS` (4 Mi characters), or very long runs
  without whitespace past the detector's budget (64 Ki characters of them, see
  ``proctor.flow.detect._tame``), is not scanned: the output is then labelled ``secret`` (fail
  closed) and the reasons say why. Ordinary text, line-wrapped base64 and minified JSON (split at
  its commas) are scanned in full.
"""

from __future__ import annotations

import re

from proctor.flow.detect import MAX_SCAN_CHARS, scan_credentials
from proctor.flow.model import Labels, Sensitivity, Trust
from proctor.store.base import ToolRecord

__all__ = ["injection_markers", "label_output", "registry_labels"]

_INJECTION = (
    (
        "ignore-instructions",
        re.compile(
            r"\b(?:ignore|disregard|forget)\s+(?:(?:all|any)\s+)?(?:(?:the|your|of\s+the)\s+)?"
            r"(?:previous|prior|above|earlier|preceding)\s+(?:instructions|directions|prompts|rules)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "chat-template-token",
        re.compile(r"<\|(?:im_start|im_end|system|endoftext)\|>|\[/?INST\]|<</?SYS>>"),
    ),
    ("unicode-tag-characters", re.compile("[\U000e0000-\U000e007f]")),
)


def injection_markers(text: str, *, limit: int = MAX_SCAN_CHARS) -> list[str]:
    """The prompt-injection marker kinds found in ``text`` (sorted; see the module docstring).
    Each pattern runs only when a cheap substring test says it can match."""
    if len(text) > limit:
        text = text[:limit]
    low = text.lower()
    maybe = {
        "ignore-instructions": "ignor" in low or "disregard" in low or "forget" in low,
        "chat-template-token": "<|" in text or "INST]" in text or "SYS>>" in text,
        "unicode-tag-characters": not text.isascii(),
    }
    return sorted(kind for kind, pattern in _INJECTION if maybe[kind] and pattern.search(text))


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
    markers = injection_markers(text)
    if markers:
        trust = Trust.UNTRUSTED
        reasons.extend(f"content: prompt-injection marker {m}" for m in markers)
    if not complete:  # fail closed: what was not scanned may hold a credential
        sensitivity = Sensitivity.SECRET
        if len(text) > MAX_SCAN_CHARS:
            reasons.append(f"content: not scanned past {MAX_SCAN_CHARS} characters")
        else:
            reasons.append("content: long unbroken text not fully scanned")
    return Labels(trust, sensitivity, tuple(reasons))
